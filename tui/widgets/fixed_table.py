"""A DataTable whose columns all have a fixed width, so adding rows measures nothing."""

from __future__ import annotations

from collections.abc import Iterable

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual._types import SegmentLines
from textual.geometry import Size
from textual.widgets import DataTable
from textual.widgets._data_table import CellCacheKey
from textual.widgets.data_table import RowKey


class FixedWidthTable(DataTable[Text]):
    """DataTable with fixed-width columns and one-line rows.

    DataTable measures every cell of every new row to size auto-width columns (about
    0.3 ms a row): with thousands of rows that holds the screen for seconds. Here every
    column is given a width, so only the virtual size has to follow the row count.

    Drawing a cell goes through Rich's generic pipeline (`Styled(Padding(cell))` rendered
    to lines twice, ~0.3 ms a cell): a 28-row timeline of 12 columns took ~100 ms to paint
    after each rebuild. A one-line `Text` body cell is rendered here with the same steps
    (the same segments, styles and meta) without the layers around it.
    """

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        if any(c.auto_width for c in self.columns.values()) or self._labelled_row_exists:
            super()._update_dimensions(new_rows)
            return
        width = sum(c.get_render_width(self) for c in self.columns.values())
        header = self.header_height if self.show_header else 0
        self.virtual_size = Size(
            width + self._row_label_column_width, self._total_row_height + header
        )

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> SegmentLines:
        lines = self._render_text_cell(row_index, column_index, base_style, width, cursor, hover)
        if lines is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        return lines

    def _render_text_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
    ) -> SegmentLines | None:
        """DataTable._render_cell for a one-line Text body cell of a one-line row, or None
        (header, label, fixed or multi-line cells: DataTable's own path)."""
        if row_index < self.fixed_rows or column_index < self.fixed_columns or row_index < 0:
            return None
        padding = self.cell_padding
        inner = width - 2 * padding
        if inner < 1:
            return None
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:
            return None
        cache_key: CellCacheKey = (
            row_key,
            column_key,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        cache = self._cell_render_cache
        if cache_key in cache:
            return cache[cache_key]
        row = self.rows.get(row_key)
        if row is None or row.height != 1:
            return None
        cells = self._get_row_renderables(row_index).cells
        if column_index >= len(cells):
            return None
        cell = cells[column_index]
        if type(cell) is not Text or cell.end != "\n":
            return None
        plain = cell.plain
        if "\n" in plain or "\t" in plain:
            return None
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        pre_style = base_style + Style.from_meta({"row": row_index, "column": column_index})
        console = self.app.console
        options = self.app.console_options.update_dimensions(width, 1).update(no_wrap=True)
        # Padding(cell, (0, padding)): the text in `inner` cells, one line, padded.
        null = console.get_style("none")
        line = _first_line(console.render(cell, options.update_width(inner)), inner, null)
        segments: list[Segment] = []
        if padding:
            segments.append(Segment(" " * padding, null))
        segments.extend(line)
        if padding:
            segments.append(Segment(" " * padding, null))
        segments.append(Segment.line())
        # Styled(..., pre_style, post_style) (Segment.apply_style), then the table's line
        # of `width` cells.
        pre = console.get_style(pre_style + component_style)
        post = console.get_style(post_style)
        if pre:
            segments = [
                Segment(text, None if control else pre + style, control)
                for text, style, control in segments
            ]
        if post:
            segments = [
                Segment(text, None if control else (style + post if style else post), control)
                for text, style, control in segments
            ]
        out = [_first_line(segments, width, None)]
        cache[cache_key] = out
        return out


def _first_line(segments: Iterable[Segment], length: int, style: Style | None) -> list[Segment]:
    """The first line of `Console.render_lines(..., pad=True)` with a height of 1: the
    segments up to the first newline, cropped or padded to `length` cells."""
    line: list[Segment] = []
    for segment in segments:
        text, segment_style, control = segment
        if "\n" in text and not control:
            head = text.partition("\n")[0]
            if head:
                line.append(Segment(head, segment_style))
            return Segment.adjust_line_length(line, length, style=style, pad=True)
        line.append(segment)
    if not line:
        return [Segment(" " * length, style)]
    return Segment.adjust_line_length(line, length, style=style, pad=True)
