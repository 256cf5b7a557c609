"""The phase timeline: one row per turn, runtime switches highlighted."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets.data_table import CellDoesNotExist

from tui.domain import PHASES, ConversationView, TurnView
from tui.widgets.cells import (
    PHASE_HEADERS,
    TURN_ID_WIDTH,
    Density,
    TimelineStyles,
    timeline_row,
)
from tui.widgets.fixed_table import FixedWidthTable

ROW_KEY_SEP = "\x1f"


def turn_row_key(view: TurnView) -> str:
    """Row key of a turn: session and turn id joined by a unit separator."""
    return f"{view.turn.session_id}{ROW_KEY_SEP}{view.turn.turn_id}"


class TimelineTable(FixedWidthTable):
    """`#timeline`: the turns of the selected conversation in order."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "timeline--switch",
        "timeline--unknown",
        "timeline--missing",
        "timeline--absent",
        "timeline--anomaly",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="timeline.down"),
        Binding("k", "cursor_up", "Up", show=False, id="timeline.up"),
        Binding("home,g", "scroll_top", "First row", show=False, id="timeline.first"),
        Binding("end,G", "scroll_bottom", "Last row", show=False, id="timeline.last"),
        Binding("enter", "select_cursor", "Turn detail", id="timeline.open"),
    ]

    def __init__(self, *, id: str = "timeline") -> None:  # noqa: A002 - Textual's name
        super().__init__(
            id=id,
            cursor_type="row",
            zebra_stripes=False,
            cursor_foreground_priority="renderable",
            cursor_background_priority="css",
        )
        self.view: ConversationView | None = None
        self.density: Density = "wide"
        self._switch_rows: tuple[int, ...] = ()
        self._switch_row_set: frozenset[int] = frozenset()
        self._columns_density: Density | None = None

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(
            self, lambda _theme: self._rebuild(self.current_turn_key())
        )

    # -- state from the parent -------------------------------------------------------

    def show(self, view: ConversationView | None) -> None:
        """Show a conversation (or nothing).

        Reloading the same conversation keeps the cursor on its turn, or on the newest turn
        when it was there (so follow mode tails new turns); another one starts at its end.
        """
        same_conv = view is not None and self.view is not None and view.conv_id == self.view.conv_id
        at_end = self.row_count > 0 and self.cursor_row >= self.row_count - 1
        keep = self.current_turn_key() if same_conv and not at_end else None
        self.view = view
        self._rebuild(keep)

    def set_density(self, density: Density) -> None:
        """Fewer columns on narrower terminals (see `cells.timeline_row`)."""
        if density != self.density:
            self.density = density
            self._rebuild(self.current_turn_key())

    # -- queries ---------------------------------------------------------------------

    @property
    def switch_rows(self) -> tuple[int, ...]:
        """Row indexes drawn as runtime switches."""
        return self._switch_rows

    def highlighted_rows(self) -> set[int]:
        """Rows whose every cell carries the switch style (what the user sees)."""
        style = self._styles().switch
        out: set[int] = set()
        for index in range(self.row_count):
            cells = self.get_row_at(index)
            if cells and all(isinstance(c, Text) and c.style == style for c in cells):
                out.add(index)
        return out

    def current_turn_key(self) -> str | None:
        """Row key of the turn under the cursor."""
        if self.row_count == 0:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except CellDoesNotExist:
            return None
        return key.value

    def turn_at_cursor(self) -> TurnView | None:
        """The turn under the cursor."""
        if self.view is None or not self.view.turns or self.row_count == 0:
            return None
        return self.view.turns[min(self.cursor_row, len(self.view.turns) - 1)]

    # -- actions ---------------------------------------------------------------------

    def move_to_switch(self, forward: bool) -> bool:
        """Move the cursor to the next (or previous) switch row, wrapping around."""
        rows = self._switch_rows
        if not rows:
            return False
        here = self.cursor_row
        if forward:
            target = next((r for r in rows if r > here), rows[0])
        else:
            target = next((r for r in reversed(rows) if r < here), rows[-1])
        self.move_cursor(row=target, animate=False)
        return True

    # -- rendering -------------------------------------------------------------------

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        # Fill the whole row (cell padding and the space right of the last column) with
        # the switch style, not only the text of its cells.
        if row_index in self._switch_row_set:
            return base_style + self._styles().switch
        return super()._get_row_style(row_index, base_style)

    def _styles(self) -> TimelineStyles:
        def get(name: str, fallback: str) -> Style:
            return self.get_component_rich_style(name, default=Style.parse(fallback))

        return TimelineStyles(
            switch=get("timeline--switch", "bold on dark_goldenrod"),
            unknown=get("timeline--unknown", "dim italic"),
            missing=get("timeline--missing", "bold red"),
            absent=get("timeline--absent", "dim"),
            anomaly=get("timeline--anomaly", "yellow"),
        )

    def _ensure_columns(self) -> None:
        if self._columns_density == self.density and self.columns:
            return
        self.clear(columns=True)
        density = self.density
        compact = density == "narrow"
        self.add_column("#", width=4, key="number")
        self.add_column("turn", width=TURN_ID_WIDTH[density], key="turn")
        self.add_column("runtime", width=22 if not compact else 21, key="runtime")
        if density == "wide":
            self.add_column("inference", width=9, key="inference")
        for phase in PHASES:
            wide, short = PHASE_HEADERS[phase]
            width = 16 if not compact else (9 if phase == "final" else 4)
            self.add_column(short if compact else wide, width=width, key=phase)
        if density == "wide":
            self.add_column("anomalies", width=16, key="anomalies")
        else:
            self.add_column("!", width=3, key="anomalies")
        self._columns_density = density

    def _rebuild(self, keep_key: str | None = None) -> None:
        if not self.is_mounted:
            return
        self._ensure_columns()
        self.clear(columns=False)
        view = self.view
        if view is None:
            self._switch_rows = ()
            self._switch_row_set = frozenset()
            return
        styles = self._styles()
        for turn in view.turns:
            self.add_row(*timeline_row(turn, styles, density=self.density), key=turn_row_key(turn))
        self._switch_rows = view.switch_indexes
        self._switch_row_set = frozenset(view.switch_indexes)
        if keep_key is not None and keep_key in self.rows:
            self.move_cursor(row=self.get_row_index(keep_key), animate=False)
        elif view.turns:
            self.move_cursor(row=len(view.turns) - 1, animate=False)
