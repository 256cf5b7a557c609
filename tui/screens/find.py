"""`#find`: any id or text, anywhere in the file (the rules of `tui.find`).

The screen asks with `FindScreen.Search` (the app's worker reads the store and streams the
matches back through `show_progress`) and stops a search with `FindScreen.Cancel`. Each
search has a generation number, so the results of a cancelled or replaced one are
ignored. Choosing a match dismisses the screen with its `Place`.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, ProgressBar, Static

from tui.find import Match
from tui.formatting import safe_text
from tui.messages import Place
from tui.widgets.block_text import format_timestamp_ms
from tui.widgets.cells import fit, fit_around, short_id_cells
from tui.widgets.fixed_table import FixedWidthTable
from tui.widgets.key_bar import KeyBar

FIELD_WIDTH = 12
ID_WIDTH = 14
WHERE_WIDTH = 18
NARROW_ID_WIDTH = 12
ROWS_PER_FRAME = 100  # result rows added between two paints, below the visible ones
VISIBLE_ROWS_PER_FRAME = 10  # while the rows fill the table: each one's cells are drawn
HIDDEN_BATCH_DELAY_S = 0.005  # between two batches of rows below the view
LEAST_EXCERPT = 24  # below this the `where` column goes (the line under the list says it)

FIELD_NAMES: dict[str, str] = {
    "conv_id": "conversation",
    "session_id": "session",
    "turn_id": "turn id",
    "inference_id": "inference",
    "runtime_key": "runtime",
    "text": "text",
}

HINT = "enter searches · ids match exactly or by prefix, text anywhere in blocks (any case)"


def match_place(match: Match) -> Place:
    """Where a match jumps: its turn's detail at the snapshot found, at the block found
    (a text match); a conversation or session match: the conversation."""
    return Place(
        match.conv_id,
        match.session_id,
        match.turn_id,
        match.phase,
        match.snapshot_created_at_ms,
        open_detail=match.turn_id is not None,
        block_ordinal=match.block_ordinal,
    )


def detail_text(match: Match) -> Text:
    """The highlighted match in full: field, conversation, turn, snapshot, block, excerpt."""
    text = Text()
    text.append(FIELD_NAMES.get(match.field, safe_text(match.field)), style="bold")
    text.append(" · conversation ", style="dim")
    text.append(safe_text(match.conv_id, 60))
    if match.turn_id is not None:
        text.append(" · turn ", style="dim")
        text.append(safe_text(match.turn_id, 60))
    if match.phase is not None:
        text.append(" · ", style="dim")
        text.append(where_text(match))
        if match.snapshot_created_at_ms:
            text.append(f" @{format_timestamp_ms(match.snapshot_created_at_ms)}", style="dim")
    text.append("\n")
    text.append(match.excerpt)
    return text


def where_text(match: Match) -> str:
    """`final`, `pre_inference #3` (block ordinal), or `—` for a conversation match."""
    if match.phase is None:
        return "—"
    where = safe_text(match.phase)
    if match.block_ordinal is not None:
        where += f" #{match.block_ordinal}"
    return where


class FindResults(FixedWidthTable):
    """`#find-results`: one row per match; row keys are indexes into the matches."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="find.down"),
        Binding("k", "cursor_up", "Up", show=False, id="find.up"),
        Binding("enter", "select_cursor", "Go to", id="find.open"),
    ]


class FindScreen(ModalScreen[Place | None]):
    """A query line, the matches as they arrive, and a progress line; esc cancels a
    running search, else closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel_or_close", "Cancel / close", id="find.cancel"),
    ]

    class Search(Message):
        """Search the store for `query` (search number `generation`)."""

        def __init__(self, generation: int, query: str) -> None:
            super().__init__()
            self.generation = generation
            self.query = query

    class Cancel(Message):
        """Stop the running search."""

    def __init__(self, query: str = "") -> None:
        super().__init__(id="find")
        self.initial_query = query
        self.query_text = ""
        self.generation = 0
        self.running = False
        self.matches: list[Match] = []
        self._shown_rows = 0  # matches already in the table (the rest wait a paint)
        self._rows_pending = False  # a batch of rows waits for the next paint
        self._widths = (ID_WIDTH, WHERE_WIDTH, 40)  # ids, where (0: not shown), excerpt

    def compose(self) -> ComposeResult:
        with Vertical(id="find-box"):
            find_input = Input(
                value=self.initial_query,
                placeholder="find: an id or id prefix, a runtime key, or text in blocks",
                id="find-input",
            )
            find_input.cursor_blink = False
            yield find_input
            yield Static(Text(HINT, style="dim"), id="find-status")
            yield ProgressBar(id="find-progress", show_eta=False, show_percentage=False)
            yield FindResults(id="find-results", cursor_type="row", zebra_stripes=False)
            yield Static(Text(""), id="find-detail")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#find-box").border_title = Text("find")
        self._layout_columns()
        self.query_one("#find-input", Input).focus()
        if self.initial_query.strip():
            self.search(self.initial_query)

    def on_resize(self) -> None:
        self.call_after_refresh(self._refill)

    def _layout_columns(self) -> None:
        """Columns for the table's width: the excerpt gets what is left; on a narrow
        table the `where` column goes and the ids get shorter."""
        table = self.query_one(FindResults)
        width = (table.size.width or self.app.size.width - 6) - table.styles.scrollbar_size_vertical
        pad = 2 * table.cell_padding
        id_width, where = ID_WIDTH, WHERE_WIDTH
        excerpt = width - FIELD_WIDTH - 2 * id_width - where - 5 * pad
        if excerpt < LEAST_EXCERPT:
            id_width, where = NARROW_ID_WIDTH, 0
            excerpt = width - FIELD_WIDTH - 2 * id_width - 4 * pad
        self._widths = (id_width, where, max(excerpt, 12))
        table.clear(columns=True)
        table.add_column("field", width=FIELD_WIDTH, key="field")
        table.add_column("conversation", width=id_width, key="conv")
        table.add_column("turn", width=id_width, key="turn")
        if where:
            table.add_column("where", width=where, key="where")
        table.add_column("excerpt", width=self._widths[2], key="excerpt")

    def _add_rows(self, matches: tuple[Match, ...] | list[Match], start: int) -> None:
        id_width, where, excerpt = self._widths
        rows: list[tuple[list[Text], str]] = []
        for n, m in enumerate(matches, start):
            cells = [
                Text(FIELD_NAMES.get(m.field, safe_text(m.field)), no_wrap=True),
                Text(short_id_cells(m.conv_id, id_width), no_wrap=True),
                Text(short_id_cells(m.turn_id, id_width) if m.turn_id else "—", no_wrap=True),
            ]
            if where:
                cells.append(Text(fit(where_text(m), where), no_wrap=True, style="dim"))
            cells.append(Text(fit_around(m.excerpt, self.query_text, excerpt), no_wrap=True))
            rows.append((cells, str(n)))
        self.query_one(FindResults).append_rows(rows)

    def _show_more_rows(self) -> None:
        """Add the next matches to the table, a batch at a time.

        Rows are appended without drawing the table's cells again
        (`FixedWidthTable.append_rows`). While they fill the view each new row's cells are
        drawn (about 0.4 ms a cell), so a few rows go in per paint; below the view a
        batch of `ROWS_PER_FRAME` costs about 8 ms to build, and batches are spaced by a
        timer, not chained after a paint that has nothing to draw (which ran them back to
        back: 80 ms without a turn for keys)."""
        self._rows_pending = False
        start = self._shown_rows
        visible = self.query_one(FindResults).size.height
        size = ROWS_PER_FRAME if start >= visible else VISIBLE_ROWS_PER_FRAME
        batch = self.matches[start : start + size]
        if batch:
            self._add_rows(batch, start)
            self._shown_rows = start + len(batch)
        if self._shown_rows < len(self.matches):
            self._rows_pending = True
            if self._shown_rows < visible:  # the next rows show: after these have painted
                self.call_after_refresh(self._show_more_rows)
            else:  # rows below the view paint nothing: give the loop a turn in between
                self.set_timer(HIDDEN_BATCH_DELAY_S, self._show_more_rows)

    @property
    def rows_shown(self) -> bool:
        """Every match so far is a row of the table (none waits for a paint)."""
        return self._shown_rows >= len(self.matches)

    def _refill(self) -> None:
        """The table again for a new width (the matches so far, the cursor kept): the
        rows to a screenful past the cursor now, the others streamed as they came."""
        table = self.query_one(FindResults)
        row = max(table.cursor_row, 0)
        self._layout_columns()
        now = min(len(self.matches), row + 1 + max(table.size.height, 1))
        self._add_rows(self.matches[:now], 0)
        self._shown_rows = now
        if self.matches:
            table.move_cursor(row=min(row, len(self.matches) - 1), animate=False)
        if now < len(self.matches) and not self._rows_pending:
            self._rows_pending = True
            self.call_after_refresh(self._show_more_rows)

    # -- searching -------------------------------------------------------------------

    def search(self, query: str) -> None:
        """Start a search (replacing any running one)."""
        if not query.strip():
            return
        self.generation += 1
        self.query_text = query
        self.running = True
        self.matches = []
        self._shown_rows = 0
        self.query_one(FindResults).clear()
        self.query_one("#find-detail", Static).update(Text(""))
        self._set_status(Text("searching ids…", style="italic"))
        bar = self.query_one("#find-progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.add_class("-running")
        self.post_message(self.Search(self.generation, query))

    def show_progress(
        self,
        generation: int,
        matches: tuple[Match, ...],
        status: str,
        done: bool,
        progress: tuple[int, int] | None = None,
    ) -> None:
        """More matches (and how far the search is) from the app's worker."""
        if generation != self.generation or not self.running or not self.is_attached:
            return  # a cancelled or replaced search
        first = not self.matches and bool(matches)
        self.matches.extend(matches)
        if not self._rows_pending:
            self._show_more_rows()
        if first:
            self._show_detail(0)
        bar = self.query_one("#find-progress", ProgressBar)
        if progress is not None:
            bar.update(total=max(progress[1], 1), progress=progress[0])
        if done:
            self.running = False
            bar.remove_class("-running")
        self._set_status(self._status(status, done))

    def _status(self, status: str, done: bool) -> Text:
        n = len(self.matches)
        text = Text()
        text.append(f"{n:,} match{'' if n == 1 else 'es'}", style="bold")
        text.append(" for ")
        text.append(fit(safe_text(self.query_text), 30), style="bold")
        if status:
            text.append(f" · {status}", style="dim" if done else "italic")
        if done and n:
            text.append(" · enter goes to it", style="dim")
        return text

    def _set_status(self, text: Text) -> None:
        # One line high (app.tcss), so a new status repaints that line, not the layout.
        self.query_one("#find-status", Static).update(text, layout=False)

    def cancel(self) -> None:
        """Stop the running search; the matches so far stay."""
        if not self.running:
            return
        self.running = False
        self.post_message(self.Cancel())
        self.query_one("#find-progress", ProgressBar).remove_class("-running")
        self._set_status(self._status("cancelled", True))

    # -- events ----------------------------------------------------------------------

    @on(Input.Submitted, "#find-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.search(event.value)

    def _show_detail(self, index: int) -> None:
        if 0 <= index < len(self.matches):
            self.query_one("#find-detail", Static).update(detail_text(self.matches[index]))

    @on(DataTable.RowHighlighted, "#find-results")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_detail(event.cursor_row)

    @on(DataTable.RowSelected, "#find-results")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self.matches):
            self.cancel()
            self.dismiss(match_place(self.matches[event.cursor_row]))

    def action_cancel_or_close(self) -> None:
        if self.running:
            self.cancel()
            return
        self.dismiss(None)
