"""`#check`: every anomaly of the file (the rules of `tui.check`), counted by kind.

The screen only shows: it asks for the report with `CheckScreen.Requested` (the app runs
the store reads and the rules in a worker and calls `show_progress` / `show_report`).
Choosing a row dismisses the screen with the `Place` of that anomaly's turn.
"""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from tui.check import KIND_LABELS, Anomaly, CheckReport
from tui.formatting import safe_text
from tui.messages import Place
from tui.widgets.cells import fit, short_id_cells
from tui.widgets.fixed_table import FixedWidthTable
from tui.widgets.key_bar import KeyBar

KIND_WIDTH = 28  # the longest kind: current_runtime_disagreement
ID_WIDTH = 14


def anomaly_place(anomaly: Anomaly) -> Place:
    """Where a row of the check jumps: the anomaly's conversation and turn."""
    return Place(anomaly.conv_id, anomaly.session_id, anomaly.turn_id)


def counts_table(report: CheckReport) -> Table:
    """`n  kind  what it means` for every kind found."""
    table = Table.grid(padding=(0, 2))
    table.add_column(justify="right", style="bold", no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(style="dim", no_wrap=True, overflow="ellipsis")
    for kind, n in report.counts.items():
        table.add_row(Text(f"{n:,}"), Text(kind), Text(KIND_LABELS.get(kind, "")))
    return table


def status_text(report: CheckReport | None, done: int = 0, total: int = 0) -> Text:
    """The line above the list: progress while reading, then the total."""
    if report is None:
        if total:
            return Text(f"checking… read {done:,} of {total:,} conversations", style="italic")
        return Text("checking…", style="italic")
    if report.clean:
        return Text("no anomalies: this file is clean", style="bold")
    n = len(report.anomalies)
    convs = len({a.conv_id for a in report.anomalies})
    text = Text()
    text.append(f"{n:,} anomal{'y' if n == 1 else 'ies'}", style="bold")
    text.append(f" in {convs:,} conversation{'' if convs == 1 else 's'}")
    text.append(" · enter goes to the turn", style="dim")
    return text


def detail_text(anomaly: Anomaly) -> Text:
    """The highlighted anomaly in full (the table cuts its detail)."""
    text = Text()
    text.append(anomaly.kind, style="bold")
    text.append(" · conversation ", style="dim")
    text.append(safe_text(anomaly.conv_id, 60))
    if anomaly.turn_id is not None:
        text.append(" · turn ", style="dim")
        text.append(safe_text(anomaly.turn_id, 60))
    text.append("\n")
    text.append(safe_text(anomaly.detail, 400))
    return text


class CheckTable(FixedWidthTable):
    """`#check-table`: one row per anomaly; row keys are indexes into the report."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="check.down"),
        Binding("k", "cursor_up", "Up", show=False, id="check.up"),
        Binding("home,g", "scroll_top", "First row", show=False, id="check.first"),
        Binding("end,G", "scroll_bottom", "Last row", show=False, id="check.last"),
        Binding("enter", "select_cursor", "Go to turn", id="check.open"),
    ]


class CheckScreen(ModalScreen[Place | None]):
    """The database check: counts by kind, then every anomaly; enter jumps to it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="check.close"),
        Binding("q", "close", "Close", show=False, id="check.close-q"),
    ]

    class Requested(Message):
        """Run the check (the app's worker answers with `show_progress`/`show_report`)."""

    def __init__(self) -> None:
        super().__init__(id="check")
        self.report: CheckReport | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="check-box"):
            yield Static(status_text(None), id="check-status")
            yield Static(Text(""), id="check-counts")
            yield CheckTable(id="check-table", cursor_type="row", zebra_stripes=False)
            yield Static(Text(""), id="check-detail")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#check-box").border_title = Text("database check")
        self._fill()
        self.query_one(CheckTable).focus()
        self.post_message(self.Requested())

    def on_resize(self) -> None:
        self.call_after_refresh(self._fill)

    def _detail_width(self, table: CheckTable) -> int:
        """What the detail column gets: the table's width less the other columns, their
        padding and a vertical scrollbar."""
        width = table.size.width or self.app.size.width - 6
        room = width - KIND_WIDTH - 2 * ID_WIDTH - 4 * 2 * table.cell_padding
        return max(room - table.styles.scrollbar_size_vertical, 12)

    def _fill(self) -> None:
        """(Re)build the columns for the table's width, then the rows."""
        table = self.query_one(CheckTable)
        row = table.cursor_row
        width = self._detail_width(table)
        table.clear(columns=True)
        table.add_column("kind", width=KIND_WIDTH, key="kind")
        table.add_column("conversation", width=ID_WIDTH, key="conv")
        table.add_column("turn", width=ID_WIDTH, key="turn")
        table.add_column("detail", width=width, key="detail")
        anomalies = self.report.anomalies if self.report is not None else ()
        for i, a in enumerate(anomalies):
            table.add_row(
                Text(a.kind, no_wrap=True),
                Text(short_id_cells(a.conv_id, ID_WIDTH), no_wrap=True),
                Text(short_id_cells(a.turn_id, ID_WIDTH) if a.turn_id else "—", no_wrap=True),
                Text(fit(safe_text(a.detail), width), no_wrap=True, style="dim"),
                key=str(i),
            )
        if anomalies:
            table.move_cursor(row=min(max(row, 0), len(anomalies) - 1), animate=False)

    # -- state from the app ----------------------------------------------------------

    def show_progress(self, done: int, total: int) -> None:
        """How far the worker has read."""
        if self.report is None and self.is_attached:
            self.query_one("#check-status", Static).update(status_text(None, done, total))

    def show_report(self, report: CheckReport) -> None:
        """The finished check."""
        if not self.is_attached:
            return
        self.report = report
        self.query_one("#check-status", Static).update(status_text(report))
        self.query_one("#check-counts", Static).update(counts_table(report))
        self.query_one(CheckTable).move_cursor(row=0, animate=False)
        self._fill()
        self.set_class(report.clean, "-clean")
        if report.anomalies:
            self._show_detail(0)

    def _show_detail(self, index: int) -> None:
        report = self.report
        if report is None or not 0 <= index < len(report.anomalies):
            return
        self.query_one("#check-detail", Static).update(detail_text(report.anomalies[index]))

    # -- events ----------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#check-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_detail(event.cursor_row)

    @on(DataTable.RowSelected, "#check-table")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        report = self.report
        if report is None or not 0 <= event.cursor_row < len(report.anomalies):
            return
        self.dismiss(anomaly_place(report.anomalies[event.cursor_row]))

    def action_close(self) -> None:
        self.dismiss(None)
