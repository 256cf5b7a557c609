"""`FixedWidthTable.append_rows`: rows added after the last one show as a table built in
one go would, and the cells already drawn are not drawn again (the find results stream
matches in batches; each `add_row` made DataTable draw every visible cell again)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult

from tui.widgets.fixed_table import FixedWidthTable

WIDTHS = (6, 12, 20)


def _cells(n: int) -> list[Text]:
    return [Text(f"r{n}"), Text(f"conv-{n:04d}"), Text(f"excerpt <{n}> [b]x[/b]")]


def _rows(start: int, stop: int) -> list[tuple[list[Text], str]]:
    return [(_cells(n), str(n)) for n in range(start, stop)]


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield FixedWidthTable(id="streamed")
        yield FixedWidthTable(id="whole")

    def on_mount(self) -> None:
        for table in self.query(FixedWidthTable):
            table.styles.height = 12
            for i, w in enumerate(WIDTHS):
                table.add_column(f"c{i}", width=w, key=f"c{i}")


def _lines(table: FixedWidthTable) -> list[str]:
    return [table.render_line(y).text for y in range(table.size.height)]


class CellCounter:
    def __init__(self, table: FixedWidthTable) -> None:
        self.calls = 0
        original = table._render_cell

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return original(*args, **kwargs)

        table._render_cell = counted  # type: ignore[method-assign]


async def test_appended_rows_show_as_a_table_built_at_once_and_on_scrolling() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 30)) as pilot:
        streamed = app.query_one("#streamed", FixedWidthTable)
        whole = app.query_one("#whole", FixedWidthTable)
        streamed.append_rows(_rows(0, 3))  # fewer rows than lines: blank lines below
        await pilot.pause()
        for start in range(3, 60, 7):  # then batches that fill and pass the screen
            streamed.append_rows(_rows(start, min(start + 7, 60)))
            await pilot.pause()
        for cells, key in _rows(0, 60):
            whole.add_row(*cells, key=key)
        await pilot.pause()
        assert streamed.row_count == whole.row_count == 60
        assert streamed.virtual_size == whole.virtual_size
        assert _lines(streamed) == _lines(whole)
        assert "conv-0003" in "\n".join(_lines(streamed))  # the first appended batch shows
        for table in (streamed, whole):
            table.scroll_end(animate=False)
        await pilot.pause()
        assert streamed.scroll_offset == whole.scroll_offset
        assert _lines(streamed) == _lines(whole)
        assert "conv-0059" in "\n".join(_lines(streamed))


async def test_appending_below_a_full_screen_draws_no_cell_again() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 30)) as pilot:
        table = app.query_one("#streamed", FixedWidthTable)
        table.append_rows(_rows(0, 40))
        await pilot.pause()
        before = _lines(table)
        counter = CellCounter(table)
        table.append_rows(_rows(40, 80))
        await pilot.pause()
        assert table.row_count == 80
        assert _lines(table) == before  # nothing visible changed...
        assert counter.calls == 0  # ...and nothing was drawn again
        table.move_cursor(row=79)  # the new rows draw as they come into view
        await pilot.pause()
        assert counter.calls > 0
        assert "conv-0079" in "\n".join(_lines(table))
