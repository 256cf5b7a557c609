"""`#turn-detail`: the snapshots of one turn, the chosen snapshot's blocks, the metadata.

`[` and `]` move to the previous and next turn of the conversation in place; `x` switches
every block between its rendered and its exact view; `r` shows everything raw (turn
metadata and data, every block's payload and metadata); `e` shows cut text in full.

The blocks, the metadata panel and the raw view are sections of one virtualised
`SnapshotView` (`#detail-scroll`), which draws only the visible lines: a snapshot of
hundreds of blocks or a block of megabytes opens at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.geometry import Size
from textual.message import Message
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.collector import freeze_long_lived
from tui.diff import (
    diff_snapshots,
    final_or_latest,
    previous_phase,
    previous_runtime_turn,
    previous_turn,
)
from tui.domain import ANOMALY_LABELS, UNKNOWN_RUNTIME, ConversationView, TurnView
from tui.formatting import format_clock_ms, safe_text, short_id
from tui.store.records import DERIVED_RUNTIME, PhaseSnapshot, SnapshotDetail, TurnRecord
from tui.widgets.block_text import day_of, format_timestamp_ms, is_blank_key, visible_blank
from tui.widgets.detail_sections import (
    MAX_BLOCKS,
    block_section,
    empty_sections,
    metadata_section,
    raw_sections,
    snapshot_sections,
)
from tui.widgets.diff_view import diff_sections, nothing_to_compare
from tui.widgets.key_bar import KeyBar
from tui.widgets.snapshot_view import Section, SnapshotView

__all__ = ["MAX_BLOCKS", "SnapshotList", "TurnDetailScreen"]

SnapshotKey = tuple[str, int]  # (phase, snapshot_created_at_ms)


# Pairs of keys that share one footer entry, so the footer fits 80 columns.
TURNS = Binding.Group("Turn")
COPY = Binding.Group("Copy")


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


def shown_first(turn: TurnView) -> PhaseSnapshot | None:
    """The snapshot a detail opened on `turn` with no phase shows: its latest."""
    snapshots = _sorted_snapshots(turn)
    return snapshots[-1] if snapshots else None


def first_turn_block(turn: TurnView) -> int:
    """The index of the turn's first own block: the ones before it came from earlier
    turns (its first snapshot holds the history plus the message that started it)."""
    snapshots = _sorted_snapshots(turn)
    return max(snapshots[0].block_count - 1, 0) if snapshots else 0


# The view's width for an app `width` cells wide (app.tcss: #snapshots is 30 cells, 28 on
# a -narrow screen; #detail-scroll has a border, a padding of 1 and a stable scrollbar
# gutter). Only a guess made before the screen is laid out: a wrong one costs a second
# layout, never a wrong line (tests check it against the laid-out view).
SNAPSHOT_LIST_WIDTH = 30
NARROW_SNAPSHOT_LIST_WIDTH = 28
VIEW_CHROME_WIDTH = 6


def predicted_view_width(width: int, narrow: bool) -> int:
    """The width a turn detail in an app `width` cells wide lays its sections out at."""
    listed = NARROW_SNAPSHOT_LIST_WIDTH if narrow else SNAPSHOT_LIST_WIDTH
    return max(width - listed - VIEW_CHROME_WIDTH, 1)


@dataclass(frozen=True)
class PreparedSections:
    """A snapshot's sections in a newly opened detail's view (rendered text, no raw view,
    no diff, nothing marked), laid out ahead for `width`."""

    turn_id: str
    detail: SnapshotDetail
    width: int
    sections: list[Section]


def prepare_sections(turn: TurnView, detail: SnapshotDetail, width: int) -> PreparedSections:
    """Build and lay out the sections a detail opened on `turn` shows for `detail` (pure:
    run in a thread while the user still looks at the timeline)."""
    sections = [
        *snapshot_sections(detail, first_turn_block(turn)),
        metadata_section(turn.turn),
    ]
    for section in sections:
        if section.renderable is None:  # the view lays out Rich renderables itself
            section.layout(width, None)
    return PreparedSections(turn.turn.turn_id, detail, width, sections)


def turn_time_ms(turn: TurnView) -> int:
    """When the turn was created (its first snapshot when the column is 0)."""
    if turn.turn.turn_created_at_ms > 0:
        return turn.turn.turn_created_at_ms
    return min((s.snapshot_created_at_ms for s in turn.turn.snapshots), default=0)


COMPARE_MODES = ("phase", "turn", "runtime")
COMPARE_LABELS = {
    "phase": "the previous phase",
    "turn": "the previous turn",
    "runtime": "the previous runtime's last turn",
}


@dataclass(frozen=True)
class ComparisonTarget:
    """The snapshot a diff compares the shown one with, and how to say so."""

    mode: str
    turn: TurnRecord
    snapshot: PhaseSnapshot
    label: str

    @property
    def key(self) -> SnapshotKey:
        return (self.snapshot.phase, self.snapshot.snapshot_created_at_ms)


def comparison_target(
    conversation: ConversationView, turn: TurnView, shown: PhaseSnapshot, mode: str
) -> ComparisonTarget | None:
    """What `shown` (a snapshot of `turn`) is compared with in `mode`: (a) "phase", the
    previous phase of the same turn; (b) "turn", the previous turn's final (or latest)
    snapshot; (c) "runtime", on a switch turn only, the last turn of the previous runtime.
    """
    record = turn.turn
    if mode == "phase":
        snap = previous_phase(record, shown)
        if snap is None:
            return None
        label = f"previous phase {snap.phase} {format_clock_ms(snap.snapshot_created_at_ms)}"
        return ComparisonTarget(mode, record, snap, safe_text(label))
    records = [t.turn for t in conversation.turns]
    if mode == "turn":
        other = previous_turn(records, record)
    elif mode == "runtime" and turn.runtime_switch:
        other = previous_runtime_turn(records, record)
    else:
        return None
    if other is None:
        return None
    snap = final_or_latest(other)
    if snap is None:
        return None
    number = next((t.number for t in conversation.turns if t.turn.turn_id == other.turn_id), 0)
    if mode == "turn":
        label = f"previous turn {number} ({snap.phase})"
    else:
        key = visible_blank(other.runtime_key, 24) or "unknown"
        label = f"runtime {key}'s last turn {number} ({snap.phase})"
    return ComparisonTarget(mode, other, snap, safe_text(label))


# where a snapshot is: conversation, session, turn, phase, snapshot_created_at_ms
SnapshotPlace = tuple[str, str, str, str, int]


class SnapshotAsk(Message):
    """A snapshot the screen wants loaded: which conversation, session, turn and phase,
    taken when (the fields the store's `snapshot` read takes)."""

    def __init__(
        self, conv_id: str, session_id: str, turn_id: str, phase: str, created_at_ms: int
    ) -> None:
        super().__init__()
        self.conv_id = conv_id
        self.session_id = session_id
        self.turn_id = turn_id
        self.phase = phase
        self.created_at_ms = created_at_ms

    @property
    def place(self) -> SnapshotPlace:
        """The fields in the order the store's `snapshot` read takes them."""
        return (self.conv_id, self.session_id, self.turn_id, self.phase, self.created_at_ms)


class TurnDetailScreen(Screen[None]):
    """Every snapshot of a turn; blocks rendered by kind; metadata and raw metadata."""

    def _screen_resized(self, size: Size) -> None:
        # Textual sends a newly shown screen a Resize to the size it has just been laid
        # out at, and lays it all out again; a size already laid out needs nothing.
        if size == self._compositor.size:
            return
        super()._screen_resized(size)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="detail.back"),
        Binding(
            "left_square_bracket",
            "previous_turn",
            "Prev turn",
            key_display="[",
            group=TURNS,
            id="detail.previous-turn",
            tooltip="Show the previous turn of the conversation",
        ),
        Binding(
            "right_square_bracket",
            "next_turn",
            "Next turn",
            key_display="]",
            group=TURNS,
            id="detail.next-turn",
            tooltip="Show the next turn of the conversation",
        ),
        Binding(
            "x",
            "toggle_exact",
            "Exact",
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
        # Hidden from the footer (a cut block says "press e to expand"); listed in help.
        Binding("e", "expand", "Expand text", show=False, id="detail.expand"),
        Binding(
            "d",
            "diff",
            "Diff",
            id="detail.diff",
            tooltip="Compare with the previous phase, the previous turn, or (on a switch) the "
            "last turn of the previous runtime; again to cycle, then back to the blocks",
        ),
        Binding(
            "c",
            "copy_id",
            "Copy id",
            group=COPY,
            id="detail.copy-id",
            tooltip="Copy the id under the cursor (the block's in the blocks view, else the "
            "turn's); again for the inference id, then the conversation id",
        ),
        Binding(
            "C",
            "copy_text",
            "Copy text",
            key_display="C",
            group=COPY,
            id="detail.copy-text",
            tooltip="Copy the exact stored text of the block at the top of the view",
        ),
        Binding("tab", "app.focus_next", "Next pane", show=False, id="detail.focus-next"),
        Binding(
            "shift+tab",
            "app.focus_previous",
            "Previous pane",
            show=False,
            id="detail.focus-previous",
        ),
    ]

    class SnapshotRequested(SnapshotAsk):
        """Load the blocks of one snapshot of this turn."""

    class ComparisonRequested(SnapshotAsk):
        """Load a snapshot (of this or another turn) to compare the shown one with."""

    def __init__(
        self,
        conversation: ConversationView,
        turn: TurnView,
        *,
        phase: str | None = None,
        snapshot_created_at_ms: int | None = None,
        block_ordinal: int | None = None,
    ) -> None:
        """The detail of `turn`, at the snapshot `phase` (taken at `snapshot_created_at_ms`
        when given; the latest snapshot when there is no such one), scrolled to the block of
        ordinal `block_ordinal` and marked (a find's match)."""
        super().__init__(id="turn-detail")
        self.reuse_for(
            conversation,
            turn,
            phase=phase,
            snapshot_created_at_ms=snapshot_created_at_ms,
            block_ordinal=block_ordinal,
        )

    def reuse_for(
        self,
        conversation: ConversationView,
        turn: TurnView,
        *,
        phase: str | None = None,
        snapshot_created_at_ms: int | None = None,
        block_ordinal: int | None = None,
    ) -> None:
        """Show `turn` as a freshly opened detail would: every field back to its default
        (the view toggles too); on a composed screen its widgets are updated, so pushing it
        again costs no compose, mount or styling of its widgets."""
        self.conversation = conversation
        self.raw_visible = False
        self.exact = False  # every block in its exact view
        self.compare_mode: str | None = None  # "phase" | "turn" | "runtime" (d)
        self._last_copy: tuple[str, str] | None = None  # what c copied last
        # (snapshot, block ordinal) a find jumped to: scrolled to and marked when shown
        self.found_block: tuple[SnapshotKey, int] | None = None
        self._point_at(turn)
        self.start_index = self.snapshot_index(phase, snapshot_created_at_ms)
        if block_ordinal is not None and self.start_index is not None:
            snap = self.snapshots[self.start_index]
            self.found_block = ((snap.phase, snap.snapshot_created_at_ms), block_ordinal)
        if self.is_mounted:
            self.query_one("#detail-title", Static).update(self._title())
            snapshots = self.query_one(SnapshotList)
            snapshots.set_options(snapshot_options(self.snapshots, turn_time_ms(turn)))
            self._present()
        else:
            # a new screen: ask for the blocks now, so they are read (and laid out) while
            # the screen composes, mounts and paints; they are shown once it is mounted
            self._request(self._shown_index(self.start_index))

    def _point_at(self, turn: TurnView) -> None:
        self.turn = turn
        self.snapshots: tuple[PhaseSnapshot, ...] = _sorted_snapshots(turn)
        self.requested: SnapshotKey | None = None
        self.first_turn_block = first_turn_block(turn)
        self._prepared: PreparedSections | None = None  # laid out ahead (the read-ahead)
        self.detail: SnapshotDetail | None = None
        self._metadata: Section | None = None  # the turn's metadata panel, once made
        self.loaded = False  # a load of the requested snapshot completed
        self.expanded = False  # cut text shown in full (e)
        self.found_block = None  # another turn: no block to mark
        self._forget_comparison()

    def snapshot_index(self, phase: str | None, created_at_ms: int | None) -> int | None:
        """The index in `snapshots` of the snapshot `phase` (at `created_at_ms` if given)."""
        if phase is None:
            return None
        return next(
            (
                i
                for i, s in enumerate(self.snapshots)
                if s.phase == phase and created_at_ms in (None, s.snapshot_created_at_ms)
            ),
            None,
        )

    def _forget_comparison(self) -> None:
        self.compare_target: ComparisonTarget | None = None
        self.comparison: SnapshotDetail | None = None
        self.comparison_loaded = False

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
            yield SnapshotView(id="detail-scroll")
        yield KeyBar()

    @property
    def view(self) -> SnapshotView:
        """The one view of blocks, metadata, raw view and diff."""
        return self.query_one("#detail-scroll", SnapshotView)

    def on_mount(self) -> None:
        # this screen is kept (installed) and re-pointed: it lives as long as the app,
        # and the blocks it is about to build should not set off a walk of it
        freeze_long_lived()
        self.query_one("#snapshots").border_title = Text("snapshots")
        self._present()

    def _present(self) -> None:
        """Titles, focus and the first snapshot's request of a newly shown turn."""
        self._update_scroll_title()
        self.query_one(SnapshotList).focus()
        if self.loaded:  # read before the screen was mounted
            self._show_sections()
        else:
            self._render_sections()
        self._select_last_snapshot(self.start_index)
        if self.found_block is not None:
            self.view.focus()  # the found block is the one c copies, j/k scroll from it

    def _update_scroll_title(self) -> None:
        if self.compare_mode is not None:
            target = self.compare_target
            label = target.label if target is not None else COMPARE_LABELS[self.compare_mode]
            self.view.border_title = Text(f"diff · against {label}")
            return
        mode = "exact text" if self.exact else "rendered"
        title = f"blocks · {mode}"
        if self.raw_visible:
            title += " · raw"
        self.view.border_title = Text(title)

    def _shown_index(self, index: int | None = None) -> int:
        """The snapshot `index` when it is one, else the latest (-1: none)."""
        if index is None or not 0 <= index < len(self.snapshots):
            return len(self.snapshots) - 1
        return index

    def _select_last_snapshot(self, index: int | None = None) -> None:
        """Select snapshot `index` (the latest when None)."""
        snapshots = self.query_one(SnapshotList)
        if self.snapshots:
            index = self._shown_index(index)
            # ask now rather than when the list reports its highlight: the blocks then
            # usually arrive before the screen's first paint
            self._request(index)
            snapshots.highlighted = index

    def _sections(self) -> list[Section]:
        if self.compare_mode is not None:
            return [*self._diff_sections(), self._metadata_section()]
        sections: list[Section] = []
        if self.raw_visible:
            sections.extend(raw_sections(self.turn.turn, self.detail))
        if not self.snapshots:
            sections.extend(empty_sections("This turn has no snapshots."))
        elif self.detail is None:
            if self.loaded:
                sections.extend(empty_sections("Snapshot not found."))
        else:
            sections.extend(
                snapshot_sections(
                    self.detail,
                    self.first_turn_block,
                    exact=self.exact,
                    expanded=self.expanded,
                    marked_ordinal=self._found_ordinal(),
                )
            )
        sections.append(self._metadata_section())
        return sections

    def _metadata_section(self) -> Section:
        """The turn's metadata panel, made once per turn: a Rich table that the view lays
        out again only when its width changes (every rebuild of the blocks keeps it)."""
        if self._metadata is None:
            self._metadata = metadata_section(self.turn.turn)
        return self._metadata

    def _found_ordinal(self) -> int | None:
        """The ordinal of the block a find jumped to, when its snapshot is the one shown."""
        if self.found_block is None or self.found_block[0] != self.requested:
            return None
        return self.found_block[1]

    def found_section(self) -> Section | None:
        """The section of the block a find jumped to, when shown (and marked)."""
        return self.view.marked_section()

    def _render_sections(
        self,
        *,
        keep_scroll: bool = False,
        sections: list[Section] | None = None,
        width: int | None = None,
    ) -> None:
        """Hand the view its sections (`sections` when already built, laid out for
        `width`); scroll to the raw view, the found block, the marker or the top."""
        view = self.view
        y = view.scroll_y
        if sections is None:
            view.set_sections(self._sections())
        else:
            view.set_sections(sections, width)
        found = self.found_section() if self.compare_mode is None else None
        if keep_scroll:
            view.scroll_y_to(y)
        elif found is not None and not self.raw_visible:
            view.scroll_to_section(found.key)
        elif (
            not self.raw_visible
            and self.compare_mode is None
            and view.section("marker") is not None
        ):
            view.scroll_to_section("marker")
        else:
            view.scroll_home(animate=False, immediate=True)

    # -- loading ---------------------------------------------------------------------

    @on(OptionList.OptionHighlighted, "#snapshots")
    def _snapshot_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option_index != event.option_list.highlighted:
            return  # stale: the list's own first highlight, sent after the one we set
        self._request(event.option_index)

    def _request(self, index: int) -> None:
        """Ask the app for the blocks of snapshot `index` (once per snapshot)."""
        if not 0 <= index < len(self.snapshots):
            return
        snap = self.snapshots[index]
        key = (snap.phase, snap.snapshot_created_at_ms)
        if key == self.requested:
            return
        self.requested = key
        t = self.turn.turn
        # straight to the app, not bubbled: this screen's queue is busy with its own mount
        # and first paint, and the read should run meanwhile
        self.app.post_message(
            self.SnapshotRequested(
                t.conv_id, t.session_id, t.turn_id, snap.phase, snap.snapshot_created_at_ms
            )
        )

    async def show_snapshot(
        self,
        key: SnapshotKey,
        detail: SnapshotDetail | None,
        prepared: PreparedSections | None = None,
    ) -> None:
        """Show the blocks of a loaded snapshot (ignored if the user moved on); `prepared`:
        its sections laid out ahead, used when they are what the view would build now."""
        if key != self.requested:
            return
        self.detail = detail
        self.loaded = True
        self.expanded = False
        self._prepared = prepared
        if not self.is_mounted:
            return  # read before the screen was mounted: on_mount shows it
        if self.compare_mode is not None:
            self._compare(self.compare_mode)  # the shown snapshot changed: so does its diff
            self._render_sections()
            return
        self._show_sections()

    def _show_sections(self) -> None:
        """The loaded snapshot's sections: the ones laid out ahead when they fit, else
        built and laid out in a thread."""
        if not self._show_prepared():
            self._build_sections()

    def _show_prepared(self) -> bool:
        """Hand the view the sections laid out ahead, when they are what it would build
        now: this snapshot, the default view, the width it lays out at (before the first
        layout the predicted one; the view checks it when it gets its size)."""
        prepared, self._prepared = self._prepared, None
        if (
            prepared is None
            or prepared.detail is not self.detail
            or prepared.turn_id != self.turn.turn.turn_id
            or self.exact
            or self.expanded
            or self.raw_visible
            or self.compare_mode is not None
            or self._found_ordinal() is not None
        ):
            return False
        if self.view.size.width and prepared.width != self._section_width():
            return False
        self._metadata = prepared.sections[-1]
        self._render_sections(sections=prepared.sections, width=prepared.width)
        return True

    def _section_width(self) -> int:
        """The width sections are laid out at: a long snapshot's, for the scrollbar it
        will show."""
        view = self.view
        blocks = len(self.detail.blocks) if self.detail is not None else 0
        return view.width_when_scrolling() if blocks > 3 else view.content_width()

    def _view_state(self) -> tuple[object, ...]:
        """What the sections are built from (a change while building: build again)."""
        return (
            self.requested,
            self.detail,
            self.exact,
            self.expanded,
            self.raw_visible,
            self.compare_mode,
            self.found_block,
        )

    @work(exclusive=True, group="detail-sections", exit_on_error=False)
    async def _build_sections(self) -> None:
        """Build and lay out a snapshot's sections in a thread (a few hundred blocks of
        JSON, Markdown styling and wrapping), then hand them to the view."""
        state = self._view_state()
        view = self.view
        for _ in range(200):  # a screen's first snapshot can come before its first layout
            if view.size.width:
                break
            await asyncio.sleep(0.005)
        width = self._section_width()
        sections = await asyncio.to_thread(self._laid_out, width)
        if self._view_state() == state:
            self._render_sections(sections=sections, width=width)
        else:
            self._render_sections()  # a toggle came meanwhile: build what it asks for now

    def _laid_out(self, width: int) -> list[Section]:
        """The sections, text ones laid out at `width` (run off the event loop; the view
        lays out the few that hold Rich renderables, which need its console)."""
        sections = self._sections()
        for section in sections:
            if section.renderable is None:
                section.layout(width, None)
        return sections

    # -- the diff (d) ----------------------------------------------------------------

    def _shown_snapshot(self) -> PhaseSnapshot | None:
        if self.requested is None:
            return None
        phase, at = self.requested
        return next(
            (s for s in self.snapshots if (s.phase, s.snapshot_created_at_ms) == (phase, at)),
            None,
        )

    def _target(self, mode: str) -> ComparisonTarget | None:
        shown = self._shown_snapshot()
        if shown is None:
            return None
        return comparison_target(self.conversation, self.turn, shown, mode)

    def _compare(self, mode: str) -> None:
        """Compare the shown snapshot in `mode`: ask for the other snapshot if needed."""
        target = self._target(mode)
        if target == self.compare_target and self.comparison_loaded:
            return
        self.compare_target = target
        self.comparison = None
        self.comparison_loaded = False
        if target is None:
            return
        t = target.turn
        self.post_message(
            self.ComparisonRequested(
                t.conv_id,
                t.session_id,
                t.turn_id,
                target.snapshot.phase,
                target.snapshot.snapshot_created_at_ms,
            )
        )

    def show_comparison(
        self, turn_id: str, key: SnapshotKey, detail: SnapshotDetail | None
    ) -> None:
        """The snapshot to compare with was read (ignored if the user moved on)."""
        target = self.compare_target
        if target is None or (target.turn.turn_id, target.key) != (turn_id, key):
            return
        self.comparison = detail
        self.comparison_loaded = True
        self._render_sections()

    def _diff_sections(self) -> list[Section]:
        target = self.compare_target
        if self.detail is None or target is None:
            return list(
                nothing_to_compare("Loading …" if not self.loaded else "Nothing to compare.")
            )
        if not self.comparison_loaded:
            return list(nothing_to_compare(f"Loading {target.label} …"))
        if self.comparison is None:
            return list(nothing_to_compare(f"{target.label}: snapshot not found."))
        d = diff_snapshots(self.comparison, self.detail, target.turn, self.turn.turn)
        return diff_sections(d, target.label, self.comparison, self.detail)

    def available_modes(self) -> list[str]:
        """The comparisons the shown snapshot has (in the order `d` cycles them)."""
        return [m for m in COMPARE_MODES if self._target(m) is not None]

    def action_diff(self) -> None:
        modes = self.available_modes()
        if not modes and self.compare_mode is None:
            self.notify(
                "Nothing to compare with: no earlier phase, turn or runtime.",
                markup=False,
                timeout=3,
            )
            return
        order: list[str | None] = [None, *modes]
        current = order.index(self.compare_mode) if self.compare_mode in order else 0
        self.compare_mode = order[(current + 1) % len(order)]
        if self.compare_mode is None:
            self._forget_comparison()
        else:
            self._compare(self.compare_mode)
        self._update_scroll_title()
        self._render_sections()

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
        self.compare_mode = None  # the new turn's snapshot is not loaded yet
        self._update_scroll_title()
        self.query_one("#detail-title", Static).update(self._title())
        snapshots = self.query_one(SnapshotList)
        snapshots.set_options(snapshot_options(self.snapshots, turn_time_ms(turn)))
        self._render_sections()
        self._select_last_snapshot()

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

    # -- copy (c, C) -----------------------------------------------------------------

    def copy_ids(self) -> list[tuple[str, str]]:
        """(what, id) in the order `c` copies them: the id under the cursor first."""
        t = self.turn.turn
        ids: list[tuple[str, str]] = []
        current = self.view.current_section() if self.view.has_focus else None
        if current is not None and current.block is not None and current.block.block.block_id:
            ids.append(("block id", current.block.block.block_id))
        ids.append(("turn id", t.turn_id))
        if t.inference_id:
            ids.append(("inference id", t.inference_id))
        ids.append(("conversation id", t.conv_id))
        return ids

    def action_copy_id(self) -> None:
        ids = self.copy_ids()
        last = self._last_copy
        index = 0
        if last is not None and last in ids:
            index = (ids.index(last) + 1) % len(ids)
        what, value = ids[index]
        self._last_copy = (what, value)
        self.app.copy_to_clipboard(value)
        following = ids[(index + 1) % len(ids)][0]
        self.notify(
            f"Copied {what} {safe_text(value, 60)} (c again: {following})",
            markup=False,
            timeout=3,
        )

    def action_copy_text(self) -> None:
        current = self.view.current_section()
        if current is None or current.block is None:
            self.notify("No block to copy.", markup=False, timeout=2)
            return
        model = current.block
        text = model.exact_text()
        self.app.copy_to_clipboard(text)
        self.notify(
            f"Copied the exact text of block #{model.block.ordinal} ({len(text):,} characters)",
            markup=False,
            timeout=3,
        )

    def action_toggle_raw(self) -> None:
        self.raw_visible = not self.raw_visible
        self._update_scroll_title()
        self._render_sections()

    def action_toggle_exact(self) -> None:
        self.exact = not self.exact
        self.expanded = False
        self._update_scroll_title()
        self._render_sections(keep_scroll=True)

    def action_expand(self) -> None:
        view = self.view
        cut = [s for s in view.sections if s.block is not None and s.block.full_text is not None]
        if not cut or self.expanded:
            self.notify("No cut text in this snapshot.", markup=False, timeout=2)
            return
        self.expanded = True
        for s in cut:
            model = s.block
            assert model is not None
            model.expanded = True
            view.replace_section(
                s.key,
                block_section(model, int(s.key.split(":")[1]), history=s.history, marked=s.marked),
            )
