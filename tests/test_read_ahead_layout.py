"""The read-ahead also lays out, in a thread, the sections the detail will show, at the
width the detail's view will have; Enter then hands them to the view before its first
paint (tui.screens.detail.prepare_sections, predicted_view_width).

Pilot tests on real files from the builders: the predicted width is the laid-out one at
every breakpoint; a detail opened with sections laid out ahead lays nothing out on Enter
and shows the same lines as one opened with the read-ahead off; a detail that must not
take them (the exact view toggled on a kept screen) builds its own. Enter before the
highlight rests starts the read-ahead and opens the detail when it is done (after at most
DETAIL_WAIT_S, when the read is slow), and not at all when the cursor moved on.
"""

from __future__ import annotations

import asyncio
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
from tui.screens.main import MainScreen
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


async def highlight_last_turn(pilot: Any) -> MainScreen:
    """Focus the timeline of the newest conversation and put its cursor on the last turn."""
    main = main_screen(pilot.app)
    main.timeline.focus()
    main.timeline.move_cursor(row=main.timeline.row_count - 1)
    await pilot.pause()
    return main


def hold_snapshot_reads(app: Any, monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """From now on the store's snapshot reads wait until the returned event is set."""
    store = app.store
    read = store.snapshot
    release = asyncio.Event()

    async def held(*args: Any) -> Any:
        await release.wait()
        return await read(*args)

    monkeypatch.setattr(store, "snapshot", held)
    return release


async def open_last_turn(pilot: Any, *, rest: bool, how: str = "enter") -> TurnDetailScreen:
    """Highlight the newest conversation's last turn, let the read-ahead finish (`rest`),
    and open it: `enter`, or `open_turn` (the command palette's "Open turn detail",
    which opens at once and builds the detail there); the detail once it shows its
    blocks."""
    main = await highlight_last_turn(pilot)
    if rest:
        assert await until(pilot, lambda: ahead_done(pilot.app))
    if how == "enter":
        await pilot.press("enter")
    else:
        main.open_turn()
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, TurnDetailScreen) and screen.loaded and screen.detail is not None
    return screen


def all_lines(screen: TurnDetailScreen) -> list[list[str]]:
    view = screen.view
    return [view.section_lines(s.key) for s in view.sections]


async def built_at_the_screen(
    db: Path, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> tuple[list[list[str]], tuple[float, str]]:
    """The last turn's detail with no read-ahead (its sections laid out by the screen
    itself): every section's lines, and (scroll offset, top row) as first shown."""
    monkeypatch.setattr(tui.app, "READ_AHEAD_DELAY_S", 1e9)
    app = make_app(str(db), clock=fixed_clock)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        screen = await open_last_turn(pilot, rest=False, how="open_turn")
        return all_lines(screen), (screen.view.scroll_y, screen.view.render_line(0).text)


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

    built, built_top = await built_at_the_screen(db, size, monkeypatch)
    assert len(layouts) == 1
    assert built == ahead
    # scrolled alike (to the marker before the turn's own blocks), the same top row
    assert built_top == ahead_top
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


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_enter_at_once_waits_for_the_read_ahead(
    rich_db: Path, layouts: list[int], monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    """Enter before the highlight has rested starts the read-ahead and opens the detail
    when it is done: the detail lays nothing out itself and shows what one built at the
    screen shows."""
    monkeypatch.setattr(tui.app, "READ_AHEAD_DELAY_S", 1e9)  # only Enter reads ahead
    app = make_app(str(rich_db), clock=fixed_clock)
    done_when_shown: list[bool] = []
    present = TurnDetailScreen._present

    def noted(self: TurnDetailScreen) -> None:
        done_when_shown.append(ahead_done(app))
        present(self)

    monkeypatch.setattr(TurnDetailScreen, "_present", noted)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert app._ahead is None
        screen = await open_last_turn(pilot, rest=False)
        assert app._ahead is not None  # Enter started it
        assert done_when_shown == [True]  # the detail came up once it was read and laid out
        assert layouts == []  # laid out ahead, handed over: nothing built here
        at_once = all_lines(screen)
    built, _ = await built_at_the_screen(rich_db, size, monkeypatch)
    assert len(layouts) == 1
    assert built == at_once


async def test_enter_opens_after_a_short_wait_when_the_read_is_slow(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read slower than DETAIL_WAIT_S does not hold Enter back: the detail opens while
    the read is still under way (held until the detail is seen) and shows the blocks once
    they are read."""
    monkeypatch.setattr(tui.app, "READ_AHEAD_DELAY_S", 1e9)
    app = make_app(str(db), clock=fixed_clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await highlight_last_turn(pilot)
        release = hold_snapshot_reads(app, monkeypatch)
        await pilot.press("enter")
        assert await until(pilot, lambda: isinstance(app.screen, TurnDetailScreen))
        screen = app.screen
        assert isinstance(screen, TurnDetailScreen)
        assert not screen.loaded  # opened with the read still held: it shows it is reading
        release.set()
        await settle(pilot)
        assert screen.loaded and screen.detail is not None
        assert [s.block.block.block_id for s in screen.view.sections if s.block is not None] == [
            blk.block_id for blk in screen.detail.blocks
        ]


async def test_enter_then_moving_on_opens_nothing(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cursor moved to another turn while Enter's read was under way: the detail of
    the turn left behind does not open over the timeline."""
    monkeypatch.setattr(tui.app, "READ_AHEAD_DELAY_S", 1e9)
    monkeypatch.setattr(tui.app, "DETAIL_WAIT_S", 30.0)  # only the read ends the wait
    app = make_app(str(db), clock=fixed_clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        main = await highlight_last_turn(pilot)
        release = hold_snapshot_reads(app, monkeypatch)
        await pilot.press("enter", "up")
        await pilot.pause()
        release.set()  # the read of the turn left behind ends now (and later ones at once)
        await settle(pilot)
        assert app.screen is main
        await pilot.press("enter")  # the turn now under the cursor opens
        await settle(pilot)
        screen = app.screen
        at = main.timeline.turn_at_cursor()
        assert isinstance(screen, TurnDetailScreen) and at is not None
        assert screen.turn.turn.turn_id == at.turn.turn_id
