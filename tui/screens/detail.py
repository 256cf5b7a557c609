"""`#turn-detail`: the snapshots of one turn, the chosen snapshot's blocks, the metadata."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from tui.domain import ANOMALY_LABELS, ConversationView, TurnView
from tui.formatting import format_clock_ms, safe_text, short_id
from tui.store.records import PhaseSnapshot, SnapshotDetail
from tui.widgets.blocks import BlockView, metadata_summary, raw_metadata

MAX_BLOCKS = 400  # a snapshot with more blocks shows its latest ones

SnapshotKey = tuple[str, int]  # (phase, snapshot_created_at_ms)


class SnapshotList(OptionList):
    """The turn's snapshots in time order."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="snapshots.down"),
        Binding("k", "cursor_up", "Up", show=False, id="snapshots.up"),
    ]


def snapshot_prompt(snap: PhaseSnapshot, repeat: int) -> Text:
    """One line of the snapshot list: phase (with its iteration), time, block count."""
    text = Text(safe_text(snap.phase, 16), style="bold")
    if repeat > 1:
        text.append(f" #{repeat}", style="dim")
    text.append("\n")
    text.append(format_clock_ms(snap.snapshot_created_at_ms))
    text.append(f" · {snap.block_count} block{'s' if snap.block_count != 1 else ''}", style="dim")
    return text


class TurnDetailScreen(Screen[None]):
    """Every snapshot of a turn; blocks rendered by kind; metadata and raw metadata."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="detail.back"),
        Binding("r", "toggle_raw", "Raw metadata", id="detail.toggle-raw"),
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
        self.turn = turn
        self.snapshots: tuple[PhaseSnapshot, ...] = tuple(
            sorted(turn.turn.snapshots, key=lambda s: (s.snapshot_created_at_ms, s.phase))
        )
        self.requested: SnapshotKey | None = None
        # Blocks before this index came from earlier turns: the turn's first snapshot holds
        # the history plus the message that started the turn (its last block).
        first = self.snapshots[0] if self.snapshots else None
        self.first_turn_block = max(first.block_count - 1, 0) if first else 0
        self.detail: SnapshotDetail | None = None
        self.raw_visible = False

    # -- layout ----------------------------------------------------------------------

    def _title(self) -> Text:
        t = self.turn
        title = Text()
        title.append(f"turn {t.number} of {len(self.conversation.turns)}", style="bold")
        title.append(" · ", style="dim")
        title.append(short_id(t.turn.turn_id, 16))
        title.append(" · conversation ", style="dim")
        title.append(short_id(self.conversation.conv_id, 16))
        title.append(" · runtime ", style="dim")
        if t.unknown_runtime:
            title.append("∅ unknown", style="dim italic")
        elif t.runtime_switch and t.previous_runtime_key is not None:
            title.append(safe_text(t.previous_runtime_key, 24))
            title.append(" → ")
            title.append(safe_text(t.turn.runtime_key, 24), style="bold")
        else:
            title.append(safe_text(t.turn.runtime_key, 24), style="bold")
        if t.anomalies:
            title.append(" · ⚠ ", style="bold")
            title.append("; ".join(ANOMALY_LABELS.get(a, safe_text(a, 30)) for a in t.anomalies))
        return title

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="detail-title")
        with Horizontal(id="detail-body"):
            options = []
            seen: dict[str, int] = {}
            for snap in self.snapshots:
                seen[snap.phase] = seen.get(snap.phase, 0) + 1
                options.append(Option(snapshot_prompt(snap, seen[snap.phase])))
            yield SnapshotList(*options, id="snapshots")
            with VerticalScroll(id="detail-scroll"):
                yield Vertical(id="blocks")
                yield Static(
                    metadata_summary(
                        self.turn.turn.metadata_json,
                        self.turn.turn.runtime_key,
                        self.turn.turn.inference_id,
                    ),
                    id="metadata-summary",
                )
                yield Static(Text(""), id="metadata-raw")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#snapshots").border_title = Text("snapshots")
        self.query_one("#detail-scroll").border_title = Text("blocks")
        snapshots = self.query_one(SnapshotList)
        if self.snapshots:
            snapshots.highlighted = len(self.snapshots) - 1
        else:
            self.query_one("#blocks").mount(
                Static(Text("This turn has no snapshots.", style="dim italic"))
            )
        snapshots.focus()

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
        header.append(f" · {format_clock_ms(at)} · {total} blocks", style="dim")
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
            view = BlockView(detail.blocks[index])
            view.set_class(index < first_new, "-history")
            widgets.append(view)
        await blocks.mount_all(widgets)
        scroll = self.query_one("#detail-scroll", VerticalScroll)
        if marker is not None:
            self.call_after_refresh(scroll.scroll_to_widget, marker, animate=False, top=True)
        else:
            scroll.scroll_home(animate=False)
        if self.raw_visible:
            self._show_raw()

    # -- actions ---------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss()

    def _show_raw(self) -> None:
        raw = self.query_one("#metadata-raw", Static)
        detail = self.detail
        meta = detail.turn_metadata_json if detail else self.turn.turn.metadata_json
        data = detail.turn_data_json if detail else "{}"
        raw.update(raw_metadata(meta, data))

    def action_toggle_raw(self) -> None:
        raw = self.query_one("#metadata-raw", Static)
        self.raw_visible = not self.raw_visible
        raw.set_class(self.raw_visible, "-visible")
        if self.raw_visible:
            self._show_raw()
            self.query_one("#detail-scroll", VerticalScroll).scroll_to_widget(
                raw, animate=False, top=True
            )

    async def action_expand(self) -> None:
        expanded = 0
        for block in self.query(BlockView):
            if await block.expand_text():
                expanded += 1
        if not expanded:
            self.notify("No cut text in this snapshot.", markup=False, timeout=2)
