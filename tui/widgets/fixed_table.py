"""A DataTable whose columns all have a fixed width, so adding rows measures nothing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.text import Text
from textual.events import Resize
from textual.geometry import Size
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey


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
