"""The loading screen shown while the database is opened and migrated in a thread."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import ProgressBar, Static

from tui.formatting import safe_text


class LoadingScreen(Screen[None]):
    """A progress bar plus a line saying what is happening."""

    def __init__(self, label: str) -> None:
        super().__init__(id="loading")
        self.label = label

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="loading-box"):
            yield Static(Text(f"Opening {safe_text(self.label, 120)}"), id="loading-title")
            yield ProgressBar(total=None, show_eta=False, id="loading-progress")
            yield Static(Text("checking the file…", style="dim"), id="loading-step")
            yield Static(Text(""), id="loading-notices")

    def show_step(self, step: str) -> None:
        """A migration step started."""
        self.query_one("#loading-step", Static).update(Text(safe_text(step, 200), style="dim"))

    def show_progress(self, step: str, done: int, total: int) -> None:
        """A long step reported progress."""
        bar = self.query_one("#loading-progress", ProgressBar)
        if total > 0:
            bar.update(total=total, progress=done)
        self.show_step(f"{step}: {done:,} / {total:,}")

    def show_notice(self, text: str) -> None:
        """A notice from the opener (for example: waiting for another writer's lock)."""
        notices = self.query_one("#loading-notices", Static)
        notices.update(Text(safe_text(text, 300), style="italic"))
