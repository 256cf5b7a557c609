"""A read-only viewer for megabytes of text: draws only the visible lines.

Textual's TextArea and Log process every line up front (wrapping, measuring), which takes
seconds for a 5 MB block; this view splits the text once and renders lines on demand,
like Toolong's log view.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.geometry import Size
from textual.strip import Strip

from tui.widgets.line_view import LineView

CHUNK = 1000  # characters: longer lines are shown as several numbered continuation rows
TAB = "    "


def split_lines(text: str, chunk: int = CHUNK) -> list[str]:
    """Lines of `text`, very long lines cut into `chunk`-sized rows, tabs expanded."""
    rows: list[str] = []
    for line in text.split("\n"):
        if "\t" in line:
            line = line.replace("\t", TAB)
        if len(line) <= chunk:
            rows.append(line)
        else:
            rows.extend(line[i : i + chunk] for i in range(0, len(line), chunk))
    return rows


class LargeText(LineView, can_focus=True):
    """Line-numbered, scrollable, read-only text of any size."""

    def __init__(self, text: str, *, classes: str = "") -> None:
        super().__init__(classes=classes)
        self.lines = split_lines(text)
        self.text_length = len(text)
        self._digits = len(str(len(self.lines)))
        self._cache: LRUCache[tuple[int, int, int], Strip] = LRUCache(512)

    def on_mount(self) -> None:
        widest = max(
            (len(line) if line.isascii() else cell_len(line) for line in self.lines), default=0
        )
        self.virtual_size = Size(widest + self._digits + 1, len(self.lines))

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        base, width = self.line_style_and_width()
        if index >= len(self.lines):
            return Strip.blank(width, base)
        key = (index, scroll_x, width)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        gutter = self._digits + 1
        number = Segment(f"{index + 1:>{self._digits}} ", base + Style(dim=True))
        body = Strip([Segment(self.lines[index], base)]).crop_extend(
            scroll_x, scroll_x + max(width - gutter, 0), base
        )
        strip = Strip([number, *body], width).simplify()
        self._cache[key] = strip
        return strip
