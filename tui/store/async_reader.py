"""Asynchronous reader (aiosqlite) running the same query plans as `Reader`; used by the app."""

from __future__ import annotations

import sqlite3
from typing import TypeVar

import aiosqlite

from tui.store.models import Era, OpenedDatabase
from tui.store.opener import is_decode_error, lenient_text, sqlite_uri
from tui.store.queries import (
    MAIN,
    TIMELINE,
    Plan,
    Rows,
    TimelineRow,
    conversations_plan,
    data_version_plan,
    read_error,
    snapshot_plan,
    timeline_plan,
    turns_plan,
)
from tui.store.records import ConversationSummary, SnapshotDetail, TurnRecord

T = TypeVar("T")


class AsyncReader:
    """Read-only aiosqlite connections to an opened database (and its timeline store)."""

    def __init__(self, opened: OpenedDatabase) -> None:
        self.opened = opened
        self._conns: dict[str, aiosqlite.Connection] = {}

    async def _conn(self, target: str) -> aiosqlite.Connection:
        if target not in self._conns:
            path = self.opened.read_path if target == MAIN else self.opened.timeline_path
            assert path is not None
            conn = await aiosqlite.connect(sqlite_uri(path, "ro"), uri=True, timeout=5.0)
            self._conns[target] = conn
        return self._conns[target]

    async def run(self, plan: Plan[T]) -> T:
        """Drive a plan to completion on aiosqlite connections."""
        target = MAIN
        try:
            query = next(plan)
            while True:
                target, sql, params = query
                rows: Rows
                if target == TIMELINE and self.opened.timeline_path is None:
                    rows = []
                else:
                    conn = await self._conn(target)
                    try:
                        fetched = await conn.execute_fetchall(sql, params)
                    except sqlite3.OperationalError as exc:
                        if not is_decode_error(exc) or conn.text_factory is lenient_text:
                            raise
                        conn.text_factory = lenient_text  # shown with U+FFFD from now on
                        fetched = await conn.execute_fetchall(sql, params)
                    rows = [tuple(r) for r in fetched]
                query = plan.send(rows)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        except sqlite3.Error as exc:
            raise read_error(self.opened, target, exc) from None

    async def conversations(self) -> list[ConversationSummary]:
        """All conversations, newest activity first."""
        if self.opened.schema_after == Era.EMPTY:
            return []
        return await self.run(conversations_plan(self.opened.timeline_path is not None))

    async def turns(self, conv_id: str) -> list[TurnRecord]:
        """All turns of one conversation (order them with tui.domain)."""
        if self.opened.schema_after == Era.EMPTY:
            return []
        return await self.run(turns_plan(conv_id))

    async def timeline(self, conv_ids: tuple[str, ...]) -> dict[str, TimelineRow]:
        """Timeline-store runtime and session for these conversations."""
        if self.opened.timeline_path is None:
            return {}
        return await self.run(timeline_plan(conv_ids))

    async def snapshot(
        self, conv_id: str, session_id: str, turn_id: str, phase: str, created_at_ms: int
    ) -> SnapshotDetail | None:
        """One snapshot's blocks and metadata."""
        return await self.run(snapshot_plan(conv_id, session_id, turn_id, phase, created_at_ms))

    async def data_version(self) -> int:
        """SQLite's data_version of the main connection (changes on others' commits)."""
        if self.opened.schema_after == Era.EMPTY:
            return 0
        return await self.run(data_version_plan())

    async def close(self) -> None:
        """Close every connection."""
        for conn in self._conns.values():
            await conn.close()
        self._conns.clear()
