"""The key bar: the screen's keys as the footer groups them, one widget, clicks press keys."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

import tui
from tests.snapshot_apps.support import settle
from tui.widgets.key_bar import KeyBar

PAIR = Binding.Group("Switch")


class BarApp(App[None]):
    CSS_PATH = str(Path(tui.__file__).parent / "app.tcss")  # where the bar's CSS lives
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "note('filter')", "Filter", key_display="/"),
        Binding("n", "note('next')", "Next", group=PAIR),
        Binding("N", "note('previous')", "Prev", key_display="N", group=PAIR),
        Binding("h", "note('hidden')", "Hidden", show=False),
        Binding("q", "note('quit')", "Quit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.notes: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("body")
        yield KeyBar()

    def action_note(self, what: str) -> None:
        self.notes.append(what)


async def test_keys_grouped_like_the_footer_and_a_click_presses_one() -> None:
    app = BarApp()
    async with app.run_test(size=(100, 10)) as pilot:
        await settle(pilot)
        bar = app.query_one(KeyBar)
        text = bar.plain
        assert text.startswith(" / Filter  n N Switch  q Quit")
        assert "Hidden" not in text and "Next" not in text  # a group shows its description
        assert text.rstrip().lower().endswith("^p palette")
        assert bar.region.height == 1 and bar.region.bottom == 10
        assert bar.shown()["q"] == "Quit"
        await pilot.click(KeyBar, offset=(text.index("Quit"), 0))
        await pilot.click(KeyBar, offset=(text.index("N Switch"), 0))
        await pilot.click(KeyBar, offset=(text.index("  n N") + 1, 0))  # between keys
        await settle(pilot)
    assert app.notes == ["quit", "previous"]


async def test_a_narrow_bar_tightens_then_drops_the_palette_key() -> None:
    app = BarApp()
    async with app.run_test(size=(41, 10)) as pilot:
        await settle(pilot)
        tight = app.query_one(KeyBar).plain
        assert tight.startswith(" / Filter n N Switch q Quit") and "^p palette" in tight.lower()
    app = BarApp()
    async with app.run_test(size=(30, 10)) as pilot:
        await settle(pilot)
        narrow = app.query_one(KeyBar).plain
        assert narrow.startswith(" / Filter  n N Switch  q Quit")
        assert "palette" not in narrow.lower()
