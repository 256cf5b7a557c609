"""The help screen: every key with its id and description, and what the marks mean."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.domain import RuntimeSource
from tui.widgets.cells import (
    ABSENT,
    BLANK_MARK,
    MISSING_FINAL,
    PRESENT,
    SOURCE_MARKS,
    SOURCE_WORDS,
    SWITCH_MARK,
    UNKNOWN_MARK,
    VISIBLE_SPACE,
)

KeyRow = tuple[str, str, str]  # (key as displayed, binding id, description)
Section = tuple[str, Sequence[KeyRow]]

RUNTIME_NOTIONS = (
    "Two runtime notions, never mixed: the runtime column of the timeline is each turn's "
    "own runtime (which runtime produced that turn: the history, stored per turn). The "
    "CURRENT RUNTIME is the conversation's pointer to the runtime selected now: from the "
    "timeline store when it has the conversation, else derived from the latest turn."
)


def key_rows(bindings: Sequence[BindingType], display: Callable[[Binding], str]) -> list[KeyRow]:
    """(key, id, description) of the bindings that have a description."""
    rows: list[KeyRow] = []
    for b in bindings:
        if isinstance(b, Binding) and b.description:
            keys = [k.strip() for k in b.key.split(",")] if not b.key_display else [b.key]
            shown = " ".join(display(replace(b, key=k)) for k in keys)
            rows.append((shown, b.id or "", b.description))
    return rows


def legend() -> RenderableType:
    """What the glyphs of the conversation list and the timeline mean."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for source in (RuntimeSource.TIMELINE, RuntimeSource.LATEST_TURN):
        table.add_row(Text(f"planner {SOURCE_MARKS[source]}"), Text(SOURCE_WORDS[source]))
    table.add_row(Text(SOURCE_MARKS[RuntimeSource.NONE]), Text("no current runtime at all"))
    table.add_row(
        Text(f"{SWITCH_MARK}3  inventory → planner"),
        Text("runtime switch: this turn ran another runtime than the turn before"),
    )
    table.add_row(
        Text(UNKNOWN_MARK, style="dim italic"),
        Text("the turn's runtime is unknown (nothing stored, nothing in metadata)"),
    )
    table.add_row(
        Text(BLANK_MARK + VISIBLE_SPACE * 2, style="dim italic"),
        Text("a runtime key stored as blank (spaces only): unknown too, spaces made visible"),
    )
    table.add_row(
        Text("s2"),
        Text(
            "session column (only with several sessions): the turn's session; bold on the "
            "first turn of a resumed session"
        ),
    )
    table.add_row(
        Text(f"{PRESENT}  {PRESENT}×3"),
        Text("phase snapshot present; ×3 = three snapshots (tool-loop iterations)"),
    )
    table.add_row(Text(ABSENT), Text("no snapshot of that phase"))
    table.add_row(Text(MISSING_FINAL), Text("no final snapshot: crashed or still running"))
    table.add_row(Text("⚠"), Text("anomalies of the turn (see the turn detail)"))
    table.add_row(
        Text(f"{SWITCH_MARK}3 research → coder · …"),
        Text(
            "under the timeline, on a switch row: what the switch changed (system prompt "
            "lines, model, data keys, blocks) against the previous runtime's last turn"
        ),
    )
    table.add_row(
        Text("!  ctrl+f"),
        Text("database check (every anomaly, by kind) and find (ids, runtime keys, text)"),
    )
    return table


class HelpScreen(ModalScreen[None]):
    """A modal listing every key; escape, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="help.close"),
        Binding("q", "close", "Close", show=False, id="help.close-q"),
        Binding("question_mark", "close", "Close", show=False, id="help.close-help"),
    ]

    def __init__(self, sections: Sequence[Section]) -> None:
        super().__init__(id="help")
        self.sections = sections

    def _keys(self) -> RenderableType:
        parts: list[RenderableType] = []
        for n, (title, rows) in enumerate(self.sections):
            if n:
                parts.append(Text(""))
            parts.append(Text(title, style="bold underline"))
            table = Table.grid(padding=(0, 2))
            table.add_column(no_wrap=True, width=10, style="bold")
            table.add_column(no_wrap=True, width=18)
            table.add_column(style="dim", no_wrap=True)
            for key, binding_id, description in rows:
                table.add_row(Text(key), Text(description), Text(binding_id))
            parts.append(table)
        return Group(*parts)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            with VerticalScroll(id="help-scroll"):
                yield Static(Text("Keys", style="bold"), classes="help-heading")
                yield Static(self._keys(), id="help-keys")
                yield Static(Text("Marks", style="bold"), classes="help-heading")
                yield Static(legend(), id="help-legend")
                yield Static(Text("Runtime", style="bold"), classes="help-heading")
                yield Static(Text(RUNTIME_NOTIONS), id="help-notions")
            yield Static(Text("escape closes this help", style="dim"), id="help-footer")

    def on_mount(self) -> None:
        self.query_one("#help-box").border_title = Text("turns-tui help")
        self.query_one("#help-scroll").focus()

    def action_close(self) -> None:
        self.dismiss()
