"""The timeline reads ahead the snapshot Enter would open (the highlighted turn's latest).

Pilot tests on a real file (tests/snapshot_apps/detail_scenario.py) through the real
SQLite store, wrapped only to record which snapshots are read (`CountingStore`): a turn
left highlighted is read once, before Enter, and Enter then reads nothing more; a cursor
running down the rows reads only where it stops; a reload drops what was read ahead (the
detail shows the file as it is now); a failed read ahead says nothing and Enter reads
again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import tui.app
from tests.fake_stores import CountingStore
from tests.snapshot_apps.detail_scenario import build_detail_db
from tests.snapshot_apps.support import fixed_clock, main_screen, pin_utc, settle
from tui.app import make_app
from tui.screens.detail import TurnDetailScreen, shown_first
from tui.store.base import Store
from tui.store.records import SnapshotDetail
from tui.store.sqlite_store import SqliteStore

SIZE = (160, 48)


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from pin_utc(monkeypatch)


async def until(pilot: Any, done: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Pause until `done()` (the read ahead waits for its delay first)."""
    for _ in range(int(seconds / 0.05)):
        if done():
            return True
        await pilot.pause(0.05)
    return done()


def latest_read(turn: Any) -> tuple[str, str]:
    snap = shown_first(turn)
    assert snap is not None
    return (turn.turn.turn_id, snap.phase)


async def highlight(pilot: Any, row: int) -> Any:
    """Focus the timeline and put its cursor on `row`; the turn shown there."""
    main = main_screen(pilot.app)
    main.timeline.focus()
    main.timeline.move_cursor(row=row)
    await pilot.pause()
    turn = main.timeline.turn_at_cursor()
    assert turn is not None
    return turn


async def read_ahead_at(pilot: Any, store: CountingStore, row: int) -> tuple[Any, tuple[str, str]]:
    """Highlight `row` and wait until its latest snapshot was read; the turn and that read."""
    turn = await highlight(pilot, row)
    want = latest_read(turn)
    assert await until(pilot, lambda: want in store.snapshot_reads), store.snapshot_reads
    await settle(pilot)
    return turn, want


async def open_highlighted(pilot: Any) -> TurnDetailScreen:
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, TurnDetailScreen) and screen.loaded and screen.detail is not None
    return screen


def block_texts(detail: SnapshotDetail) -> list[str]:
    return [b.payload_json for b in detail.blocks]


async def test_a_highlighted_turn_is_read_before_enter_and_enter_reads_nothing_more(
    tmp_path: Path,
) -> None:
    path = build_detail_db(tmp_path / "ahead.sqlite")
    store = CountingStore(SqliteStore(str(path)))
    app = make_app(store=store, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        turn, want = await read_ahead_at(pilot, store, 0)
        reads_before_enter = len(store.snapshot_reads)
        assert store.reads_by("read ahead").count(want) == 1

        screen = await open_highlighted(pilot)
        assert screen.turn.turn.turn_id == want[0]
        assert store.snapshot_reads[reads_before_enter:] == []  # nothing read on Enter
        # what is shown is what the file holds for that snapshot, read by a fresh store
        snap = shown_first(turn)
        assert snap is not None
        fresh = SqliteStore(str(path), read_only=True)
        await fresh.open()
        try:
            expected = await fresh.snapshot(
                turn.turn.conv_id,
                turn.turn.session_id,
                turn.turn.turn_id,
                snap.phase,
                snap.snapshot_created_at_ms,
            )
        finally:
            await fresh.close()
        assert expected is not None and screen.detail is not None
        assert block_texts(screen.detail) == block_texts(expected)
        shown = [s.block.block.block_id for s in screen.view.sections if s.block is not None]
        assert shown == [b.block_id for b in expected.blocks]


async def test_a_cursor_running_down_the_timeline_reads_only_where_it_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a long delay, so that the test does not depend on how fast keys are handled here
    monkeypatch.setattr(tui.app, "READ_AHEAD_DELAY_S", 0.6)
    path = build_detail_db(tmp_path / "run.sqlite")
    store = CountingStore(SqliteStore(str(path)))
    app = make_app(store=store, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await highlight(pilot, 0)
        timeline = main_screen(app).timeline
        turns = timeline.view.turns if timeline.view is not None else ()
        assert len(turns) == 4
        ahead_before = len(store.reads_by("read ahead"))
        await pilot.press("down", "down", "down")
        last = timeline.turn_at_cursor()
        assert last is not None and last.turn.turn_id == turns[3].turn.turn_id
        want = latest_read(last)
        assert await until(pilot, lambda: want in store.snapshot_reads)
        await settle(pilot)
        assert store.reads_by("read ahead")[ahead_before:] == [want]  # rows 1-2: not read


async def test_a_reload_drops_what_was_read_ahead(tmp_path: Path) -> None:
    path = build_detail_db(tmp_path / "reload.sqlite")
    store = CountingStore(SqliteStore(str(path)))
    app = make_app(store=store, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        _turn, want = await read_ahead_at(pilot, store, 3)

        # another program rewrites the text of the turn's last block
        with sqlite3.connect(path) as conn:
            changed = conn.execute(
                "UPDATE blocks SET payload_json = ? WHERE block_id = 't-a4'",
                ('{"text":"Rewritten after the read ahead."}',),
            ).rowcount
        conn.close()
        assert changed == 1
        app.action_reload()
        await settle(pilot)
        await highlight(pilot, 3)
        assert await until(pilot, lambda: store.reads_by("read ahead").count(want) == 2)
        await settle(pilot)

        screen = await open_highlighted(pilot)
        assert screen.detail is not None
        texts = block_texts(screen.detail)
        assert '{"text":"Rewritten after the read ahead."}' in texts
        assert not any("You are welcome." in t for t in texts)


class FailFirstSnapshotStore(CountingStore):
    """The first snapshot read fails (a disk error); later ones succeed."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.failed = 0

    async def snapshot(
        self, conv_id: str, session_id: str, turn_id: str, phase: str, created_at_ms: int
    ) -> SnapshotDetail | None:
        if not self.failed:
            self.failed += 1
            self.record_snapshot_read(turn_id, phase)
            raise OSError("disk I/O error")
        return await super().snapshot(conv_id, session_id, turn_id, phase, created_at_ms)


async def test_a_failed_read_ahead_says_nothing_and_enter_reads_again(tmp_path: Path) -> None:
    path = build_detail_db(tmp_path / "fail.sqlite")
    store = FailFirstSnapshotStore(SqliteStore(str(path)))
    app = make_app(store=store, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        turn = await highlight(pilot, 0)
        want = latest_read(turn)
        assert await until(pilot, lambda: store.failed == 1)
        await settle(pilot)
        assert store.reads_by("read ahead") == [want]  # the read ahead, which failed
        assert [n.message for n in app._notifications] == []

        screen = await open_highlighted(pilot)
        assert store.reads_by("load snapshot") == [want]  # Enter read it again
        assert screen.detail is not None and len(screen.detail.blocks) == 3
        assert [n.message for n in app._notifications] == []
