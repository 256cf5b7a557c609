"""Snapshot tests of the investigation tools on the main screen: the switch summary, the
database check panel and find, at 80x24 and 160x48.

Deterministic like tests/test_snapshots_main.py: TZ=UTC, a fixed clock, the theme set in
code, no animation, no blinking cursor, relative paths (the test runs in its tmp folder)
and every worker awaited before the screenshot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests import investigate_builders as ib
from tests.snapshot_apps.support import fixed_clock, main_screen, pin_utc, settle
from tui.app import TurnsApp, make_app

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]

SnapCompare = Callable[..., bool]


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from pin_utc(monkeypatch)


@pytest.fixture
def inv_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TurnsApp:
    """The investigation scenario, opened from the test's folder (a relative name)."""
    monkeypatch.chdir(tmp_path)
    path = ib.build_investigate(Path("inv.sqlite"))
    app = make_app(str(path), clock=fixed_clock)
    app.animation_level = "none"
    return app


async def _on_conv_inv(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    main = main_screen(pilot.app)  # type: ignore[arg-type]
    main.conversations.select_conv(ib.CONV)
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_switch_summary_line(snap_compare: SnapCompare, inv_app: TurnsApp, size: Any) -> None:
    """You should see conv-inv's timeline with the cursor on turn 3 (the switch
    `research → coder`, highlighted) and, under the timeline, the line "⇄3 research →
    coder · system prompt changed +3 −2 · model gpt-4o → o4-mini · 1 data key changed ·
    2 blocks added · 1 block changed" (wrapped onto a second line at 80x24)."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await _on_conv_inv(pilot)
        main = main_screen(pilot.app)  # type: ignore[arg-type]
        main.timeline.focus()
        main.timeline.move_cursor(row=0)
        await pilot.press("n")
        await settle(pilot)

    assert snap_compare(inv_app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_check_panel(snap_compare: SnapCompare, inv_app: TurnsApp, size: Any) -> None:
    """You should see the "database check" panel over the main screen: "8 anomalies in 2
    conversations · enter goes to the turn"; the counts by kind (1 unknown_runtime, 1
    missing_final, 2 reused_inference_id, 1 malformed_metadata, 1 runtime_disagreement,
    1 orphan_membership, 1 time_order) with what each means; the list of the eight
    anomalies (kind, conversation, turn, detail cut with …), the first one highlighted,
    and under the list its full detail; the footer "esc Close  enter Go to turn"."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("exclamation_mark")
        await settle(pilot)

    assert snap_compare(inv_app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_find_screen(snap_compare: SnapCompare, inv_app: TurnsApp, size: Any) -> None:
    """You should see the "find" panel with the query `research` typed, the status "N
    matches for research · done · enter goes to it", then the runtime-key matches (field
    "runtime", one per turn of conv-inv 1-2 and conv-reuse 1, 3, where: final at
    160x48) followed by the text matches ("text", the system prompt "You are a research
    assistant." with its phase and block ordinal at 160x48); the first row highlighted
    and, under the list, its full description (field, conversation, turn, snapshot time,
    excerpt); no progress bar (the search is over). At 80x24 the `where` column is left
    out and the ids are shorter; no horizontal scrollbar at either size."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("ctrl+f")
        await settle(pilot)
        await pilot.press(*"research", "enter")
        await settle(pilot)

    assert snap_compare(inv_app, terminal_size=size, run_before=run_before)
