"""One turn detail screen is composed once and re-pointed for every turn opened after.

Pilot tests on a real file (tests/snapshot_apps/detail_scenario.py): a re-opened detail
is the same screen object, shows the new turn as a fresh one would (its title, its
snapshots, its blocks) and keeps none of the previous turn's view toggles.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.snapshot_apps.detail_scenario import build_detail_db
from tests.snapshot_apps.support import fixed_clock, main_screen, pin_utc, settle
from tui.app import make_app
from tui.screens.detail import SnapshotList, TurnDetailScreen
from tui.screens.main import MainScreen

SIZE = (160, 48)


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from pin_utc(monkeypatch)


async def open_row(pilot: Any, row: int) -> TurnDetailScreen:
    main = main_screen(pilot.app)
    main.timeline.focus()
    main.timeline.move_cursor(row=row)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, TurnDetailScreen) and screen.loaded
    return screen


def shown_block_ids(screen: TurnDetailScreen) -> list[str]:
    return [s.block.block.block_id for s in screen.view.sections if s.block is not None]


async def test_a_second_detail_reuses_the_screen_and_resets_its_toggles(tmp_path: Path) -> None:
    path = build_detail_db(tmp_path / "trust.sqlite")
    app = make_app(str(path), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        turns = main_screen(app).timeline.view
        assert turns is not None and len(turns.turns) >= 2
        first = await open_row(pilot, 0)
        first_blocks = shown_block_ids(first)
        await pilot.press("x", "r")
        await settle(pilot)
        assert first.exact and first.raw_visible
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)

        last = len(turns.turns) - 1
        second = await open_row(pilot, last)
        assert second is first  # the kept screen, re-pointed
        want = turns.turns[last]
        assert second.turn is want
        assert not second.exact and not second.raw_visible and second.compare_mode is None
        title = str(second.query_one("#detail-title").render())
        assert f"turn {last + 1} of {len(turns.turns)}" in title
        options = second.query_one(SnapshotList)
        assert options.option_count == len(second.snapshots) == len(want.turn.snapshots)
        assert options.highlighted == len(second.snapshots) - 1  # the latest, as a fresh one
        assert second.detail is not None
        assert shown_block_ids(second) == [b.block_id for b in second.detail.blocks]
        assert shown_block_ids(second) != first_blocks
        assert "exact" not in str(second.view.border_title)


async def test_the_reused_screen_equals_a_fresh_one(tmp_path: Path) -> None:
    """The same turn opened fresh (first detail of the app) and re-pointed (after another
    turn) draws the same lines."""
    path = build_detail_db(tmp_path / "trust.sqlite")

    async def lines_of(row: int, before: int | None) -> list[str]:
        app = make_app(str(path), clock=fixed_clock)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            if before is not None:
                await open_row(pilot, before)
                await pilot.press("escape")
                await settle(pilot)
            screen = await open_row(pilot, row)
            await settle(pilot)
            view = screen.view
            return [view.render_line(y).text for y in range(view.size.height)]

    fresh = await lines_of(2, None)
    reused = await lines_of(2, 0)
    assert fresh == reused
    assert any(line.strip() for line in fresh)
