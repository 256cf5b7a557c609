"""What the investigation commands share: options, opening the store, closing it always."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tui.cli import _common, _fail, _notice_printer, _Parser, _progress_printer
from tui.store.base import OpenCallbacks
from tui.store.errors import StoreError, printable
from tui.store.models import Opened
from tui.store.sqlite_store import SqliteStore

T = TypeVar("T")

EXIT_MISSING = 3


class LookupFailed(LookupError):
    """An id the user named does not resolve; `str()` is the one line to print (exit 3)."""


def parser(prog: str, description: str) -> argparse.ArgumentParser:
    """A command parser with PATH and the options every command shares (like `dump`)."""
    p = _Parser(prog=prog, description=description)
    p.add_argument("path")
    _common(p)
    return p


def run(args: argparse.Namespace, work: Callable[[Opened, SqliteStore], Awaitable[T]]) -> T | int:
    """Open the store named by `args`, run `work`, close the store (always).

    Returns `work`'s result, or the exit code after printing one line on stderr (a
    StoreError's own code; 3 for an id that does not resolve)."""
    store = SqliteStore(args.path, read_only=args.read_only, timeline_db=args.timeline_db)

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
