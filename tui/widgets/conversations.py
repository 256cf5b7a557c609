"""The conversation list: every conversation with its current runtime and source.

A virtual list (`render_line`, as Toolong draws its log lines): a row is turned into
cells only when it is drawn, so listing, filtering or scrolling 10,000 conversations
costs what one screenful costs, and nothing is added widget by widget or row by row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip

from tui.domain import count_switches, matches_filter, summary_current_runtime
from tui.formatting import format_datetime_ms
from tui.store.records import ConversationSummary
from tui.widgets.cells import id_cell, runtime_label
from tui.widgets.line_view import LineView

PADDING = 1  # blank cells on each side of a cell, as a DataTable draws them
PREPARE_FILTER_ABOVE = 500  # conversations: build the filter's texts in a thread


TIMELINE_ONLY_STYLE = "dim"  # rows of conversations only the timeline store knows


def filter_text(summary: ConversationSummary) -> str:
    """What the filter searches, lower-cased and joined by NULs: `needle in` it is
    `tui.domain.matches_filter` for any needle without a NUL, in one string search."""
    current = summary_current_runtime(summary).key
    fields = (
        summary.conv_id,
        summary.session_id,
        current,
        *summary.runtime_keys,
        *summary.inference_ids,
    )
    return "\0".join(f.lower() for f in fields)


def conversation_row(summary: ConversationSummary, *, compact: bool) -> list[Text]:
    """Cells of one conversation row (dimmed when it has no turns in this file)."""
    switches = count_switches(summary.runtime_keys)
    cells = [id_cell(summary.conv_id, 12 if compact else 14)]
    if not compact:
        cells.append(id_cell(summary.session_id, 10))
    cells.append(Text(str(summary.turn_count), justify="right"))
    cells.append(Text(str(switches), justify="right", style="bold" if switches else "dim"))
    if not compact:
        cells.append(Text(format_datetime_ms(summary.last_activity_ms)))
    cells.append(runtime_label(summary_current_runtime(summary), 12))
    if not summary.in_file:
        for cell in cells:
            cell.stylize(TIMELINE_ONLY_STYLE)
    return cells


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    justify: str = "left"


WIDE_COLUMNS = (
    Column("conv", "conversation", 14),
    Column("session", "session", 10),
    Column("turns", "turns", 5, "right"),
    Column("switches", "sw", 3, "right"),
    Column("last", "last activity", 19),
    Column("runtime", "current runtime", 18),
)
COMPACT_COLUMNS = (
    Column("conv", "conversation", 12),
    Column("turns", "turns", 5, "right"),
    Column("switches", "sw", 3, "right"),
    Column("runtime", "current runtime", 18),
)


class ConversationTable(LineView, can_focus=True):
    """`#conversations`: one row per listed conversation under a fixed header row."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"conversations--header", "conversations--cursor"}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", show=False),  # no description: the help lists ↑ ↓ once
        Binding("down", "cursor_down", show=False),
        Binding("j", "cursor_down", "Down", show=False, id="conversations.down"),
        Binding("k", "cursor_up", "Up", show=False, id="conversations.up"),
        Binding("pageup", "page_up", show=False),
        Binding("pagedown", "page_down", show=False),
        Binding("home,g", "first", "First row", show=False, id="conversations.first"),
        Binding("end,G", "last", "Last row", show=False, id="conversations.last"),
        Binding("enter", "choose", "Show timeline", show=False, id="conversations.open"),
    ]

    class Highlighted(Message):
        """The cursor moved to another conversation (None: the list is empty)."""

        def __init__(self, table: ConversationTable, conv_id: str | None) -> None:
            super().__init__()
            self.table = table
            self.conv_id = conv_id

        @property
        def control(self) -> ConversationTable:
            return self.table

    class Chosen(Message):
        """Enter (or a click) on a conversation: show its timeline."""

        def __init__(self, table: ConversationTable, conv_id: str) -> None:
            super().__init__()
            self.table = table
            self.conv_id = conv_id

        @property
        def control(self) -> ConversationTable:
            return self.table

    def __init__(self, *, id: str = "conversations") -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.summaries: tuple[ConversationSummary, ...] = ()
        self._by_id: dict[str, ConversationSummary] = {}
        self.shown: tuple[ConversationSummary, ...] = ()
        self._index: dict[str, int] | None = None  # conv id -> row in `shown`, on demand
        self.needle = ""
        self.compact = False
        self.show_timeline_only = False  # list the conversations with no turns in this file
        self.in_file_count = 0
        self.timeline_only_count = 0
        self.cursor_row = 0
        self._highlighted: str | None = None  # the conversation last announced
        self._cells: dict[tuple[str, bool], list[Text]] = {}
        self._filter_texts: dict[str, str] = {}  # conv id -> filter_text, on first filter
        self._lines: LRUCache[tuple[str, bool, int, Style], Strip] = LRUCache(512)

    # -- state from the parent -------------------------------------------------------

    def set_conversations(
        self, summaries: Sequence[ConversationSummary], keep: str | None = None
    ) -> None:
        """Replace the list (keeping the cursor on conversation `keep` if still listed)."""
        # This file's conversations first, then those only the timeline store knows (the
        # store already lists them so; a stable sort keeps each group's order).
        self.summaries = tuple(sorted(summaries, key=lambda s: not s.in_file))
        self._by_id = {s.conv_id: s for s in self.summaries}
        self.in_file_count = sum(1 for s in self.summaries if s.in_file)
        self.timeline_only_count = len(self.summaries) - self.in_file_count
        self._cells = {}
        self._filter_texts = {}
        self._lines.clear()
        self._refill(keep)
        if self.is_mounted and len(self.summaries) > PREPARE_FILTER_ABOVE:
            # ready before the first key of a filter (about 8 µs a conversation)
            summaries = self.summaries
            self.run_worker(
                lambda: self._prepare_filter(summaries),
                thread=True,
                exclusive=True,
                group="filter-texts",
                exit_on_error=False,
            )

    def set_show_timeline_only(self, show: bool, keep: str | None = None) -> None:
        """List (dimmed, after the others) or hide the timeline-only conversations."""
        if show != self.show_timeline_only:
            self.show_timeline_only = show
            self._refill(keep)

    @property
    def eligible_count(self) -> int:
        """How many conversations the filter searches (timeline-only ones when shown)."""
        return len(self.summaries) if self.show_timeline_only else self.in_file_count

    def set_filter(self, needle: str, keep: str | None = None) -> None:
        """Show only conversations matching `needle` (id, session or runtime key)."""
        if needle != self.needle:
            self.needle = needle
            self._refill(keep)

    def set_compact(self, compact: bool, keep: str | None = None) -> None:
        """Narrow terminals: hide the session and last-activity columns."""
        if compact != self.compact:
            self.compact = compact
            self._refill(keep)

    @property
    def row_count(self) -> int:
        """How many conversations are listed."""
        return len(self.shown)

    @property
    def columns(self) -> tuple[Column, ...]:
        return COMPACT_COLUMNS if self.compact else WIDE_COLUMNS

    def conv_id_at_cursor(self) -> str | None:
        """Conversation id of the row under the cursor."""
        if not self.shown:
            return None
        return self.shown[min(max(self.cursor_row, 0), len(self.shown) - 1)].conv_id

    def row_of(self, conv_id: str) -> int | None:
        """The row of conversation `conv_id` when it is listed."""
        if self._index is None:
            self._index = {s.conv_id: i for i, s in enumerate(self.shown)}
        return self._index.get(conv_id)

    def select_conv(self, conv_id: str) -> bool:
        """Move the cursor to conversation `conv_id` when it is listed."""
        index = self.row_of(conv_id)
        if index is None:
            return False
        self.move_cursor(row=index)
        return True

    def summary_for(self, conv_id: str) -> ConversationSummary | None:
        """The listed summary of a conversation."""
        return self._by_id.get(conv_id)

    def get_row_at(self, row: int) -> list[Text]:
        """The cells of listed row `row` (as drawn, before cutting to the column width)."""
        return self._row_cells(self.shown[row])

    # -- the cursor --------------------------------------------------------------------

    @property
    def _page(self) -> int:
        """Rows of conversations the view shows at once (the header row aside)."""
        return max(self.scrollable_content_region.height - 1, 1)

    def move_cursor(self, *, row: int, animate: bool = False, scroll: bool = True) -> None:
        """Put the cursor on `row` (clamped), scroll it into view, say so if it moved."""
        del animate  # one-line moves are never animated here; kept for DataTable's callers
        old = self.cursor_row
        self.cursor_row = min(max(row, 0), max(len(self.shown) - 1, 0))
        if scroll:
            self._scroll_to_cursor()
        if self.cursor_row != old:
            self.refresh()
        self._announce()

    def _scroll_to_cursor(self) -> None:
        if not self.scrollable_content_region.height:
            self.call_after_refresh(self._scroll_to_cursor)  # not laid out yet
            return
        top, page = int(self.scroll_y), self._page
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + page:
            self.scroll_to(y=self.cursor_row - page + 1, animate=False, immediate=True)

    def _announce(self) -> None:
        conv_id = self.conv_id_at_cursor()
        if conv_id != self._highlighted:
            self._highlighted = conv_id
            self.post_message(self.Highlighted(self, conv_id))

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self.cursor_row + 1)

    def action_page_up(self) -> None:
        self.move_cursor(row=self.cursor_row - self._page)

    def action_page_down(self) -> None:
        self.move_cursor(row=self.cursor_row + self._page)

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=len(self.shown) - 1)

    def action_choose(self) -> None:
        conv_id = self.conv_id_at_cursor()
        if conv_id is not None:
            self.post_message(self.Chosen(self, conv_id))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return  # the header row
        row = int(self.scroll_y) + offset.y - 1
        if 0 <= row < len(self.shown):
            self.focus()
            self.move_cursor(row=row, scroll=False)
            self.action_choose()

    # -- drawing -----------------------------------------------------------------------

    def _refill(self, keep: str | None) -> None:
        needle = self.needle
        listed = self.summaries if self.show_timeline_only else self.summaries[: self.in_file_count]
        self.shown = listed if not needle.strip() else self._matching(listed, needle)
        self._index = None
        width = sum(c.width + 2 * PADDING for c in self.columns)
        self.virtual_size = Size(width, len(self.shown) + 1)
        target = self.row_of(keep) if keep is not None else None
        self.cursor_row = 0
        self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()
        self.move_cursor(row=target or 0)

    def _prepare_filter(self, summaries: tuple[ConversationSummary, ...]) -> None:
        texts = {s.conv_id: filter_text(s) for s in summaries}
        if summaries is self.summaries:
            self._filter_texts = texts

    def _matching(
        self, listed: tuple[ConversationSummary, ...], needle: str
    ) -> tuple[ConversationSummary, ...]:
        n = needle.strip().lower()
        if "\0" in n:  # could span two fields of the joined text: the rule itself
            return tuple(s for s in listed if matches_filter(s, needle))
        texts = self._filter_texts
        if len(texts) < len(self.summaries):
            for summary in self.summaries:
                if summary.conv_id not in texts:
                    texts[summary.conv_id] = filter_text(summary)
        return tuple(s for s in listed if n in texts[s.conv_id])

    def _row_cells(self, summary: ConversationSummary) -> list[Text]:
        key = (summary.conv_id, self.compact)
        cells = self._cells.get(key)
        if cells is None:
            cells = self._cells[key] = conversation_row(summary, compact=self.compact)
        return cells

    def _line(self, cells: Sequence[Text], style: Style) -> Strip:
        line = Text(style=style, no_wrap=True, end="")
        pad = " " * PADDING
        for column, cell in zip(self.columns, cells, strict=True):
            fitted = cell.copy()
            fitted.truncate(column.width, overflow=cell.overflow or "ellipsis")
            fitted.align("right" if column.justify == "right" else "left", column.width)
            line.append(pad)
            line.append_text(fitted)
            line.append(pad)
        segments = Segment.apply_style(line.render(self.app.console), style=style)
        return Strip(segments).simplify()

    def render_line(self, y: int) -> Strip:
        base, width = self.line_style_and_width()
        scroll_x = int(self.scroll_x)
        if y == 0:
            header = self.get_component_rich_style("conversations--header")
            cells = [Text(c.label, justify="left") for c in self.columns]
            strip = self._line(cells, base + header)
            return strip.crop_extend(scroll_x, scroll_x + width, base + header)
        row = int(self.scroll_y) + y - 1
        if row >= len(self.shown):
            return Strip.blank(width, base)
        summary = self.shown[row]
        if row == self.cursor_row:
            cursor = base + self.get_component_rich_style("conversations--cursor")
            strip = Strip(
                Segment.apply_style(self._line(self._row_cells(summary), base), post_style=cursor)
            )
            return strip.crop_extend(scroll_x, scroll_x + width, cursor)
        key = (summary.conv_id, self.compact, width, base)
        cached = self._lines.get(key)
        if cached is None:
            cached = self._line(self._row_cells(summary), base)
            self._lines[key] = cached
        return cached.crop_extend(scroll_x, scroll_x + width, base)
