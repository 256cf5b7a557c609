"""`LineView`: a render pass reads the widget's style once, and the next pass sees a
style that changed in between (nothing is kept past the pass)."""

from __future__ import annotations

from rich.style import Style
from textual.app import App, ComposeResult
from textual.color import Color
from textual.geometry import Region

from tui.widgets.large_text import LargeText


class CountedText(LargeText):
    reads = 0

    @property
    def rich_style(self) -> Style:
        self.reads += 1
        return super().rich_style


class TextApp(App[None]):
    CSS = "CountedText { height: 20; background: #102030; }"

    def compose(self) -> ComposeResult:
        yield CountedText("one line\nand another")


async def test_one_style_read_per_pass_and_a_new_style_shows_in_the_next() -> None:
    app = TextApp()
    async with app.run_test(size=(40, 24)) as pilot:
        view = app.query_one(CountedText)
        await pilot.pause()
        crop = Region(0, 0, view.size.width, view.size.height)
        view.reads = 0
        view.refresh()  # every line drawn again, none from Textual's line cache
        strips = view.render_lines(crop)
        assert len(strips) == 20
        assert view.reads == 1  # not once per line

        def blank_bg(strip_index: int) -> object:
            style = strips[strip_index]._segments[0].style
            return style.bgcolor if style else None

        before = blank_bg(10)  # a line past the text: drawn blank in the widget's style
        view.styles.background = Color.parse("#a03000")
        strips = view.render_lines(crop)
        assert blank_bg(10) != before
        assert blank_bg(10) == Color.parse("#a03000").rich_color
        # outside a pass, a line reads the style itself
        view.reads = 0
        view.render_line(12)
        assert view.reads == 1
