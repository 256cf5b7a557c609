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
        self.step = "checking the file…"
        self.done = 0
        self.total = 0
        self.notice = ""
        self._ready = False  # widgets composed (is_mounted is only set after on_mount)

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="loading-box"):
            yield Static(Text(f"Opening {safe_text(self.label, 120)}"), id="loading-title")
            yield ProgressBar(total=None, show_eta=False, id="loading-progress")
            yield Static(Text(""), id="loading-step")
            yield Static(Text(""), id="loading-notices")

    def on_mount(self) -> None:
        self._ready = True
        self._show()

    def _show(self) -> None:
        if not self._ready:
            return  # on_mount shows the latest state
        if self.total > 0:
            self.query_one("#loading-progress", ProgressBar).update(
                total=self.total, progress=self.done
            )
        self.query_one("#loading-step", Static).update(Text(safe_text(self.step, 200), style="dim"))
        self.query_one("#loading-notices", Static).update(
            Text(safe_text(self.notice, 300), style="italic")
        )

    def show_step(self, step: str) -> None:
        """A migration step started."""
        self.step = step
        self._show()

    def show_progress(self, step: str, done: int, total: int) -> None:
        """A long step reported progress."""
        self.step, self.done, self.total = f"{step}: {done:,} / {total:,}", done, total
        self._show()

    def show_notice(self, text: str) -> None:
        """A notice from the opener (for example: waiting for another writer's lock)."""
        self.notice = text
        self._show()
