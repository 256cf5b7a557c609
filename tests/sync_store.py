"""Test helper: a SQLite store driven synchronously (one event loop per helper).

Tests of the data layer read through the real store (`SqliteStore`, the one aiosqlite
reader) without writing `async` everywhere.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from tui.domain import ConversationView, build_conversation
from tui.dump import build_dump
from tui.store.base import OpenCallbacks
from tui.store.models import Opened
from tui.store.records import ConversationSummary, SnapshotDetail, TurnRecord
from tui.store.sqlite_store import SqliteStore

T = TypeVar("T")


class SyncStore:
    """`SqliteStore` with blocking methods, for tests."""

    def __init__(self, path: Path | str, **kwargs: Any) -> None:
        names = ("on_notice", "on_step", "on_progress")
        callbacks = {k: kwargs.pop(k) for k in names if k in kwargs}
        self.callbacks = OpenCallbacks(**callbacks)
        self.store = SqliteStore(str(path), **kwargs)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.opened: Opened | None = None

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run on this helper's own loop thread (callable from sync and async tests)."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def open(self) -> Opened:
        self.opened = self._run(self.store.open(self.callbacks))
        return self.opened

    def conversations(self) -> list[ConversationSummary]:
        return self._run(self.store.conversations())

    def turns(self, conv_id: str) -> list[TurnRecord]:
        return list(self._run(self.store.conversation(conv_id)).turns)

    def view(self, conv_id: str) -> ConversationView:
        records = self._run(self.store.conversation(conv_id))
        return build_conversation(conv_id, records.turns, records.timeline)

    def snapshot(
        self, conv_id: str, session_id: str, turn_id: str, phase: str, created_at_ms: int
    ) -> SnapshotDetail | None:
        return self._run(
            self.store.snapshot(conv_id, session_id, turn_id, phase, created_at_ms)
        )

    def change_token(self) -> object:
        return self._run(self.store.change_token())

    def dump(self, conv_id: str | None = None) -> dict[str, Any]:
        assert self.opened is not None
        return self._run(build_dump(self.opened, self.store, conv_id))

    def close(self) -> None:
        try:
            self._run(self.store.close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()


def open_store(path: Path | str, **kwargs: Any) -> SyncStore:
    """A `SyncStore`, opened."""
    store = SyncStore(path, **kwargs)
    store.open()
    return store


def dump(path: Path | str, conv_id: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """Open, dump, close."""
    store = open_store(path, **kwargs)
    try:
        return store.dump(conv_id)
    finally:
        store.close()
