"""Pilot tests: drive the app on fixture databases and assert on what it shows."""

from __future__ import annotations

import gc
import io
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.binding import Binding
from textual.widgets import Static

import tui.app
from tests import builders as b
from tests.fake_stores import CountingStore, FailingConversationStore, LateNoticeFailingStore
from tests.snapshot_apps.support import fixed_clock, main_screen, pin_utc, settle
from tests.sync_store import SyncStore, open_store
from tui.app import make_app
from tui.domain import matches_filter
from tui.screens.detail import TurnDetailScreen
from tui.screens.error import ErrorScreen
from tui.screens.help import HelpScreen
from tui.screens.loading import LoadingScreen
from tui.screens.main import MainScreen
from tui.store.gojson import canonical_block_hash, go_json_marshal
from tui.store.sqlite_store import SqliteStore
from tui.widgets.blocks import TEXT_LIMIT
from tui.widgets.snapshot_view import Section, SnapshotView

SIZE = (160, 48)


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from pin_utc(monkeypatch)


@pytest.fixture
def standard_db(tmp_path: Path) -> Path:
    """The standard scenario as an era-2 file with a timeline table in the same file."""
    path = b.build_era2(tmp_path / "turns.sqlite", b.standard_scenario())
    b.build_timeline(path, b.standard_timeline_rows())
    return path


def expected(tmp_path: Path, source: Path) -> tuple[dict[str, Any], SyncStore]:
    """The dump and a sync reader of a migrated copy of `source` (the truth to compare to)."""
    copy = tmp_path / f"expected-{source.name}"
    shutil.copyfile(source, copy)
    reader = open_store(str(copy))
    opened = reader.opened
    assert opened is not None
    return reader.dump(), reader


def file_bytes(path: Path) -> bytes:
    return path.read_bytes()


def static_text(screen: Any, selector: str) -> str:
    """The plain text a Static shows (Text, Content or any Rich renderable)."""
    content = screen.query_one(selector, Static).content
    if isinstance(content, str):
        return content
    console = Console(width=200, file=io.StringIO(), color_system=None)
    with console.capture() as capture:
        console.print(content)
    return capture.get()


def drawn(view: SnapshotView) -> list[str]:
    """What the view draws now: the text of `render_line`'s strip for every visible row."""
    return [view.render_line(y).text for y in range(view.scrollable_content_region.height)]


def rejoined(section: Section, part: int) -> str:
    """A part's text put back together from its laid-out rows."""
    lines: dict[int, str] = {}
    for line, text in section.part_rows(part):
        lines[line] = lines.get(line, "") + text
    return "\n".join(lines[i] for i in sorted(lines))


def tool_use_section(view: SnapshotView) -> Section:
    return next(s for s in view.sections if s.block is not None and s.block.kind == "tool_use")


# ESC, BEL, every C1 control, and the bidi overrides and isolates
HOSTILE = (
    ["\x1b", "\x07"]
    + [chr(c) for c in range(0x80, 0xA0)]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
)


async def select_conversation(pilot: Any, main: MainScreen, conv_id: str) -> None:
    index = [s.conv_id for s in main.conversations.shown].index(conv_id)
    main.conversations.move_cursor(row=index)
    await settle(pilot)
    assert main.view is not None and main.view.conv_id == conv_id


async def test_newest_conversation_is_selected(standard_db: Path, tmp_path: Path) -> None:
    dump, reader = expected(tmp_path, standard_db)
    app = make_app(str(standard_db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        order = [c["conv_id"] for c in dump["conversations"]]
        assert [s.conv_id for s in main.conversations.shown] == order
        assert main.conversations.cursor_row == 0
        assert main.selected_conv_id == order[0]
        assert main.view is not None and main.view.conv_id == order[0]
    reader.close()


async def test_the_first_screen_reads_the_newest_conversation_once(standard_db: Path) -> None:
    """The newest conversation is read with the list (one read, not two), shows the same
    turns as a read on selection, and a later visit to it reads the file again."""
    store = CountingStore(SqliteStore(str(standard_db)))
    app = make_app(store=store, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        newest = main.conversations.shown[0].conv_id
        assert store.reads == [newest]
        assert main.view is not None and main.view.conv_id == newest
        first = [(t.turn.turn_id, t.turn.runtime_key) for t in main.view.turns]
        assert first and main.timeline.row_count == len(first)
        await select_conversation(pilot, main, main.conversations.shown[1].conv_id)
        await select_conversation(pilot, main, newest)
        assert store.reads == [newest, main.conversations.shown[1].conv_id, newest]
        assert [(t.turn.turn_id, t.turn.runtime_key) for t in main.view.turns] == first


async def test_switch_rows_and_current_runtime_match_domain_and_dump(
    standard_db: Path, tmp_path: Path
) -> None:
    dump, reader = expected(tmp_path, standard_db)
    app = make_app(str(standard_db), clock=fixed_clock)
    seen_switches = 0
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        for conv in dump["conversations"]:
            conv_id = conv["conv_id"]
            await select_conversation(pilot, main, conv_id)
            domain = reader.view(conv_id)
            assert main.timeline.highlighted_rows() == set(domain.switch_indexes)
            assert main.timeline.switch_rows == domain.switch_indexes
            seen_switches += len(domain.switch_indexes)
            panel = main.current_runtime
            assert panel.runtime_key == conv["current_runtime_key"]
            assert panel.current is not None
            assert panel.current.source.value == conv["current_runtime_source"]
            shown = static_text(panel, "#current-runtime-key")
            if conv["current_runtime_key"]:
                assert conv["current_runtime_key"] in shown
    assert seen_switches >= 2, "the fixture must contain runtime switches"
    reader.close()


async def test_timeline_store_runtime_differs_from_latest_turn(
    standard_db: Path, tmp_path: Path
) -> None:
    app = make_app(str(standard_db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        await select_conversation(pilot, main, "conv-switch")
        assert main.current_runtime.runtime_key == "planner"
        source = static_text(main.current_runtime, "#current-runtime-source")
        assert "from timeline store" in source
        assert "latest turn ran inventory" in source
        # the per-turn history is never rewritten with the current runtime
        assert main.view is not None
        assert main.view.turns[-1].turn.runtime_key == "inventory"


async def test_n_and_shift_n_jump_between_switches(standard_db: Path) -> None:
    app = make_app(str(standard_db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        await select_conversation(pilot, main, "conv-switch")
        switches = main.timeline.switch_rows
        assert switches == (2, 4)
        main.timeline.move_cursor(row=0)
        await pilot.press("n")
        assert main.timeline.cursor_row == 2
        assert main.timeline.has_focus
        await pilot.press("n")
        assert main.timeline.cursor_row == 4
        await pilot.press("N")
        assert main.timeline.cursor_row == 2
        await pilot.press("N")  # wraps around to the last switch
        assert main.timeline.cursor_row == 4


async def test_filter_reduces_rows_and_escape_clears_it(standard_db: Path, tmp_path: Path) -> None:
    _, reader = expected(tmp_path, standard_db)
    summaries = reader.conversations()
    app = make_app(str(standard_db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        await pilot.press("slash")
        assert main.query_one("#filter").has_focus
        for needle in ("sess-b", "legacy", "planner"):
            main.query_one("#filter").value = ""  # type: ignore[attr-defined]
            await pilot.press(*needle)
            await settle(pilot)
            want = [s.conv_id for s in summaries if matches_filter(s, needle)]
            assert 0 < len(want) < len(summaries) or needle == "planner"
            assert [s.conv_id for s in main.conversations.shown] == want
            assert main.conversations.row_count == len(want)
            assert main.selected_conv_id in want
        await pilot.press("escape")
        await settle(pilot)
        assert main.conversations.row_count == len(summaries)
        assert not main.query_one("#filter").has_class("-visible")
    reader.close()


async def test_a_new_detail_reads_its_snapshot_once_and_shows_it(
    standard_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening a turn reads the shown snapshot once (asked for before the screen mounts,
    not again for the snapshot list's own first highlight), and every later choice of
    snapshot reads that one; the blocks shown are the snapshot's. The detail's own reads:
    the timeline's read-ahead (tests/test_read_ahead.py) is off, else a highlight that
    rests while the switch summaries load would have read it before Enter."""
    monkeypatch.setattr(tui.app, "READ_AHEAD_DELAY_S", 1e9)
    store = CountingStore(SqliteStore(str(standard_db)))
    app = make_app(store=store, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        await select_conversation(pilot, main, "conv-switch")
        main.timeline.focus()
        main.timeline.move_cursor(row=1)  # turn 2: seven snapshots, the last one final
        await settle(pilot)
        del store.snapshot_reads[:]  # the timeline's switch summaries read some
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, TurnDetailScreen)
        assert store.snapshot_reads == [("turn-switch-2", "final")]
        assert detail.detail is not None and detail.detail.phase == "final"
        shown = [s.block.block.block_id for s in detail.view.sections if s.block is not None]
        assert shown == [blk.block_id for blk in detail.detail.blocks] and shown
        await pilot.press("home")
        await settle(pilot)
        assert store.snapshot_reads[1:] == [("turn-switch-2", "pre_inference")]
        await pilot.press("escape")
        await settle(pilot)
        main.timeline.move_cursor(row=0)
        await pilot.press("enter")  # the kept screen, re-pointed: one read again
        await settle(pilot)
        assert store.snapshot_reads[2:] == [("turn-switch-1", detail.snapshots[-1].phase)]
        assert gc.get_freeze_count() > 0  # what lives as long as the app is frozen


async def test_enter_opens_turn_detail_and_escape_returns(standard_db: Path) -> None:
    app = make_app(str(standard_db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        await select_conversation(pilot, main, "conv-switch")
        main.timeline.focus()
        main.timeline.move_cursor(row=1)  # turn 2: the tool loop
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, TurnDetailScreen)
        assert detail.id == "turn-detail"
        assert detail.turn.turn.turn_id == "turn-switch-2"
        phases = [s.phase for s in detail.snapshots]
        assert phases == [
            "pre_inference",
            "post_inference",
            "post_tools",
            "post_inference",
            "post_tools",
            "post_inference",
            "final",
        ]
        assert detail.detail is not None and detail.detail.phase == "final"
        view = detail.view
        blocks = [sec for sec in view.sections if sec.block is not None]
        assert len(blocks) == len(detail.detail.blocks)
        kinds = {sec.block.kind for sec in blocks if sec.block is not None}
        assert {"tool_call", "tool_use", "reasoning", "llm_text", "user", "system"} <= kinds
        call = next(s for s in blocks if s.block is not None and s.block.kind == "tool_call")
        assert call.bar == "tool-call"  # drawn in the tool call's colour
        assert "lookup_sku" in view.section_lines(call.key)[0]  # the header line names it
        # an earlier snapshot: the list is in time order
        await pilot.press("home")
        await settle(pilot)
        assert detail.detail is not None and detail.detail.phase == "pre_inference"
        await pilot.press("r")
        await settle(pilot)
        raw = view.section("raw")
        assert detail.raw_visible and raw is not None
        assert "geppetto.runtime@v1" in "\n".join(view.section_lines("raw"))
        assert view.scroll_y == view.section_start("raw") == 0  # the raw view is in sight
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is main


async def test_help_lists_every_key(standard_db: Path) -> None:
    app = make_app(str(standard_db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = static_text(app.screen, "#help-keys")
        for binding in [*app.BINDINGS, *MainScreen.BINDINGS, *TurnDetailScreen.BINDINGS]:
            assert isinstance(binding, Binding) and binding.id and binding.id in text
        legend = static_text(app.screen, "#help-legend")
        assert "⟲tl" in legend and "←turn" in legend and "∅ unknown" in legend
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)


async def test_command_palette_has_the_app_actions(standard_db: Path) -> None:
    app = make_app(str(standard_db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for title in (
            "Help",
            "Turn follow mode on",
            "Focus conversations",
            "Focus timeline",
            "Next runtime switch",
            "Previous runtime switch",
            "Filter conversations",
        ):
            assert title in titles
        main = main_screen(app)
        main.timeline.move_cursor(row=0)
        command = next(
            c for c in app.get_system_commands(app.screen) if c.title == "Next runtime switch"
        )
        command.callback()
        assert main.timeline.cursor_row in main.timeline.switch_rows or not (
            main.timeline.switch_rows
        )


async def test_error_screen_for_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    path = b.build_not_sqlite(tmp_path / "notes.txt")
    app = make_app(str(path), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        message = static_text(app.screen, "#error-message")
        assert "not a SQLite database" in message
        assert "Traceback" not in message
        await pilot.press("q")
        await settle(pilot)
    assert app.return_code == 3


async def test_error_screen_for_a_missing_path(tmp_path: Path) -> None:
    app = make_app(str(tmp_path / "nope.sqlite"), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert "no such file" in static_text(app.screen, "#error-message")
        assert not (tmp_path / "nope.sqlite").exists()


async def test_a_notice_arriving_after_the_open_failed_keeps_the_error_screen(
    tmp_path: Path,
) -> None:
    path = b.build_gp26(tmp_path / "t.db", b.standard_scenario())
    app = make_app(store=LateNoticeFailingStore(SqliteStore(str(path))), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        await pilot.pause(0.4)  # the late notice has come and gone
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen), app.screen


async def test_error_screen_for_sqlite_without_turns(tmp_path: Path) -> None:
    path = b.build_not_turns_sqlite(tmp_path / "notes.sqlite")
    app = make_app(str(path), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert "without turns tables" in static_text(app.screen, "#error-message")


async def test_read_only_banner_and_the_file_is_untouched(standard_db: Path) -> None:
    before = file_bytes(standard_db)
    app = make_app(str(standard_db), read_only=True, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        banner = static_text(main, "#banner")
        assert "READ-ONLY" in banner and "never written" in banner
        assert "derived in memory" in banner
        assert main.conversations.row_count == 3
    assert file_bytes(standard_db) == before


async def test_in_place_migration_notice(standard_db: Path) -> None:
    app = make_app(str(standard_db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        notice = static_text(main, "#notice")
        assert "migrated in place" in notice and "backfilled" in notice
        assert not main.query("#banner")


async def test_locked_database_offers_read_only_retry(tmp_path: Path) -> None:
    path = b.build_era2(tmp_path / "locked.sqlite", b.standard_scenario())
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        app = make_app(store=SqliteStore(str(path), timeout=0.3), clock=fixed_clock)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, ErrorScreen)
            assert app.screen.locked
            assert "locked" in static_text(app.screen, "#error-message")
            await pilot.press("o")
            await settle(pilot)
            main = main_screen(app)
            assert "READ-ONLY" in static_text(main, "#banner")
            assert "derived in memory" in static_text(main, "#banner")
            assert main.conversations.row_count == 3
    finally:
        holder.execute("ROLLBACK")
        holder.close()


async def test_loading_screen_shows_while_waiting_for_a_lock(tmp_path: Path) -> None:
    path = b.build_era2(tmp_path / "slow.sqlite", b.standard_scenario())
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        app = make_app(store=SqliteStore(str(path), timeout=3.0), clock=fixed_clock)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(1.0)
            assert isinstance(app.screen, LoadingScreen)
            assert "another writer holds the lock" in static_text(app.screen, "#loading-notices")
            holder.execute("ROLLBACK")  # the writer lets go: the open goes on
            await settle(pilot)
            assert main_screen(app).conversations.row_count == 3
    finally:
        holder.close()


def _insert_turn(path: Path, conv_id: str, session_id: str, turn_id: str, at_ms: int) -> None:
    """What a running pinocchio does: a turn row, a block and its membership."""
    payload = {"text": "a new question"}
    digest = canonical_block_hash("user", "user", payload, {})
    meta = {"geppetto.runtime@v1": b.runtime_attribution("research")}
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO turns (conv_id, session_id, turn_id, turn_created_at_ms, "
            "turn_metadata_json, turn_data_json, updated_at_ms, runtime_key, inference_id) "
            "VALUES (?, ?, ?, ?, ?, '{}', ?, 'research', 'inf-new')",
            (conv_id, session_id, turn_id, at_ms, go_json_marshal(meta), at_ms),
        )
        conn.execute(
            "INSERT INTO blocks (block_id, content_hash, kind, role, payload_json, "
            "block_metadata_json, first_seen_at_ms) VALUES (?, ?, 'user', 'user', ?, '{}', ?)",
            (f"{turn_id}#0", digest, go_json_marshal(payload), at_ms),
        )
        conn.execute(
            "INSERT INTO turn_block_membership (conv_id, session_id, turn_id, phase, "
            "snapshot_created_at_ms, ordinal, block_id, content_hash) "
            "VALUES (?, ?, ?, 'pre_inference', ?, 0, ?, ?)",
            (conv_id, session_id, turn_id, at_ms, f"{turn_id}#0", digest),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


async def test_follow_picks_up_a_new_turn_and_keeps_the_selection(tmp_path: Path) -> None:
    path = b.build_gp26(tmp_path / "gp26.sqlite", b.standard_scenario())
    app = make_app(str(path), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        await select_conversation(pilot, main, "conv-legacy-keys")
        before = len(main.view.turns) if main.view else 0
        app.action_poll()  # nothing changed: nothing reloads
        await settle(pilot)
        assert main.view is not None and len(main.view.turns) == before
        _insert_turn(path, "conv-legacy-keys", "sess-b", "turn-legacy-5", b.T0 + 3_600_000)
        app.action_poll()
        await settle(pilot)
        assert main.selected_conv_id == "conv-legacy-keys"
        assert main.view is not None and len(main.view.turns) == before + 1
        last = main.view.turns[-1]
        assert last.turn.turn_id == "turn-legacy-5" and last.turn.runtime_key == "research"
        assert main.timeline.row_count == before + 1
        # the conversation moved to the top of the list (newest activity) and stayed selected
        assert main.conversations.shown[0].conv_id == "conv-legacy-keys"
        assert main.conversations.conv_id_at_cursor() == "conv-legacy-keys"
        assert main.conversations.shown[0].turn_count == before + 1


async def test_follow_toggle_starts_and_stops_the_timer(standard_db: Path) -> None:
    app = make_app(str(standard_db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f")
        assert app.follow and app.follower.on
        assert "follow" in static_text(main_screen(app), "#title-bar")
        app.action_poll()
        await settle(pilot)
        assert "● follow · checked 10:00:00" in static_text(main_screen(app), "#title-bar")
        await pilot.press("f")
        assert not app.follow and not app.follower.on


async def test_follow_from_the_start(standard_db: Path) -> None:
    app = make_app(str(standard_db), follow=True, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        assert app.follower.on
        assert "● follow" in static_text(main, "#title-bar")
        assert main.conversations.row_count == 3


async def test_a_failing_read_becomes_a_notification(standard_db: Path) -> None:
    store = FailingConversationStore(
        SqliteStore(str(standard_db)), sqlite3.OperationalError("disk I/O error")
    )
    app = make_app(store=store, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(app)

        store.armed = True
        main.conversations.move_cursor(row=1)
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any("load conversation failed" in m and "disk I/O error" in m for m in messages)
        assert isinstance(app.screen, MainScreen)


def _big_text_scenario(size: int) -> tuple[b.ConversationSpec, ...]:
    big = "".join(f"line {i:07d} of a very large tool result\n" for i in range(size // 40 + 1))
    blocks = (
        b.BlockSpec(kind="user", role="user", payload={"text": "dump the log"}, id="u1"),
        b.BlockSpec(kind="tool_use", payload={"id": "c1", "result": big}, id="t1"),
    )
    turn = b.TurnSpec(
        turn_id="turn-big",
        snapshots=(b.SnapshotSpec("final", b.T0, blocks),),
        metadata={"geppetto.runtime@v1": b.runtime_attribution("inventory")},
        runtime_key_column="inventory",
        inference_id_column="inf-big",
    )
    return (b.ConversationSpec("conv-big", "sess-big", (turn,)),)


async def test_five_megabyte_block_is_cut_then_expands_without_freezing(tmp_path: Path) -> None:
    path = b.build_gp26(tmp_path / "big.sqlite", _big_text_scenario(5_000_000))
    app = make_app(str(path), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        main.timeline.focus()
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, TurnDetailScreen)
        view = detail.view
        big = tool_use_section(view)
        assert big.block is not None
        full = big.block.full_text
        assert full is not None and len(full) > 5_000_000
        more = big.parts[-1]
        remaining = len(full) - TEXT_LIMIT
        assert more.style == "more"
        assert f"{remaining:,} more characters" in more.plain and "press e to expand" in more.plain
        assert view.section_lines(big.key)[-1].strip() == more.plain.strip()
        await pilot.press("e")
        await settle(pilot)
        big = tool_use_section(view)
        assert big.block is not None and big.block.expanded
        assert all(p.style != "more" for p in big.parts)
        assert len(view.section_lines(big.key)) > 100_000
        assert rejoined(big, 1) == full  # every character laid out, none dropped
        view.focus()
        app.animation_level = "none"  # `end` lands at once: the test reads where, not how
        await pilot.press("end")
        await settle(pilot)
        assert view.scroll_y == view.max_scroll_y > 100_000
        last_line = full.rstrip("\n").rsplit("\n", 1)[-1]
        assert any(last_line in row for row in drawn(view))


async def test_hostile_text_is_escaped_everywhere(tmp_path: Path) -> None:
    evil = "\x1b[31mred\x1b[0m \x9b2J \u202etxt.exe [bold]x[/bold]"
    block = b.BlockSpec(kind="user", role="user", payload={"text": evil}, id="u1")
    turn = b.TurnSpec(
        turn_id="turn-\x1b[2J",
        snapshots=(b.SnapshotSpec("final", b.T0, (block,)),),
        metadata={"geppetto.runtime@v1": "rt\u202eevil"},
        runtime_key_column="rt\u202eevil",
    )
    path = b.build_gp26(
        tmp_path / "evil.sqlite", (b.ConversationSpec("conv-\x1b]0;pwn\x07", "s\x9b", (turn,)),)
    )
    app = make_app(str(path), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        shown = "\n".join(
            [str(c) for c in main.conversations.get_row_at(0)]
            + [str(c) for c in main.timeline.get_row_at(0)]
            + [static_text(main.current_runtime, "#current-runtime-key")]
            + [static_text(main, "#title-bar")]
        )
        for bad in ("\x1b", "\x9b", "\u202e", "\x07"):
            assert bad not in shown
        assert "␛" in shown and "<U+202E>" in shown
        main.timeline.focus()
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, TurnDetailScreen) and detail.detail is not None
        view = detail.view
        user = next(
            sec for sec in view.sections if sec.block is not None and sec.block.kind == "user"
        )
        assert "[bold]x[/bold]" in "\n".join(view.section_lines(user.key))  # never markup
        drawn_lines = drawn(view) + [static_text(detail, "#detail-title")]
        for key in ("x", "r"):  # the exact view, then the raw view as well
            await pilot.press(key)
            await settle(pilot)
            drawn_lines += drawn(view)
        shown = "\n".join(drawn_lines)
        assert "␛" in shown and "<U+202E>" in shown  # the text is there, made harmless
        for bad in HOSTILE:
            assert bad not in shown, repr(bad)
