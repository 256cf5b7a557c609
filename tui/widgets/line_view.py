"""A ScrollView whose lines read the widget's style and width once per render pass."""

from __future__ import annotations

from rich.style import Style
from textual.geometry import Region
from textual.scroll_view import ScrollView
from textual.strip import Strip


class LineView(ScrollView):
    """Base of the Line API widgets (`render_line`).

    `rich_style` walks every ancestor to blend their backgrounds (0.1-0.4 ms a call) and
    `scrollable_content_region` measures the scrollbars; asked in every `render_line`,
    they were half the cost of a line of the turn detail. A render pass draws all its
    lines with one style and one width, so they are read once, in `render_lines`.
    """

    _pass: tuple[Style, int] | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        self._pass = (self.rich_style, self.scrollable_content_region.width)
        try:
            return super().render_lines(crop)
        finally:
            self._pass = None

    def line_style_and_width(self) -> tuple[Style, int]:
        """The widget's style and content width (read once per render pass)."""
        if self._pass is not None:
            return self._pass
        return self.rich_style, self.scrollable_content_region.width
