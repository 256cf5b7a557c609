"""Command line: `turns-tui [PATH]` opens the app; `dump` and `migrate` run headless.

The headless commands never import textual, so they start fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

from tui import __version__
from tui.store.errors import StoreError
from tui.store.models import Notice, Progress

if TYPE_CHECKING:
    from tui.messages import Place
    from tui.store.base import Store

# `--conv` / `--turn` / `--inference` of the app, resolved: (conversation, session, turn).
Found = tuple[str, str, str | None]

EXIT_USAGE = 2
EXIT_MISSING = 3


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


def _notice_printer(path: str) -> Callable[[Notice], None]:
    from tui.store.errors import printable

    def show(notice: Notice) -> None:
        sys.stderr.write(f"turns-tui: {printable(path)}: {notice.text}\n")

    return show


def _fail(exc: StoreError) -> int:
    sys.stderr.write(f"turns-tui: {exc}\n")
    return exc.exit_code


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--read-only",
        action="store_true",
        help="never write the file (eras 2-4: the backfill is derived in memory; "
        "eras 0/1: a private copy is migrated and removed on exit)",
    )
    p.add_argument(
        "--timeline-db",
        metavar="PATH",
        help="pinocchio timeline store holding each conversation's current runtime",
    )


def _dsn_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--turns-dsn",
        metavar="DSN",
        help="read pinocchio's MySQL turn store instead of a file, read-only "
        "('USER:PASS@tcp(HOST:3306)/DB' or 'mysql://USER:PASS@HOST:PORT/DB'; "
        "the password may come from TURNS_TUI_MYSQL_PASSWORD)",
    )


def _write_stdout(text: str) -> int:
    """Write to stdout; a closed pipe (`| head`) ends quietly with code 0."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes at exit
    return 0


def cmd_dump(argv: Sequence[str]) -> int:
    """`turns-tui dump PATH`: migrate and print one JSON object."""
    p = _Parser(prog="turns-tui dump", description="Migrate and print the database as JSON.")
    p.add_argument("path", nargs="?")
    _common(p)
    _dsn_option(p)
    p.add_argument("--conv", metavar="CONV_ID", help="only this conversation")
    p.add_argument(
        "--inference",
        metavar="INFERENCE_ID",
        help="only the turn with this inference id (or unique prefix) and its conversation",
    )
    args = p.parse_args(argv)
    import asyncio

    from tui.dump import InferenceLookupError, UnknownConversationError, build_dump
    from tui.store.base import OpenCallbacks
    from tui.store.factory import store_for

    try:
        store = store_for(args.path, args.turns_dsn, args.read_only, args.timeline_db)
    except StoreError as exc:
        return _fail(exc)
    args.path = store.label  # what messages name (a DSN without its password)

    async def run() -> dict[str, object]:
        try:
            opened = await store.open(
                OpenCallbacks(
                    on_progress=_progress_printer(),  # type: ignore[arg-type]
                    on_notice=_notice_printer(args.path),
                )
            )
            return await build_dump(opened, store, args.conv, args.inference)
        finally:
            await store.close()

    try:
        out = asyncio.run(run())
    except StoreError as exc:
        return _fail(exc)
    except UnknownConversationError:
        from tui.store.errors import printable

        sys.stderr.write(
            f"turns-tui: {printable(args.path)}: no conversation {printable(args.conv)!r} "
            "in this file or its timeline store\n"
        )
        return 3
    except InferenceLookupError as exc:
        from tui.store.errors import printable

        sys.stderr.write(f"turns-tui: {printable(args.path)}: {printable(str(exc))}\n")
        return EXIT_MISSING
    import json

    return _write_stdout(json.dumps(out, ensure_ascii=True, indent=None) + "\n")


def _print_report(era: str, report: object, dry_run: bool) -> None:
    from tui.store.models import MigrationReport

    assert isinstance(report, MigrationReport)
    w = sys.stdout.write

    def turns(n: int) -> str:
        return f"{n} turn{'' if n == 1 else 's'}"

    w(f"era found: {era}\n")
    if era == "empty":
        w("empty database: nothing to migrate\n")
    elif not report.steps:
        w("nothing to do: the database is already at the GP-26 schema\n")
    else:
        w("steps:\n" if dry_run else "applied steps:\n")
        for s in report.steps:
            w(f"  - {s}\n")
    verb = "to backfill" if dry_run else "backfilled"
    w(f"runtime_key {verb}: {turns(report.backfilled_runtime_key)}\n")
    w(f"inference_id {verb}: {turns(report.backfilled_inference_id)}\n")
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
                on_notice=_notice_printer(args.path),
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


# Subcommands in their own modules (`tui/commands/NAME.py`, each with `main(argv) -> int`),
# imported only when used so every command starts light.
PLUGIN_COMMANDS = ("diff", "check", "find", "export", "serve")
SUBCOMMANDS = ("dump", "migrate", *PLUGIN_COMMANDS)


def cmd_app(argv: Sequence[str]) -> int:
    """`turns-tui [PATH]`: open the app (the built-in demo database without a path)."""
    p = _Parser(
        prog="turns-tui",
        description="Terminal debugger for turns databases. "
        "Subcommands: dump, migrate (see `turns-tui dump --help`).",
    )
    p.add_argument("path", nargs="?", help="turns database (default: a built-in demo)")
    _common(p)
    _dsn_option(p)
    p.add_argument("--follow", action="store_true", help="watch for new turns as they land")
    p.add_argument(
        "--conv", metavar="ID", help="open on this conversation (an id or a unique prefix)"
    )
    place_turn = p.add_mutually_exclusive_group()
    place_turn.add_argument(
        "--turn", metavar="ID", help="with --conv: open this turn's detail (id or unique prefix)"
    )
    place_turn.add_argument(
        "--inference",
        metavar="ID",
        help="open the detail of the turn with this inference id (or unique prefix)",
    )
    p.add_argument("--version", action="version", version=f"turns-tui {__version__}")
    args = p.parse_args(argv)
    import os

    from tui.store.errors import printable

    if args.turn is not None and args.conv is None:
        p.error("--turn needs --conv")
    if (args.conv or args.inference) is not None and args.path is None and not args.turns_dsn:
        p.error("--conv and --inference need PATH or --turns-dsn")
    if args.turns_dsn is not None:
        return _app_on_dsn(args)
    if args.path is not None and not os.path.lexists(args.path):
        sys.stderr.write(
            f"turns-tui: {printable(args.path)}: no such file or command "
            f"(commands: {', '.join(SUBCOMMANDS)}; see --help)\n"
        )
        return EXIT_MISSING
    place: Found | None = None
    if args.conv is not None or args.inference is not None:
        from tui.store.factory import store_for

        try:
            found = _resolve_place(
                store_for(args.path, None, args.read_only, args.timeline_db), args
            )
        except StoreError as exc:
            return _fail(exc)
        if isinstance(found, int):
            return found
        place = found
    served = "web_driver" in os.environ.get("TEXTUAL_DRIVER", "")  # turns-tui serve
    if not served and not (sys.stdin.isatty() and sys.stdout.isatty()):
        sys.stderr.write(
            "turns-tui: the app needs a terminal; use `turns-tui dump PATH` for JSON\n"
        )
        return EXIT_USAGE
    from tui.app import run_app

    return run_app(
        args.path,
        read_only=args.read_only,
        timeline_db=args.timeline_db,
        follow=args.follow,
        start_at=_place(place),
    )


def _resolve_place(store: Store, args: argparse.Namespace) -> Found | int:
    """`--conv` / `--turn` / `--inference` resolved through `store` before the app starts:
    (conversation, session, turn or None), or the exit code after one line on stderr (3:
    unknown or ambiguous; ids may be unique prefixes)."""
    import asyncio

    from tui.commands._store import LookupFailed
    from tui.commands.diff import resolve
    from tui.dump import InferenceLookupError, resolve_inference
    from tui.store.errors import printable

    s = store

    async def run() -> Found:
        try:
            await s.open()
            conv_id: str | None = None
            if args.conv is not None:
                ids = [c.conv_id for c in await s.conversations()]
                conv_id = resolve("conversation", args.conv, ids)
            if args.inference is not None:
                hit = await resolve_inference(s, args.inference, conv_id)
                return hit.conv_id, hit.session_id, hit.turn_id
            assert conv_id is not None
            if args.turn is None:
                return conv_id, "", None
            turns = (await s.conversation(conv_id)).turns
            turn_id = resolve("turn", args.turn, [t.turn_id for t in turns])
            turn = next(t for t in turns if t.turn_id == turn_id)
            return conv_id, turn.session_id, turn_id
        finally:
            await s.close()

    try:
        return asyncio.run(run())
    except (LookupFailed, InferenceLookupError) as exc:
        sys.stderr.write(f"turns-tui: {printable(s.label)}: {printable(str(exc))}\n")
        return EXIT_MISSING


def _place(found: Found | None) -> Place | None:
    """The app's `Place` for a resolved `--conv`/`--turn`/`--inference` (None: none)."""
    if found is None:
        return None
    from tui.messages import Place

    conv_id, session_id, turn_id = found
    return Place(conv_id, session_id, turn_id, open_detail=turn_id is not None)


def _app_on_dsn(args: argparse.Namespace) -> int:
    """The app on a MySQL turn store (`--turns-dsn`)."""
    from tui.store.factory import store_for

    try:
        store = store_for(args.path, args.turns_dsn, args.read_only, args.timeline_db)
    except StoreError as exc:
        return _fail(exc)
    place: Found | None = None
    if args.conv is not None or args.inference is not None:
        try:
            found = _resolve_place(store, args)
        except StoreError as exc:
            return _fail(exc)
        if isinstance(found, int):
            return found
        place, store = found, store.reopen(read_only=store.read_only)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        sys.stderr.write(
            "turns-tui: the app needs a terminal; use `turns-tui dump --turns-dsn DSN` for JSON\n"
        )
        return EXIT_USAGE
    from tui.app import make_app

    app = make_app(store=store, follow=args.follow, start_at=_place(place))
    app.run()
    return app.return_code or 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `turns-tui` console script."""
    from tui.store import cleanup

    cleanup.install()  # private copies and side files go on exit, SIGTERM and SIGHUP
    cleanup.sweep_stale_copies()  # and copies a killed run left behind
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "dump":
        return cmd_dump(args[1:])
    if args and args[0] == "migrate":
        return cmd_migrate(args[1:])
    if args and args[0] in PLUGIN_COMMANDS:
        import importlib

        module = importlib.import_module(f"tui.commands.{args[0]}")
        code: int = module.main(args[1:])
        return code
    return cmd_app(args)


if __name__ == "__main__":
    sys.exit(main())
