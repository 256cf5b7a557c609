"""What the investigation commands share: options, opening the store, closing it always."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tui.cli import _common, _dsn_option, _fail, _notice_printer, _Parser, _progress_printer
from tui.store.base import OpenCallbacks, Store
from tui.store.errors import StoreError, printable
from tui.store.models import Opened

T = TypeVar("T")

EXIT_MISSING = 3


class LookupFailed(LookupError):
    """An id the user named does not resolve; `str()` is the one line to print (exit 3)."""


def parser(prog: str, description: str) -> argparse.ArgumentParser:
    """A command parser with PATH and the options every command shares (like `dump`)."""
    p = _Parser(prog=prog, description=description)
    p.add_argument("path", nargs="?", help="turns database (or --turns-dsn)")
    _common(p)
    _dsn_option(p)
    return p


def run(args: argparse.Namespace, work: Callable[[Opened, Store], Awaitable[T]]) -> T | int:
    """Open the store named by `args`, run `work`, close the store (always).

    Returns `work`'s result, or the exit code after printing one line on stderr (a
    StoreError's own code; 3 for an id that does not resolve)."""
    from tui.store.factory import store_for

    try:
        store = store_for(
            args.path, getattr(args, "turns_dsn", None), args.read_only, args.timeline_db
        )
    except StoreError as exc:
        return _fail(exc)
    args.path = store.label  # messages name the file, or the DSN without its password

    async def go() -> T:
        try:
            opened = await store.open(
                OpenCallbacks(
                    on_progress=_progress_printer(),  # type: ignore[arg-type]
                    on_notice=_notice_printer(args.path),
                )
            )
            return await work(opened, store)
        finally:
            await store.close()

    try:
        return asyncio.run(go())
    except StoreError as exc:
        return _fail(exc)
    except LookupFailed as exc:
        sys.stderr.write(f"turns-tui: {printable(args.path)}: {printable(str(exc))}\n")
        return EXIT_MISSING
