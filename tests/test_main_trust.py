"""Trust what the main screen shows: which conversations, sessions, dates, layout, wraps.

Every test builds its case as a real SQLite file (tests/builders.py) and drives the app
with Pilot; the scenario builders here are shared with tests/test_snapshots_main.py.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len, split_graphemes
from rich.text import Text
from textual.widgets import Input, Static

from tests import builders as b
from tests.snapshot_apps.detail_scenario import build_detail_db
from tests.snapshot_apps.support import fixed_clock, main_screen, pin_utc, settle
from tests.sync_store import open_store
from tui.app import TurnsApp, make_app
from tui.formatting import safe_text
from tui.screens.main import NO_TURNS, WRAPPED_FIRST, WRAPPED_LAST, MainScreen
from tui.widgets.cells import ELLIPSIS, fit, fit_middle, visible_key
from tui.widgets.key_bar import KeyBar
from tui.widgets.timeline import TimelineTable

WIDE = (160, 48)
SIZES = [(160, 48), (120, 30), (80, 24)]
DAY_MS = 86_400_000

# -- scenarios (shared with the snapshot tests) ----------------------------------------

GHOSTS = ("conv-ghost-newest", "conv-ghost-old")  # only in the timeline store


def _turn(
    turn_id: str,
    start: int,
    runtime: str,
    *,
    text: str = "hello",
    final: bool = True,
    runtime_column: str | None = None,
) -> b.TurnSpec:
    user = b.BlockSpec("user", "user", {"text": text}, id=f"{turn_id}-u")
    answer = b.BlockSpec("llm_text", "assistant", {"text": "ok"}, id=f"{turn_id}-a")
    snaps = [b.SnapshotSpec("pre_inference", start, (user,))]
    snaps.append(b.SnapshotSpec("post_inference", start + 1_200, (user, answer)))
    if final:
        snaps.append(b.SnapshotSpec("final", start + 1_500, (user, answer)))
    metadata: dict[str, Any] = {"geppetto.runtime@v1": runtime} if runtime.strip() else {}
    return b.TurnSpec(
        turn_id=turn_id,
        snapshots=tuple(snaps),
        metadata=metadata,
        runtime_key_column=runtime if runtime_column is None else runtime_column,
        inference_id_column=f"inf-{turn_id}",
    )


def set_timeline_status(path: Path, conv_id: str, status: str, last_error: str) -> None:
    """builders.build_timeline writes status 'idle' and no last_error: set them here."""
    conn = sqlite3.connect(path)
    try:
        conn.execute(
            "UPDATE timeline_conversations SET status = ?, last_error = ? WHERE conv_id = ?",
            (status, last_error, conv_id),
        )
        conn.commit()
    finally:
        conn.close()


def build_with_ghosts(folder: Path, *, separate: bool) -> tuple[Path, Path | None]:
    """The standard scenario (era 2) with a timeline store knowing two more conversations,
    both newer than any in the file; `separate`: the store is its own file."""
    path = b.build_era2(folder / "turns.sqlite", b.standard_scenario())
    newest = max(row[3] for row in b.standard_timeline_rows())
    rows = (
        *b.standard_timeline_rows(),
        (GHOSTS[0], "sess-ghost", "planner", newest + 3_600_000),
        (GHOSTS[1], "sess-ghost-2", "research", newest + 60_000),
    )
    timeline = folder / "timeline.sqlite" if separate else path
    b.build_timeline(timeline, rows)
    set_timeline_status(timeline, GHOSTS[0], "failed", "runtime planner crashed: rate limited")
    set_timeline_status(timeline, "conv-switch", "running", "")
    return path, (timeline if separate else None)


RESUMED = "conv-resumed"


def build_resumed(path: Path) -> Path:
    """One conversation over two sessions (sess-a, then resumed as sess-b), and another."""
    t0 = b.T0
    first = b.ConversationSpec(
        RESUMED,
        "sess-a",
        (
            _turn("turn-r1", t0, "inventory"),
            _turn("turn-r2", t0 + 60_000, "inventory"),
        ),
    )
    second = b.ConversationSpec(
        RESUMED,
        "sess-b",
        (
            _turn("turn-r3", t0 + 3_600_000, "planner"),
            _turn("turn-r4", t0 + 3_660_000, "planner"),
            _turn("turn-r5", t0 + 3_720_000, "inventory"),
        ),
    )
    other = b.ConversationSpec("conv-other", "sess-o", (_turn("turn-o1", t0 - 60_000, "research"),))
    return b.build_gp26(path, (first, second, other))


HOSTILE_CONV = "会話-⚠️-<angle>-conversation-with-a-very-long-identifier-0123456789"
HOSTILE_RUNTIME = "計画者-⚠️-<angle>-planner-runtime-with-a-long-name"
HOSTILE_SESSION = "セッション-🙂-<b>sess</b>-0123456789"


def build_hostile(path: Path) -> Path:
    """Wide characters (CJK, `⚠️`, emoji), `<angle>` spans and long ids everywhere; a
    crashed turn of blank runtime (two anomalies); a blank (`  `) runtime key."""
    t0 = b.T0
    turns = (
        _turn("turn-<script>-長い長い長い-0001", t0, "<inventory>", text="compare <stock-ledger>"),
        _turn("turn-<script>-長い長い長い-0002", t0 + 60_000, HOSTILE_RUNTIME),
        _turn("turn-0003", t0 + 120_000, "  ", final=False),
        _turn("turn-0004", t0 + 180_000, "🙂-emoji-runtime"),
    )
    hostile = b.ConversationSpec(HOSTILE_CONV, HOSTILE_SESSION, turns)
    plain = b.ConversationSpec("conv-plain", "sess-p", (_turn("turn-p1", t0 - 60_000, "planner"),))
    return b.build_gp26(path, (hostile, plain))


# -- helpers ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from pin_utc(monkeypatch)


def app_for(path: Path, timeline: Path | None = None) -> TurnsApp:
    app = make_app(str(path), timeline_db=str(timeline) if timeline else None, clock=fixed_clock)
    app.animation_level = "none"
    return app


def text_of(widget: Any) -> str:
    content = widget.content if isinstance(widget, Static) else widget
    return content.plain if isinstance(content, Text) else str(content)


def panel_text(main: MainScreen, part: str) -> str:
    """What line `part` (key, source, status, ...) of the current-runtime panel says."""
    return text_of(main.query_one(f"#current-runtime-{part}", Static))


def title_of(widget: Any) -> str:
    title = widget.border_title
    return title.plain if isinstance(title, Text) else str(title)


def dimmed(cells: list[Any]) -> bool:
    """Every cell of a row is drawn dim (its style or a span over all of it)."""
    return all(
        "dim" in str(c.style)
        or any("dim" in str(span.style) and span.end - span.start >= len(c) for span in c.spans)
        for c in cells
    )


def shown_ids(main: MainScreen) -> list[str]:
    return [s.conv_id for s in main.conversations.shown]


async def select(pilot: Any, main: MainScreen, conv_id: str) -> None:
    main.conversations.move_cursor(row=shown_ids(main).index(conv_id))
    await settle(pilot)
    assert main.selected_conv_id == conv_id


def row_texts(table: TimelineTable, row: int) -> dict[str, str]:
    cells = table.get_row_at(row)
    return {str(key.value): cell.plain for key, cell in zip(table.columns, cells, strict=True)}


def rendered_line(table: Any, y: int) -> str:
    """What the table draws on its line `y` (0: the header)."""
    return "".join(segment.text for segment in table.render_line(y))


def assert_cells_fit(table: Any) -> None:
    """No cell is wider than its column: anything long was elided with `…` by cells."""
    columns = table.columns  # a DataTable's dict, or the conversation list's tuple
    widths = [c.width for c in (columns.values() if isinstance(columns, dict) else columns)]
    for row in range(table.row_count):
        for width, cell in zip(widths, table.get_row_at(row), strict=True):
            assert isinstance(cell, Text)
            assert cell.cell_len <= width, (row, cell.plain, width)


# -- A. which conversations -------------------------------------------------------------


@pytest.mark.parametrize("separate", [True, False], ids=["timeline-db", "same-file"])
async def test_timeline_only_conversations_hidden_counted_and_toggled(
    tmp_path: Path, separate: bool
) -> None:
    path, timeline = build_with_ghosts(tmp_path, separate=separate)
    app = app_for(path, timeline)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        in_file = ["conv-single", "conv-switch", "conv-legacy-keys"]  # newest activity first
        assert shown_ids(main) == in_file
        assert main.conversations.row_count == 3
        pane = main.query_one("#conversations-pane")
        assert title_of(pane) == "3 conversations · 2 more only in the timeline store"
        # the first selection: the newest conversation with turns, not the newer ghosts
        assert main.selected_conv_id == "conv-single"
        assert main.view is not None and main.view.conv_id == "conv-single"

        # the toggle key: in the footer, in the help's bindings and in the palette
        binding = main.active_bindings["t"].binding
        assert binding.id == "main.toggle-timeline-only" and binding.show
        bar = main.query_one(KeyBar)
        assert bar.shown().get("t") == "Timeline-only"
        assert "t Timeline-only" in bar.plain
        titles = [c.title for c in app.get_system_commands(main)]
        assert "Show timeline-only conversations" in titles

        await pilot.press("t")
        await settle(pilot)
        assert shown_ids(main) == [*in_file, *GHOSTS]  # after the others
        assert "listed, dimmed" in title_of(pane)
        assert main.selected_conv_id == "conv-single"  # the selection stays
        assert all(dimmed(main.conversations.get_row_at(row)) for row in (3, 4))
        assert not dimmed(main.conversations.get_row_at(0))

        # a ghost: no turns in this file, and the timeline store's status / last error
        await select(pilot, main, GHOSTS[0])
        assert main.view is not None and not main.view.in_file
        assert main.timeline.row_count == 0
        empty = main.query_one("#timeline-empty", Static)
        assert empty.display and NO_TURNS in text_of(empty)
        status = panel_text(main, "status")
        assert "status failed" in status
        assert "last error runtime planner crashed: rate limited" in status

        await pilot.press("t")  # hide them again: back to a conversation with turns
        await settle(pilot)
        assert shown_ids(main) == in_file
        assert main.selected_conv_id == "conv-single"
        assert not main.query_one("#timeline-empty", Static).display


async def test_toggle_key_hidden_without_timeline_only_conversations(tmp_path: Path) -> None:
    path = b.build_era2(tmp_path / "turns.sqlite", b.standard_scenario())
    b.build_timeline(path, b.standard_timeline_rows())
    app = app_for(path)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        assert title_of(main.query_one("#conversations-pane")) == "3 conversations"
        assert "t" not in main.active_bindings or not main.check_action("toggle_timeline_only", ())


async def test_status_and_last_error_of_a_conversation_with_turns(tmp_path: Path) -> None:
    path, _ = build_with_ghosts(tmp_path, separate=False)
    set_timeline_status(path, "conv-legacy-keys", "error", "tool lookup_sku failed: boom")
    app = app_for(path)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        await select(pilot, main, "conv-switch")
        status = panel_text(main, "status")
        assert status == "status running"  # no last error set: none shown
        await select(pilot, main, "conv-legacy-keys")
        status = panel_text(main, "status")
        assert status == "status error\nlast error tool lookup_sku failed: boom"


# -- B. sessions ------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_resumed_conversation_shows_its_sessions(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    path = build_resumed(tmp_path / "resumed.sqlite")
    app = app_for(path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        main = main_screen(app)
        assert main.selected_conv_id == RESUMED
        assert main.view is not None and main.view.sessions == ("sess-a", "sess-b")
        sessions = main.query_one("#current-runtime-sessions", Static)
        assert text_of(sessions) == "sessions: sess-a, sess-b"
        timeline = main.timeline
        assert "session" in timeline.columns
        marks = [row_texts(timeline, r)["session"] for r in range(timeline.row_count)]
        assert marks == ["s1", "s1", "s2", "s2", "s2"]
        new_session = timeline.get_row_at(2)[1]
        assert "bold" in str(new_session.style)  # the first turn of the resumed session
        assert "s2" in rendered_line(timeline, 3)  # drawn, not only stored
        await select(pilot, main, "conv-other")  # one session: no session column
        assert "session" not in timeline.columns
        assert text_of(sessions) == "session sess-o"


# -- C. dates on phase times --------------------------------------------------------------


async def test_phase_times_carry_the_date_when_the_day_changes(tmp_path: Path) -> None:
    # turn 1: pre_inference 2026-02-23 23:59:58, final 2026-02-24 00:00:00.500
    path = build_detail_db(tmp_path / "detail.sqlite")
    app = app_for(path)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        timeline = main.timeline
        first = row_texts(timeline, 0)
        assert first["pre_inference"] == "✓ 2026-02-23 23:59:58.000"  # first row: dated
        assert first["post_inference"] == "✓ 23:59:59.500"  # same day as the time before
        assert first["final"] == "✓ 2026-02-24 00:00:00.500"  # crossed midnight
        for row in range(1, timeline.row_count):
            assert "2026" not in " ".join(row_texts(timeline, row).values())
        assert "2026-02-23 23:59:58.000" in rendered_line(timeline, 1)  # not cut


async def test_a_turn_on_a_later_day_is_dated(tmp_path: Path) -> None:
    t0 = b.T0
    conv = b.ConversationSpec(
        "conv-days",
        "sess-d",
        (
            _turn("turn-d1", t0, "inventory"),
            _turn("turn-d2", t0 + 60_000, "inventory"),
            _turn("turn-d3", t0 + 2 * DAY_MS, "inventory"),
        ),
    )
    path = b.build_gp26(tmp_path / "days.sqlite", (conv,))
    app = app_for(path)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        timeline = main_screen(app).timeline
        pres = [row_texts(timeline, r)["pre_inference"] for r in range(3)]
        assert pres == ["✓ 2026-02-24 02:26:40.000", "✓ 02:27:40.000", "✓ 2026-02-26 02:26:40.000"]


# -- D. layout --------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_no_cut_words_and_long_values_elided(tmp_path: Path, size: tuple[int, int]) -> None:
    path = build_hostile(tmp_path / "hostile.sqlite")
    app = app_for(path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        main = main_screen(app)
        assert main.selected_conv_id == HOSTILE_CONV
        timeline = main.timeline
        assert_cells_fit(timeline)
        assert_cells_fit(main.conversations)
        # the two anomalies of the crashed turn are shown whole where the column has them
        crashed = row_texts(timeline, 2)
        if size[0] >= 150:
            assert crashed["anomalies"] == "⚠ unknown rt, no final"
            assert "⚠ unknown rt, no final" in rendered_line(timeline, 3)
        else:
            assert crashed["anomalies"] == "⚠2"
        # a switch keeps both runtimes readable, each elided on its own
        switch = row_texts(timeline, 1)["runtime"]
        before, arrow, after = switch.partition(" → ")
        assert arrow
        assert before == "<inventory>" or (
            before.endswith(ELLIPSIS) and "<inventory>".startswith(before[:-1])
        )
        shown_runtime = safe_text(HOSTILE_RUNTIME)  # ⚠️'s selector shown as <U+FE0F>
        assert after == shown_runtime or (
            after.endswith(ELLIPSIS) and shown_runtime.startswith(after[:-1])
        )
        # the conversation id in the pane title is cut by cells, the whole id in the view
        title = title_of(main.query_one("#timeline-pane"))
        assert title.startswith("phase timeline · 会話-⚠<U+FE0F>-<angle>")
        assert cell_len(title) <= len("phase timeline · ") + 40
        assert main.view is not None and main.view.conv_id == HOSTILE_CONV


async def test_anomalies_and_runtime_columns_size_to_their_content(tmp_path: Path) -> None:
    path = b.build_era2(tmp_path / "turns.sqlite", b.standard_scenario())
    app = app_for(path)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        await select(pilot, main, "conv-legacy-keys")  # turn 3: unknown rt, turn 4: no final
        timeline = main.timeline
        labels = [row_texts(timeline, r)["anomalies"] for r in range(timeline.row_count)]
        assert "⚠ unknown rt" in labels and "⚠ no final" in labels
        assert timeline.widths["anomalies"] == max(cell_len(x) for x in [*labels, "anomalies"])
        await select(pilot, main, "conv-switch")
        runtimes = [row_texts(timeline, r)["runtime"] for r in range(timeline.row_count)]
        assert "inventory → planner" in runtimes
        assert timeline.widths["runtime"] == max(cell_len(x) for x in runtimes)
        assert_cells_fit(timeline)


async def test_eighty_by_twenty_four_keeps_footer_and_eight_rows(tmp_path: Path) -> None:
    convs = tuple(
        b.ConversationSpec(f"conv-{n:02d}", f"sess-{n}", (_turn(f"t-{n}", b.T0 + n, "planner"),))
        for n in range(12)
    )
    path = b.build_gp26(tmp_path / "many.sqlite", convs)
    app = app_for(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        main = main_screen(app)
        footer = main.query_one(KeyBar)
        assert footer.region.height == 1 and footer.region.bottom == 24
        table = main.conversations

        def visible_rows() -> int:
            return table.scrollable_content_region.height - 1  # the header row

        assert visible_rows() >= 8
        await pilot.press("slash")  # the filter line takes a row: still 8
        await settle(pilot)
        assert visible_rows() >= 8
        assert main.timeline.region.height >= 4


async def test_zero_match_filter_clears_the_timeline_and_esc_keeps_the_selection(
    tmp_path: Path,
) -> None:
    path = b.build_era2(tmp_path / "turns.sqlite", b.standard_scenario())
    app = app_for(path)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        await select(pilot, main, "conv-legacy-keys")  # not the first row
        await pilot.press("slash", *"zzz-nothing")
        await settle(pilot)
        assert main.conversations.row_count == 0
        assert title_of(main.query_one("#timeline-pane")) == "phase timeline"
        assert main.timeline.row_count == 0
        empty = main.query_one("#timeline-empty", Static)
        assert empty.display and "no conversation matches zzz-nothing" in text_of(empty)
        assert "0 of 3 match" in title_of(main.query_one("#conversations-pane"))
        await pilot.press("escape")
        await settle(pilot)
        assert main.query_one("#filter", Input).value == ""
        assert main.conversations.row_count == 3
        assert main.selected_conv_id == "conv-legacy-keys"
        assert main.view is not None and main.view.conv_id == "conv-legacy-keys"
        assert title_of(main.query_one("#timeline-pane")) == "phase timeline · conv-legacy-keys"
        assert not main.query_one("#timeline-empty", Static).display


def test_fit_counts_cells_and_keeps_graphemes_whole() -> None:
    for value in (HOSTILE_CONV, HOSTILE_RUNTIME, HOSTILE_SESSION, "日本語のテキスト" * 3):
        graphemes = {value[s:e] for s, e, _ in split_graphemes(value)[0]}
        for width in range(1, 30):
            for cut in (fit(value, width), fit_middle(value, width)):
                assert cell_len(cut) <= width, (value, width, cut)
                kept = {cut[s:e] for s, e, _ in split_graphemes(cut)[0]} - {ELLIPSIS}
                assert kept <= graphemes, (value, width, cut)  # no half an emoji
    assert fit("⚠️⚠️⚠️", 4) == "⚠️…"
    assert fit("short", 10) == "short"


# -- E. n / N say when they wrap ----------------------------------------------------------


async def test_next_and_previous_switch_say_when_they_wrap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = b.build_era2(tmp_path / "turns.sqlite", b.standard_scenario())
    app = app_for(path)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        said: list[str] = []
        monkeypatch.setattr(main, "notify", lambda message, **_: said.append(message))
        await select(pilot, main, "conv-switch")
        assert main.timeline.switch_rows == (2, 4)
        main.timeline.move_cursor(row=0)
        await pilot.press("n")
        await pilot.press("n")
        assert main.timeline.cursor_row == 4 and said == []
        await pilot.press("n")
        assert main.timeline.cursor_row == 2 and said == [WRAPPED_FIRST]
        await pilot.press("N")
        assert main.timeline.cursor_row == 4 and said == [WRAPPED_FIRST, WRAPPED_LAST]
        await pilot.press("N")
        assert main.timeline.cursor_row == 2 and len(said) == 2


async def test_switch_highlighting_on_a_conversation_with_two_switches(tmp_path: Path) -> None:
    path = b.build_era2(tmp_path / "turns.sqlite", b.standard_scenario())
    copy = tmp_path / "expected.sqlite"
    shutil.copyfile(path, copy)
    reader = open_store(str(copy))  # the domain's answer, from a migrated copy
    try:
        domain = reader.view("conv-switch")
    finally:
        reader.close()
    assert len(domain.switch_indexes) >= 2
    app = app_for(path)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        await select(pilot, main, "conv-switch")
        highlighted = main.timeline.highlighted_rows()
        assert highlighted and highlighted == set(domain.switch_indexes)
        assert main.timeline.switch_rows == domain.switch_indexes


# -- F. blank runtime keys ----------------------------------------------------------------


async def test_blank_runtime_keys_are_visible_and_never_switches(tmp_path: Path) -> None:
    # turns 3 and 4 store "  " and "   " as their runtime key
    path = build_detail_db(tmp_path / "detail.sqlite")
    app = app_for(path)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        timeline = main.timeline
        runtimes = [row_texts(timeline, r)["runtime"] for r in range(timeline.row_count)]
        assert runtimes[2] == "∅ ␠␠" and runtimes[3] == "∅ ␠␠␠"
        assert "∅ ␠␠␠" in rendered_line(timeline, 4)
        assert timeline.switch_rows == (1,)  # planner → inventory; blank is unknown
        assert timeline.highlighted_rows() == {1}
        assert all("unknown rt" in row_texts(timeline, r)["anomalies"] for r in (2, 3))


def test_visible_key_marks_edge_spaces() -> None:
    assert visible_key("  ") == "␠␠"
    assert visible_key("  planner ") == "␠␠planner␠"
    assert visible_key("plan ner") == "plan ner"


async def test_a_derived_current_runtime_names_its_turn_when_the_latest_has_none(
    tmp_path: Path,
) -> None:
    """Without a timeline store the current runtime is the latest known turn's; when the
    latest turn has no runtime the panel says which turn the key came from."""
    t0 = b.T0
    convs = (
        b.ConversationSpec(
            "conv-tail-unknown",
            "sess-1",
            (
                _turn("t1", t0, "planner"),
                _turn("t2", t0 + 5_000, "coder"),
                _turn("t3", t0 + 9_000, ""),
            ),
        ),
        b.ConversationSpec("conv-tail-known", "sess-2", (_turn("k1", t0 + 20_000, "coder"),)),
    )
    path = b.build_era2(tmp_path / "tail.sqlite", convs)
    app = app_for(path)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        await select(pilot, main, "conv-tail-unknown")
        source = panel_text(main, "source")
        key = panel_text(main, "key")
        assert key == "coder"
        assert source == "derived from latest turn\nfrom turn 2 (3 has none)"
        await select(pilot, main, "conv-tail-known")
        source = panel_text(main, "source")
        assert source == "derived from latest turn"


async def test_a_resized_timeline_draws_what_a_fresh_one_at_that_size_draws(
    tmp_path: Path,
) -> None:
    """The timeline keeps its drawn cells across a Resize (fixed-width columns): after
    the terminal changes size every line equals a fresh app's at the new size."""
    path, _ = build_with_ghosts(tmp_path, separate=False)

    async def lines(app: TurnsApp, pilot: Any) -> list[str]:
        main = main_screen(app)
        await select(pilot, main, "conv-switch")
        table = main.timeline
        return [rendered_line(table, y) for y in range(table.size.height)]

    fresh: dict[tuple[int, int], list[str]] = {}
    for size in ((160, 48), (100, 30)):
        app = app_for(path)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            fresh[size] = await lines(app, pilot)
    app = app_for(path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert await lines(app, pilot) == fresh[(160, 48)]
        await pilot.resize_terminal(100, 30)
        await settle(pilot)
        resized = await lines(app, pilot)
        assert resized == fresh[(100, 30)]
        assert resized != fresh[(160, 48)][: len(resized)]
