"""The turn detail shows the stored truth: verbatim text, tool errors, attribution.

Pilot tests on a real GP-26 file (tests/snapshot_apps/detail_scenario.py) plus unit
tests of the pure rules in `tui.widgets.block_text`. Rendered text is read from the one
virtualised view's line model (the rows it lays out and draws) and from its sections.
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Static

from tests.snapshot_apps.detail_scenario import (
    FAILED_RESULT,
    LLM_TEXT,
    OK_RESULT,
    USER_TEXT,
    build_detail_db,
)
from tests.snapshot_apps.support import fixed_clock, main_screen, pin_utc, settle
from tui.app import make_app
from tui.screens.detail import SnapshotList, TurnDetailScreen
from tui.store.attribution import NOTHING, Attribution
from tui.store.records import TurnRecord
from tui.widgets.block_text import (
    format_timestamp_ms,
    markdown_text,
    stored_note,
    tool_error,
    visible_blank,
)
from tui.widgets.blocks import metadata_summary
from tui.widgets.snapshot_view import Section

SIZE = (160, 48)


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from pin_utc(monkeypatch)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return build_detail_db(tmp_path / "trust.sqlite")


# -- reading what the screen shows -----------------------------------------------------


def plain(renderable: Any) -> str:
    """Plain text of a Text, a str, a Content or any Rich renderable."""
    if isinstance(renderable, str):
        return renderable
    if isinstance(renderable, Text):
        return renderable.plain
    if hasattr(renderable, "plain"):
        return str(renderable.plain)
    console = Console(width=400, file=io.StringIO(), color_system=None)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


def static_plain(root: Widget, selector: str) -> str:
    return plain(root.query_one(selector, Static).content)


def rendered_lines(screen: TurnDetailScreen, section: Section) -> list[str]:
    """The rows the detail view lays out for one section, right-trimmed, in order."""
    return [line.rstrip() for line in screen.view.section_lines(section.key)]


def content_plain(section: Section) -> str:
    """The plain text of a section's parts, one after another (before wrapping)."""
    return section.plain


def header_plain(section: Section) -> str:
    return section.parts[0].plain


def panel_plain(screen: TurnDetailScreen) -> str:
    """The metadata panel's text (rendered wide, as one string)."""
    section = screen.view.section("metadata")
    assert section is not None and section.renderable is not None
    return plain(section.renderable)


def blocks_of(screen: TurnDetailScreen) -> list[Section]:
    return [s for s in screen.view.sections if s.block is not None]


def contains_run(lines: list[str], wanted: list[str]) -> bool:
    """True when `wanted` appears in `lines` as consecutive lines, character for character."""
    n = len(wanted)
    return any(lines[i : i + n] == wanted for i in range(len(lines) - n + 1))


async def open_turn(pilot: Any, row: int) -> TurnDetailScreen:
    await settle(pilot)
    main = main_screen(pilot.app)
    main.timeline.focus()
    main.timeline.move_cursor(row=row)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, TurnDetailScreen)
    assert screen.detail is not None
    return screen


def block_with_text(screen: TurnDetailScreen, kind: str, text: str) -> Section:
    return next(
        s
        for s in blocks_of(screen)
        if s.block is not None
        and s.block.kind == kind
        and json.loads(s.block.block.payload_json).get("text") == text
    )


def tool_results(screen: TurnDetailScreen) -> dict[str, Section]:
    return {
        json.loads(s.block.block.payload_json)["id"]: s
        for s in blocks_of(screen)
        if s.block is not None and s.block.kind == "tool_use"
    }


def notifications(app: Any) -> list[str]:
    return [n.message for n in app._notifications]


# -- 1. verbatim text ----------------------------------------------------------------------


async def test_rendered_text_keeps_every_character(db: Path) -> None:
    app = make_app(str(db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_turn(pilot, 0)
        user = block_with_text(screen, "user", USER_TEXT)
        assert USER_TEXT in rendered_lines(screen, user)
        llm = block_with_text(screen, "llm_text", LLM_TEXT)
        # every line, its indentation and its angle-bracket spans, in order
        assert contains_run(rendered_lines(screen, llm), LLM_TEXT.split("\n"))


async def test_exact_key_toggles_every_block_to_stored_text_and_payload_json(db: Path) -> None:
    app = make_app(str(db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_turn(pilot, 0)
        await pilot.press("x")
        await settle(pilot)
        assert screen.exact
        blocks = [s.block for s in blocks_of(screen) if s.block is not None]
        assert blocks and all(blk.exact for blk in blocks)
        llm = block_with_text(screen, "llm_text", LLM_TEXT)
        lines = rendered_lines(screen, llm)
        assert contains_run(lines, LLM_TEXT.split("\n"))
        payload = json.dumps({"text": LLM_TEXT}, indent=2, ensure_ascii=False)
        assert payload in content_plain(llm)  # long lines wrap on screen
        user = block_with_text(screen, "user", USER_TEXT)
        assert '  "text": "compare <stock-ledger> first"' in rendered_lines(screen, user)
        await pilot.press("x")
        await settle(pilot)
        assert not screen.exact
        assert not any(s.block is not None and s.block.exact for s in blocks_of(screen))
        llm = block_with_text(screen, "llm_text", LLM_TEXT)
        assert '  "text": ' not in "\n".join(rendered_lines(screen, llm))


async def test_raw_view_shows_every_block_payload_and_metadata(db: Path) -> None:
    app = make_app(str(db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_turn(pilot, 1)
        view = screen.view
        assert view.scroll_y == view.section_start("marker") > 0  # at "── this turn ──"
        await pilot.press("r")
        await settle(pilot)
        raw = view.section("raw")
        assert screen.raw_visible and raw is not None
        text = raw.plain
        assert screen.detail is not None
        for block in screen.detail.blocks:
            assert block.block_id in text
            pretty = json.dumps(json.loads(block.payload_json), indent=2, ensure_ascii=False)
            assert pretty in text
        assert '"error": "boom"' in text and '"error": ""' in text
        assert '"geppetto.tool_config@v1"' in text  # turn data
        assert '"slug": "inventory"' in text  # turn metadata
        assert view.max_scroll_y > 0  # a scrollable view, scrolled to the raw text
        assert view.scroll_y == view.section_start("raw") == 0
        await pilot.press("r")
        await settle(pilot)
        assert view.section("raw") is None and view.scroll_y == view.section_start("marker")


# -- 2. tool results ---------------------------------------------------------------------


async def test_tool_results_empty_error_is_ok_and_boom_is_error(db: Path) -> None:
    assert OK_RESULT["error"] == "" and FAILED_RESULT["error"] == "boom"
    app = make_app(str(db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_turn(pilot, 1)
        results = tool_results(screen)
        ok, failed = results["call-1"], results["call-2"]
        ok_header = header_plain(ok)
        assert "✓ ok" in ok_header and "ERROR" not in ok_header
        assert ok.bar == "tool-use-ok" and ok.tone == ""
        assert "3 in stock" in rendered_lines(screen, ok)
        failed_header = header_plain(failed)
        assert "✗ ERROR" in failed_header and "ok" not in failed_header
        assert failed.bar == "tool-use-error" and failed.tone == "error"
        assert failed.parts[0].style == "header-error"
        assert "boom" in rendered_lines(screen, failed)


# -- 3. attribution ----------------------------------------------------------------------


async def test_runtime_from_a_bare_runtime_key_is_labelled_so(db: Path) -> None:
    app = make_app(str(db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_turn(pilot, 0)
        panel = panel_plain(screen)
        assert "planner from runtime (string)" in panel
        assert "inf-1 from inference_id (string)" in panel
        assert "runtime attribution: runtime (string)" in panel
        assert "geppetto.runtime@v1" not in panel
        assert "runtime (string)" in static_plain(screen, "#detail-title")


async def test_runtime_from_a_map_names_key_and_field(db: Path) -> None:
    app = make_app(str(db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_turn(pilot, 1)
        panel = panel_plain(screen)
        assert "inventory from geppetto.runtime@v1 (map field slug)" in panel
        assert "inf-2 from geppetto.inference_id@v1 (string)" in panel
        assert "stored in the turns.runtime_key column" in panel


def test_derived_runtime_is_said_to_be_derived_not_stored() -> None:
    record = TurnRecord(
        "c",
        "s",
        "t",
        "planner",
        "",
        1,
        1,
        '{"runtime_key": "planner"}',
        runtime_from=Attribution("planner", "runtime_key", "string"),
        inference_from=NOTHING,
        derived=frozenset({"runtime_key"}),
    )
    panel = plain(metadata_summary(record))
    assert "planner from runtime_key (string)" in panel
    assert "derived in memory from metadata (read-only overlay)" in panel
    assert "stored in the turns.runtime_key column" not in panel
    stored = plain(metadata_summary(dataclasses.replace(record, derived=frozenset())))
    assert "derived in memory" not in stored
    assert "stored in the turns.runtime_key column" in stored


# -- 4. blank runtime keys ---------------------------------------------------------------


async def test_blank_runtime_key_is_visible_unknown_and_explained(db: Path) -> None:
    app = make_app(str(db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_turn(pilot, 2)
        assert screen.turn.turn.runtime_key == "  "  # untouched by the migration
        title = static_plain(screen, "#detail-title")
        assert "runtime ␠␠ blank = unknown" in title
        assert "runtime unknown (stored as blank)" in title
        panel = panel_plain(screen)
        assert "␠␠" in panel
        assert (
            "stored as blank; metadata says `planner` but pinocchio's backfill only fills "
            "empty columns" in panel
        )
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert screen.turn.turn.runtime_key == "   "
        assert "runtime ␠␠␠ blank = unknown" in static_plain(screen, "#detail-title")
        panel = panel_plain(screen)
        assert "stored as blank; the metadata has no runtime value either" in panel


# -- 5. timestamps -----------------------------------------------------------------------


async def test_header_has_full_timestamp_and_list_dates_a_new_day(db: Path) -> None:
    app = make_app(str(db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_turn(pilot, 0)
        assert "2026-02-23 23:59:58.000" in static_plain(screen, "#detail-title")
        snapshots = screen.query_one(SnapshotList)
        prompts = [plain(snapshots.get_option_at_index(i).prompt) for i in range(3)]
        assert "2026-02" not in prompts[0]  # same day as the turn: the clock only
        assert "23:59:58.000" in prompts[0]
        assert "2026-02" not in prompts[1] and "23:59:59.500" in prompts[1]
        assert "2026-02-24\n00:00:00.500" in prompts[2]  # past midnight: dated


# -- 6. next and previous turn -----------------------------------------------------------


async def test_brackets_move_between_turns_and_stop_at_the_ends(db: Path) -> None:
    ids = {b.id for b in TurnDetailScreen.BINDINGS if isinstance(b, Binding)}
    assert {"detail.next-turn", "detail.previous-turn"} <= ids
    for binding in TurnDetailScreen.BINDINGS:
        assert isinstance(binding, Binding) and binding.id and binding.description
    app = make_app(str(db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_turn(pilot, 0)
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert "first turn" in notifications(app)
        assert screen.turn.turn.turn_id == "turn-trust-1"
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert app.screen is screen and screen.turn.number == 2
        assert screen.turn.turn.turn_id == "turn-trust-2"
        assert screen.detail is not None and screen.detail.turn_id == "turn-trust-2"
        assert screen.detail.phase == "final"
        assert "turn 2 of 4" in static_plain(screen, "#detail-title")
        assert "geppetto.runtime@v1 (map field slug)" in panel_plain(screen)
        assert set(tool_results(screen)) == {"call-1", "call-2"}
        assert screen.query_one(SnapshotList).option_count == 3
        for _ in range(2):
            await pilot.press("right_square_bracket")
            await settle(pilot)
        assert screen.turn.turn.turn_id == "turn-trust-4"
        assert screen.detail is not None and screen.detail.turn_id == "turn-trust-4"
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert "last turn" in notifications(app)
        assert screen.turn.turn.turn_id == "turn-trust-4"
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.turn.turn.turn_id == "turn-trust-3"
        assert screen.detail is not None and screen.detail.turn_id == "turn-trust-3"
        assert "turn 3 of 4" in static_plain(screen, "#detail-title")


# -- unit tests of the pure rules --------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("  ", "␠␠"),
        (" ", "␠"),
        ("\t ", "␉␠"),
        ("\u00a0", "<U+00A0>"),
        ("planner", "planner"),
        (" planner ", "␠planner␠"),
        ("in ventory", "in ventory"),
        ("", ""),
        ("\x1b[2J", "␛[2J"),
    ],
)
def test_visible_blank(value: str, shown: str) -> None:
    assert visible_blank(value) == shown


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"error": "", "result": "ok"}, None),
        ({"error": "   ", "result": "ok"}, None),
        ({"error": None, "result": "ok"}, None),
        ({"result": "ok"}, None),
        ({"error": False}, None),
        ({"error": {}}, None),
        ({"error": "boom"}, "boom"),
        ({"error": " boom "}, " boom "),
        ({"error": {"code": 1}}, {"code": 1}),
        ("not a map", None),
    ],
)
def test_tool_error(payload: Any, error: Any) -> None:
    assert tool_error(payload) == error


@pytest.mark.parametrize(
    ("source", "styled"),
    [
        (LLM_TEXT, True),
        ("compare <stock-ledger> first", False),
        ("```py\nif a < b:\n    return <x>\n```\n\n\n# h\n> q <q>\n* **b** _i_ [l](u) `c`", True),
        ("unclosed **bold and `code\n\ttab", False),
    ],
)
def test_markdown_view_loses_no_character(source: str, styled: bool) -> None:
    text = markdown_text(source)
    assert text.plain == source
    assert bool(text.spans) == styled  # styled in place, never re-flowed


def test_stored_note_explains_blank_empty_and_derived() -> None:
    blank = stored_note("  ", "planner", derived=False, column="runtime_key")
    assert blank == (
        "stored as blank; metadata says `planner` but pinocchio's backfill only fills empty columns"
    )
    none = stored_note("  ", "", derived=False, column="runtime_key")
    assert none.startswith("stored as blank; the metadata has no runtime value either")
    assert "derived in memory" in stored_note("x", "x", derived=True, column="runtime_key")
    differs = stored_note("inventory", "planner", derived=False, column="runtime_key")
    assert "stored in the turns.runtime_key column" in differs and "`planner`" in differs


def test_format_timestamp_ms() -> None:
    assert format_timestamp_ms(1_771_891_200_500) == "2026-02-24 00:00:00.500"
    assert format_timestamp_ms(0) == "—"
