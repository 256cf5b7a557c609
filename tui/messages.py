"""Messages the app's workers post (to the app), one class per result."""

from __future__ import annotations

from textual.message import Message

from tui.domain import ConversationView
from tui.store.models import Notice, Opened
from tui.store.records import ConversationSummary, SnapshotDetail

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
        self, summaries: tuple[ConversationSummary, ...], token: object, reload: bool
    ) -> None:
        super().__init__()
        self.summaries = summaries
        self.token = token
        self.reload = reload


class ConversationLoaded(Message):
    """The turns of one conversation were read and evaluated."""

    def __init__(self, view: ConversationView) -> None:
        super().__init__()
        self.view = view


class SnapshotLoaded(Message):
    """The blocks of one snapshot were read."""

    def __init__(self, turn_id: str, key: SnapshotKey, detail: SnapshotDetail | None) -> None:
        super().__init__()
        self.turn_id = turn_id
        self.key = key
        self.detail = detail


class FollowChecked(Message):
    """A follow-mode poll completed."""

    def __init__(self, checked_at: float) -> None:
        super().__init__()
        self.checked_at = checked_at
