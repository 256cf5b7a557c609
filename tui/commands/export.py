"""`turns-tui export PATH --conv ID --format json|markdown|minitrace [-o FILE]`.

Writes one conversation to stdout, or to FILE (never over an existing file without
`--force`, never over the database itself). Errors are one line with the CLI's exit codes:
2 usage (and an existing output file), 3 missing file or unknown conversation, 4 locked,
5 permission denied. The store is closed before anything is written, so no side file or
private copy is left behind.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import sys
from collections.abc import Sequence

from tui.cli import (
    EXIT_MISSING,
    EXIT_USAGE,
    _dsn_option,
    _notice_printer,
    _Parser,
    _progress_printer,
)
from tui.export import FORMATS
from tui.export.output import same_file as _same_file
from tui.export.output import write_export_file as _write_file
from tui.store.base import Store
from tui.store.errors import StoreError, printable

EXIT_PERMISSION = 5


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="turns-tui export",
        description="Export one conversation as JSON, a Markdown report, or pinocchio's "
        "minitrace document.",
    )
    p.add_argument("path", nargs="?", help="turns database (or use --turns-dsn)")
    p.add_argument("--conv", metavar="CONV_ID", required=True, help="the conversation")
    p.add_argument("--format", choices=FORMATS, required=True, help="output format")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: stdout)")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.add_argument(
        "--read-only",
        action="store_true",
        help="never write the database (eras 2-4: derived in memory; eras 0/1: a private "
        "migrated copy, removed after)",
    )
    p.add_argument(
        "--timeline-db",
        metavar="PATH",
        help="pinocchio timeline store holding each conversation's current runtime",
    )
    _dsn_option(p)
    p.add_argument(
        "--converted-at",
        metavar="RFC3339",
        help="minitrace: the clock for provenance.converted_at and annotations (default: now)",
    )
    return p


def _err(text: str, code: int) -> int:
    sys.stderr.write(f"turns-tui: {text}\n")
    return code


def _write_stdout(data: bytes) -> int:
    try:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes at exit
    return 0


def _parse_clock(text: str) -> _dt.datetime:
    value = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.UTC)
    return value


async def render_store(
    store: Store,
    conv_id: str,
    fmt: str,
    *,
    source_path: str | None = None,
    now: _dt.datetime | None = None,
    converter_version: str | None = None,
    quiet: bool = False,
) -> str:
    """Open `store`, export `conv_id` in `fmt`, close the store (also on error)."""
    from tui.export import render_export
    from tui.store.base import OpenCallbacks

    label = source_path if source_path is not None else store.label
    try:
        callbacks = (
            OpenCallbacks()
            if quiet
            else OpenCallbacks(
                on_progress=_progress_printer(),  # type: ignore[arg-type]
                on_notice=_notice_printer(label),
            )
        )
        opened = await store.open(callbacks)
        return await render_export(
            store,
            opened,
            conv_id,
            fmt,
            source_path=label,
            now=now,
            converter_version=converter_version,
        )
    finally:
        await store.close()


async def render(
    path: str,
    conv_id: str,
    fmt: str,
    *,
    read_only: bool = False,
    timeline_db: str | None = None,
    now: _dt.datetime | None = None,
    converter_version: str | None = None,
    quiet: bool = False,
) -> str:
    """`render_store` on the SQLite file `path` (scripts and tests)."""
    from tui.store.sqlite_store import SqliteStore

    store = SqliteStore(path, read_only=read_only, timeline_db=timeline_db)
    return await render_store(
        store, conv_id, fmt, now=now, converter_version=converter_version, quiet=quiet
    )


def main(argv: Sequence[str]) -> int:
    """Entry point of `turns-tui export`."""
    args = _parser().parse_args(argv)
    out: str | None = args.output
    now = None
    if args.converted_at is not None:
        try:
            now = _parse_clock(args.converted_at)
        except ValueError:
            return _err(
                f"--converted-at: not an RFC 3339 time: {printable(args.converted_at)}", EXIT_USAGE
            )
    from tui.store.factory import store_for

    try:
        store = store_for(args.path, args.turns_dsn, args.read_only, args.timeline_db)
    except StoreError as exc:
        return _err(str(exc), exc.exit_code)
    label = store.label  # what messages name (a DSN without its password)
    if out is not None:
        if _same_file(out, args.path) or _same_file(out, args.timeline_db):
            return _err(f"{printable(out)}: is the database itself; not overwritten", EXIT_USAGE)
        if os.path.lexists(out) and not args.force:
            return _err(f"{printable(out)}: exists; not overwritten (use --force)", EXIT_USAGE)
    import asyncio

    from tui.dump import UnknownConversationError
    from tui.export import NoSnapshotsError

    try:
        text = asyncio.run(render_store(store, args.conv, args.format, now=now))
    except StoreError as exc:
        return _err(str(exc), exc.exit_code)
    except UnknownConversationError:
        return _err(
            f"{printable(label)}: no conversation {printable(args.conv)!r} "
            "in this file or its timeline store",
            EXIT_MISSING,
        )
    except NoSnapshotsError:
        return _err(
            f"{printable(label)}: conversation {printable(args.conv)!r} has no snapshot "
            "with blocks (minitrace needs at least one)",
            EXIT_MISSING,
        )
    data = text.encode("utf-8")
    if out is None:
        return _write_stdout(data)
    try:
        _write_file(out, data, force=args.force)
    except FileExistsError:
        return _err(f"{printable(out)}: exists; not overwritten (use --force)", EXIT_USAGE)
    except PermissionError as exc:
        return _err(
            f"{printable(out)}: cannot write: {printable(exc.strerror or '')}", EXIT_PERMISSION
        )
    except OSError as exc:
        return _err(
            f"{printable(out)}: cannot write: {printable(exc.strerror or str(exc))}", EXIT_MISSING
        )
    sys.stderr.write(f"turns-tui: wrote {printable(out)} ({len(data):,} bytes)\n")
    return 0
