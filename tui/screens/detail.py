"""`#turn-detail`: the snapshots of one turn, the chosen snapshot's blocks, the metadata.

`[` and `]` move to the previous and next turn of the conversation in place; `x` switches
every block between its rendered and its exact view; `r` shows everything raw (turn
metadata and data, every block's payload and metadata).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from tui.domain import ANOMALY_LABELS, UNKNOWN_RUNTIME, ConversationView, TurnView
from tui.formatting import format_clock_ms, safe_text, short_id
from tui.store.records import DERIVED_RUNTIME, PhaseSnapshot, SnapshotDetail
from tui.widgets.block_text import day_of, format_timestamp_ms, is_blank_key, visible_blank
from tui.widgets.blocks import BlockView, metadata_summary, raw_metadata

MAX_BLOCKS = 400  # a snapshot with more blocks shows its latest ones

SnapshotKey = tuple[str, int]  # (phase, snapshot_created_at_ms)


class SnapshotList(OptionList):
    """The turn's snapshots in time order."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="snapshots.down"),
        Binding("k", "cursor_up", "Up", show=False, id="snapshots.up"),
    ]


def snapshot_prompt(snap: PhaseSnapshot, repeat: int, show_date: bool = False) -> Text:
    """One line of the snapshot list: phase (with its iteration), time, block count.

    With `show_date` the time carries its date (a snapshot from another day than the one
    before it).
    """
    text = Text(safe_text(snap.phase, 16), style="bold")
    if repeat > 1:
        text.append(f" #{repeat}", style="dim")
    text.append("\n")
    if show_date:
        text.append(day_of(snap.snapshot_created_at_ms) + "\n", style="bold")
    text.append(format_clock_ms(snap.snapshot_created_at_ms))
    text.append(f" · {snap.block_count} block{'s' if snap.block_count != 1 else ''}", style="dim")
    return text


def snapshot_options(snapshots: tuple[PhaseSnapshot, ...], turn_ms: int) -> list[Option]:
    """Prompts of the snapshot list; a date wherever the day differs from the previous."""
    options: list[Option] = []
    seen: dict[str, int] = {}
    previous_day = day_of(turn_ms)
    for snap in snapshots:
        seen[snap.phase] = seen.get(snap.phase, 0) + 1
        day = day_of(snap.snapshot_created_at_ms)
        options.append(Option(snapshot_prompt(snap, seen[snap.phase], day != previous_day)))
        previous_day = day
    return options


def _sorted_snapshots(turn: TurnView) -> tuple[PhaseSnapshot, ...]:
    return tuple(sorted(turn.turn.snapshots, key=lambda s: (s.snapshot_created_at_ms, s.phase)))


def turn_time_ms(turn: TurnView) -> int:
    """When the turn was created (its first snapshot when the column is 0)."""
    if turn.turn.turn_created_at_ms > 0:
        return turn.turn.turn_created_at_ms
    return min((s.snapshot_created_at_ms for s in turn.turn.snapshots), default=0)


class TurnDetailScreen(Screen[None]):
    """Every snapshot of a turn; blocks rendered by kind; metadata and raw metadata."""

    CSS_PATH = "detail.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="detail.back"),
        Binding(
            "left_square_bracket",
            "previous_turn",
            "Prev turn",
            key_display="[",
            id="detail.previous-turn",
            tooltip="Show the previous turn of the conversation",
        ),
        Binding(
            "right_square_bracket",
            "next_turn",
            "Next turn",
            key_display="]",
            id="detail.next-turn",
            tooltip="Show the next turn of the conversation",
        ),
        Binding(
            "x",
            "toggle_exact",
            "Exact text",
            id="detail.toggle-exact",
            tooltip="Switch every block between rendered and exact (stored) text",
        ),
        Binding(
            "r",
            "toggle_raw",
            "Raw",
            id="detail.toggle-raw",
            tooltip="Raw turn metadata and data, and every block's payload and metadata",
        ),
        Binding("e", "expand", "Expand text", id="detail.expand"),
        Binding("tab", "app.focus_next", "Next pane", show=False, id="detail.focus-next"),
        Binding(
            "shift+tab",
            "app.focus_previous",
            "Previous pane",
            show=False,
            id="detail.focus-previous",
        ),
    ]

    class SnapshotRequested(Message):
        """Load the blocks of one snapshot of this turn."""

        def __init__(
            self, conv_id: str, session_id: str, turn_id: str, phase: str, created_at_ms: int
        ) -> None:
            super().__init__()
            self.conv_id = conv_id
            self.session_id = session_id
            self.turn_id = turn_id
            self.phase = phase
            self.created_at_ms = created_at_ms

    def __init__(self, conversation: ConversationView, turn: TurnView) -> None:
        super().__init__(id="turn-detail")
        self.conversation = conversation
        self.raw_visible = False
        self.exact = False  # every block in its exact view
        self._point_at(turn)

    def _point_at(self, turn: TurnView) -> None:
        self.turn = turn
        self.snapshots: tuple[PhaseSnapshot, ...] = _sorted_snapshots(turn)
        self.requested: SnapshotKey | None = None
        # Blocks before this index came from earlier turns: the turn's first snapshot holds
        # the history plus the message that started the turn (its last block).
        first = self.snapshots[0] if self.snapshots else None
        self.first_turn_block = max(first.block_count - 1, 0) if first else 0
        self.detail: SnapshotDetail | None = None

    # -- layout ----------------------------------------------------------------------

    def _title(self) -> Text:
        t = self.turn
        record = t.turn
        title = Text()
        title.append(f"turn {t.number} of {len(self.conversation.turns)}", style="bold")
        title.append(" · ", style="dim")
        title.append(short_id(record.turn_id, 16))
        title.append(" · ", style="dim")
        title.append(format_timestamp_ms(turn_time_ms(t)))
        title.append(" · conversation ", style="dim")
        title.append(short_id(self.conversation.conv_id, 16))
        if len(self.conversation.sessions) > 1:
            title.append(
                f" · session {t.session_number} of {len(self.conversation.sessions)}",
                style="dim",
            )
        title.append("\n")
        title.append("runtime ", style="dim")
        key = record.runtime_key
        if key == "":
            title.append("∅ unknown", style="dim italic")
        elif is_blank_key(key):
            title.append(visible_blank(key, 24), style="bold")
            title.append(" blank = unknown", style="dim italic")
        elif t.runtime_switch and t.previous_runtime_key is not None:
            title.append(visible_blank(t.previous_runtime_key, 24))
            title.append(" → ")
            title.append(visible_blank(key, 24), style="bold")
        else:
            title.append(visible_blank(key, 24), style="bold")
        if DERIVED_RUNTIME in record.derived:
            title.append(" (derived in memory from ", style="dim")
            title.append(safe_text(record.runtime_from.describe(), 60))
            title.append(", not stored)", style="dim")
        elif record.runtime_from.value == key:
            title.append(" · in metadata as ", style="dim")
            title.append(safe_text(record.runtime_from.describe(), 60))
        elif record.runtime_from.value:
            title.append(" · metadata ", style="dim")
            title.append(safe_text(record.runtime_from.describe(), 60))
            title.append(" says ", style="dim")
            title.append(safe_text(record.runtime_from.value, 24), style="bold")
        if t.anomalies:
            title.append(" · ⚠ ", style="bold")
            title.append("; ".join(self._anomaly_label(a) for a in t.anomalies))
        return title

    def _anomaly_label(self, anomaly: str) -> str:
        """The domain's label, made exact for a blank key (the metadata may know more)."""
        if anomaly == UNKNOWN_RUNTIME and is_blank_key(self.turn.turn.runtime_key):
            return "runtime unknown (stored as blank)"
        return ANOMALY_LABELS.get(anomaly, safe_text(anomaly, 30))

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="detail-title")
        with Horizontal(id="detail-body"):
            yield SnapshotList(
                *snapshot_options(self.snapshots, turn_time_ms(self.turn)), id="snapshots"
            )
            with VerticalScroll(id="detail-scroll"):
                # the raw view (r) goes first: showing it is scrolling home, whatever the
                # layout has done yet
                yield Static(Text(""), id="metadata-raw")
                yield Vertical(id="blocks")
                yield Static(metadata_summary(self.turn.turn), id="metadata-summary")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#snapshots").border_title = Text("snapshots")
        self._update_scroll_title()
        self.query_one(SnapshotList).focus()
        self._select_last_snapshot()

    def _update_scroll_title(self) -> None:
        mode = "exact text" if self.exact else "rendered"
        self.query_one("#detail-scroll").border_title = Text(f"blocks · {mode}")

    def _select_last_snapshot(self) -> None:
        snapshots = self.query_one(SnapshotList)
        if self.snapshots:
            snapshots.highlighted = len(self.snapshots) - 1
        else:
            self.query_one("#blocks").mount(
                Static(Text("This turn has no snapshots.", style="dim italic"))
            )

    # -- loading ---------------------------------------------------------------------

    @on(OptionList.OptionHighlighted, "#snapshots")
    def _snapshot_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        index = event.option_index
        if not 0 <= index < len(self.snapshots):
            return
        snap = self.snapshots[index]
        key = (snap.phase, snap.snapshot_created_at_ms)
        if key == self.requested:
            return
        self.requested = key
        t = self.turn.turn
        self.post_message(
            self.SnapshotRequested(
                t.conv_id, t.session_id, t.turn_id, snap.phase, snap.snapshot_created_at_ms
            )
        )

    async def show_snapshot(self, key: SnapshotKey, detail: SnapshotDetail | None) -> None:
        """Render the blocks of a loaded snapshot (ignored if the user moved on)."""
        if key != self.requested:
            return
        self.detail = detail
        blocks = self.query_one("#blocks", Vertical)
        await blocks.remove_children()
        if detail is None:
            await blocks.mount(Static(Text("Snapshot not found.", style="dim italic")))
            return
        phase, at = key
        total = len(detail.blocks)
        first_new = min(self.first_turn_block, total)
        header = Text(safe_text(phase, 20), style="bold")
        header.append(f" · {format_timestamp_ms(at)} · {total} blocks", style="dim")
        if first_new:
            header.append(f" · {first_new} from earlier turns (scroll up)", style="dim")
        widgets: list[Static | BlockView] = [Static(header, classes="snapshot-header")]
        start = max(total - MAX_BLOCKS, 0)
        if start:
            widgets.append(
                Static(Text(f"… {start:,} earlier blocks not shown", style="dim italic"))
            )
        marker: Static | None = None
        for index in range(start, total):
            if index == first_new and first_new:
                marker = Static(Text("── this turn ──", style="bold"), classes="turn-marker")
                widgets.append(marker)
            view = BlockView(detail.blocks[index], exact=self.exact)
            view.set_class(index < first_new, "-history")
            widgets.append(view)
        await blocks.mount_all(widgets)
        scroll = self.query_one("#detail-scroll", VerticalScroll)
        if self.raw_visible:
            self._show_raw()
            scroll.scroll_home(animate=False)
        elif marker is not None:
            self.call_after_refresh(scroll.scroll_to_widget, marker, animate=False, top=True)
        else:
            scroll.scroll_home(animate=False)

    # -- actions ---------------------------------------------------------------------

    def system_commands(self) -> Iterable[SystemCommand]:
        """This screen's commands for the palette (the app adds the global ones)."""
        yield SystemCommand(
            "Toggle exact text",
            "Rendered or exact stored text of every block",
            self.action_toggle_exact,
        )
        yield SystemCommand(
            "Show raw payloads",
            "Turn metadata and data, and every block's payload as stored",
            self.action_toggle_raw,
        )
        yield SystemCommand(
            "Next turn", "The next turn of this conversation", self.action_next_turn
        )
        yield SystemCommand(
            "Previous turn", "The previous turn of this conversation", self.action_previous_turn
        )
        yield SystemCommand("Expand cut text", "Show very large text in full", self.action_expand)
        yield SystemCommand("Back", "Return to the timeline", self.action_back)

    def action_back(self) -> None:
        self.dismiss()

    async def _show_turn(self, turn: TurnView) -> None:
        """Point the screen at another turn: title, snapshots, metadata, then its blocks."""
        self._point_at(turn)
        self.query_one("#detail-title", Static).update(self._title())
        self.query_one("#metadata-summary", Static).update(metadata_summary(turn.turn))
        await self.query_one("#blocks", Vertical).remove_children()
        snapshots = self.query_one(SnapshotList)
        snapshots.set_options(snapshot_options(self.snapshots, turn_time_ms(turn)))
        self._select_last_snapshot()
        if self.raw_visible:
            self._show_raw()

    def _turn_index(self) -> int:
        current = self.turn.turn
        for i, view in enumerate(self.conversation.turns):
            if (view.turn.session_id, view.turn.turn_id) == (current.session_id, current.turn_id):
                return i
        return max(self.turn.number - 1, 0)

    async def action_next_turn(self) -> None:
        index = self._turn_index() + 1
        if index >= len(self.conversation.turns):
            self.notify("last turn", markup=False, timeout=2)
            return
        await self._show_turn(self.conversation.turns[index])

    async def action_previous_turn(self) -> None:
        index = self._turn_index() - 1
        if index < 0:
            self.notify("first turn", markup=False, timeout=2)
            return
        await self._show_turn(self.conversation.turns[index])

    def _show_raw(self) -> None:
        raw = self.query_one("#metadata-raw", Static)
        detail = self.detail
        if detail is None:
            raw.update(raw_metadata(self.turn.turn.metadata_json, "{}"))
            return
        raw.update(
            raw_metadata(
                detail.turn_metadata_json,
                detail.turn_data_json,
                detail.blocks,
                detail.raw_payload,
            )
        )

    def action_toggle_raw(self) -> None:
        raw = self.query_one("#metadata-raw", Static)
        self.raw_visible = not self.raw_visible
        raw.set_class(self.raw_visible, "-visible")
        if self.raw_visible:
            self._show_raw()
            self.query_one("#detail-scroll", VerticalScroll).scroll_home(animate=False)

    async def action_toggle_exact(self) -> None:
        self.exact = not self.exact
        self._update_scroll_title()
        for block in self.query(BlockView):
            await block.set_exact(self.exact)

    async def action_expand(self) -> None:
        expanded = 0
        for block in self.query(BlockView):
            if await block.expand_text():
                expanded += 1
        if not expanded:
            self.notify("No cut text in this snapshot.", markup=False, timeout=2)
