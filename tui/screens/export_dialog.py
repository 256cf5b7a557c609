"""`#export`: choose how to export a conversation (format and file); E or the palette.

`ExportDialog` returns an `ExportRequest` (or None) through `dismiss()`. When the chosen
file exists it asks first (`ConfirmOverwrite`) and only returns a request that overwrites
after a yes; the app's export worker writes exclusively otherwise, so a file that appears
in the meantime is not overwritten either. The worker reports through `ExportFinished`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from tui.formatting import safe_text
from tui.widgets.key_bar import KeyBar

FORMATS = ("json", "markdown", "minitrace")
EXTENSIONS = {"json": "json", "markdown": "md", "minitrace": "minitrace.json"}
FORMAT_HINTS = {
    "json": "every snapshot's blocks as stored, with the dump's facts",
    "markdown": "a report to paste into an issue (each turn's final snapshot)",
    "minitrace": "pinocchio's research format (ExportTurnsMinitrace)",
}


def default_file_name(conv_id: str, fmt: str) -> str:
    """`<conv_id>.<ext>`, with anything but letters, digits, `.`, `_` and `-` made `_`
    (a conversation id never picks the folder or hides the name)."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", conv_id).lstrip(".") or "conversation"
    return f"{stem[:120]}.{EXTENSIONS[fmt]}"


def resolve_path(path: str, folder: str) -> str:
    """`path` as typed (`~` expanded), relative to `folder`, made absolute."""
    return os.path.abspath(os.path.join(folder, os.path.expanduser(path)))


@dataclass(frozen=True)
class ExportRequest:
    """Export `conv_id` as `fmt` to `path` (absolute); `overwrite` only after a yes."""

    conv_id: str
    fmt: str
    path: str
    overwrite: bool = False


class ExportFinished(Message):
    """The export worker wrote `path` (`size` bytes), or says why not in `error`."""

    def __init__(self, conv_id: str, path: str, size: int = 0, error: str = "") -> None:
        super().__init__()
        self.conv_id = conv_id
        self.path = path
        self.size = size
        self.error = error


class ConfirmOverwrite(ModalScreen[bool]):
    """`<path> exists: overwrite it?` Yes (y) or no (n, esc; the default)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Overwrite", id="export-confirm.yes"),
        Binding("n", "answer(False)", "Keep the file", id="export-confirm.no"),
        Binding("escape", "answer(False)", "Cancel", show=False, id="export-confirm.cancel"),
    ]

    def __init__(self, path: str) -> None:
        super().__init__(id="export-confirm")
        self.path = path

    def compose(self) -> ComposeResult:
        with Vertical(id="export-confirm-box"):
            question = Text(safe_text(self.path, 300), style="bold")
            question.append(" exists. Overwrite it?")
            yield Static(question, id="export-confirm-question")
            with Horizontal(id="export-confirm-buttons"):
                yield Button("Overwrite (y)", id="export-confirm-yes", variant="error")
                yield Button("Keep it (n)", id="export-confirm-no", variant="primary")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#export-confirm-no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed, "#export-confirm-yes")
    def _yes(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(True)

    @on(Button.Pressed, "#export-confirm-no")
    def _no(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(False)


class ExportDialog(ModalScreen[ExportRequest | None]):
    """The format (json, markdown, minitrace) and the file, `<conv_id>.<ext>` in `folder`
    by default; enter or Export writes, esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="export.cancel"),
        Binding("ctrl+s", "submit", "Export", id="export.submit"),
    ]

    def __init__(self, conv_id: str, folder: str, fmt: str = "json") -> None:
        super().__init__(id="export")
        self.conv_id = conv_id
        self.folder = folder
        self.fmt = fmt if fmt in FORMATS else "json"

    def compose(self) -> ComposeResult:
        with Vertical(id="export-box"):
            title = Text("Export conversation ", style="bold")
            title.append(safe_text(self.conv_id, 80))
            yield Static(title, id="export-title")
            yield Label("Format", classes="export-label")
            with RadioSet(id="export-format"):
                for fmt in FORMATS:
                    yield RadioButton(fmt, value=fmt == self.fmt, id=f"export-{fmt}")
            yield Static(Text(FORMAT_HINTS[self.fmt], style="dim"), id="export-format-hint")
            yield Label("File", classes="export-label")
            path = Input(
                value=default_file_name(self.conv_id, self.fmt),
                placeholder="file to write (relative to the current folder)",
                id="export-path",
            )
            path.cursor_blink = False
            yield path
            where = Text("in ", style="dim")
            where.append(safe_text(self.folder, 200), style="dim")
            where.append(" · an existing file is never overwritten without asking", style="dim")
            yield Static(where, id="export-folder")
            with Horizontal(id="export-buttons"):
                yield Button("Export", id="export-ok", variant="primary")
                yield Button("Cancel", id="export-cancel")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    @property
    def path_input(self) -> Input:
        return self.query_one("#export-path", Input)

    def choose_format(self, fmt: str) -> None:
        """Pick `fmt`; a file name still at its default follows the format's extension."""
        if fmt not in FORMATS or fmt == self.fmt:
            return
        path = self.path_input
        if path.value == default_file_name(self.conv_id, self.fmt):
            path.value = default_file_name(self.conv_id, fmt)
        self.fmt = fmt
        self.query_one("#export-format-hint", Static).update(Text(FORMAT_HINTS[fmt], style="dim"))
        button = self.query_one(f"#export-{fmt}", RadioButton)
        if not button.value:
            button.value = True

    @on(RadioSet.Changed, "#export-format")
    def _format_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        fmt = (event.pressed.id or "").removeprefix("export-")
        self.choose_format(fmt)

    def request(self) -> ExportRequest | None:
        """What the dialog would export now (None without a file name)."""
        typed = self.path_input.value.strip()
        if not typed:
            return None
        return ExportRequest(self.conv_id, self.fmt, resolve_path(typed, self.folder))

    @on(Input.Submitted, "#export-path")
    def _path_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    @on(Button.Pressed, "#export-ok")
    def _ok(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_submit()

    @on(Button.Pressed, "#export-cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        request = self.request()
        if request is None:
            self.notify("Type the file to write.", markup=False, timeout=3)
            return
        if os.path.isdir(request.path):
            self.notify(
                f"{safe_text(request.path, 200)} is a folder; type a file name.",
                markup=False,
                timeout=4,
            )
            return
        if not os.path.lexists(request.path):
            self.dismiss(request)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss(
                    ExportRequest(request.conv_id, request.fmt, request.path, overwrite=True)
                )

        self.app.push_screen(ConfirmOverwrite(request.path), answered)
