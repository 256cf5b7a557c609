"""Headless subcommands, one module each (`main(argv) -> int`), loaded on use."""
