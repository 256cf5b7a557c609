"""Follow mode: a slow read still completes; ticks are skipped, never cancel a poll."""

from __future__ import annotations

from pathlib import Path

from tests import builders as b
from tests.fake_stores import SlowChangeTokenStore
from tests.snapshot_apps.support import wait_workers
from tui.app import make_app
from tui.follow import Follower
from tui.store.sqlite_store import SqliteStore


class FakeTimer:
    """Stands in for Textual's Timer in the unit test of the Follower's own logic."""

    def __init__(self) -> None:
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True


def test_a_tick_during_a_poll_is_skipped_and_the_poll_is_not_cancelled() -> None:
    polls: list[int] = []
    timers: list[FakeTimer] = []

    def start_timer(interval: float, callback: object) -> FakeTimer:
        timers.append(FakeTimer())
        return timers[-1]

    follower = Follower(start_timer, lambda: polls.append(1), interval=1.0)  # type: ignore[arg-type]
    follower.start()
    assert follower.on and len(timers) == 1
    follower.tick()
    follower.tick()  # the first poll is still running
    follower.tick()
    assert polls == [1] and follower.skipped_ticks == 2
    follower.completed(123.0)
    assert follower.checked_at == 123.0
    follower.tick()
    assert polls == [1, 1]
    follower.stop()
    assert timers[0].stopped and not follower.on


async def test_follow_keeps_reloading_when_a_read_is_slower_than_the_interval(
    tmp_path: Path,
) -> None:
    """A 1.3 s change-token read with a 0.5 s tick: polls complete, and the title's
    "checked" time is the time of the last completed check (the app clock)."""
    path = b.build_gp26(tmp_path / "t.db", b.standard_scenario())
    store = SlowChangeTokenStore(SqliteStore(str(path)), delay=0.6)
    ticks = iter(range(1_000_000))
    app = make_app(
        store=store, follow=True, follow_interval=0.2, clock=lambda: 1_771_900_000 + next(ticks)
    )
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_workers(pilot.app)
        await pilot.pause(2.2)
        await wait_workers(pilot.app)
        await pilot.pause()
        assert store.completed >= 3  # 1 initial load + at least two polls finished
        assert app.follower.skipped_ticks >= 2  # ticks came while a poll was running
        assert app.last_check is not None
        title = str(app.screen.query_one("#title-bar").render())
        assert "● follow" in title and "checked" in title
