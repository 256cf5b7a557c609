"""Snapshot tests of the turn detail: verbatim text, tool results, blank runtime keys.

Same determinism as tests/test_snapshots.py: TZ=UTC, a fixed clock, the theme set in
code, no animation, no blinking cursor, follow mode off, a relative path (the test runs
in its tmp folder) and every worker awaited before the screenshot. The file is the
GP-26 scenario of tests/snapshot_apps/detail_scenario.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.snapshot_apps.detail_scenario import build_detail_db
from tests.snapshot_apps.support import fixed_clock, main_screen, pin_utc, settle
from tui.app import TurnsApp, make_app
from tui.screens.detail import TurnDetailScreen

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]
DB_NAME = "trust.sqlite"

SnapCompare = Callable[..., bool]


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from pin_utc(monkeypatch)


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The scenario file in the test's folder, opened by its relative name."""
    monkeypatch.chdir(tmp_path)
    build_detail_db(tmp_path / DB_NAME)
    return DB_NAME


def app_for(path: str) -> TurnsApp:
    app = make_app(path, clock=fixed_clock)
    app.animation_level = "none"
    return app


async def open_turn(pilot: Pilot[Any], row: int) -> TurnDetailScreen:
    await settle(pilot)
    main = main_screen(pilot.app)  # type: ignore[arg-type]
    main.timeline.focus()
    main.timeline.move_cursor(row=row)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, TurnDetailScreen)
    return screen


@pytest.mark.parametrize("size", SIZES)
def test_detail_shows_text_verbatim_and_dates_a_new_day(
    snap_compare: SnapCompare, db: str, size: tuple[int, int]
) -> None:
    """You should see turn 1 of 4: the header with the full time "2026-02-23
    23:59:58.000" and "runtime planner · in metadata as runtime (string)"; in the
    snapshot list pre_inference and post_inference with the clock only and `final` with
    the date "2026-02-24" on its own line (past midnight); on the right, from
    "── this turn ──", the assistant's text with every line as stored: "## Plan", the indented
    "1. compare <stock-ledger> first", "then check <b>bold</b> & <br/> tags", the
    indented code line and "- keep **20 units** of `A-1`", Markdown delimiters dimmed."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_turn(pilot, 0)

    assert snap_compare(app_for(db), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_detail_tool_results_ok_and_error(
    snap_compare: SnapCompare, db: str, size: tuple[int, int]
) -> None:
    """You should see turn 2 (runtime `planner → inventory` from "geppetto.runtime@v1
    (map field slug)") scrolled to its two tool results: call-1 marked "✓ ok" with
    "3 in stock" and a thin bar in the success colour, call-2 marked "✗ ERROR" in the
    error colour with a thick bar, a tinted background, an "error" label over "boom" and
    a "result" label over `"" (empty)`."""

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await open_turn(pilot, 1)
        ok = next(s for s in screen.view.sections if s.bar == "tool-use-ok")
        screen.view.scroll_to_section(ok.key)
        await settle(pilot)

    assert snap_compare(app_for(db), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_detail_blank_runtime_key_is_visible_and_explained(
    snap_compare: SnapCompare, db: str, size: tuple[int, int]
) -> None:
    """You should see turn 3, whose runtime_key is stored as two spaces: the header reads
    "runtime ␠␠ blank = unknown · metadata geppetto.runtime@v1 (string) says planner ·
    ⚠ runtime unknown (stored as blank)";
    the metadata panel shows "runtime (this turn) ␠␠ blank = unknown", "in metadata:
    planner from geppetto.runtime@v1 (string)" and, in bold, "stored as blank; metadata
    says `planner` but pinocchio's backfill only fills empty columns"; at 80x24 long
    values wrap (nothing ends in an ellipsis)."""

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await open_turn(pilot, 2)
        screen.view.scroll_to_section("metadata")
        await settle(pilot)

    assert snap_compare(app_for(db), terminal_size=size, run_before=run_before)
