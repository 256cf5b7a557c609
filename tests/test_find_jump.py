"""Pilot tests: a find result jumps to its block inside the turn detail.

The file is built by `tests.builders` (independent of `tui`): one conversation whose only
turn holds a long snapshot (60 blocks of three lines each, far taller than the screen),
with a word found in exactly one block. Enter on the match must open the turn detail at
the snapshot found, with the found block's header at the top of the one virtualised view
and that block (only it) marked; an id match opens the detail as before, nothing marked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.message import Message
from textual.pilot import Pilot

from tests import builders as b
from tests.fake_stores import CountingStore
from tests.snapshot_apps.support import fixed_clock, pin_utc, settle
from tui.app import TurnsApp, make_app
from tui.find import Match
from tui.screens.detail import SnapshotList, TurnDetailScreen
from tui.screens.find import FindResults, FindScreen
from tui.store.sqlite_store import SqliteStore
from tui.widgets.detail_sections import FOUND
from tui.widgets.snapshot_view import SnapshotView

CONV = "conv-long"
SESSION = "sess-long"
TURN = "turn-long"
BLOCKS = 60
FAR = 45  # the block far down holding FAR_WORD
FAR_WORD = "narwhal"
FIRST_WORD = "quokka"  # only in block 0
PRE_MS = 1_771_000_000_000
FINAL_MS = PRE_MS + 5_000


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from pin_utc(monkeypatch)


def _block(n: int) -> b.BlockSpec:
    words = {0: FIRST_WORD, FAR: FAR_WORD}
    text = f"Block {n} line one.\nBlock {n} line two.\nBlock {n} line three."
    if n in words:
        text += f" The {words[n]} is here."
    kind, role = ("system", "system") if n == 0 else ("user", "user")
    if n and n % 2 == 0:
        kind, role = "llm_text", "assistant"
    return b.BlockSpec(kind=kind, role=role, payload={"text": text}, id=f"blk-{n:02d}")


@pytest.fixture
def long_db(tmp_path: Path) -> Path:
    blocks = tuple(_block(n) for n in range(BLOCKS))
    answer = b.BlockSpec(
        kind="llm_text", role="assistant", payload={"text": "The answer."}, id="blk-answer"
    )
    meta = {
        "geppetto.runtime@v1": b.runtime_attribution("research"),
        "geppetto.inference_id@v1": "inf-long-1",
    }
    turn = b.TurnSpec(
        TURN,
        (
            b.SnapshotSpec("pre_inference", PRE_MS, blocks),
            b.SnapshotSpec("final", FINAL_MS, (*blocks, answer)),
        ),
        meta,
        {},
        "research",
        "inf-long-1",
    )
    return b.build_gp26(tmp_path / "long.sqlite", (b.ConversationSpec(CONV, SESSION, (turn,)),))


def app_for(path: Path) -> TurnsApp:
    app = make_app(str(path), clock=fixed_clock)
    app.animation_level = "none"
    return app


async def find_and_enter(pilot: Pilot[Any], query: str, pick: Any) -> Match:
    """ctrl+f, type `query`, enter; then enter on the first match `pick` accepts."""
    await pilot.press("ctrl+f")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, FindScreen)
    await pilot.press(*query)
    await pilot.press("enter")
    await settle(pilot)
    assert not screen.running
    row, match = next((i, m) for i, m in enumerate(screen.matches) if pick(m))
    table = screen.query_one(FindResults)
    table.focus()
    table.move_cursor(row=row)
    await pilot.press("enter")
    await settle(pilot)
    return match


def top_text(view: SnapshotView) -> str:
    """What the view draws on its first visible row (the virtualised view's own line)."""
    return view.render_line(0).text


@pytest.mark.parametrize("size", [(160, 48), (80, 24)])
async def test_text_match_far_down_lands_on_its_block(long_db: Path, size: tuple[int, int]) -> None:
    """Block 45 of 60: the detail opens at the snapshot found, block 45's header is the
    view's top row, and block 45 (only it) is marked."""
    app = app_for(long_db)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        match = await find_and_enter(pilot, FAR_WORD, lambda m: m.field == "text")
        assert (match.turn_id, match.phase, match.block_ordinal) == (TURN, "pre_inference", FAR)
        detail = app.screen
        assert isinstance(detail, TurnDetailScreen)
        assert detail.turn.turn.turn_id == TURN
        assert detail.requested == ("pre_inference", PRE_MS)
        snaps = detail.query_one(SnapshotList)
        assert snaps.highlighted is not None
        assert detail.snapshots[snaps.highlighted].phase == "pre_inference"
        view = detail.view
        marked = [s for s in view.sections if s.marked]
        assert len(marked) == 1
        section = marked[0]
        assert section.block is not None and section.block.block.ordinal == FAR
        start = view.section_start(section.key)
        assert start is not None and start > size[1]  # really far down the document
        assert start in view.visible_rows()
        assert int(view.scroll_y) == start  # its header is the top row
        header = view.section_lines(section.key)[0]
        assert header.startswith(f"#{FAR} ") and FOUND in header
        assert top_text(view).lstrip("▎┃ ").startswith(f"#{FAR} ")
        assert FOUND in top_text(view)
        # no other block says it was found
        assert sum(FOUND in line for line in view.lines()) == 1


async def test_a_jump_reads_only_the_snapshot_found(long_db: Path) -> None:
    """The detail a find opens asks for the snapshot found (pre_inference here, not the
    turn's latest) and for no other: one request, one read, and it is the one shown."""
    store = CountingStore(SqliteStore(str(long_db)))
    app = make_app(store=store, clock=fixed_clock)
    app.animation_level = "none"
    asked: list[str] = []

    def hook(message: Message) -> None:
        if isinstance(message, TurnDetailScreen.SnapshotRequested):
            asked.append(message.phase)

    async with app.run_test(size=(160, 48), message_hook=hook) as pilot:
        await settle(pilot)
        del store.snapshot_reads[:]
        await find_and_enter(pilot, FAR_WORD, lambda m: m.field == "text")
        detail = app.screen
        assert isinstance(detail, TurnDetailScreen)
        assert asked == ["pre_inference"]
        # the detail's reads (the timeline's read-ahead, if its highlight rested, is apart)
        assert store.reads_by("load snapshot") == [(TURN, "pre_inference")]
        assert detail.detail is not None and detail.detail.phase == "pre_inference"


async def test_text_match_in_block_zero(long_db: Path) -> None:
    """Ordinal 0 is a block too (not "no block"): block 0 is at the top and marked."""
    app = app_for(long_db)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        match = await find_and_enter(pilot, FIRST_WORD, lambda m: m.field == "text")
        assert match.block_ordinal == 0
        detail = app.screen
        assert isinstance(detail, TurnDetailScreen)
        view = detail.view
        section = view.marked_section()
        assert section is not None and section.block is not None
        assert section.block.block.ordinal == 0
        start = view.section_start(section.key)
        assert start is not None and int(view.scroll_y) == start
        assert top_text(view).lstrip("▎┃ ").startswith("#0 ")


async def test_id_match_opens_the_detail_without_a_block(long_db: Path) -> None:
    """A turn id match has no block: the detail opens at its snapshot as before (the
    final one, at the "this turn" marker), nothing marked."""
    app = app_for(long_db)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        match = await find_and_enter(pilot, TURN, lambda m: m.field == "turn_id")
        assert match.block_ordinal is None
        detail = app.screen
        assert isinstance(detail, TurnDetailScreen)
        assert detail.requested == ("final", FINAL_MS)
        view = detail.view
        assert view.marked_section() is None
        assert not any(FOUND in line for line in view.lines())
        marker = view.section_start("marker")
        assert marker is not None and marker in view.visible_rows()


async def test_another_snapshot_drops_the_mark(long_db: Path) -> None:
    """The mark belongs to the snapshot found: the next snapshot shows no mark, going back
    shows it again."""
    app = app_for(long_db)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await find_and_enter(pilot, FAR_WORD, lambda m: m.field == "text")
        detail = app.screen
        assert isinstance(detail, TurnDetailScreen)
        detail.query_one(SnapshotList).focus()
        await pilot.press("down")
        await settle(pilot)
        assert detail.requested == ("final", FINAL_MS)
        assert detail.view.marked_section() is None
        await pilot.press("up")
        await settle(pilot)
        section = detail.view.marked_section()
        assert section is not None and section.block is not None
        assert section.block.block.ordinal == FAR


async def test_many_matches_become_rows_a_batch_per_paint_all_in_order(tmp_path: Path) -> None:
    """A search with more matches than `ROWS_PER_FRAME` adds them to the table a batch at
    a time (never more in one go, so a paint comes between), and ends with every match a
    row, in the order of `matches`."""
    from tui.screens.find import ROWS_PER_FRAME

    count = 2 * ROWS_PER_FRAME + 50
    blocks = tuple(
        b.BlockSpec("user", "user", {"text": f"row {n:03d} holds the needle"}, id=f"nb-{n:03d}")
        for n in range(count)
    )
    turn = b.TurnSpec("turn-many", (b.SnapshotSpec("final", PRE_MS, blocks),), {}, {}, "rt", "inf")
    path = b.build_gp26(tmp_path / "many.sqlite", (b.ConversationSpec("conv-many", "s", (turn,)),))
    app = app_for(path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+f")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, FindScreen)
        batches: list[int] = []
        add_rows = screen._add_rows

        def recording(matches: Any, start: int) -> None:
            batches.append(len(matches))
            add_rows(matches, start)

        screen._add_rows = recording  # type: ignore[method-assign]
        await pilot.press(*"needle")
        await pilot.press("enter")
        await settle(pilot)
        assert not screen.running and screen.rows_shown
        table = screen.query_one(FindResults)
        assert len(screen.matches) == count == table.row_count
        assert max(batches) <= ROWS_PER_FRAME and sum(batches) == count
        assert len(batches) >= 3
        excerpts = [str(table.get_row_at(r)[-1]) for r in range(count)]
        assert [m.block_ordinal for m in screen.matches] == list(range(count))
        assert all(f"row {n:03d} holds" in e for n, e in enumerate(excerpts))


async def test_a_resize_lays_the_results_out_again_and_keeps_every_match_and_the_cursor(
    long_db: Path,
) -> None:
    """60 matches at 80x24, the cursor on the 4th; at 160x48 the table has its wide
    columns, every match as a row in order (those past a screenful from the cursor are
    streamed after the first paint), the cursor on the same match, and each excerpt
    shows the words found even where the column is narrower than the excerpt."""
    app = app_for(long_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+f")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, FindScreen)
        await pilot.press(*"line two", "enter")
        await settle(pilot)
        assert not screen.running and len(screen.matches) == BLOCKS
        table = screen.query_one(FindResults)
        assert "where" not in [str(c.label) for c in table.ordered_columns]
        table.focus()
        table.move_cursor(row=3)
        await settle(pilot)
        chosen = screen.matches[3]
        for size in ((160, 48), (80, 24)):
            await pilot.resize_terminal(*size)
            await settle(pilot)
            labels = [str(c.label) for c in table.ordered_columns]
            assert ("where" in labels) == (size == (160, 48))
            assert table.row_count == len(screen.matches) == BLOCKS
            assert [str(k.value) for k in (r.key for r in table.ordered_rows)] == [
                str(n) for n in range(BLOCKS)
            ]
            assert table.cursor_row == 3 and screen.matches[table.cursor_row] == chosen
            for n in (0, BLOCKS - 1):
                assert "line two" in str(table.get_row_at(n)[-1])
