"""Copy from the turn detail: ids (c) and a block's exact text (C), through the
terminal's clipboard (Textual's `copy_to_clipboard`, OSC 52), with a notice.

Pilot tests on the GP-26 scenario of tests/snapshot_apps/detail_scenario.py; the
clipboard's content is read from `app.clipboard`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.binding import Binding

from tests.snapshot_apps.detail_scenario import CONV_ID, LLM_TEXT, build_detail_db
from tests.snapshot_apps.support import fixed_clock, main_screen, pin_utc, settle
from tui.app import make_app
from tui.screens.detail import TurnDetailScreen

SIZE = (160, 48)


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from pin_utc(monkeypatch)


async def open_turn(pilot: Any, row: int) -> TurnDetailScreen:
    await settle(pilot)
    main = main_screen(pilot.app)
    main.timeline.focus()
    main.timeline.move_cursor(row=row)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, TurnDetailScreen) and screen.detail is not None
    return screen


def notices(app: Any) -> list[str]:
    return [n.message for n in app._notifications]


def test_copy_bindings_have_their_ids() -> None:
    ids = {b.id: b.key for b in TurnDetailScreen.BINDINGS if isinstance(b, Binding)}
    assert ids["detail.copy-id"] == "c" and ids["detail.copy-text"] == "C"


async def test_c_copies_turn_inference_and_conversation_ids_in_turn(tmp_path: Path) -> None:
    app = make_app(str(build_detail_db(tmp_path / "t.sqlite")), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_turn(pilot, 0)
        await pilot.press("c")
        assert app.clipboard == "turn-trust-1"
        assert "Copied turn id turn-trust-1 (c again: inference id)" in notices(app)
        await pilot.press("c")
        assert app.clipboard == "inf-1"
        await pilot.press("c")
        assert app.clipboard == CONV_ID
        await pilot.press("c")
        assert app.clipboard == "turn-trust-1"


async def test_in_the_blocks_view_c_copies_the_block_id_and_C_its_exact_text(
    tmp_path: Path,
) -> None:
    app = make_app(str(build_detail_db(tmp_path / "t.sqlite")), clock=fixed_clock)
    async with app.run_test(size=(100, 20)) as pilot:  # small: every block can be at the top
        screen = await open_turn(pilot, 0)
        view = screen.view
        view.focus()
        llm = next(s for s in view.sections if s.block is not None and s.block.kind == "llm_text")
        view.scroll_to_section(llm.key)
        await settle(pilot)
        assert view.current_section() is llm
        await pilot.press("c")
        assert app.clipboard == "t-a1"
        await pilot.press("C")
        assert app.clipboard == LLM_TEXT  # exactly as stored: every newline and indent
        assert any("Copied the exact text of block #2" in n for n in notices(app))
        # a tool result has no text: its payload JSON exactly as stored
        await pilot.press("right_square_bracket")
        await settle(pilot)
        failed = next(s for s in view.sections if s.tone == "error")
        view.scroll_to_section(failed.key)
        await settle(pilot)
        await pilot.press("C")
        assert failed.block is not None
        assert app.clipboard == failed.block.block.payload_json
