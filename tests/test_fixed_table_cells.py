"""`FixedWidthTable._render_cell` draws a one-line cell that fits without Rich's generic
path; every cell it draws must come out as DataTable's own `_render_cell` draws it: the
same characters with the same styles (mouse metadata included), for every cursor and
hover state, cursor type, justification and kind of text, including text that does not
fit, wide characters and control characters (which it hands to DataTable)."""

from __future__ import annotations

import random

from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from tui.widgets.fixed_table import FixedWidthTable

WIDTHS = (3, 5, 9, 14)
WORDS = ["turn", "research", "coder", "gpt-4o", "", " ", "a", "<angle>", "[b]x[/b]", "…"]
WIDE = ["研究", "😀", "é", "ｆｕｌｌ", "\u0301", "\t", "\x1b[31m", "\x00", "\n", "\u200b"]
STYLES = ["", "bold", "dim", "italic", "red", "on blue", "bold #ff8800 on #202020", "reverse"]


def random_text(rng: random.Random) -> Text:
    """A cell: words and odd characters, a style, spans and a justification."""
    parts = [rng.choice(WORDS + WIDE if rng.random() < 0.3 else WORDS) for _ in range(3)]
    plain = "".join(parts)[: rng.randint(0, 18)]
    if rng.random() < 0.3:
        plain += " " * rng.randint(1, 3)  # trailing spaces: right justification drops them
    spans = []
    for _ in range(rng.randint(0, 3)):
        if plain:
            a = rng.randrange(len(plain))
            spans.append(Span(a, rng.randint(a, len(plain)), rng.choice(STYLES[1:])))
    return Text(
        plain,
        style=rng.choice(STYLES),
        spans=spans,
        justify=rng.choice([None, None, "default", "right", "left", "center"]),
        no_wrap=rng.random() < 0.7,
        overflow=rng.choice([None, "ellipsis", "crop", "fold"]),
    )


class CellsApp(App[None]):
    CSS = "FixedWidthTable { height: 20; }"

    def compose(self) -> ComposeResult:
        yield FixedWidthTable(id="cells")


def _drawn(lines: list[list[Segment]]) -> list[list[tuple[str, Style | None, dict[str, object]]]]:
    """Each line as (text, style, mouse metadata) runs, segment boundaries merged away."""
    return [
        [(s.text, s.style, dict(s.style.meta) if s.style else {}) for s in Segment.simplify(line)]
        for line in lines
    ]


async def test_every_cell_draws_as_datatable_draws_it() -> None:
    rng = random.Random(20261203)
    app = CellsApp()
    async with app.run_test(size=(80, 30)) as pilot:
        table = app.query_one(FixedWidthTable)
        for i, width in enumerate(WIDTHS):
            table.add_column(f"c{i}", width=width, key=f"c{i}")
        for r in range(60):
            table.add_row(*(random_text(rng) for _ in WIDTHS), key=f"r{r}")
        await pilot.pause()
        compared = fast = 0
        for cursor_type in ("cell", "row", "column", "none"):
            table.cursor_type = cursor_type
            table.move_cursor(row=rng.randrange(60), column=rng.randrange(len(WIDTHS)))
            await pilot.pause()
            for row in range(60):
                for column, width in enumerate(WIDTHS):
                    for cursor, hover in ((False, False), (True, False), (False, True)):
                        base = rng.choice([Style(), Style(bgcolor="#101010"), Style(bold=True)])
                        table._cell_render_cache.clear()
                        ours = table._render_cell(row, column, base, width + 2, cursor, hover)
                        table._cell_render_cache.clear()
                        theirs = DataTable._render_cell(
                            table, row, column, base, width + 2, cursor, hover
                        )
                        assert _drawn(ours) == _drawn(theirs), (row, column, cursor, hover)
                        compared += 1
                        cell = table.get_cell_at((row, column))
                        fast += cell.justify in (None, "default", "right") and (
                            cell.plain.isprintable() and cell.cell_len <= width
                        )
        # the comparison covers the fast path, not only cells DataTable draws for it
        assert compared == 4 * 60 * len(WIDTHS) * 3
        assert fast > compared // 4
