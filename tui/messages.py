"""Messages the app's workers post (to the app), one class per result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from tui.check import CheckReport
from tui.domain import ConversationView
from tui.find import Match
from tui.store.models import Notice, Opened
from tui.store.records import ConversationSummary, SnapshotDetail

if TYPE_CHECKING:
    from tui.screens.detail import PreparedSections

SnapshotKey = tuple[str, int]  # (phase, snapshot_created_at_ms)


class OpenProgress(Message):
    """A long migration step made progress."""

    def __init__(self, step: str, done: int, total: int) -> None:
        super().__init__()
        self.step = step
        self.done = done
        self.total = total


class OpenStep(Message):
    """A migration step started."""

    def __init__(self, step: str) -> None:
        super().__init__()
        self.step = step


class OpenNotice(Message):
    """The opener has something to say (a lock wait, a read-only fallback)."""

    def __init__(self, notice: Notice) -> None:
        super().__init__()
        self.notice = notice


class DatabaseOpened(Message):
    """The store is open (and migrated where allowed)."""

    def __init__(self, opened: Opened) -> None:
        super().__init__()
        self.opened = opened


class ConversationsLoaded(Message):
    """The conversation list was read."""

    def __init__(
        self,
        summaries: tuple[ConversationSummary, ...],
        token: object,
        reload: bool,
        first: ConversationView | None = None,
    ) -> None:
        super().__init__()
        self.summaries = summaries
        self.token = token
        self.reload = reload
        self.first = first  # read with the list: the conversation the screen opens on


class ConversationLoaded(Message):
    """The turns of one conversation were read and evaluated."""

    def __init__(self, view: ConversationView) -> None:
        super().__init__()
        self.view = view


class SnapshotLoaded(Message):
    """The blocks of one snapshot were read (and, read ahead, maybe laid out too)."""

    def __init__(
        self,
        turn_id: str,
        key: SnapshotKey,
        detail: SnapshotDetail | None,
        prepared: PreparedSections | None = None,
    ) -> None:
        super().__init__()
        self.turn_id = turn_id
        self.key = key
        self.detail = detail
        self.prepared = prepared


class FollowChecked(Message):
    """A follow-mode poll completed."""

    def __init__(self, checked_at: float) -> None:
        super().__init__()
        self.checked_at = checked_at


# -- investigating: where to jump, and what the investigation workers found ----------------


@dataclass(frozen=True)
class Place:
    """Where to take the user: a conversation, and optionally a turn (and its snapshot).

    `open_detail` opens the turn's detail screen at `phase`/`snapshot_created_at_ms` (the
    turn's latest snapshot when they are None), scrolled to the block of ordinal
    `block_ordinal` and marked (a text match), else as usual."""

    conv_id: str
    session_id: str = ""
    turn_id: str | None = None
    phase: str | None = None
    snapshot_created_at_ms: int | None = None
    open_detail: bool = False
    block_ordinal: int | None = None


class SwitchSummaryLoaded(Message):
    """The one-line summary of what a runtime switch changed (`tui.diff.switch_summary`)."""

    def __init__(self, conv_id: str, turn_key: str, summary: str) -> None:
        super().__init__()
        self.conv_id = conv_id
        self.turn_key = turn_key
        self.summary = summary


class CheckProgress(Message):
    """The database check read `done` of `total` conversations."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done = done
        self.total = total

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, CheckProgress)


class CheckLoaded(Message):
    """The database check's report."""

    def __init__(self, report: CheckReport) -> None:
        super().__init__()
        self.report = report


class FindProgress(Message):
    """More matches of search `generation` (`done`: the search is over)."""

    def __init__(
        self,
        generation: int,
        matches: tuple[Match, ...],
        status: str,
        done: bool,
        progress: tuple[int, int] | None = None,  # (candidate blocks checked, of how many)
    ) -> None:
        super().__init__()
        self.generation = generation
        self.matches = matches
        self.status = status
        self.done = done
        self.progress = progress


class ComparisonLoaded(Message):
    """The snapshot the turn detail compares the shown one with (d) was read."""

    def __init__(self, turn_id: str, key: SnapshotKey, detail: SnapshotDetail | None) -> None:
        super().__init__()
        self.turn_id = turn_id
        self.key = key
        self.detail = detail
