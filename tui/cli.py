"""Command line: `turns-tui [PATH]` opens the app; `dump` and `migrate` run headless.

The headless commands never import textual, so they start fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from tui.store.errors import StoreError
from tui.store.models import Progress

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """Argument parser whose usage errors are one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: usage error: {message} (see --help)\n")


def _progress_printer() -> object:
    if not sys.stderr.isatty():
        return None

    def show(p: Progress) -> None:
        if p.total:
            sys.stderr.write(f"\r{p.step}: {p.done}/{p.total}\x1b[K")
            if p.done >= p.total:
                sys.stderr.write("\n")
            sys.stderr.flush()

    return show


def _notice(text: str) -> None:
    sys.stderr.write(f"turns-tui: {text}\n")


def _fail(exc: StoreError) -> int:
    sys.stderr.write(f"turns-tui: {exc}\n")
    return exc.exit_code


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--read-only",
        action="store_true",
        help="never write the file: migrate a private copy instead",
    )
    p.add_argument(
        "--timeline-db",
        metavar="PATH",
        help="pinocchio timeline store holding each conversation's current runtime",
    )


def cmd_dump(argv: Sequence[str]) -> int:
    """`turns-tui dump PATH`: migrate and print one JSON object."""
    p = _Parser(prog="turns-tui dump", description="Migrate and print the database as JSON.")
    p.add_argument("path")
    _common(p)
    p.add_argument("--conv", metavar="CONV_ID", help="only this conversation")
    args = p.parse_args(argv)
    from tui.dump import build_dump
    from tui.store.opener import open_database
    from tui.store.queries import Reader

    try:
        opened = open_database(
            args.path,
            read_only=args.read_only,
            timeline_db=args.timeline_db,
            on_progress=_progress_printer(),  # type: ignore[arg-type]
            on_notice=_notice,
        )
        reader = Reader(opened)
        try:
            out = build_dump(opened, reader, args.conv)
        finally:
            reader.close()
    except StoreError as exc:
        return _fail(exc)
    import json

    json.dump(out, sys.stdout, ensure_ascii=True, indent=None)
    sys.stdout.write("\n")
    return 0


def _print_report(era: str, report: object, dry_run: bool) -> None:
    from tui.store.models import MigrationReport

    assert isinstance(report, MigrationReport)
    w = sys.stdout.write
    w(f"era found: {era}\n")
    if not report.steps:
        w("nothing to do: the database is already at the GP-26 schema\n")
    else:
        w("steps:\n" if dry_run else "applied steps:\n")
        for s in report.steps:
            w(f"  - {s}\n")
    verb = "to backfill" if dry_run else "backfilled"
    w(f"runtime_key {verb}: {report.backfilled_runtime_key} turns\n")
    w(f"inference_id {verb}: {report.backfilled_inference_id} turns\n")
    w(f"turns that {'will stay' if dry_run else 'stay'} unknown: {report.unknown_runtime_turns}\n")
    for reason, n in report.unknown_runtime_reasons:
        w(f"  - {n}: {reason}\n")
    if report.malformed_metadata_rows:
        w(f"rows with malformed metadata (skipped): {report.malformed_metadata_rows}\n")
    if report.legacy_rows_normalized or report.legacy_rows_unparsed:
        w(f"legacy snapshots normalised: {report.legacy_rows_normalized}\n")
        w(
            f"legacy snapshots whose YAML does not parse (kept in turn_snapshots_legacy): "
            f"{report.legacy_rows_unparsed}\n"
        )
        for ex in report.unparsed_legacy_examples:
            w(f"  - {ex}\n")
    if dry_run:
        w("dry run: nothing was written\n")


def cmd_migrate(argv: Sequence[str]) -> int:
    """`turns-tui migrate PATH [--dry-run]`: print the plan or apply it."""
    p = _Parser(prog="turns-tui migrate", description="Migrate a turns database to GP-26.")
    p.add_argument("path")
    p.add_argument("--dry-run", action="store_true", help="print the plan; write nothing")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    args = p.parse_args(argv)
    from tui.store.opener import open_database, plan_migration

    try:
        if args.dry_run:
            era, report = plan_migration(args.path)
            era_name = era.value
        else:
            opened = open_database(
                args.path,
                on_progress=_progress_printer(),  # type: ignore[arg-type]
                on_notice=_notice,
            )
            era_name, report = opened.schema_before.value, opened.report
    except StoreError as exc:
        return _fail(exc)
    if args.json:
        import json

        from tui.dump import migration_json

        json.dump(
            {
                "schema_before": era_name,
                "dry_run": args.dry_run,
                "migration": migration_json(report),
            },
            sys.stdout,
        )
        sys.stdout.write("\n")
    else:
        _print_report(era_name, report, args.dry_run)
    return 0


def cmd_app(argv: Sequence[str]) -> int:
    """`turns-tui [PATH]`: open the app (the built-in demo database without a path)."""
    p = _Parser(
        prog="turns-tui",
        description="Terminal debugger for turns databases. "
        "Subcommands: dump, migrate (see `turns-tui dump --help`).",
    )
    p.add_argument("path", nargs="?", help="turns database (default: a built-in demo)")
    _common(p)
    p.add_argument("--follow", action="store_true", help="watch for new turns as they land")
    args = p.parse_args(argv)
    from tui.app import run_app

    return run_app(
        args.path, read_only=args.read_only, timeline_db=args.timeline_db, follow=args.follow
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `turns-tui` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "dump":
        return cmd_dump(args[1:])
    if args and args[0] == "migrate":
        return cmd_migrate(args[1:])
    return cmd_app(args)


if __name__ == "__main__":
    sys.exit(main())
