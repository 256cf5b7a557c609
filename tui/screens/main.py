"""The main screen: conversation list, current runtime and the phase timeline."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Static

from tui.domain import ConversationView
from tui.formatting import safe_text
from tui.screens.detail import TurnDetailScreen
from tui.store.records import ConversationSummary
from tui.widgets.cells import Density
from tui.widgets.conversations import ConversationTable
from tui.widgets.current_runtime import CurrentRuntimePanel
from tui.widgets.timeline import TimelineTable

# Terminal widths (columns) of the app's breakpoint classes -narrow / -medium / -wide.
MEDIUM_FROM = 126  # below: no session / last activity in the list, no phase times
WIDE_FROM = 150  # below: no inference column, anomalies as a count


def density_for(width: int) -> Density:
    """How many columns the tables show at this terminal width."""
    if width >= WIDE_FROM:
        return "wide"
    return "medium" if width >= MEDIUM_FROM else "narrow"


DEBOUNCE_ABOVE = 2000  # conversations: filter as you type below this, after a pause above
DEBOUNCE_S = 0.15


class MainScreen(Screen[None]):
    """Conversations (left), current runtime (right) and the timeline of the selected one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", key_display="/", id="main.filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="main.clear-filter"),
        Binding("n", "next_switch", "Next switch", id="main.next-switch"),
        Binding("N", "previous_switch", "Prev switch", key_display="N", id="main.previous-switch"),
        Binding("tab", "app.focus_next", "Next pane", show=False, id="main.focus-next"),
        Binding(
            "shift+tab", "app.focus_previous", "Previous pane", show=False, id="main.focus-previous"
        ),
    ]

    class ConversationSelected(Message):
        """The user moved to another conversation: its turns should be loaded."""

        def __init__(self, conv_id: str) -> None:
            super().__init__()
            self.conv_id = conv_id

    def __init__(self, *, title: Text, banner: Text | None, notice: Text | None) -> None:
        super().__init__(id="main")
        self._title = title
        self._banner = banner
        self._notice = notice
        self.selected_conv_id: str | None = None
        self.view: ConversationView | None = None
        self._follow_text = Text("")
        self._count_text = Text("")
        self._filter_timer: Timer | None = None
        self._ready = False  # widgets composed (is_mounted is only set after on_mount)

    # -- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(self._title, id="title-bar")
        if self._banner is not None:
            yield Static(self._banner, id="banner")
        if self._notice is not None:
            yield Static(self._notice, id="notice")
        with Horizontal(id="top"):
            with Vertical(id="conversations-pane"):
                filter_input = Input(
                    placeholder="filter: conversation id, session id or runtime key",
                    id="filter",
                )
                filter_input.cursor_blink = False
                yield filter_input
                yield ConversationTable()
            yield CurrentRuntimePanel()
        with Vertical(id="timeline-pane"):
            yield TimelineTable()
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._ready = True
        self.query_one("#conversations-pane").border_title = Text("conversations")
        self.query_one("#timeline-pane").border_title = Text("phase timeline")
        self._apply_width(self.app.size.width)
        self._refresh_title()
        self.query_one(ConversationTable).focus()

    def on_resize(self, event: Resize) -> None:
        self._apply_width(event.size.width)

    def _apply_width(self, width: int) -> None:
        density = density_for(width)
        self.query_one(ConversationTable).set_compact(
            density == "narrow", keep=self.selected_conv_id
        )
        self.query_one(TimelineTable).set_density(density)

    # -- state from the app ----------------------------------------------------------

    @property
    def conversations(self) -> ConversationTable:
        return self.query_one(ConversationTable)

    @property
    def timeline(self) -> TimelineTable:
        return self.query_one(TimelineTable)

    @property
    def current_runtime(self) -> CurrentRuntimePanel:
        return self.query_one(CurrentRuntimePanel)

    def set_conversations(self, summaries: Sequence[ConversationSummary]) -> None:
        """New conversation list (first load or a reload); the selection is kept."""
        self.conversations.set_conversations(summaries, keep=self.selected_conv_id)
        n = len(summaries)
        self._count_text = Text(f"{n:,} conversation{'s' if n != 1 else ''}")
        self._refresh_title()
        self._sync_selection()

    def show_conversation(self, view: ConversationView) -> None:
        """The turns of a conversation were loaded."""
        if view.conv_id != self.selected_conv_id:
            return  # the user moved on meanwhile
        if not self.is_attached or not self.query(CurrentRuntimePanel):
            return  # the screen is closing (the app quits while a load finishes)
        self.view = view
        self.current_runtime.show(view)
        self.timeline.show(view)
        pane = self.query_one("#timeline-pane")
        title = Text("phase timeline · ")
        title.append(safe_text(view.conv_id, 40))
        pane.border_title = title

    def set_follow(self, text: Text) -> None:
        """Follow-mode indicator in the title bar."""
        self._follow_text = text
        self._refresh_title()

    def _refresh_title(self) -> None:
        if not self._ready:
            return  # on_mount shows it
        title = self._title.copy()
        if self._count_text.plain:
            title.append(" · ", style="dim")
            title.append_text(self._count_text)
        if self._follow_text.plain:
            title.append("  ")
            title.append_text(self._follow_text)
        self.query_one("#title-bar", Static).update(title)

    def _sync_selection(self) -> None:
        conv_id = self.conversations.conv_id_at_cursor()
        if conv_id is None:
            if self.selected_conv_id is not None or self.view is not None:
                self.selected_conv_id = None
                self.view = None
                self.current_runtime.show(None)
                self.timeline.show(None)
            return
        if conv_id != self.selected_conv_id:
            self.selected_conv_id = conv_id
            self.post_message(self.ConversationSelected(conv_id))

    # -- events ----------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#conversations")
    def _conversation_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._sync_selection()

    @on(DataTable.RowSelected, "#conversations")
    def _conversation_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.timeline.focus()

    @on(DataTable.RowSelected, "#timeline")
    def _turn_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.open_turn()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
        if len(self.conversations.summaries) <= DEBOUNCE_ABOVE:
            self._apply_filter(event.value)
        else:  # a big list: filter once the user pauses typing
            value = event.value
            self._filter_timer = self.set_timer(DEBOUNCE_S, lambda: self._apply_filter(value))

    def _apply_filter(self, needle: str) -> None:
        self._filter_timer = None
        table = self.conversations
        table.set_filter(needle, keep=self.selected_conv_id)
        pane = self.query_one("#conversations-pane")
        title = Text("conversations")
        if needle.strip():
            title.append(f" · {len(table.shown):,} of {len(table.summaries):,} match ")
            title.append(safe_text(needle.strip(), 30), style="bold")
        pane.border_title = title
        self._sync_selection()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.conversations.focus()

    # -- the command palette ---------------------------------------------------------

    def system_commands(self) -> Iterable[SystemCommand]:
        """This screen's commands for the palette (the app adds the global ones)."""
        yield SystemCommand(
            "Focus conversations",
            "Move the focus to the conversation list",
            lambda: self.conversations.focus(),
        )
        yield SystemCommand(
            "Focus timeline",
            "Move the focus to the phase timeline",
            lambda: self.timeline.focus(),
        )
        yield SystemCommand(
            "Next runtime switch", "Jump to the next switch row", self.action_next_switch
        )
        yield SystemCommand(
            "Previous runtime switch",
            "Jump to the previous switch row",
            self.action_previous_switch,
        )
        yield SystemCommand(
            "Filter conversations", "By conversation id, session or runtime key", self.action_filter
        )
        yield SystemCommand(
            "Open turn detail", "Snapshots and blocks of the turn under the cursor", self.open_turn
        )

    # -- actions ---------------------------------------------------------------------

    def open_turn(self) -> None:
        """Push the turn detail screen for the turn under the timeline cursor."""
        turn = self.timeline.turn_at_cursor()
        if self.view is None or turn is None:
            return
        self.app.push_screen(TurnDetailScreen(self.view, turn))

    def action_filter(self) -> None:
        filter_input = self.query_one("#filter", Input)
        filter_input.add_class("-visible")
        filter_input.focus()

    def action_clear_filter(self) -> None:
        filter_input = self.query_one("#filter", Input)
        if not filter_input.has_class("-visible") and not filter_input.value:
            return
        filter_input.value = ""
        filter_input.remove_class("-visible")
        self._apply_filter("")
        self.conversations.focus()

    def action_next_switch(self) -> None:
        self._jump(forward=True)

    def action_previous_switch(self) -> None:
        self._jump(forward=False)

    def _jump(self, forward: bool) -> None:
        if not self.timeline.move_to_switch(forward):
            self.notify("No runtime switch in this conversation.", markup=False, timeout=2)
            return
        self.timeline.focus()
