"""Screens of the app: loading, main, turn detail, help and error."""
