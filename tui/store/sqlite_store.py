"""The SQLite store: a pinocchio / geppetto turns file (any era), plus a timeline store."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable

from tui.store import cleanup
from tui.store.base import ConversationRecords, OpenCallbacks
from tui.store.investigate import (
    AnomalyFacts,
    TextHit,
    TurnIds,
    anomaly_facts_plan,
    find_ids_plan,
    find_text_plan,
)
from tui.store.models import Era, Opened
from tui.store.opener import BUSY_TIMEOUT_S, open_store_files
from tui.store.overlay import NO_OVERLAY, Overlay
from tui.store.queries import conversations_plan, data_version_plan, snapshot_plan, timeline_plan
from tui.store.queries import turns_plan as _turns_plan
from tui.store.reader import Reader
from tui.store.records import ConversationSummary, SnapshotDetail


class SqliteStore:
    """A turns database file opened with the GP-26 migration (or its read-only overlay)."""

    def __init__(
        self,
        path: str,
        *,
        read_only: bool = False,
        timeline_db: str | None = None,
        timeout: float = BUSY_TIMEOUT_S,
        label: str | None = None,
        now_ms: int | None = None,
    ) -> None:
        self.path = path
        self._read_only = read_only
        self.timeline_db = timeline_db
        self.timeout = timeout
        self._label = label or path
        self.now_ms = now_ms
        self.opened: Opened | None = None
        self.overlay: Overlay = NO_OVERLAY
        self._reader: Reader | None = None
        self._held: list[str] = []

    @property
    def label(self) -> str:
        return self._label

    @property
    def read_only(self) -> bool:
        return self._read_only

    def reopen(self, *, read_only: bool) -> SqliteStore:
        return SqliteStore(
            self.path,
            read_only=read_only,
            timeline_db=self.timeline_db,
            timeout=self.timeout,
            label=self._label,
            now_ms=self.now_ms,
        )

    def open_sync(self, callbacks: OpenCallbacks | None = None) -> Opened:
        """Open in the calling thread (the CLI's and the app's worker thread)."""
        cb = callbacks or OpenCallbacks()
        result = open_store_files(
            self.path,
            read_only=self._read_only,
            timeline_db=self.timeline_db,
            on_progress=cb.on_progress,
            on_step=cb.on_step,
            on_notice=cb.on_notice,
            timeout=self.timeout,
            now_ms=self.now_ms,
        )
        self.opened, self.overlay = result.opened, result.overlay
        self._reader = Reader(result.opened)
        self._held = [p for p in (self.path, result.opened.timeline_path) if p]
        for held in self._held:
            cleanup.hold(held)
        return result.opened

    async def open(self, callbacks: OpenCallbacks | None = None) -> Opened:
        return await asyncio.to_thread(self.open_sync, callbacks)

    def _ready(self) -> tuple[Opened, Reader]:
        if self.opened is None or self._reader is None:
            raise RuntimeError("the store is not open")
        return self.opened, self._reader

    async def conversations(self) -> list[ConversationSummary]:
        opened, reader = self._ready()
        if opened.schema_after == Era.EMPTY and opened.timeline_path is None:
            return []
        return await reader.run(conversations_plan(opened.timeline_path is not None, self.overlay))

    async def conversation(self, conv_id: str) -> ConversationRecords:
        opened, reader = self._ready()
        turns = (
            ()
            if opened.schema_after == Era.EMPTY
            else tuple(await reader.run(_turns_plan(conv_id, self.overlay)))
        )
        timeline = None
        if opened.timeline_path is not None:
            timeline = (await reader.run(timeline_plan((conv_id,)))).get(conv_id)
        return ConversationRecords(conv_id, turns, timeline)

    async def snapshot(
        self, conv_id: str, session_id: str, turn_id: str, phase: str, created_at_ms: int
    ) -> SnapshotDetail | None:
        _, reader = self._ready()
        return await reader.run(snapshot_plan(conv_id, session_id, turn_id, phase, created_at_ms))

    async def anomaly_facts(self) -> AnomalyFacts:
        opened, reader = self._ready()
        if opened.schema_after == Era.EMPTY:
            return AnomalyFacts()
        return await reader.run(anomaly_facts_plan())

    async def find_ids(self, query: str, limit: int | None = None) -> list[TurnIds]:
        opened, reader = self._ready()
        if opened.schema_after == Era.EMPTY:
            return []
        return await reader.run(find_ids_plan(query, self.overlay, limit))

    async def find_text(self, query: str) -> list[TextHit]:
        opened, reader = self._ready()
        if opened.schema_after == Era.EMPTY:
            return []
        return await reader.run(find_text_plan(query))

    async def change_token(self) -> Hashable:
        opened, reader = self._ready()
        if opened.schema_after == Era.EMPTY:
            return 0
        return await reader.run(data_version_plan())

    async def close(self) -> None:
        if self._reader is not None:
            await self._reader.close()
            self._reader = None
        if self.opened is not None and self.opened.mode == "copy":
            cleanup.remove_copy(_folder(self.opened.read_path))
        for held in self._held:
            cleanup.release(held)
        self._held = []


def _folder(path: str) -> str:
    import os

    return os.path.dirname(path)
