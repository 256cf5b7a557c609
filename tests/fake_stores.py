"""Small stores that wrap a real one and misbehave on purpose (slow, failing)."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from typing import Any

from tui.store.base import ConversationRecords, OpenCallbacks, Store
from tui.store.investigate import AnomalyFacts, TextHit, TurnIds
from tui.store.models import Opened
from tui.store.records import ConversationSummary, SnapshotDetail


class WrappedStore:
    """Delegates everything to `inner`; subclasses override what they break."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner

    @property
    def label(self) -> str:
        return self.inner.label

    @property
    def read_only(self) -> bool:
        return self.inner.read_only

    async def open(self, callbacks: OpenCallbacks | None = None) -> Opened:
        return await self.inner.open(callbacks)

    async def conversations(self) -> list[ConversationSummary]:
        return await self.inner.conversations()

    async def conversation(self, conv_id: str) -> ConversationRecords:
        return await self.inner.conversation(conv_id)

    async def snapshot(
        self, conv_id: str, session_id: str, turn_id: str, phase: str, created_at_ms: int
    ) -> SnapshotDetail | None:
        return await self.inner.snapshot(conv_id, session_id, turn_id, phase, created_at_ms)

    async def anomaly_facts(self) -> AnomalyFacts:
        return await self.inner.anomaly_facts()

    async def find_ids(self, query: str, limit: int | None = None) -> list[TurnIds]:
        return await self.inner.find_ids(query, limit)

    async def find_text(self, query: str) -> list[TextHit]:
        return await self.inner.find_text(query)

    async def change_token(self) -> Hashable:
        return await self.inner.change_token()

    async def close(self) -> None:
        await self.inner.close()

    def reopen(self, *, read_only: bool) -> Store:
        return type(self)(self.inner.reopen(read_only=read_only))  # type: ignore[call-arg]


class FailingConversationStore(WrappedStore):
    """Reading one conversation fails with `error` once `armed` is set."""

    def __init__(self, inner: Store, error: BaseException | None = None) -> None:
        super().__init__(inner)
        self.error = error or OSError("disk I/O error")
        self.armed = False

    async def conversation(self, conv_id: str) -> ConversationRecords:
        if self.armed:
            raise self.error
        return await super().conversation(conv_id)


class CountingStore(WrappedStore):
    """Records every conversation read (`reads`) and snapshot read (`snapshot_reads`:
    turn id and phase; `snapshot_readers`: the name of the app's worker that read it),
    in order."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.reads: list[str] = []
        self.snapshot_reads: list[tuple[str, str]] = []
        self.snapshot_readers: list[str] = []

    async def conversation(self, conv_id: str) -> ConversationRecords:
        self.reads.append(conv_id)
        return await super().conversation(conv_id)

    async def snapshot(
        self, conv_id: str, session_id: str, turn_id: str, phase: str, created_at_ms: int
    ) -> SnapshotDetail | None:
        self.record_snapshot_read(turn_id, phase)
        return await super().snapshot(conv_id, session_id, turn_id, phase, created_at_ms)

    def record_snapshot_read(self, turn_id: str, phase: str) -> None:
        self.snapshot_reads.append((turn_id, phase))
        self.snapshot_readers.append(_worker_name())

    def reads_by(self, worker_name: str) -> list[tuple[str, str]]:
        """The snapshot reads the app's worker `worker_name` made, in order."""
        pairs = zip(self.snapshot_reads, self.snapshot_readers, strict=True)
        return [read for read, name in pairs if name == worker_name]


def _worker_name() -> str:
    from textual.worker import NoActiveWorker, get_current_worker

    try:
        return get_current_worker().name
    except NoActiveWorker:
        return ""


class SlowChangeTokenStore(WrappedStore):
    """Every change-token read takes `delay` seconds (a slow disk or server)."""

    def __init__(self, inner: Store, delay: float = 1.3) -> None:
        super().__init__(inner)
        self.delay = delay
        self.calls = 0
        self.completed = 0

    async def change_token(self) -> Hashable:
        self.calls += 1
        await asyncio.sleep(self.delay)
        token = await super().change_token()
        self.completed += 1
        return token


def unused(_: Any) -> None:
    """(keeps linters quiet about re-exports)"""


class LateNoticeFailingStore(WrappedStore):
    """Its open fails, and a notice it sent from its thread reaches the app only after
    the failure (as a slow machine can order them)."""

    async def open(self, callbacks: OpenCallbacks | None = None) -> Opened:
        from tui.store.errors import NotADatabaseError
        from tui.store.models import Notice, NoticeKind

        loop = asyncio.get_running_loop()
        if callbacks is not None and callbacks.on_notice is not None:
            notice = Notice(NoticeKind.LOCK_WAIT, "waiting for another writer's lock")
            loop.call_later(0.2, callbacks.on_notice, notice)
        raise NotADatabaseError("not a turns database")
