"""The main screen: conversation list, current runtime and the phase timeline."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.events import DescendantFocus, Resize
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Input, Static

from tui.domain import ConversationView, TurnView
from tui.formatting import safe_text
from tui.messages import Place
from tui.presenter import conversations_count, plural
from tui.screens.check import CheckScreen
from tui.screens.detail import SnapshotAsk, TurnDetailScreen, shown_first
from tui.screens.find import FindScreen
from tui.store.records import ConversationSummary, PhaseSnapshot
from tui.widgets.cells import SWITCH_MARK, Density, fit, visible_key
from tui.widgets.conversations import ConversationTable
from tui.widgets.current_runtime import CurrentRuntimePanel
from tui.widgets.key_bar import KeyBar
from tui.widgets.timeline import TimelineTable, turn_row_key

# Terminal widths (columns) of the app's breakpoint classes -narrow / -medium / -wide.
MEDIUM_FROM = 126  # below: no session / last activity in the list, no phase times
WIDE_FROM = 150  # below: no inference column, anomalies as a count


def density_for(width: int) -> Density:
    """How many columns the tables show at this terminal width."""
    if width >= WIDE_FROM:
        return "wide"
    return "medium" if width >= MEDIUM_FROM else "narrow"


NO_TURNS = "this conversation has no turns in this file"
DETAIL_SCREEN = "turn-detail"  # the one kept turn detail screen (App.install_screen)
WRAPPED_FIRST = "wrapped to the first switch"
WRAPPED_LAST = "wrapped to the last switch"

# n and N share one footer entry (`n N Switch`), so the footer fits 80 columns.
SWITCHES = Binding.Group("Switch")
# ! and ctrl+f share one too (`! ^f Check/find`).
INVESTIGATE = Binding.Group("Check/find")

DEBOUNCE_ABOVE = 20_000  # conversations: filter as you type below this, after a pause above
DEBOUNCE_S = 0.15


class MainScreen(Screen[None]):
    """Conversations (left), current runtime (right) and the timeline of the selected one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", key_display="/", id="main.filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="main.clear-filter"),
        Binding("n", "next_switch", "Next switch", id="main.next-switch", group=SWITCHES),
        Binding(
            "N",
            "previous_switch",
            "Prev switch",
            key_display="N",
            id="main.previous-switch",
            group=SWITCHES,
        ),
        Binding(
            "t",
            "toggle_timeline_only",
            "Timeline-only",
            tooltip="Show or hide the conversations only the timeline store knows",
            id="main.toggle-timeline-only",
        ),
        Binding(
            "exclamation_mark",
            "check",
            "Check",
            key_display="!",
            tooltip="Every anomaly in the file, counted by kind; enter goes to its turn",
            id="main.check",
            group=INVESTIGATE,
        ),
        Binding(
            "ctrl+f",
            "find",
            "Find",
            tooltip="Find any id (or its prefix), runtime key or text in blocks",
            id="main.find",
            group=INVESTIGATE,
        ),
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

    class SwitchSummaryRequested(Message):
        """Summarise what the switch at `turn` changed (answered by `show_switch_summary`)."""

        def __init__(self, view: ConversationView, turn: TurnView, turn_key: str) -> None:
            super().__init__()
            self.view = view
            self.turn = turn
            self.turn_key = turn_key

    class SnapshotWanted(SnapshotAsk):
        """The snapshot Enter would open now (the highlighted turn's latest): worth
        reading (and laying out) ahead while the user looks at the timeline."""

        def __init__(self, turn: TurnView, phase: str, created_at_ms: int) -> None:
            t = turn.turn
            super().__init__(t.conv_id, t.session_id, t.turn_id, phase, created_at_ms)
            self.turn = turn

    class DetailWanted(SnapshotWanted):
        """Enter on a timeline row: the app opens the turn's detail (`open_turn_if_shown`)
        once the snapshot it shows first is read and laid out, or after a short wait, so
        the detail's first paint shows its blocks."""

    def __init__(self, *, title: Text, banner: Text | None, notice: Text | None) -> None:
        super().__init__(id="main")
        self._title = title
        self._banner = banner
        self._notice = notice
        self.selected_conv_id: str | None = None
        self.view: ConversationView | None = None
        self._follow_text = Text("")
        self._filter_timer: Timer | None = None
        self._remembered: str | None = None  # the selection a zero-match filter cleared
        self._target: Place | None = None  # where go_to goes once its conversation is loaded
        self._summaries: dict[str, str] = {}  # switch summaries of this view, by row key
        self._summary_asked: set[str] = set()
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
                    placeholder="filter: conversation, session or inference id, runtime key",
                    id="filter",
                )
                filter_input.cursor_blink = False
                yield filter_input
                yield ConversationTable()
            yield CurrentRuntimePanel()
        with Vertical(id="timeline-pane"):
            yield TimelineTable()
            yield Static(Text(""), id="switch-summary")
            yield Static(Text(""), id="timeline-empty")
        yield KeyBar()

    def on_mount(self) -> None:
        self._ready = True
        self._refresh_list_title()
        self.query_one("#timeline-pane").border_title = Text("phase timeline")
        self._apply_width(self.app.size.width)
        self._refresh_title()
        self.query_one(ConversationTable).focus()

    def on_resize(self, event: Resize) -> None:
        self._apply_width(event.size.width)
        self._refresh_list_title()

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

    def set_conversations(
        self, summaries: Sequence[ConversationSummary], start_at: Place | None = None
    ) -> None:
        """New conversation list (first load or a reload); the selection is kept, or on
        the first load moves straight to `start_at` (no load of the newest one first)."""
        self.conversations.set_conversations(summaries, keep=self.selected_conv_id)
        self._refresh_list_title()
        self.refresh_bindings()  # the timeline-only key shows only when there are some
        if not self._go_to(start_at):
            self._sync_selection()

    def show_conversation(self, view: ConversationView) -> None:
        """The turns of a conversation were loaded."""
        if view.conv_id != self.selected_conv_id:
            return  # the user moved on meanwhile
        if not self.is_attached or not self.query(CurrentRuntimePanel):
            return  # the screen is closing (the app quits while a load finishes)
        if self.view is not view:
            self._summaries = {}
            self._summary_asked = set()
        self.view = view
        self.current_runtime.show(view)
        self.timeline.show(view)
        target = self._target
        if target is not None and target.conv_id == view.conv_id:
            self._target = None
            self._arrive(view, target)
        self._refresh_switch_summary()
        title = Text("phase timeline · ")
        title.append(fit(safe_text(view.conv_id), 40))
        self.query_one("#timeline-pane").border_title = title
        if view.turns:
            self._show_empty(None)
        elif view.in_file:
            self._show_empty(Text("this conversation has no turns"))
        else:
            why = Text(NO_TURNS, style="bold")
            why.append("\nonly the timeline store knows it", style="dim")
            self._show_empty(why)

    def _show_empty(self, why: Text | None) -> None:
        """Say in the timeline pane why it has no rows (None: it has some)."""
        empty = self.query_one("#timeline-empty", Static)
        empty.update(why or Text(""))
        self.query_one("#timeline-pane").set_class(why is not None, "-empty")

    def _clear_timeline(self, why: Text) -> None:
        self.view = None
        self.current_runtime.show(None)
        self.timeline.show(None)
        self._refresh_switch_summary()
        self.query_one("#timeline-pane").border_title = Text("phase timeline")
        self._show_empty(why)

    def _nothing_selected_why(self) -> Text:
        table = self.conversations
        needle = table.needle.strip()
        if needle and table.eligible_count:
            why = Text("no conversation matches ", style="bold")
            why.append(fit(safe_text(needle), 40))
            why.append("\nesc clears the filter", style="dim")
            return why
        if table.timeline_only_count and not table.show_timeline_only:
            why = Text("no conversation has turns in this file", style="bold")
            why.append(
                f"\nt shows the {plural(table.timeline_only_count, 'conversation')}"
                " only in the timeline store",
                style="dim",
            )
            return why
        return Text("no conversations", style="bold")

    def set_follow(self, text: Text) -> None:
        """Follow-mode indicator in the title bar."""
        self._follow_text = text
        self._refresh_title()

    def _refresh_title(self) -> None:
        if not self._ready:
            return  # on_mount shows it
        title = self._title.copy()
        if self._follow_text.plain:
            title.append("  ")
            title.append_text(self._follow_text)
        self.query_one("#title-bar", Static).update(title)

    def _refresh_list_title(self) -> None:
        """`6 conversations · 8 more only in the timeline store`, or the filter's count."""
        if not self._ready:
            return
        table = self.conversations
        pane = self.query_one("#conversations-pane")
        needle = table.needle.strip()
        if needle:
            title = Text(f"conversations · {len(table.shown):,} of {table.eligible_count:,} match ")
            title.append(fit(safe_text(needle), 30), style="bold")
        else:
            only = table.timeline_only_count
            shown = " (listed, dimmed)" if table.show_timeline_only else ""
            title = Text(conversations_count(table.in_file_count, only) + shown)
            room = pane.size.width - 6 if pane.size.width else self.app.size.width // 2
            if only and cell_len(title.plain) > room:  # a narrow pane: the short form
                short = f"{plural(table.in_file_count, 'conversation')} · +{only:,} timeline-only"
                title = Text(short + (" (dimmed)" if table.show_timeline_only else ""))
        pane.border_title = title

    def _sync_selection(self) -> None:
        conv_id = self.conversations.conv_id_at_cursor()
        if conv_id is None:
            if self.selected_conv_id is not None:
                self._remembered = self.selected_conv_id
            self.selected_conv_id = None
            self._clear_timeline(self._nothing_selected_why())
            return
        self._remembered = None
        if conv_id != self.selected_conv_id:
            self.selected_conv_id = conv_id
            self.post_message(self.ConversationSelected(conv_id))

    # -- events ----------------------------------------------------------------------

    @on(ConversationTable.Highlighted)
    def _conversation_highlighted(self, event: ConversationTable.Highlighted) -> None:
        event.stop()
        self._sync_selection()

    @on(ConversationTable.Chosen)
    def _conversation_chosen(self, event: ConversationTable.Chosen) -> None:
        event.stop()
        self._sync_selection()
        self.timeline.focus()

    @on(DataTable.RowSelected, "#timeline")
    def _turn_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        wanted = self._snapshot_at_cursor()
        if wanted is None:
            self.open_turn()
            return
        turn, snap = wanted
        self.post_message(self.DetailWanted(turn, snap.phase, snap.snapshot_created_at_ms))

    @on(DataTable.RowHighlighted, "#timeline")
    def _turn_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._refresh_switch_summary()
        self._want_highlighted_snapshot()

    @on(DescendantFocus)
    def _pane_focused(self, event: DescendantFocus) -> None:
        if event.widget is self.timeline:
            self._want_highlighted_snapshot()

    def _want_highlighted_snapshot(self) -> None:
        """Ask the app to read ahead what Enter on the timeline would open (only while the
        timeline has focus: that is where Enter opens a turn)."""
        wanted = self._snapshot_at_cursor()
        if wanted is None or not self.timeline.has_focus:
            return
        turn, snap = wanted
        self.post_message(self.SnapshotWanted(turn, snap.phase, snap.snapshot_created_at_ms))

    def _snapshot_at_cursor(self) -> tuple[TurnView, PhaseSnapshot] | None:
        """The turn under the timeline cursor and the snapshot its detail shows first."""
        turn = self.timeline.turn_at_cursor()
        snap = shown_first(turn) if turn is not None else None
        return None if turn is None or snap is None else (turn, snap)

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
        self.conversations.set_filter(needle, keep=self.selected_conv_id or self._remembered)
        self._refresh_list_title()
        self._sync_selection()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.conversations.focus()

    # -- the switch summary line -----------------------------------------------------

    def show_switch_summary(self, conv_id: str, turn_key: str, summary: str) -> None:
        """The app's worker summarised the switch at row `turn_key` of `conv_id`."""
        if self.view is None or self.view.conv_id != conv_id:
            return
        self._summaries[turn_key] = summary
        self._refresh_switch_summary()

    def switch_summary_text(self) -> Text | None:
        """What the line under the timeline says (None: hidden, no switch in the view)."""
        view = self.view
        if view is None or not view.switch_count:
            return None
        turn = self.timeline.turn_at_cursor()
        if turn is None or not turn.runtime_switch:
            count = plural(view.switch_count, "runtime switch", "runtime switches")
            return Text(f"{SWITCH_MARK} {count} · n / N: see what one changed", style="dim")
        key = turn_row_key(turn)
        text = Text()
        text.append(f"{SWITCH_MARK}{turn.number} ", style="bold")
        summary = self._summaries.get(key)
        if summary is not None:
            text.append(summary)
            return text
        before = visible_key(turn.previous_runtime_key or "")
        text.append(f"{fit(before, 24)} → {fit(visible_key(turn.turn.runtime_key), 24)}")
        text.append(" · comparing with the last turn of the previous runtime…", style="dim")
        if key not in self._summary_asked:
            self._summary_asked.add(key)
            self.post_message(self.SwitchSummaryRequested(view, turn, key))
        return text

    def _refresh_switch_summary(self) -> None:
        if not self._ready:
            return
        line = self.query_one("#switch-summary", Static)
        text = self.switch_summary_text()
        if line.has_class("-visible") != (text is not None):
            # The line takes a row from the timeline: keep its cursor row in view.
            timeline = self.timeline
            self.call_after_refresh(
                lambda: timeline.move_cursor(row=timeline.cursor_row, animate=False)
            )
        line.set_class(text is not None, "-visible")
        if text is not None:  # one line, cut with … (the whole summary is in the detail's diff)
            text.no_wrap = True
            text.overflow = "ellipsis"
            line.tooltip = text.plain
        line.update(text or Text(""))

    # -- going to a place (check, find, --conv/--turn) -------------------------------

    def go_to(self, place: Place | None) -> None:
        """Select `place`'s conversation, then (once loaded) move the timeline cursor to
        its turn and, when asked, open the turn's detail at its snapshot."""
        self._go_to(place)

    def _go_to(self, place: Place | None) -> bool:
        """go_to; False when there is no place or no such conversation (said)."""
        if place is None:
            return False
        table = self.conversations
        summary = table.summary_for(place.conv_id)
        if summary is None:
            self.notify(
                f"conversation {safe_text(place.conv_id, 60)} is not in this file",
                markup=False,
                severity="warning",
                timeout=4,
            )
            return False
        self._target = place
        if not any(s.conv_id == place.conv_id for s in table.shown):
            filter_input = self.query_one("#filter", Input)
            filter_input.value = ""
            filter_input.remove_class("-visible")
            if self._filter_timer is not None:
                self._filter_timer.stop()
                self._filter_timer = None
            table.set_filter("", keep=place.conv_id)
            if not summary.in_file:
                table.set_show_timeline_only(True, keep=place.conv_id)
        table.select_conv(place.conv_id)
        self._refresh_list_title()
        self._sync_selection()
        self.timeline.focus()
        view = self.view
        if view is not None and view.conv_id == place.conv_id and self._target is place:
            self._target = None
            self._arrive(view, place)  # already shown: no load to wait for
        return True

    def _arrive(self, view: ConversationView, place: Place) -> None:
        if place.turn_id is None:
            return
        turn = next(
            (
                t
                for t in view.turns
                if t.turn.turn_id == place.turn_id
                and (not place.session_id or t.turn.session_id == place.session_id)
            ),
            None,
        ) or next((t for t in view.turns if t.turn.turn_id == place.turn_id), None)
        if turn is None:
            self.notify(
                f"turn {safe_text(place.turn_id, 60)} has no turn row in this conversation "
                "(snapshot rows only)",
                markup=False,
                severity="warning",
                timeout=4,
            )
            return
        self.timeline.move_cursor(row=turn.number - 1, animate=False)
        self._refresh_switch_summary()
        if place.open_detail:
            self.run_worker(self._open_detail(view, turn, place), exit_on_error=False)

    async def _open_detail(self, view: ConversationView, turn: TurnView, place: Place) -> None:
        """Push the turn detail at the snapshot `place` names, scrolled to its block."""
        await self._push_detail(
            view,
            turn,
            phase=place.phase,
            snapshot_created_at_ms=place.snapshot_created_at_ms,
            block_ordinal=place.block_ordinal,
        )

    def _push_detail(
        self,
        view: ConversationView,
        turn: TurnView,
        *,
        phase: str | None = None,
        snapshot_created_at_ms: int | None = None,
        block_ordinal: int | None = None,
    ) -> Awaitable[object]:
        """Push the turn detail. One detail screen is composed once and kept (installed):
        opening another turn re-points it instead of composing, mounting and styling a new
        one, which is most of the cost of a screen."""
        app = self.app
        kept = app.get_screen(DETAIL_SCREEN) if app.is_screen_installed(DETAIL_SCREEN) else None
        if isinstance(kept, TurnDetailScreen) and kept not in app.screen_stack:
            kept.reuse_for(
                view,
                turn,
                phase=phase,
                snapshot_created_at_ms=snapshot_created_at_ms,
                block_ordinal=block_ordinal,
            )
            return app.push_screen(kept)
        screen = TurnDetailScreen(
            view,
            turn,
            phase=phase,
            snapshot_created_at_ms=snapshot_created_at_ms,
            block_ordinal=block_ordinal,
        )
        if kept is None:
            app.install_screen(screen, DETAIL_SCREEN)
        return app.push_screen(screen)

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
            "Filter conversations",
            "By conversation, session or inference id, or runtime key",
            self.action_filter,
        )
        yield SystemCommand(
            "Check the database",
            "Every anomaly in the file, counted by kind; each goes to its turn",
            self.action_check,
        )
        yield SystemCommand(
            "Find",
            "Any id or id prefix, runtime key, or text inside blocks, in the whole file",
            self.action_find,
        )
        shown = self.conversations.show_timeline_only
        yield SystemCommand(
            f"{'Hide' if shown else 'Show'} timeline-only conversations",
            "Conversations the timeline store knows but this file has no turns of",
            self.action_toggle_timeline_only,
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
        self._push_detail(self.view, turn)

    def open_turn_if_shown(self, turn: TurnView) -> None:
        """Open `turn`'s detail if it is still the one under the timeline cursor of the
        shown conversation (the user may have moved on while its snapshot was read)."""
        at = self.timeline.turn_at_cursor()
        if self.view is None or at is None:
            return
        a, b = at.turn, turn.turn
        if (a.conv_id, a.session_id, a.turn_id) != (b.conv_id, b.session_id, b.turn_id):
            return
        self._push_detail(self.view, at)

    def action_check(self) -> None:
        """Open the database check; its chosen row comes back as a place to go to."""
        self.app.push_screen(CheckScreen(), self.go_to)

    def action_find(self) -> None:
        """Open find; its chosen match comes back as a place to go to."""
        self.app.push_screen(FindScreen(), self.go_to)

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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_timeline_only":  # only when there is something to show
            return self._ready and self.conversations.timeline_only_count > 0
        return True

    def action_toggle_timeline_only(self) -> None:
        """List (dimmed, after the others) or hide the timeline-only conversations."""
        table = self.conversations
        table.set_show_timeline_only(
            not table.show_timeline_only, keep=self.selected_conv_id or self._remembered
        )
        self._refresh_list_title()
        self._sync_selection()

    def action_next_switch(self) -> None:
        self._jump(forward=True)

    def action_previous_switch(self) -> None:
        self._jump(forward=False)

    def _jump(self, forward: bool) -> None:
        jump = self.timeline.jump_to_switch(forward)
        if jump is None:
            self.notify("No runtime switch in this conversation.", markup=False, timeout=2)
            return
        if jump == "wrapped":
            self.notify(WRAPPED_FIRST if forward else WRAPPED_LAST, markup=False, timeout=2)
        self.timeline.focus()
