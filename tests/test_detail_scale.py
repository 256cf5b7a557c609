"""The turn detail at scale: one virtualised view, whatever the number or size of blocks.

Pilot tests on real files built with tests/builders: a 400-block snapshot and a 5 MB
block open, scroll to their end, and the lines the view lays out and draws are the
blocks' text character for character. No timing asserts (timings live in the
benchmark); unit tests of the lossless wrap.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len

from tests import builders as b
from tests.snapshot_apps.support import fixed_clock, main_screen, pin_utc, settle
from tui.app import make_app
from tui.formatting import safe_text
from tui.screens.detail import TurnDetailScreen
from tui.widgets.blocks import TEXT_LIMIT
from tui.widgets.snapshot_view import GUTTER, Section, SnapshotView, wrap_line

SIZE = (120, 40)
BLOCKS = 400


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from pin_utc(monkeypatch)


# -- scenarios -----------------------------------------------------------------------------


def block_text(i: int) -> str:
    """Varied text: short, Markdown, a line longer than the view, wide characters."""
    if i % 4 == 0:
        return f"question {i}: how many <sku-{i}> are left?"
    if i % 4 == 1:
        return f"## Answer {i}\n  - keep **{i} units** of `A-{i}`\n\n        code <b>{i}</b>"
    if i % 4 == 2:
        return " ".join(f"word{i}-{j}" for j in range(60))  # wraps at any width here
    return f"日本語のテキスト {i} " * 12 + "end"


def big_scenario() -> tuple[b.ConversationSpec, ...]:
    """One turn whose final snapshot holds 400 blocks of every kind."""
    blocks: list[b.BlockSpec] = [
        b.BlockSpec("system", "system", {"text": "You are a stock assistant."}, id="sys")
    ]
    while len(blocks) < BLOCKS:
        i = len(blocks)
        if i % 10 == 7:
            blocks.append(
                b.BlockSpec(
                    "tool_call", "", {"id": f"c{i}", "name": "lookup", "args": {"n": i}}, id=f"b{i}"
                )
            )
        elif i % 10 == 8:
            error = "boom" if i % 20 == 8 else ""
            blocks.append(
                b.BlockSpec(
                    "tool_use",
                    "",
                    {"id": f"c{i - 1}", "error": error, "result": f"r{i}"},
                    id=f"b{i}",
                )
            )
        elif i % 2:
            blocks.append(b.BlockSpec("llm_text", "assistant", {"text": block_text(i)}, id=f"b{i}"))
        else:
            blocks.append(b.BlockSpec("user", "user", {"text": block_text(i)}, id=f"b{i}"))
    turn = b.TurnSpec(
        turn_id="turn-many",
        snapshots=(
            b.SnapshotSpec("pre_inference", b.T0, tuple(blocks[:-1])),
            b.SnapshotSpec("final", b.T0 + 1_000, tuple(blocks)),
        ),
        metadata={"geppetto.runtime@v1": b.runtime_attribution("inventory")},
        runtime_key_column="inventory",
        inference_id_column="inf-many",
    )
    return (b.ConversationSpec("conv-many", "sess-many", (turn,)),)


BIG_TEXT = "".join(
    f"line {i:07d} of a very large tool result\n" for i in range(5_000_000 // 40 + 1)
)


def five_mb_scenario() -> tuple[b.ConversationSpec, ...]:
    blocks = (
        b.BlockSpec(kind="user", role="user", payload={"text": "dump the log"}, id="u1"),
        b.BlockSpec(kind="tool_use", payload={"id": "c1", "result": BIG_TEXT}, id="t1"),
    )
    turn = b.TurnSpec(
        turn_id="turn-big",
        snapshots=(b.SnapshotSpec("final", b.T0, blocks),),
        metadata={"geppetto.runtime@v1": b.runtime_attribution("inventory")},
        runtime_key_column="inventory",
        inference_id_column="inf-big",
    )
    return (b.ConversationSpec("conv-big", "sess-big", (turn,)),)


# -- reading the view ---------------------------------------------------------------------


async def open_detail(pilot: Any) -> TurnDetailScreen:
    await settle(pilot)
    main = main_screen(pilot.app)
    main.timeline.focus()
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, TurnDetailScreen) and screen.detail is not None
    return screen


def rejoined(section: Section, part: int) -> str:
    """A part's text put back together from its laid-out rows (rows of a line joined,
    lines joined by newlines)."""
    lines: dict[int, str] = {}
    for line, text in section.part_rows(part):
        lines[line] = lines.get(line, "") + text
    return "\n".join(lines[i] for i in sorted(lines))


def drawn(view: SnapshotView) -> list[str]:
    """What the view draws now: render_line for every visible row."""
    return [view.render_line(y).text for y in range(view.scrollable_content_region.height)]


def modelled(view: SnapshotView) -> list[str]:
    """The line model's rows at the current scroll position, with their bars."""
    rows = list(view.lines())
    top = int(view.scroll_y)
    out: list[str] = []
    for y in range(top, top + view.scrollable_content_region.height):
        found = view.locate(y)
        if found is None:
            out.append("")
            continue
        section = view.sections[found[0]]
        text = rows[y]
        if section.bar and found[1] < section.height() - section.gap:
            text = "  " + text  # the bar's two cells (its glyph checked separately)
        out.append(text)
    return out


def same_rows(drawn_rows: list[str], model_rows: list[str]) -> bool:
    """The drawn rows are the model's rows (bars compared by width, padding ignored)."""
    for d, m in zip(drawn_rows, model_rows, strict=True):
        if m.startswith("  ") and d[:1] in "▎┃":
            d = "  " + d[GUTTER:]
        if d.rstrip() != m.rstrip():
            return False
    return True


# -- 400 blocks ---------------------------------------------------------------------------


async def test_four_hundred_blocks_open_in_one_view_and_scroll_to_the_end(tmp_path: Path) -> None:
    path = b.build_gp26(tmp_path / "many.sqlite", big_scenario())
    app = make_app(str(path), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot)
        view = screen.view
        assert screen.detail is not None and len(screen.detail.blocks) == BLOCKS
        # one widget for every block, not one per block
        assert not view.children
        blocks = [s for s in view.sections if s.block is not None]
        assert len(blocks) == BLOCKS
        # every block's text, laid out at the view's width, is the stored text
        for s in blocks:
            assert s.block is not None
            kind = s.block.kind
            if kind in ("user", "llm_text", "system"):
                assert rejoined(s, 1) == s.block.payload["text"], s.key
            for _, row in s.part_rows(1):
                assert cell_len(row) <= view.scrollable_content_region.width - GUTTER
        assert sum(1 for s in blocks if s.tone == "error") == BLOCKS // 20
        assert sum(1 for s in blocks if s.bar == "tool-use-ok") == BLOCKS // 20
        # the drawn rows are the model's rows, at the top and at the end
        assert same_rows(drawn(view), modelled(view))
        view.focus()
        await pilot.press("end")
        await settle(pilot)
        assert view.max_scroll_y > 1000 and view.scroll_y == view.max_scroll_y
        assert same_rows(drawn(view), modelled(view))
        last = blocks[-1]
        assert last.block is not None
        shown = "\n".join(drawn(view))
        assert last.block.block.block_id in shown
        assert safe_text(last.block.payload["text"].split("\n")[-1])[:20] in shown
        # exact text and the raw view work at this size too
        await pilot.press("x")
        await settle(pilot)
        assert all(s.block is not None and s.block.exact for s in view.sections if s.block)
        await pilot.press("r")
        await settle(pilot)
        raw = view.section("raw")
        assert raw is not None and view.scroll_y == 0
        assert "blocks of this snapshot (raw, 400)" in raw.plain


async def test_resize_lays_out_again_and_keeps_the_text(tmp_path: Path) -> None:
    path = b.build_gp26(tmp_path / "many.sqlite", big_scenario())
    app = make_app(str(path), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot)
        view = screen.view
        wide = view.virtual_size.height
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert view.virtual_size.height > wide  # narrower: more rows
        for s in view.sections:
            if s.block is not None and s.block.kind == "llm_text":
                assert rejoined(s, 1) == s.block.payload["text"]
                for _, row in s.part_rows(1):
                    assert cell_len(row) <= view.scrollable_content_region.width - GUTTER
        assert same_rows(drawn(view), modelled(view))


# -- 5 MB ---------------------------------------------------------------------------------


async def test_five_megabyte_block_cuts_expands_in_the_view_and_scrolls_to_the_end(
    tmp_path: Path,
) -> None:
    path = b.build_gp26(tmp_path / "big.sqlite", five_mb_scenario())
    app = make_app(str(path), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_detail(pilot)
        view = screen.view
        big = next(s for s in view.sections if s.block is not None and s.block.kind == "tool_use")
        assert big.block is not None and big.block.full_text == BIG_TEXT
        more = big.parts[-1]
        assert more.style == "more"
        assert f"{len(BIG_TEXT) - TEXT_LIMIT:,} more characters — press e to expand" in more.plain
        assert rejoined(big, 1) == BIG_TEXT[:TEXT_LIMIT]
        await pilot.press("e")
        await settle(pilot)
        big = next(s for s in view.sections if s.block is not None and s.block.kind == "tool_use")
        assert big.block is not None and big.block.expanded
        assert all(p.style != "more" for p in big.parts)
        assert rejoined(big, 1) == BIG_TEXT
        assert view.virtual_size.height > 125_000
        view.focus()
        await pilot.press("end")
        await settle(pilot)
        assert view.scroll_y == view.max_scroll_y > 120_000
        rows = drawn(view)
        assert same_rows(rows, modelled(view))
        assert any("line 0125000 of a very large tool result" in r for r in rows)
        await pilot.press("home")
        await settle(pilot)
        assert view.scroll_y == 0
        assert "dump the log" in "\n".join(drawn(view))
        await pilot.press("e")
        await settle(pilot)
        assert "No cut text in this snapshot." in [n.message for n in app._notifications]


# -- the lossless wrap --------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "",
        "short",
        "word " * 50,
        "x" * 333,
        "日本語" * 40,
        "mixed 日本 text with spaces " * 9,
        "  leading and trailing   ",
    ],
)
@pytest.mark.parametrize("width", [1, 7, 40])
def test_wrap_line_is_lossless_and_fits(line: str, width: int) -> None:
    rows = wrap_line(line, width)
    assert "".join(line[a:b_] for a, b_ in rows) == line
    assert all(cell_len(line[a:b_]) <= max(width, 2) for a, b_ in rows)
    assert all(a < b_ for a, b_ in rows) or line == ""


def test_wrap_line_breaks_after_a_space() -> None:
    assert wrap_line("alpha beta gamma", 11) == [(0, 11), (11, 16)]
    assert wrap_line("abcdefghij", 4) == [(0, 4), (4, 8), (8, 10)]
