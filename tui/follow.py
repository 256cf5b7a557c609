"""Follow mode: poll the store's change token on a timer, one poll at a time.

A tick that comes while the previous poll is still running is skipped (never cancelled),
so a read slower than the interval still completes; `checked_at` is the time the last
poll completed.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.timer import Timer

FOLLOW_INTERVAL_S = 1.0


class Follower:
    """Owns the follow timer and the poll-in-flight flag."""

    def __init__(
        self,
        start_timer: Callable[[float, Callable[[], None]], Timer],
        poll: Callable[[], None],
        interval: float = FOLLOW_INTERVAL_S,
    ) -> None:
        self._start_timer = start_timer
        self._poll = poll
        self.interval = interval
        self._timer: Timer | None = None
        self.in_flight = False
        self.checked_at: float | None = None
        self.skipped_ticks = 0

    @property
    def on(self) -> bool:
        """Whether follow mode is running."""
        return self._timer is not None

    def start(self) -> None:
        """Start polling (no-op when on)."""
        if self._timer is None:
            self._timer = self._start_timer(self.interval, self.tick)

    def stop(self) -> None:
        """Stop polling; a poll in flight still completes."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def tick(self) -> None:
        """One timer tick: poll unless the previous poll is still running."""
        if self.in_flight:
            self.skipped_ticks += 1
            return
        self.in_flight = True
        self._poll()

    def completed(self, checked_at: float) -> None:
        """A poll finished (or failed): the next tick may poll again."""
        self.in_flight = False
        self.checked_at = checked_at
