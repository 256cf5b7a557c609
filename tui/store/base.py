"""The store seam: what the screens and the CLI need from any turns store.

`Store` is a small protocol (Harlequin's adapter pattern): the SQLite store
(`tui.store.sqlite_store`) is its first implementation. It never imports textual.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from tui.store.models import Notice, Opened, Progress
from tui.store.records import ConversationSummary, SnapshotDetail, TimelineEntry, TurnRecord

if TYPE_CHECKING:
    from tui.store.investigate import AnomalyFacts, TextHit, TurnIds

ProgressFn = Callable[[Progress], None]
StepFn = Callable[[str], None]
NoticeFn = Callable[[Notice], None]


@dataclass(frozen=True)
class OpenCallbacks:
    """Where the store reports a long open (called from its worker thread)."""

    on_progress: ProgressFn | None = None
    on_step: StepFn | None = None
    on_notice: NoticeFn | None = None


@dataclass(frozen=True)
class ConversationRecords:
    """One conversation as stored: its turns (unordered) and its timeline-store row."""

    conv_id: str
    turns: tuple[TurnRecord, ...]
    timeline: TimelineEntry | None


class Store(Protocol):
    """A turns store the app and the CLI read (SQLite today; MySQL next)."""

    @property
    def label(self) -> str:
        """What to call the store on screen (a path, or a DSN without its password)."""
        ...

    @property
    def read_only(self) -> bool:
        """Whether the store was asked to never write."""
        ...

    async def open(self, callbacks: OpenCallbacks | None = None) -> Opened:
        """Open (and where allowed migrate) the store; raise StoreError on bad input."""
        ...

    async def conversations(self) -> list[ConversationSummary]:
        """Every conversation, this store's first (newest activity first), then the
        conversations only the timeline store knows."""
        ...

    async def conversation(self, conv_id: str) -> ConversationRecords:
        """One conversation's turns and its timeline-store entry."""
        ...

    async def snapshot(
        self, conv_id: str, session_id: str, turn_id: str, phase: str, created_at_ms: int
    ) -> SnapshotDetail | None:
        """One snapshot's blocks and turn metadata."""
        ...

    async def anomaly_facts(self) -> AnomalyFacts:
        """Database-wide facts of the check rules: orphan membership rows, snapshots older
        than their turn."""
        ...

    async def find_ids(self, query: str, limit: int | None = None) -> list[TurnIds]:
        """Turns one of whose ids (conversation, session, turn, inference, runtime key)
        starts with `query`, case-insensitively, with the snapshot to jump to."""
        ...

    async def find_text(self, query: str) -> list[TextHit]:
        """Candidate blocks whose payload JSON contains `query` (see `tui.find`)."""
        ...

    async def change_token(self) -> Hashable:
        """A cheap value that changes when another program commits (follow mode)."""
        ...

    async def close(self) -> None:
        """Close connections and leave nothing behind (side files, private copies)."""
        ...

    def reopen(self, *, read_only: bool) -> Store:
        """A fresh store on the same source (the error screen's retry)."""
        ...
