"""A DataTable whose columns all have a fixed width, so adding rows measures nothing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual._types import SegmentLines
from textual.events import Resize
from textual.geometry import Size
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

_LINES = Text("\n")


class FixedWidthTable(DataTable[Text]):
    """DataTable with fixed-width columns and one-line rows.

    DataTable measures every cell of every new row to size auto-width columns (about
    0.3 ms a row): with thousands of rows that holds the screen for seconds. Here every
    column is given a width, so only the virtual size has to follow the row count.
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
        # DataTable draws every cell through Rich's generic path (Styled around Padding
        # around the Text: wrapped, split into lines, cropped and padded twice), 0.3 ms a
        # cell: a conversation's first timeline paint is ~260 new cells, 75 ms of a 95 ms
        # frame. A one-line Text that fits its column needs none of that: its segments,
        # the padding, and the same styles laid over them. Anything else (headers, labels,
        # fixed cells, centred text, text that does not fit, control characters) goes
        # DataTable's way. tests/test_fixed_table_cells.py compares the two, cell by cell.
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if (
            row_key is None
            or column_key is None
            or row_index < self.fixed_rows
            or column_index < self.fixed_columns
        ):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        key = (
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
        if key in cache:
            return cache[key]
        row = self.rows.get(row_key)
        cells = self._get_row_renderables(row_index).cells
        cell = cells[column_index] if column_index < len(cells) else None
        pad = self.cell_padding
        inner = width - 2 * pad
        if (
            row is None
            or row.height != 1
            or not isinstance(cell, Text)
            or cell.justify not in (None, "default", "right")
            or not cell.plain.isprintable()
            or cell.cell_len > inner  # (DataTable's console options never justify)
        ):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        if cell.justify == "right":  # as Rich justifies: trailing spaces go, the rest moves
            cell = cell.copy()
            cell.rstrip()
            cell.pad_left(inner - cell.cell_len)
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
        blank = Style.null()
        line = [Segment(" " * pad, blank)] if pad else []
        # joined as Rich joins a cell's lines: its own style becomes a span (a Text without
        # spans renders without its style)
        line += _LINES.join((cell,)).render(self.app.console)
        fill = inner - cell.cell_len + pad
        if fill:
            line.append(Segment(" " * fill, blank))
        lines = [list(Segment.apply_style(line, pre_style + component_style, post_style))]
        cache[key] = lines
        return lines

    def _on_resize(self, event: Resize) -> None:
        # DataTable's own handler throws away every rendered cell on every Resize, even
        # one that changes nothing (one comes after a conversation's first paint: 22 ms
        # for 28 timeline rows drawn again). With fixed-width columns a cell does not
        # depend on the table's size, and a table that fits its columns to its width
        # (the timeline, the check and find results) re-adds them, which starts afresh.
        event.prevent_default()

    def append_rows(self, rows: Iterable[tuple[Sequence[Text], str]]) -> None:
        """Add (cells, key) rows after the last row, keeping every cell already drawn.

        DataTable.add_row bumps the counter that all its render caches are keyed by, so
        each call draws every visible cell again (30-50 ms at 160x48 for the find
        results, once per batch of streamed matches). A row added after the last one
        changes no drawn cell when every column has a fixed width and every row is one
        line high: only the row offsets (the list of rows by line) must be rebuilt. Lines
        past the last row are drawn blank and never cached, so new rows show as they
        come into view.
        """
        if any(c.auto_width for c in self.columns.values()) or self._labelled_row_exists:
            for cells, key in rows:
                self.add_row(*cells, key=key)
            return
        count = self._update_count
        for cells, key in rows:
            self.add_row(*cells, key=key)
        self._update_count = count
        self._offset_cache.clear()
