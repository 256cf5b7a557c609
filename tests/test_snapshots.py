"""Snapshot tests (pytest-textual-snapshot) on the demo database, at 80x24 and 160x48.

Deterministic: TZ=UTC, a fixed clock, the theme set in code, no animation, no blinking
cursor, follow mode off, relative paths (the test runs in its tmp folder), and every
worker awaited before the screenshot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.snapshot_apps.support import (
    fixed_clock,
    main_screen,
    pin_utc,
    settle,
    write_not_turns_sqlite,
)
from tui.app import TurnsApp, make_app
from tui.demo import DEMO_FILE_NAME, build_demo_database, demo_id

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]

SnapCompare = Callable[..., bool]


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from pin_utc(monkeypatch)


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The demo database in the test's folder, opened by its relative name."""
    monkeypatch.chdir(tmp_path)
    build_demo_database(tmp_path / DEMO_FILE_NAME)
    return DEMO_FILE_NAME


def app_for(path: str, **options: Any) -> TurnsApp:
    app = make_app(path, clock=fixed_clock, **options)
    app.animation_level = "none"
    return app


async def select(pilot: Pilot[Any], name: str) -> None:
    """Select a demo conversation by its name."""
    await settle(pilot)
    main = main_screen(pilot.app)  # type: ignore[arg-type]
    conv_id = demo_id(name)
    index = [s.conv_id for s in main.conversations.shown].index(conv_id)
    main.conversations.move_cursor(row=index)
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_main_screen_highlights_runtime_switches(
    snap_compare: SnapCompare, demo: str, size: tuple[int, int]
) -> None:
    """You should see the main screen of the demo: the conversation list with the newest
    conversation (b6b61921) selected; its CURRENT RUNTIME `planner` in a large box marked
    "from timeline store" with "latest turn ran inventory"; and the phase timeline with
    the cursor on turn 1 and turns 3 (`inventory → planner`) and 5
    (`planner → inventory`) highlighted as runtime switches (⇄) over the whole row. At
    80x24 the session and last-activity columns and the phase times are hidden and
    nothing is cut off."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        main_screen(pilot.app).timeline.move_cursor(row=0)  # type: ignore[arg-type]
        await settle(pilot)

    assert snap_compare(app_for(demo), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_unknown_runtime_and_crashed_turn(
    snap_compare: SnapCompare, demo: str, size: tuple[int, int]
) -> None:
    """You should see the support conversation selected: its current runtime `support`
    "derived from latest turn", 2 anomalies; in the timeline turn 2 shows `∅ unknown` in
    a dim italic style (and "unknown rt" / ⚠1 in the anomalies column), and turn 4 (the
    crashed one) has only pre_inference and shows `✗ missing` in the final column in the
    error colour."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await select(pilot, "support")
        main_screen(pilot.app).timeline.move_cursor(row=0)  # type: ignore[arg-type]
        await settle(pilot)

    assert snap_compare(app_for(demo), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_turn_detail_with_tool_calls(
    snap_compare: SnapCompare, demo: str, size: tuple[int, int]
) -> None:
    """You should see the turn detail of turn 2 of the warehouse conversation: on the left
    its seven snapshots in time order (pre_inference, post_inference, post_tools,
    post_inference #2, post_tools #2, post_inference #3, final) with `final` chosen; on
    the right, scrolled to "── this turn ──", the user question, the dimmed reasoning,
    the `tool_call lookup_sku` with its arguments as indented JSON, and (at 160x48) the
    tool results including the error in the error colour."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await select(pilot, "warehouse")
        main = main_screen(pilot.app)  # type: ignore[arg-type]
        main.timeline.focus()
        main.timeline.move_cursor(row=1)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(app_for(demo), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(snap_compare: SnapCompare, demo: str, size: tuple[int, int]) -> None:
    """You should see the help modal over the main screen: a table of keys (key,
    description, binding id) starting with q Quit, ? Help, f Follow, ^p Palette, then the
    main screen keys (/ Filter, n Next switch, N Prev switch, ...)."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(app_for(demo), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_filter_in_use(snap_compare: SnapCompare, demo: str, size: tuple[int, int]) -> None:
    """You should see the filter line above the conversation list holding `plan`, the
    list reduced to the two conversations whose runtime matches (b6b61921 planner ⟲tl
    and 839b10ad planner ←turn), and the pane title "conversations · 2 of 6 match plan"."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("slash", "p", "l", "a", "n")
        await settle(pilot)

    assert snap_compare(app_for(demo), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_read_only_banner(snap_compare: SnapCompare, demo: str, size: tuple[int, int]) -> None:
    """You should see a bold banner under the title: "READ-ONLY · migrated a private copy;
    turns-demo.sqlite is never written", then the line saying what the migration of the
    private copy did, then the usual main screen."""
    assert snap_compare(app_for(demo, read_only=True), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_error_screen_for_a_file_that_is_not_a_turns_database(
    snap_compare: SnapCompare,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    size: tuple[int, int],
) -> None:
    """You should see the error screen: "Cannot open the database", the one-line reason
    "notes.sqlite: SQLite database without turns tables (found: notes)", a hint about what
    a turns database is, and the Retry and Quit buttons; no traceback."""
    monkeypatch.chdir(tmp_path)
    write_not_turns_sqlite(tmp_path / "notes.sqlite")
    assert snap_compare(app_for("notes.sqlite"), terminal_size=size, run_before=settle)
