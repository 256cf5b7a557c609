"""The key bar: the screen's keys on one line, drawn by one widget.

Textual's `Footer` composes a widget per key and composes them all again whenever the
focus moves; each key then restyles itself (its `compact` class), which made the footer
the largest part of mounting a screen here (the first turn detail, the main screen's
first paint). This bar draws the same keys, grouped the same way (one entry per action,
a `Binding.Group` as its keys and one description, the palette key on the right), as
one line of text, and redraws it when the screen's bindings change. A click on a key
presses it.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import groupby
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget

PALETTE_BAR = "▏"  # between the keys and the palette key on the right


class KeyBar(Widget, can_focus=False):
    """`/ Filter  n N Switch  ? Help … │ ^p Palette`, docked at the bottom."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "key-bar--key",
        "key-bar--description",
        "key-bar--disabled",
    }

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self._hits: list[tuple[int, int, str]] = []  # (first cell, end cell, key)

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self.refresh()

    def _entries(self) -> tuple[list[tuple[list[tuple[Binding, bool]], str]], Binding | None]:
        """(keys, description) in the footer's order, and the palette's binding."""
        active = self.screen.active_bindings
        by_action: defaultdict[str, list[tuple[Binding, bool]]] = defaultdict(list)
        for _node, binding, enabled, _tooltip in active.values():
            if binding.show:
                by_action[binding.action].append((binding, enabled))
        entries: list[tuple[list[tuple[Binding, bool]], str]] = []
        for group, members in groupby(by_action.values(), lambda m: m[0][0].group):
            listed = list(members)
            if group is not None and len(listed) > 1:
                entries.append(([m[0] for m in listed], group.description))
            else:
                entries.extend(([m[0]], m[0][0].description) for m in listed)
        palette = None
        if self.app.ENABLE_COMMAND_PALETTE:
            found = active.get(self.app.COMMAND_PALETTE_BINDING)
            palette = found[1] if found is not None else None
        return entries, palette

    def render(self) -> Text:
        entries, palette = self._entries()
        width = self.size.width
        # roomy with the palette key, tight with it, then without it (as space allows)
        for sep, right in (("  ", palette), (" ", palette), ("  ", None), (" ", None)):
            line, hits = self._draw(entries, right, sep, width)
            shown = right is None or (bool(hits) and hits[-1][2] == right.key.split(",")[0])
            if line.cell_len <= width and shown:
                break
        self._hits = hits
        return line

    def _draw(
        self,
        entries: list[tuple[list[tuple[Binding, bool]], str]],
        palette: Binding | None,
        sep: str,
        width: int,
    ) -> tuple[Text, list[tuple[int, int, str]]]:
        key_style = self.get_component_rich_style("key-bar--key")
        description_style = self.get_component_rich_style("key-bar--description")
        disabled_style = self.get_component_rich_style("key-bar--disabled")
        line = Text(" ", no_wrap=True, overflow="crop", end="")
        hits: list[tuple[int, int, str]] = []

        def add_key(binding: Binding, enabled: bool) -> None:
            start = line.cell_len
            style = key_style if enabled else key_style + disabled_style
            line.append(self.app.get_key_display(binding), style)
            hits.append((start, line.cell_len, binding.key.split(",")[0].strip()))

        for n, (keys, description) in enumerate(entries):
            if n:
                line.append(sep)
            for i, (binding, enabled) in enumerate(keys):
                if i:
                    line.append(" ")
                add_key(binding, enabled)
            if description:
                style = description_style
                if not any(enabled for _, enabled in keys):
                    style = style + disabled_style
                line.append(" " + description, style)
                if len(keys) == 1:  # a click on the description presses its key too
                    start, _end, key = hits[-1]
                    hits[-1] = (start, line.cell_len, key)
        if palette is not None:
            right = Text(no_wrap=True, end="")
            right.append(PALETTE_BAR, "dim")
            right.append(" ")
            start = right.cell_len
            right.append(self.app.get_key_display(palette), key_style)
            right.append(" " + palette.description, description_style)
            end = right.cell_len
            gap = width - line.cell_len - right.cell_len
            if gap >= 1:
                offset = line.cell_len + gap
                line.append(" " * gap)
                line.append_text(right)
                hits.append((offset + start, offset + end, palette.key.split(",")[0].strip()))
        return line, hits

    def shown(self) -> dict[str, str]:
        """Key (its first name) -> the description drawn with it, for every key drawn."""
        entries, palette = self._entries()
        out = {b.key.split(",")[0].strip(): d for keys, d in entries for b, _ in keys}
        if palette is not None:
            out[palette.key.split(",")[0].strip()] = palette.description
        return out

    def key_at(self, x: int) -> str | None:
        """The key drawn at cell `x` (None between keys)."""
        return next((key for start, end, key in self._hits if start <= x < end), None)

    def on_click(self, event: events.Click) -> None:
        key = self.key_at(event.x)
        if key is not None:
            event.stop()
            self.app.simulate_key(key)

    @property
    def plain(self) -> str:
        """The bar as drawn, without styles (for tests)."""
        return self.render().plain
