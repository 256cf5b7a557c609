"""The error screen: a database that cannot be opened, in one readable line."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Static

from tui.formatting import safe_text
from tui.widgets.key_bar import KeyBar

HINT = (
    "turns-tui opens pinocchio / geppetto turns databases (SQLite files with turns, "
    "blocks and turn_block_membership tables, or their older forms)."
)


class ErrorScreen(Screen[None]):
    """Shows why the database could not be opened; quit, retry, or retry read-only."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit_with_error", "Quit", id="error.quit"),
        Binding("escape", "quit_with_error", "Quit", show=False, id="error.escape"),
        Binding("r", "retry", "Retry", id="error.retry"),
        Binding("o", "retry_read_only", "Retry read-only", id="error.retry-read-only"),
    ]

    class Quit(Message):
        """The user quits from the error screen."""

        def __init__(self, exit_code: int) -> None:
            super().__init__()
            self.exit_code = exit_code

    class Retry(Message):
        """The user asks to open the database again."""

        def __init__(self, read_only: bool) -> None:
            super().__init__()
            self.read_only = read_only

    def __init__(self, title: str, message: str, *, exit_code: int, locked: bool = False) -> None:
        super().__init__(id="error")
        self.title_text = title
        self.message = message
        self.exit_code = exit_code
        self.locked = locked

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="error-box"):
            yield Static(Text(safe_text(self.title_text, 120), style="bold"), id="error-title")
            yield Static(Text("✗ " + safe_text(self.message, 2000)), id="error-message")
            hint = HINT
            if self.locked:
                hint = (
                    "Another program holds the write lock. Retry later, or open it "
                    "read-only: a private copy is migrated and the file is never written."
                )
            yield Static(Text(hint, style="dim"), id="error-hint")
            with Horizontal(id="error-buttons"):
                if self.locked:
                    yield Button("Retry read-only (o)", id="error-retry-ro", variant="primary")
                yield Button("Retry (r)", id="error-retry")
                yield Button("Quit (q)", id="error-quit", variant="error")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#error-retry-ro" if self.locked else "#error-quit", Button).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "retry_read_only":
            return self.locked
        return True

    def action_quit_with_error(self) -> None:
        self.post_message(self.Quit(self.exit_code))

    def action_retry(self) -> None:
        self.post_message(self.Retry(read_only=False))

    def action_retry_read_only(self) -> None:
        self.post_message(self.Retry(read_only=True))

    @on(Button.Pressed, "#error-quit")
    def _quit_pressed(self) -> None:
        self.action_quit_with_error()

    @on(Button.Pressed, "#error-retry")
    def _retry_pressed(self) -> None:
        self.action_retry()

    @on(Button.Pressed, "#error-retry-ro")
    def _retry_ro_pressed(self) -> None:
        self.action_retry_read_only()
