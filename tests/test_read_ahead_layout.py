"""The read-ahead also lays out, in a thread, the sections the detail will show, at the
width the detail's view will have; Enter then hands them to the view before its first
paint (tui.screens.detail.prepare_sections, predicted_view_width).

Pilot tests on real files from the builders: the predicted width is the laid-out one at
every breakpoint; a detail opened with sections laid out ahead lays nothing out on Enter
and shows the same lines as one opened with the read-ahead off; a detail that must not
take them (the exact view toggled on a kept screen) builds its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tui.app
from tests import builders as b
from tests.snapshot_apps.detail_scenario import build_detail_db
from tests.snapshot_apps.support import fixed_clock, main_screen, pin_utc, settle
from tests.test_read_ahead import until
from tui.app import make_app
from tui.screens.detail import TurnDetailScreen, predicted_view_width
from tui.widgets.snapshot_view import Section


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from pin_utc(monkeypatch)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 12 blocks a snapshot: a view long enough to scroll (laid out for its scrollbar)
    return b.build_gp26(tmp_path_factory.mktemp("ahead") / "t.db", b.bulk_scenario(2, 3, 12))


@pytest.fixture()
def layouts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The widths the detail screen laid sections out at in its own thread."""
    calls: list[int] = []
    original = TurnDetailScreen._laid_out

    def counted(self: TurnDetailScreen, width: int) -> list[Section]:
        calls.append(width)
        return original(self, width)

    monkeypatch.setattr(TurnDetailScreen, "_laid_out", counted)
    return calls


def ahead_done(app: Any) -> bool:
    ahead = app._ahead
    return ahead is not None and ahead[1].is_finished


async def open_last_turn(pilot: Any, *, rest: bool) -> TurnDetailScreen:
    """Highlight the newest conversation's last turn, let the read-ahead finish (`rest`),
    press Enter; the detail once it shows its blocks."""
    main = main_screen(pilot.app)
    main.timeline.focus()
    main.timeline.move_cursor(row=main.timeline.row_count - 1)
    await pilot.pause()
    if rest:
        assert await until(pilot, lambda: ahead_done(pilot.app))
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, TurnDetailScreen) and screen.loaded and screen.detail is not None
    return screen


def all_lines(screen: TurnDetailScreen) -> list[list[str]]:
    view = screen.view
    return [view.section_lines(s.key) for s in view.sections]


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (140, 40), (160, 48), (200, 50)])
async def test_the_predicted_width_is_the_laid_out_one(db: Path, size: tuple[int, int]) -> None:
    app = make_app(str(db), clock=fixed_clock)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        screen = await open_last_turn(pilot, rest=False)
        predicted = predicted_view_width(app.size.width, screen.has_class("-narrow"))
        assert predicted == screen._section_width() == screen.view._laid_width


@pytest.fixture(scope="module")
def rich_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tool calls and results (ok and failed), Markdown and <angle> text."""
    return build_detail_db(tmp_path_factory.mktemp("ahead-rich") / "d.db")


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
@pytest.mark.parametrize("which", ["bulk", "rich"])
async def test_sections_laid_out_ahead_are_shown_as_built_here(
    db: Path,
    rich_db: Path,
    which: str,
    layouts: list[int],
    monkeypatch: pytest.MonkeyPatch,
    size: tuple[int, int],
) -> None:
    db = db if which == "bulk" else rich_db
    app = make_app(str(db), clock=fixed_clock)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        screen = await open_last_turn(pilot, rest=True)
        assert layouts == []  # nothing laid out after Enter: the read-ahead did it
        ahead = all_lines(screen)
        ahead_top = (screen.view.scroll_y, screen.view.render_line(0).text)
        shown = [s.block.block.block_id for s in screen.view.sections if s.block is not None]
        assert screen.detail is not None
        assert shown == [blk.block_id for blk in screen.detail.blocks]

    monkeypatch.setattr(tui.app, "READ_AHEAD_DELAY_S", 1e9)  # no read-ahead: built here
    app = make_app(str(db), clock=fixed_clock)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        screen = await open_last_turn(pilot, rest=False)
        assert len(layouts) == 1
        assert all_lines(screen) == ahead
        # scrolled alike (to the marker before the turn's own blocks), the same top row
        assert (screen.view.scroll_y, screen.view.render_line(0).text) == ahead_top
        assert any(line.strip() for lines in ahead for line in lines)


async def test_sections_laid_out_ahead_are_not_taken_by_another_view(
    db: Path, layouts: list[int]
) -> None:
    """Sections laid out ahead are the default view's: in the exact view, going back to
    the snapshot that was read ahead lays it out again, exactly."""
    app = make_app(str(db), clock=fixed_clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        screen = await open_last_turn(pilot, rest=True)
        rendered = all_lines(screen)
        await pilot.press("x")  # every block in its exact (stored) text
        await settle(pilot)
        assert screen.exact and layouts == []
        exact = all_lines(screen)
        assert exact != rendered
        await pilot.press("up")  # the previous snapshot, then back to the one read ahead
        await settle(pilot)
        await pilot.press("down")
        await settle(pilot)
        last = screen.snapshots[-1]
        assert screen.requested == (last.phase, last.snapshot_created_at_ms)
        assert len(layouts) == 2  # both laid out here, in the exact view
        assert all_lines(screen) == exact
