"""The one reader: runs query plans on aiosqlite for the app and the CLI alike.

SQL runs in aiosqlite's thread; each plan is resumed in a worker thread
(`asyncio.to_thread`), so JSON and YAML decoding, attribution and summarising never
stall the event loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any, TypeVar

import aiosqlite

from tui.store.errors import StoreError
from tui.store.models import Opened
from tui.store.opener import classify_error, is_decode_error, lenient_text, sqlite_uri
from tui.store.queries import MAIN, TIMELINE, Plan, Query, Rows

T = TypeVar("T")


def _advance(plan: Plan[Any], rows: Rows | None) -> tuple[bool, Any]:
    """(done, value): the next query, or the plan's result (StopIteration cannot cross
    a thread's future, so it is turned into a value here)."""
    try:
        return False, (next(plan) if rows is None else plan.send(rows))
    except StopIteration as stop:
        return True, stop.value


def read_error(opened: Opened, target: str, exc: sqlite3.Error) -> StoreError:
    """The StoreError for a SQLite error met while reading `target` of `opened`."""
    timeout = opened.timeout_s
    if target == TIMELINE and opened.timeline_path not in (None, opened.read_path):
        assert opened.timeline_path is not None
        return classify_error(opened.timeline_path, exc, read_only=True, timeout=timeout)
    return classify_error(opened.path, exc, read_only=True, check=opened.read_path, timeout=timeout)


class Reader:
    """Read-only aiosqlite connections to an opened database (and its timeline store)."""

    def __init__(self, opened: Opened) -> None:
        self.opened = opened
        self._conns: dict[str, aiosqlite.Connection] = {}

    async def _conn(self, target: str) -> aiosqlite.Connection:
        if target not in self._conns:
            path = self.opened.read_path if target == MAIN else self.opened.timeline_path
            assert path is not None
            conn = await aiosqlite.connect(
                sqlite_uri(path, "ro"), uri=True, timeout=self.opened.timeout_s
            )
            self._conns[target] = conn
        return self._conns[target]

    async def _fetch(self, query: Query) -> Rows:
        target, sql, params = query
        if target == TIMELINE and self.opened.timeline_path is None:
            return []
        conn = await self._conn(target)
        try:
            fetched = await conn.execute_fetchall(sql, params)
        except sqlite3.OperationalError as exc:
            if not is_decode_error(exc) or conn.text_factory is lenient_text:
                raise
            conn.text_factory = lenient_text  # shown with U+FFFD from now on
            fetched = await conn.execute_fetchall(sql, params)
        return [tuple(r) for r in fetched]

    async def run(self, plan: Plan[T]) -> T:
        """Drive a plan to completion: SQL on aiosqlite, the plan's Python in a thread.

        A SQLite error (a damaged page met while reading, a lock held past the timeout)
        becomes the same one-line StoreError the opener raises, naming the user's file.
        """
        target = MAIN
        try:
            done, value = await asyncio.to_thread(_advance, plan, None)
            while not done:
                target = value[0]
                rows = await self._fetch(value)
                done, value = await asyncio.to_thread(_advance, plan, rows)
            return value  # type: ignore[no-any-return]
        except sqlite3.Error as exc:
            raise read_error(self.opened, target, exc) from None

    async def close(self) -> None:
        """Close every connection."""
        for conn in self._conns.values():
            await conn.close()
        self._conns.clear()
