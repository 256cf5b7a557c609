"""Pilot tests of the main screen's investigation tools: the switch summary under the
timeline, the database check panel, find, the filter on inference ids, and opening the
app at a place (`--conv` / `--turn` / `--inference`).

Every file comes from `tests.investigate_builders` (independent of `tui`), so where each
jump must land is known without asking the code under test.
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Input, Static

from tests import investigate_builders as ib
from tests.snapshot_apps.support import fixed_clock, main_screen, pin_utc, settle
from tui.app import TurnsApp, make_app
from tui.domain import matches_filter
from tui.messages import Place
from tui.screens.check import CheckScreen, CheckTable
from tui.screens.detail import SnapshotList, TurnDetailScreen
from tui.screens.find import FindResults, FindScreen
from tui.screens.help import HelpScreen
from tui.store.records import ConversationSummary
from tui.store.sqlite_store import SqliteStore

SIZE = (160, 48)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from pin_utc(monkeypatch)


@pytest.fixture
def inv_db(tmp_path: Path) -> Path:
    return ib.build_investigate(tmp_path / "inv.sqlite")


def app_for(path: Path, **kw: Any) -> TurnsApp:
    app = make_app(str(path), clock=fixed_clock, **kw)
    app.animation_level = "none"
    return app


def plain(renderable: Any, width: int = 160) -> str:
    """What a Rich renderable shows, as text."""
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def summary_line(app: TurnsApp) -> str:
    line = main_screen(app).query_one("#switch-summary", Static)
    return str(line.content) if line.has_class("-visible") else ""


def cursor_turn(app: TurnsApp) -> tuple[str, str]:
    main = main_screen(app)
    turn = main.timeline.turn_at_cursor()
    assert turn is not None
    return turn.turn.conv_id, turn.turn.turn_id


async def select_conv(pilot: Pilot[Any], conv_id: str) -> None:
    main = main_screen(pilot.app)  # type: ignore[arg-type]
    main.conversations.select_conv(conv_id)
    await settle(pilot)
    assert main.view is not None and main.view.conv_id == conv_id


# -- the switch summary ------------------------------------------------------------------


async def test_switch_summary_under_the_timeline(inv_db: Path) -> None:
    """On the switch row (turn 3: research → coder) the line under the timeline says what
    changed: the runtime, the system prompt's +/- line counts, the model, the data keys;
    on another row it points at n / N."""
    app = app_for(inv_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_conv(pilot, ib.CONV)
        main = main_screen(app)
        assert summary_line(app) == "⇄ 1 runtime switch · n / N: see what one changed"
        main.timeline.focus()
        await pilot.press("n")
        await settle(pilot)
        assert cursor_turn(app) == (ib.CONV, "turn-inv-3")
        line = summary_line(app)
        assert line.startswith("⇄3 research → coder")
        assert f"system prompt changed +{ib.SYSTEM_PROMPT_PLUS} −{ib.SYSTEM_PROMPT_MINUS}" in line
        assert "model gpt-4o → o4-mini" in line
        assert "1 data key changed" in line
        assert "block" in line  # blocks added (the new user message and the answer)
        await pilot.press("k")  # off the switch row
        await settle(pilot)
        assert "n / N" in summary_line(app)
        await pilot.press("j")  # back: the summary comes from the cache, no new worker
        await settle(pilot)
        assert summary_line(app) == line


async def test_no_switch_no_summary_line(inv_db: Path) -> None:
    """A conversation without any switch shows no summary line at all."""
    app = app_for(inv_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_conv(pilot, ib.CONV2)
        assert summary_line(app) == ""


# -- the database check ------------------------------------------------------------------


async def open_check(pilot: Pilot[Any]) -> CheckScreen:
    await pilot.press("exclamation_mark")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, CheckScreen)
    return screen


async def test_check_panel_lists_every_anomaly_with_counts(inv_db: Path) -> None:
    """`!` opens the check: every anomaly the builders planted, counted by kind."""
    app = app_for(inv_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_check(pilot)
        assert screen.report is not None
        found = {(a.kind, a.conv_id, a.turn_id) for a in screen.report.anomalies}
        assert found == ib.EXPECTED_ANOMALIES
        assert screen.query_one(CheckTable).row_count == len(ib.EXPECTED_ANOMALIES)
        counts = plain(screen.query_one("#check-counts", Static).content)
        assert "reused_inference_id" in counts and "orphan_membership" in counts
        status = str(screen.query_one("#check-status", Static).content)
        assert status.startswith(f"{len(ib.EXPECTED_ANOMALIES)} anomalies in 2 conversations")
        await pilot.press("escape")
        await settle(pilot)
        assert main_screen(app).view is not None


@pytest.mark.parametrize(
    ("kind", "conv_id", "turn_id"),
    [
        ("missing_final", ib.CONV, "turn-inv-4"),
        ("time_order", ib.CONV2, ib.EARLY_TURN),
        ("malformed_metadata", ib.CONV2, ib.MALFORMED_TURN),
    ],
)
async def test_check_row_jumps_to_its_turn(
    inv_db: Path, kind: str, conv_id: str, turn_id: str
) -> None:
    """Enter on a check row closes the panel, selects the anomaly's conversation and puts
    the timeline cursor on its turn."""
    app = app_for(inv_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_check(pilot)
        assert screen.report is not None
        row = next(
            i
            for i, a in enumerate(screen.report.anomalies)
            if (a.kind, a.conv_id, a.turn_id) == (kind, conv_id, turn_id)
        )
        screen.query_one(CheckTable).move_cursor(row=row)
        await pilot.press("enter")
        await settle(pilot)
        main = main_screen(app)
        assert main.selected_conv_id == conv_id
        assert cursor_turn(app) == (conv_id, turn_id)
        assert main.timeline.has_focus


async def test_check_orphan_row_selects_the_conversation_and_says_why(inv_db: Path) -> None:
    """The orphan membership rows' turn has no turn row: the jump selects the
    conversation and says so instead of pretending."""
    app = app_for(inv_db)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await select_conv(pilot, ib.CONV2)
        screen = await open_check(pilot)
        assert screen.report is not None
        row = next(
            i for i, a in enumerate(screen.report.anomalies) if a.kind == "orphan_membership"
        )
        screen.query_one(CheckTable).move_cursor(row=row)
        await pilot.press("enter")
        await settle(pilot)
        assert main_screen(app).selected_conv_id == ib.CONV
        assert any(ib.GHOST_TURN in n.message for n in app._notifications)


async def test_check_clears_a_filter_that_hides_the_target(inv_db: Path) -> None:
    """A filter that hides the anomaly's conversation is cleared on the jump."""
    app = app_for(inv_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        await pilot.press("slash")
        await pilot.press(*"reuse", "enter")  # enter: back to the list (`!` is typed)
        await settle(pilot)
        assert [s.conv_id for s in main.conversations.shown] == [ib.CONV2]
        screen = await open_check(pilot)
        assert screen.report is not None
        row = next(i for i, a in enumerate(screen.report.anomalies) if a.conv_id == ib.CONV)
        screen.query_one(CheckTable).move_cursor(row=row)
        await pilot.press("enter")
        await settle(pilot)
        assert main.query_one("#filter", Input).value == ""
        assert main.selected_conv_id == ib.CONV


async def test_check_from_the_command_palette(inv_db: Path) -> None:
    """The palette offers "Check the database"."""
    app = app_for(inv_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = [c.title for c in main_screen(app).system_commands()]
        assert "Check the database" in titles and "Find" in titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Check the database")
        await pilot.pause(0.3)  # the palette searches in the background
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CheckScreen)


# -- find --------------------------------------------------------------------------------


async def find(pilot: Pilot[Any], query: str) -> FindScreen:
    await pilot.press("ctrl+f")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, FindScreen)
    await pilot.press(*query)
    await pilot.press("enter")
    await settle(pilot)
    return screen


async def test_find_text_jumps_to_the_turn_detail_at_the_snapshot(inv_db: Path) -> None:
    """Text in blocks (any case): the match names the first snapshot holding it; enter
    opens that turn's detail with that snapshot highlighted."""
    app = app_for(inv_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await find(pilot, "zebrafish FIN")
        assert not screen.running
        text = [m for m in screen.matches if m.field == "text"]
        conv, turn, phase, ms, ordinal = ib.ZEBRA_FIRST
        first = next(m for m in text if m.block_ordinal == ordinal)
        assert (first.conv_id, first.turn_id, first.phase, first.snapshot_created_at_ms) == (
            conv,
            turn,
            phase,
            ms,
        )
        status = str(screen.query_one("#find-status", Static).content)
        assert f"{len(screen.matches)} match" in status and "done" in status
        screen.query_one(FindResults).focus()
        screen.query_one(FindResults).move_cursor(row=screen.matches.index(first))
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, TurnDetailScreen)
        assert detail.turn.turn.turn_id == turn
        snaps = detail.query_one(SnapshotList)
        assert snaps.highlighted is not None
        chosen = detail.snapshots[snaps.highlighted]
        assert (chosen.phase, chosen.snapshot_created_at_ms) == (phase, ms)
        assert detail.requested == (phase, ms)
        await pilot.press("escape")
        await settle(pilot)
        assert cursor_turn(app) == (conv, turn)


async def test_find_inference_id_prefix(inv_db: Path) -> None:
    """An inference id prefix finds its turns (the reused one twice, in both
    conversations); enter goes to the chosen one."""
    app = app_for(inv_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await find(pilot, "inf-i2")
        hits = [(m.conv_id, m.turn_id) for m in screen.matches if m.field == "inference_id"]
        assert hits == [(ib.CONV, "turn-inv-2"), (ib.CONV2, "turn-reuse-2")]
        row = next(
            i
            for i, m in enumerate(screen.matches)
            if m.field == "inference_id" and m.conv_id == ib.CONV2
        )
        screen.query_one(FindResults).focus()
        screen.query_one(FindResults).move_cursor(row=row)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TurnDetailScreen)
        assert app.screen.turn.turn.turn_id == "turn-reuse-2"
        await pilot.press("escape")
        await settle(pilot)
        assert main_screen(app).selected_conv_id == ib.CONV2


async def test_find_conversation_match_selects_it(inv_db: Path) -> None:
    """A conversation id match selects that conversation (no turn detail)."""
    app = app_for(inv_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select_conv(pilot, ib.CONV)
        screen = await find(pilot, "conv-reu")
        assert [m.field for m in screen.matches][0] == "conv_id"
        screen.query_one(FindResults).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert main_screen(app).selected_conv_id == ib.CONV2


async def test_find_cancel_keeps_the_screen_and_ignores_late_results(inv_db: Path) -> None:
    """Esc during a search cancels it (the worker is cancelled, later results ignored);
    a second esc closes the screen."""
    app = app_for(inv_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+f")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, FindScreen)
        screen.search("research")
        assert screen.running
        await pilot.press("escape")
        assert not screen.running
        await settle(pilot)
        assert not any(w.group == "find" and w.is_running for w in app.workers)
        status = str(screen.query_one("#find-status", Static).content)
        assert "cancelled" in status
        late = len(screen.matches)
        screen.show_progress(screen.generation, screen.matches[:1] or (), "late", True)
        assert len(screen.matches) == late  # a cancelled search's results are dropped
        await pilot.press("escape")
        await settle(pilot)
        assert main_screen(app) is not None


async def test_find_streams_progress(inv_db: Path) -> None:
    """The worker posts id matches first, then text matches with (checked, total)."""
    from tui.messages import FindProgress

    app = app_for(inv_db)
    seen: list[FindProgress] = []

    def hook(message: object) -> None:
        if isinstance(message, FindProgress):
            seen.append(message)

    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await settle(pilot)
        await find(pilot, "research")
        assert seen[0].status == "searching block text…" and not seen[0].done
        assert any(m.progress is not None for m in seen)
        assert seen[-1].done and seen[-1].status == "done"


# -- the filter on inference ids ---------------------------------------------------------


def test_matches_filter_on_inference_ids() -> None:
    summary = ConversationSummary("c1", "s1", 2, 0, "rk", inference_ids=("inf-abc", "inf-xyz"))
    assert matches_filter(summary, "XYZ")
    assert not matches_filter(summary, "inf-q")


async def test_store_lists_inference_ids(inv_db: Path) -> None:
    """The conversation index carries every turn's inference id, in turn order."""
    store = SqliteStore(str(inv_db))
    await store.open()
    try:
        by_id = {s.conv_id: s for s in await store.conversations()}
    finally:
        await store.close()
    assert by_id[ib.CONV].inference_ids == ("inf-i1", "inf-i2", "inf-i3", "inf-i4", "inf-i5")
    assert by_id[ib.CONV2].inference_ids == ("inf-r1", "inf-i2", "inf-r3")


async def test_filter_matches_inference_id(inv_db: Path) -> None:
    app = app_for(inv_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await pilot.press(*"inf-r3")
        await settle(pilot)
        main = main_screen(app)
        assert [s.conv_id for s in main.conversations.shown] == [ib.CONV2]


# -- open at a place ---------------------------------------------------------------------


async def test_start_at_a_conversation(inv_db: Path) -> None:
    app = app_for(inv_db, start_at=Place(ib.CONV2))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert main_screen(app).selected_conv_id == ib.CONV2


async def test_start_at_a_turn_opens_its_detail(inv_db: Path) -> None:
    app = app_for(inv_db, start_at=Place(ib.CONV, ib.SESS, "turn-inv-2", open_detail=True))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, TurnDetailScreen)
        assert app.screen.turn.turn.turn_id == "turn-inv-2"
        await pilot.press("escape")
        await settle(pilot)
        assert cursor_turn(app) == (ib.CONV, "turn-inv-2")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--conv", "nope"), "no conversation 'nope'"),
        (("--conv", "conv"), "conversation 'conv' is ambiguous: conv-inv, conv-reuse"),
        (("--conv", "conv-inv", "--turn", "turn-inv-9"), "no turn 'turn-inv-9'"),
        (("--conv", "conv-i", "--turn", "turn-inv"), "turn 'turn-inv' is ambiguous"),
        (("--inference", "inf-i2"), "inference id 'inf-i2' is shared by 2 turns"),
        (("--conv", "conv-reuse", "--inference", "inf-zz"), "no turn with inference id"),
    ],
)
def test_open_at_unknown_or_ambiguous_id_exits_3(
    inv_db: Path, args: tuple[str, ...], says: str
) -> None:
    """An unknown or ambiguous id is one line on stderr and exit 3, before any UI."""
    res = run_cli(str(inv_db), *args)
    assert res.returncode == 3, res.stderr
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and says in lines[0] and str(inv_db) in lines[0]
    assert res.stdout == ""
    assert sorted(p.name for p in inv_db.parent.iterdir()) == ["inv.sqlite"]


def test_open_at_a_resolved_place_reaches_the_app(inv_db: Path) -> None:
    """Unique prefixes resolve; the command then goes on to the app (here without a
    terminal: the usual exit 2, not a lookup error)."""
    res = run_cli(str(inv_db), "--conv", "conv-i", "--turn", "turn-inv-3")
    assert res.returncode == 2 and "needs a terminal" in res.stderr
    res = run_cli(str(inv_db), "--turn", "turn-inv-3")
    assert res.returncode == 2 and "--turn needs --conv" in res.stderr


def test_cli_resolution(inv_db: Path) -> None:
    """The resolver itself: prefixes give the full ids and the session."""
    import argparse

    from tui.cli import _resolve_place

    def resolve(**kw: str | None) -> object:
        ns = argparse.Namespace(**{"conv": None, "turn": None, "inference": None, **kw})
        return _resolve_place(SqliteStore(str(inv_db)), ns)

    assert resolve(conv="conv-r") == (ib.CONV2, "", None)
    assert resolve(conv="conv-i", turn="turn-inv-4") == (ib.CONV, ib.SESS, "turn-inv-4")
    assert resolve(inference="inf-r3") == (ib.CONV2, ib.SESS2, "turn-reuse-3")
    assert resolve(conv="conv-inv", inference="inf-i2") == (ib.CONV, ib.SESS, "turn-inv-2")


# -- help --------------------------------------------------------------------------------


async def test_help_lists_the_new_keys_and_marks(inv_db: Path) -> None:
    app = app_for(inv_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        keys = plain(app.screen.query_one("#help-keys", Static).content)
        assert "main.check" in keys and "main.find" in keys and "find.cancel" in keys
        text = plain(app.screen.query_one("#help-legend", Static).content)
        assert "s2" in text and "␠␠" in text and "⇄3" in text


@pytest.mark.parametrize("era", ["era2", "geppetto"])
async def test_inference_ids_of_older_eras_read_only(tmp_path: Path, era: str) -> None:
    """Read-only on an older era the index carries the inference ids the overlay derives
    (the same as the conversation's own turns, in turn order)."""
    from tests import builders as b
    from tui.domain import order_turns

    build = b.build_era2 if era == "era2" else b.build_geppetto
    path = build(tmp_path / f"{era}.sqlite", ib.investigate_scenario())
    store = SqliteStore(str(path), read_only=True)
    await store.open()
    try:
        for summary in await store.conversations():
            turns = order_turns((await store.conversation(summary.conv_id)).turns)
            assert summary.inference_ids == tuple(t.inference_id for t in turns if t.inference_id)
            if summary.conv_id == ib.CONV:
                assert summary.inference_ids == ("inf-i1", "inf-i2", "inf-i3", "inf-i4", "inf-i5")
    finally:
        await store.close()
