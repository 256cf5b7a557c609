"""Snapshot tests of the main screen: timeline-only conversations, sessions, hostile text.

Deterministic like tests/test_snapshots.py: TZ=UTC, a fixed clock, the theme set in code
(`TurnsApp.__init__`), no animation, no blinking cursor, follow mode off, relative paths
(the test runs in its tmp folder) and every worker awaited before the screenshot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.snapshot_apps.support import fixed_clock, main_screen, pin_utc, settle
from tests.test_main_trust import (
    GHOSTS,
    build_hostile,
    build_resumed,
    build_with_ghosts,
)
from tui.app import TurnsApp, make_app

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]

SnapCompare = Callable[..., bool]


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from pin_utc(monkeypatch)


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in the test's folder, so the title shows a relative file name."""
    monkeypatch.chdir(tmp_path)
    return Path(".")


def app_for(path: Path, timeline: Path | None = None) -> TurnsApp:
    app = make_app(str(path), timeline_db=str(timeline) if timeline else None, clock=fixed_clock)
    app.animation_level = "none"
    return app


async def cursor_to_first_row(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    main_screen(pilot.app).timeline.move_cursor(row=0)  # type: ignore[arg-type]
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_timeline_only_conversations_hidden(
    snap_compare: SnapCompare, here: Path, size: tuple[int, int]
) -> None:
    """You should see the three conversations of turns.sqlite (conv-single selected,
    then conv-switch, conv-legacy-keys) and none of the two conversations only the
    timeline store (timeline.sqlite) knows; the pane title says "3 conversations · 2 more
    only in the timeline store" (at 80x24 the short form "3 conversations · +2
    timeline-only"); the footer has `t Timeline-only`."""
    path, timeline = build_with_ghosts(here, separate=True)
    assert snap_compare(app_for(path, timeline), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_timeline_only_conversations_shown(
    snap_compare: SnapCompare, here: Path, size: tuple[int, int]
) -> None:
    """You should see, after pressing `t`, the two timeline-only conversations listed
    dimmed after the three of the file (title "... (listed, dimmed)"), the newest of them
    (conv-ghost-newest) selected: the timeline pane shows no rows but "this conversation
    has no turns in this file / only the timeline store knows it", and the current
    runtime panel shows `planner` from the timeline store with "status failed" and
    "last error runtime planner crashed: rate limited" (elided with … at 80x24)."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        main = main_screen(pilot.app)  # type: ignore[arg-type]
        shown = [s.conv_id for s in main.conversations.shown]
        main.conversations.move_cursor(row=shown.index(GHOSTS[0]))
        await settle(pilot)

    path, timeline = build_with_ghosts(here, separate=True)
    assert snap_compare(app_for(path, timeline), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_resumed_conversation_with_two_sessions(
    snap_compare: SnapCompare, here: Path, size: tuple[int, int]
) -> None:
    """You should see conv-resumed selected; the current runtime panel's first line
    "sessions: sess-a, sess-b"; the timeline with a session column `s` reading s1, s1,
    s2 (bold: the first turn of the resumed session), s2, s2; turns 3 (`inventory →
    planner`) and 5 (`planner → inventory`) highlighted as switches; the cursor on turn
    1. At 160x48 the first phase time carries its date (2026-02-24 02:26:40.000) and the
    others only the time; at 80x24 there are no phase times."""
    path = build_resumed(Path("resumed.sqlite"))
    assert snap_compare(app_for(path), terminal_size=size, run_before=cursor_to_first_row)


@pytest.mark.parametrize("size", SIZES)
def test_hostile_content_keeps_every_border(
    snap_compare: SnapCompare, here: Path, size: tuple[int, int]
) -> None:
    """You should see a conversation whose id, session and runtime keys hold CJK, `⚠️`,
    emoji and `<angle>` spans shown literally (never as markup), every long value elided
    with `…` inside its column and every border straight; turn 2 highlighted as the
    switch `<inventory> → 計画者-⚠️-…`; turn 3 of blank runtime shown `∅ ␠␠` with
    `✗ missing` final and (at 160x48) "⚠ unknown rt, no final" in full; the panel title
    "phase timeline · 会話-⚠️-<angle>-…" cut by cells."""
    path = build_hostile(Path("hostile.sqlite"))
    assert snap_compare(app_for(path), terminal_size=size, run_before=cursor_to_first_row)
