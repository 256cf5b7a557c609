"""The diff in the turn detail (d) and the provenance in its metadata panel.

Pilot tests on the investigation scenario (tests/investigate_builders.py): turn 3 of
conv-inv is the switch research → coder with a changed system prompt, model and tool
list; turn 5 stores `coder` while its metadata says `research`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.binding import Binding

from tests import builders as b
from tests.investigate_builders import (
    CONV,
    SYS_CODER,
    SYS_RESEARCH,
    SYSTEM_PROMPT_MINUS,
    SYSTEM_PROMPT_PLUS,
    build_investigate,
)
from tests.snapshot_apps.support import fixed_clock, main_screen, pin_utc, settle
from tui.app import make_app
from tui.screens.detail import TurnDetailScreen

SIZE = (160, 48)


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from pin_utc(monkeypatch)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return build_investigate(tmp_path / "inv.sqlite")


async def open_turn(pilot: Any, row: int) -> TurnDetailScreen:
    await settle(pilot)
    main = main_screen(pilot.app)
    index = [s.conv_id for s in main.conversations.shown].index(CONV)
    main.conversations.move_cursor(row=index)
    await settle(pilot)
    main.timeline.focus()
    main.timeline.move_cursor(row=row)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, TurnDetailScreen) and screen.detail is not None
    return screen


def text_of(screen: TurnDetailScreen, key: str) -> str:
    return "\n".join(line.rstrip() for line in screen.view.section_lines(key))


def panel(screen: TurnDetailScreen) -> str:
    section = screen.view.section("metadata")
    assert section is not None and section.renderable is not None
    console = Console(width=400, file=io.StringIO(), color_system=None)
    with console.capture() as capture:
        console.print(section.renderable)
    return capture.get()


async def press(pilot: Any, key: str) -> None:
    await pilot.press(key)
    await settle(pilot)


def test_diff_binding_has_its_id() -> None:
    bindings = {b.id: b for b in TurnDetailScreen.BINDINGS if isinstance(b, Binding)}
    assert bindings["detail.diff"].key == "d" and bindings["detail.diff"].description


async def test_d_cycles_phase_turn_and_runtime_on_the_switch_turn(db: Path) -> None:
    app = make_app(str(db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_turn(pilot, 2)  # turn 3: the switch
        assert screen.turn.turn.turn_id == "turn-inv-3" and screen.turn.runtime_switch
        assert screen.available_modes() == ["phase", "turn", "runtime"]

        await press(pilot, "d")  # (a) the previous phase of the same turn
        assert screen.compare_mode == "phase"
        target = screen.compare_target
        assert target is not None and target.turn.turn_id == "turn-inv-3"
        assert target.snapshot.phase == "post_inference"
        head = text_of(screen, "diff-head")
        assert "from turn-inv-3 post_inference" in head and "to   turn-inv-3 final" in head
        assert "blocks: 0 added, 0 removed, 0 changed" in text_of(screen, "diff-blocks")

        await press(pilot, "d")  # (b) the previous turn's final snapshot
        assert screen.compare_mode == "turn"
        assert "diff · against previous turn 2 (final)" in str(screen.view.border_title)
        head = text_of(screen, "diff-head")
        assert "from turn-inv-2 final" in head and "runtime research" in head
        assert "system prompt changed +3 −2" in head and "model gpt-4o → o4-mini" in head
        blocks = text_of(screen, "diff-blocks").split("\n")
        assert blocks[0] == "blocks: 2 added, 0 removed, 1 changed"
        assert blocks[1].startswith("~ #0 system/system  inv-sys")  # in ordinal order
        assert blocks[2].startswith("+ #9 user/user  inv-u3")
        assert blocks[3].startswith("+ #10 llm_text/assistant  inv-a3")
        # the system prompt's line diff comes first
        first = screen.view.section("diff-text:0")
        assert first is not None
        lines = text_of(screen, "diff-text:0").split("\n")
        assert (
            lines[0] == f"text diff · system prompt  +{SYSTEM_PROMPT_PLUS} −{SYSTEM_PROMPT_MINUS}"
        )
        removed = [ln[1:] for ln in lines if ln.startswith("-") and not ln.startswith("---")]
        added = [ln[1:] for ln in lines if ln.startswith("+") and not ln.startswith("+++")]
        assert removed == [ln for ln in SYS_RESEARCH.split("\n") if ln not in SYS_CODER]
        assert added == [ln for ln in SYS_CODER.split("\n") if ln not in SYS_RESEARCH]
        styles = {p.plain.split("\n")[0][:1]: p.style for p in first.parts[1:]}
        assert styles["+"] in ("diff-added", "diff-title") and styles["-"] in (
            "diff-removed",
            "diff-title",
        )
        meta = text_of(screen, "diff-metadata")
        assert "~ geppetto.model@v1: gpt-4o → o4-mini" in meta
        assert "~ geppetto.inference_id@v1: inf-i2 → inf-i3" in meta
        data = text_of(screen, "diff-data")
        assert "~ geppetto.tool_config@v1:" in data and "run_tests" in data

        await press(pilot, "d")  # (c) on a switch: the last turn of the previous runtime
        assert screen.compare_mode == "runtime"
        target = screen.compare_target
        assert target is not None and target.turn.turn_id == "turn-inv-2"
        assert "runtime research's last turn 2" in target.label
        assert "research → coder" in text_of(screen, "diff-head")

        await press(pilot, "d")  # back to the blocks
        assert screen.compare_mode is None
        assert screen.view.section("diff-head") is None
        assert any(s.block is not None for s in screen.view.sections)


async def test_diff_follows_the_shown_snapshot_and_stops_where_nothing_is_earlier(
    db: Path,
) -> None:
    app = make_app(str(db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_turn(pilot, 0)  # turn 1: no earlier turn, not a switch
        assert screen.available_modes() == ["phase"]
        await press(pilot, "d")  # final against post_inference: the same blocks
        assert "blocks: 0 added, 0 removed, 0 changed" in text_of(screen, "diff-blocks")
        # another snapshot of the turn: the diff is recomputed for it
        await press(pilot, "up")  # post_inference against pre_inference
        assert screen.detail is not None and screen.detail.phase == "post_inference"
        assert "+ #2 llm_text/assistant  inv-a1" in text_of(screen, "diff-blocks")
        await press(pilot, "home")  # the snapshot list: pre_inference, nothing before it
        assert screen.detail is not None and screen.detail.phase == "pre_inference"
        assert screen.compare_target is None
        assert screen.available_modes() == []
        await press(pilot, "d")  # cycles back to the blocks
        assert screen.compare_mode is None
        await press(pilot, "d")
        assert any("Nothing to compare with" in n.message for n in app._notifications)


async def test_panel_shows_provenance_and_a_disagreement(db: Path) -> None:
    app = make_app(str(db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_turn(pilot, 4)  # turn 5: stored coder, metadata research
        text = panel(screen)
        assert "runtime source" in text
        assert "stored column; metadata says 'research'" in text
        assert "⚠ stored and metadata disagree" in text
        assert "inference source     from metadata: geppetto.inference_id@v1 (string)" in text
        await press(pilot, "left_square_bracket")  # turn 4: agrees
        text = panel(screen)
        assert "from metadata: geppetto.runtime@v1" in text and "disagree" not in text


async def test_a_json_block_in_the_diff_list_shows_its_members_not_a_lone_brace(db: Path) -> None:
    """A tool call's payload is pretty-printed JSON whose first line is "{": the diff's
    block line shows its members on one line instead."""
    app = make_app(str(db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_turn(pilot, 1)  # turn 2: the tool loop
        await press(pilot, "home")  # pre_inference
        await press(pilot, "down")  # post_inference: the first tool call
        assert screen.detail is not None and screen.detail.phase == "post_inference"
        await press(pilot, "d")  # against pre_inference
        lines = text_of(screen, "diff-blocks").split("\n")
        assert lines[0] == "blocks: 1 added, 0 removed, 0 changed"
        assert lines[1].startswith("+ #4 tool_call  inv-call-1  {")
        excerpt = lines[1].split("inv-call-1  ", 1)[1]
        assert "zebrafish fin" in excerpt and "\n" not in excerpt
        await press(pilot, "down")  # post_tools: its result
        lines = text_of(screen, "diff-blocks").split("\n")
        assert lines[1].startswith("+ #5 tool_use  inv-tool-1  ")
        assert "3 papers" in lines[1]


def _angle_runtime_switch(path: Path) -> Path:
    """Two turns of one conversation: runtime `<research>` (angle brackets and `&` in its
    attribution), then `coder`."""
    user = b.BlockSpec(kind="user", role="user", payload={"text": "hi"}, id="u1")
    turns = tuple(
        b.TurnSpec(
            turn_id=f"turn-{n}",
            snapshots=(b.SnapshotSpec("final", b.T0 + n * 60_000, (user,)),),
            metadata={"geppetto.runtime@v1": b.runtime_attribution(key)},
            runtime_key_column=key,
        )
        for n, key in ((1, "<research&co>"), (2, "coder"))
    )
    return b.build_gp26(path, (b.ConversationSpec("conv-angle", "sess-a", turns),))


async def test_metadata_values_in_the_diff_keep_every_stored_character(tmp_path: Path) -> None:
    """A changed metadata value is shown with `<`, `>` and `&` as stored, not as the
    `\\u003c` escapes of Go's marshal (in the diff's key list and the switch summary)."""
    path = _angle_runtime_switch(tmp_path / "angle.sqlite")
    app = make_app(str(path), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        main.timeline.focus()
        main.timeline.move_cursor(row=1)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TurnDetailScreen) and screen.turn.turn.turn_id == "turn-2"
        await press(pilot, "d")  # against the previous turn
        meta = text_of(screen, "diff-metadata")
        assert '"profile.slug":"<research&co>"' in meta, meta
        assert "\\u003c" not in meta and "\\u0026" not in meta
