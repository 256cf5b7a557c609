"""The conversation list: every conversation with its current runtime and source."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from tui.domain import count_switches, matches_filter, summary_current_runtime
from tui.formatting import format_datetime_ms
from tui.store.records import ConversationSummary
from tui.widgets.cells import id_cell, runtime_label
from tui.widgets.fixed_table import FixedWidthTable

# Rows added before the first paint; the rest follow in small batches between which the
# app repaints and handles keys, so 10,000 conversations never hold up the screen.
FIRST_BATCH = 200
BATCH = 500
BATCH_GAP_S = 0.01


TIMELINE_ONLY_STYLE = "dim"  # rows of conversations only the timeline store knows


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


class ConversationTable(FixedWidthTable):
    """`#conversations`: row keys are conversation ids; filled lazily in batches."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="conversations.down"),
        Binding("k", "cursor_up", "Up", show=False, id="conversations.up"),
        Binding("home,g", "scroll_top", "First row", show=False, id="conversations.first"),
        Binding("end,G", "scroll_bottom", "Last row", show=False, id="conversations.last"),
        Binding("enter", "select_cursor", "Show timeline", show=False, id="conversations.open"),
    ]

    def __init__(self, *, id: str = "conversations") -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.summaries: tuple[ConversationSummary, ...] = ()
        self._by_id: dict[str, ConversationSummary] = {}
        self.shown: tuple[ConversationSummary, ...] = ()
        self.needle = ""
        self.compact = False
        self.show_timeline_only = False  # list the conversations with no turns in this file
        self.in_file_count = 0
        self.timeline_only_count = 0
        self._generation = 0
        self._cells: dict[tuple[str, bool], list[Text]] = {}
        self._columns_compact: bool | None = None

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
        self._refill(keep)

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
    def fully_loaded(self) -> bool:
        """Whether every matching row has been added (lazy filling is done)."""
        return self.row_count == len(self.shown)

    def conv_id_at_cursor(self) -> str | None:
        """Conversation id of the row under the cursor."""
        if self.row_count == 0:
            return None
        index = min(max(self.cursor_row, 0), self.row_count - 1)
        if index >= len(self.shown):
            return None
        return self.shown[index].conv_id

    def select_conv(self, conv_id: str) -> bool:
        """Move the cursor to conversation `conv_id` when it is listed (its row is added
        now if lazy filling has not reached it yet)."""
        index = next((i for i, s in enumerate(self.shown) if s.conv_id == conv_id), None)
        if index is None:
            return False
        if index >= self.row_count:
            self._refill(conv_id)
        else:
            self.move_cursor(row=index, animate=False)
        return True

    def summary_for(self, conv_id: str) -> ConversationSummary | None:
        """The listed summary of a conversation."""
        return self._by_id.get(conv_id)

    # -- rendering -------------------------------------------------------------------

    def _ensure_columns(self) -> None:
        if self._columns_compact == self.compact and self.columns:
            return
        self.clear(columns=True)
        self.add_column("conversation", width=12 if self.compact else 14, key="conv")
        if not self.compact:
            self.add_column("session", width=10, key="session")
        self.add_column("turns", width=5, key="turns")
        self.add_column("sw", width=3, key="switches")
        if not self.compact:
            self.add_column("last activity", width=19, key="last")
        self.add_column("current runtime", width=18, key="runtime")
        self._columns_compact = self.compact

    def _refill(self, keep: str | None) -> None:
        if not self.is_mounted:
            return
        self._generation += 1
        self._ensure_columns()
        self.clear(columns=False)
        needle = self.needle
        listed = self.summaries if self.show_timeline_only else self.summaries[: self.in_file_count]
        self.shown = tuple(s for s in listed if matches_filter(s, needle))
        target = 0
        if keep is not None:
            target = next((i for i, s in enumerate(self.shown) if s.conv_id == keep), 0)
        first = max(FIRST_BATCH, target + 1)
        self._add(0, first)
        if self.row_count:
            self.move_cursor(row=min(target, self.row_count - 1), animate=False)
        self._schedule(first)

    def _schedule(self, start: int) -> None:
        if start < len(self.shown):
            generation = self._generation
            self.set_timer(BATCH_GAP_S, lambda: self._add_batch(start, generation))

    def _add(self, start: int, stop: int) -> None:
        compact = self.compact
        cache = self._cells
        for summary in self.shown[start:stop]:
            key = (summary.conv_id, compact)
            cells = cache.get(key)
            if cells is None:
                cells = cache[key] = conversation_row(summary, compact=compact)
            self.add_row(*cells, key=summary.conv_id)

    def _add_batch(self, start: int, generation: int) -> None:
        if generation != self._generation:
            return  # the list was refilled meanwhile
        stop = min(start + BATCH, len(self.shown))
        self._add(start, stop)
        self._schedule(stop)
