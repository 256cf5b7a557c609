"""The phase timeline: one row per turn, runtime switches highlighted."""

from __future__ import annotations

from typing import ClassVar, Literal

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.events import Resize
from textual.widgets.data_table import CellDoesNotExist

from tui.domain import PHASES, ConversationView, TurnView
from tui.widgets.cells import (
    PHASE_HEADERS,
    Density,
    TimelineStyles,
    dated_phases,
    timeline_row,
)
from tui.widgets.fixed_table import FixedWidthTable

ROW_KEY_SEP = "\x1f"

# Columns whose cells can be elided with `…` when the row is wider than the table (the
# widest of them gives up a cell first) and the fewest cells each keeps.
SHRINKABLE: dict[str, int] = {"runtime": 12, "turn": 8, "anomalies": 9, "inference": 5}

Jump = Literal["moved", "wrapped"]


def column_keys(density: Density, sessions: bool) -> list[tuple[str, str]]:
    """(key, header) of the timeline's columns at a density."""
    compact = density == "narrow"
    keys: list[tuple[str, str]] = [("number", "#")]
    if sessions:
        keys.append(("session", "s"))
    keys += [("turn", "turn"), ("runtime", "runtime")]
    if density == "wide":
        keys.append(("inference", "inference"))
    for phase in PHASES:
        wide, short = PHASE_HEADERS[phase]
        keys.append((phase, short if compact else wide))
    keys.append(("anomalies", "anomalies" if density == "wide" else "!"))
    return keys


def fit_widths(natural: dict[str, int], available: int, padding: int) -> dict[str, int]:
    """Column widths: each column's content width, the shrinkable ones cut (widest first)
    until the row fits `available` cells (`padding` cells around every column)."""
    widths = dict(natural)
    over = sum(widths.values()) + padding * len(widths) - available
    while over > 0:
        candidates = [k for k, least in SHRINKABLE.items() if widths.get(k, 0) > least]
        if not candidates:
            break
        widest = max(candidates, key=lambda k: widths[k] - SHRINKABLE[k])
        widths[widest] -= 1
        over -= 1
    return widths


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
        Binding(
            "enter",
            "select_cursor",
            "Detail",
            tooltip="Open the turn's detail: its snapshots, blocks and metadata",
            id="timeline.open",
        ),
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
        self.widths: dict[str, int] = {}  # column key: width, as last fitted
        self._fitted_for = 0  # the table width the columns were fitted to
        self.wrapped: Jump | None = None  # what the last move_to_switch did

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(
            self, lambda _theme: self._rebuild(self.current_turn_key())
        )

    def on_resize(self, event: Resize) -> None:
        if event.size.width != self._fitted_for:
            self._rebuild(self.current_turn_key())

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
        """Move the cursor to the next (or previous) switch row, wrapping around.

        `wrapped` then says whether it went on (`moved`) or wrapped around (`wrapped`).
        """
        self.wrapped = self.jump_to_switch(forward)
        return self.wrapped is not None

    def jump_to_switch(self, forward: bool) -> Jump | None:
        """Move to the next (or previous) switch row; None when there is no switch."""
        rows = self._switch_rows
        if not rows:
            return None
        here = self.cursor_row
        if forward:
            target = next((r for r in rows if r > here), None)
            result: Jump = "moved" if target is not None else "wrapped"
            target = rows[0] if target is None else target
        else:
            target = next((r for r in reversed(rows) if r < here), None)
            result = "moved" if target is not None else "wrapped"
            target = rows[-1] if target is None else target
        self.move_cursor(row=target, animate=False)
        return result

    # -- rendering -------------------------------------------------------------------

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        # Fill the whole row (cell padding and the space right of the last column) with
        # the switch style, not only the text of its cells.
        if row_index in self._switch_row_set:
            return base_style + self._styles().switch
        return super()._get_row_style(row_index, base_style)

    def _styles(self) -> TimelineStyles:
        """The component styles (Textual caches each lookup until the styles change).

        The switch style paints the whole row, background included; the others only
        colour text, so they are partial: a full style would carry the table's unfocused
        background into the cells of a focused table."""

        def get(name: str, fallback: str, *, partial: bool = True) -> Style:
            return self.get_component_rich_style(
                name, partial=partial, default=Style.parse(fallback)
            )

        return TimelineStyles(
            switch=get("timeline--switch", "bold on dark_goldenrod", partial=False),
            unknown=get("timeline--unknown", "dim italic"),
            missing=get("timeline--missing", "bold red"),
            absent=get("timeline--absent", "dim"),
            anomaly=get("timeline--anomaly", "yellow"),
        )

    def _available_width(self) -> int:
        """Cells a row may take: the table's width less its vertical scrollbar."""
        width = self.size.width or max(self.app.size.width - 2, 0)
        return max(width - self.styles.scrollbar_size_vertical, 0)

    def _rebuild(self, keep_key: str | None = None) -> None:
        if not self.is_mounted:
            return
        view = self.view
        density = self.density
        styles = self._styles()
        turns = view.turns if view is not None else ()
        sessions = view is not None and len(view.sessions) > 1
        dated = dated_phases(turns) if density != "narrow" else [frozenset()] * len(turns)
        keys = column_keys(density, sessions)

        def rows(widths: dict[str, int] | None) -> list[list[Text]]:
            return [
                timeline_row(t, styles, density=density, sessions=sessions, dated=d, widths=widths)
                for t, d in zip(turns, dated, strict=True)
            ]

        cells = rows(None)
        natural = {
            key: max([cell_len(header), *(row[i].cell_len for row in cells)])
            for i, (key, header) in enumerate(keys)
        }
        self._fitted_for = self.size.width
        widths = fit_widths(natural, self._available_width(), 2 * self.cell_padding)
        if any(widths[k] < natural[k] for k in ("turn", "runtime", "inference") if k in widths):
            cells = rows(widths)  # elide where the words are, not at the column's edge
        self.widths = widths
        self.clear(columns=True)
        for key, header in keys:
            self.add_column(header, width=widths[key], key=key)
        if view is None:
            self._switch_rows = ()
            self._switch_row_set = frozenset()
            return
        for turn, row in zip(turns, cells, strict=True):
            self.add_row(*row, key=turn_row_key(turn))
        self._switch_rows = view.switch_indexes
        self._switch_row_set = frozenset(view.switch_indexes)
        if keep_key is not None and keep_key in self.rows:
            self.move_cursor(row=self.get_row_index(keep_key), animate=False)
        elif view.turns:
            self.move_cursor(row=len(view.turns) - 1, animate=False)
