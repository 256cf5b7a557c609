"""Snapshot tests of the diff in the turn detail (d), on the investigation scenario.

Same determinism as tests/test_snapshots_detail.py: TZ=UTC, a fixed clock, the theme set
in code, no animation, follow mode off, a relative path and every worker awaited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.investigate_builders import CONV, build_investigate
from tests.snapshot_apps.support import fixed_clock, main_screen, pin_utc, settle
from tui.app import TurnsApp, make_app
from tui.screens.detail import TurnDetailScreen

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]
DB_NAME = "inv.sqlite"

SnapCompare = Callable[..., bool]


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from pin_utc(monkeypatch)


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    build_investigate(tmp_path / DB_NAME)
    return DB_NAME


def app_for(path: str) -> TurnsApp:
    app = make_app(path, clock=fixed_clock)
    app.animation_level = "none"
    return app


@pytest.mark.parametrize("size", SIZES)
def test_detail_diff_against_the_previous_turn_at_the_switch(
    snap_compare: SnapCompare, db: str, size: tuple[int, int]
) -> None:
    """You should see turn 3 of 5 (runtime `research → coder`) with the view titled
    "diff · against previous turn 2 (final)": from turn-inv-2 final (runtime research)
    to turn-inv-3 final (runtime coder), the summary "research → coder · system prompt
    changed +3 −2 · model gpt-4o → o4-mini · 1 data key changed · 2 blocks added · 1 block
    changed", the blocks "~ #0 system/system inv-sys", "+ #9 user/user inv-u3", "+ #10
    llm_text/assistant inv-a3", then (at 160x48) the system prompt's line diff with its
    removed lines in the error colour and added lines in the success colour, and the
    changed metadata keys (model gpt-4o → o4-mini)."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        main = main_screen(pilot.app)  # type: ignore[arg-type]
        index = [s.conv_id for s in main.conversations.shown].index(CONV)
        main.conversations.move_cursor(row=index)
        await settle(pilot)
        main.timeline.focus()
        main.timeline.move_cursor(row=2)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, TurnDetailScreen)
        await pilot.press("d", "d")
        await settle(pilot)

    assert snap_compare(app_for(db), terminal_size=size, run_before=run_before)
