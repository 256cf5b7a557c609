"""FixedWidthTable's one-line Text cell path draws exactly what DataTable's own does."""

from __future__ import annotations

import asyncio

from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from tui.widgets.fixed_table import FixedWidthTable


class _TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield FixedWidthTable(cursor_type="row")


def _cells() -> list[Text]:
    return [
        Text("⇄12", justify="right"),
        Text("a-very-long-turn-id-that-is-cut", overflow="ellipsis", no_wrap=True),
        Text.assemble(("bold", "bold"), " ", ("red", "italic red")),
        Text("∅ unknown", style="dim italic"),
        Text("✓ 12:01:02", style=Style(bgcolor="dark_goldenrod", bold=True)),
        Text(" ·", style="dim"),
    ]


def test_text_cells_render_as_datatable_renders_them() -> None:
    async def run() -> None:
        app = _TableApp()
        async with app.run_test(size=(120, 20)) as pilot:
            table = app.query_one(FixedWidthTable)
            cells = _cells()
            for i, width in enumerate((4, 12, 9, 6, 14, 3)):
                table.add_column(f"c{i}", width=width, key=f"c{i}")
            for r in range(3):
                table.add_row(*[c.copy() for c in cells], key=f"r{r}")
            await pilot.pause()
            widths = [c.get_render_width(table) for c in table.ordered_columns]
            checked = 0
            for base in (Style(), Style(bgcolor="blue"), Style(dim=True)):
                for row in range(table.row_count):
                    for col, width in enumerate(widths):
                        for cursor in (False, True):
                            table._cell_render_cache.clear()
                            fast = table._render_text_cell(row, col, base, width, cursor, False)
                            table._cell_render_cache.clear()
                            ref = DataTable._render_cell(table, row, col, base, width, cursor)
                            assert fast is not None, (row, col)
                            assert fast == ref, (row, col, cursor)
                            checked += 1
            assert checked == 3 * 3 * len(widths) * 2

    asyncio.run(run())
