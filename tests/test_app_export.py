"""Export from the app (E, or the palette's "Export conversation"): pilot tests.

The dialog chooses the format and the file (`<conv_id>.<ext>` in the current folder); the
app writes in a worker through `tui.export.render_export`, the code `turns-tui export`
uses, so the file holds the CLI's bytes. An existing file is never overwritten without a
yes, and the notice names the file written.

The exports describe how the database was opened (its migration or backfill, in the
JSON's "database" and the Markdown's database line), so the fixture file is of the
current era and opened once beforehand: the app and the CLI, run after it, then open the
same settled file and say the same.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from tests import builders as b
from tests.snapshot_apps.support import fixed_clock, main_screen, pin_utc, settle
from tui.app import TurnsApp, make_app
from tui.screens.detail import TurnDetailScreen
from tui.screens.export_dialog import (
    ConfirmOverwrite,
    ExportDialog,
    ExportRequest,
    default_file_name,
    resolve_path,
)
from tui.screens.main import MainScreen

SIZE = (160, 48)
ROOT = Path(__file__).resolve().parent.parent
CONV = "conv-switch"
FIXED_RFC3339 = "2026-02-24T10:00:00Z"  # tests.snapshot_apps.support.FIXED_NOW


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from pin_utc(monkeypatch)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = b.build_gp26(tmp_path / "turns.sqlite", b.standard_scenario())
    b.build_timeline(path, b.standard_timeline_rows())
    run_cli("dump", str(path))  # the first open backfills; later opens change nothing
    return path


@pytest.fixture
def out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current folder of the app (where the dialog's default file goes)."""
    folder = tmp_path / "out"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def run_cli(*args: str) -> bytes:
    """`turns-tui ARGS`' standard output (it must succeed)."""
    res = subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "TZ": "UTC", "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    return res.stdout


def cli_export(db: Path, fmt: str, *extra: str) -> bytes:
    """What `turns-tui export DB --conv CONV --format FMT` prints."""
    return run_cli("export", str(db), "--conv", CONV, "--format", fmt, *extra)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def file_bytes(path: Path) -> bytes:
    return path.read_bytes()


def notices(app: Any) -> list[str]:
    return [n.message for n in app._notifications]


async def select(pilot: Any, conv_id: str) -> MainScreen:
    await settle(pilot)
    main = main_screen(pilot.app)
    index = [s.conv_id for s in main.conversations.shown].index(conv_id)
    main.conversations.move_cursor(row=index)
    await settle(pilot)
    assert main.selected_conv_id == conv_id
    return main


async def open_dialog(pilot: Any) -> ExportDialog:
    await pilot.press("E")
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, ExportDialog)
    return dialog


@pytest.mark.parametrize("fmt", ["json", "markdown"])
async def test_export_writes_the_cli_bytes_and_names_the_file(
    db: Path, out: Path, fmt: str
) -> None:
    app = make_app(str(db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, CONV)
        dialog = await open_dialog(pilot)
        assert dialog.conv_id == CONV
        path_input = dialog.query_one("#export-path", Input)
        assert path_input.value == f"{CONV}.json"  # json first, in the current folder
        if fmt != "json":
            await pilot.click(f"#export-{fmt}")
            await settle(pilot)
            assert dialog.fmt == fmt and path_input.value == default_file_name(CONV, fmt)
        await pilot.click("#export-ok")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        written = out / default_file_name(CONV, fmt)
        assert written.read_bytes() == cli_export(db, fmt)
        assert f"exported {CONV} to {written}" in notices(app)[-1]


async def test_minitrace_from_the_turn_detail_with_the_apps_clock(db: Path, out: Path) -> None:
    app = make_app(str(db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        main = await select(pilot, CONV)
        main.timeline.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TurnDetailScreen)
        dialog = await open_dialog(pilot)
        assert dialog.conv_id == CONV  # the conversation the detail shows
        dialog.choose_format("minitrace")
        dialog.query_one("#export-path", Input).value = "trace.json"
        await pilot.click("#export-ok")
        await settle(pilot)
        assert isinstance(app.screen, TurnDetailScreen)  # back where E was pressed
        assert (out / "trace.json").read_bytes() == cli_export(
            db, "minitrace", "--converted-at", FIXED_RFC3339
        )
        assert f"exported {CONV} to {out / 'trace.json'}" in notices(app)[-1]


async def test_an_existing_file_is_kept_unless_the_user_says_overwrite(db: Path, out: Path) -> None:
    existing = out / f"{CONV}.json"
    existing.write_bytes(b"keep me")
    app = make_app(str(db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, CONV)
        await open_dialog(pilot)
        await pilot.press("enter")  # submit the default file name: it exists
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmOverwrite) and confirm.path == str(existing)
        await pilot.press("n")  # no: back to the dialog, nothing written
        await settle(pilot)
        assert isinstance(app.screen, ExportDialog)
        assert existing.read_bytes() == b"keep me"
        await pilot.press("escape")  # cancel the export
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert existing.read_bytes() == b"keep me"
        assert not any("exported" in n for n in notices(app))
        # again, and this time yes
        await open_dialog(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmOverwrite)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert existing.read_bytes() == cli_export(db, "json")
        assert f"exported {CONV} to {existing}" in notices(app)[-1]
        assert names(out) == [existing.name]  # no temporary file left


async def test_a_file_that_appears_after_the_dialog_is_not_overwritten(db: Path, out: Path) -> None:
    app = make_app(str(db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, CONV)
        late = out / "late.md"
        late.write_bytes(b"written meanwhile")
        assert isinstance(app, TurnsApp)
        app.export_conversation(ExportRequest(CONV, "markdown", str(late)))
        await settle(pilot)
        assert late.read_bytes() == b"written meanwhile"
        last = notices(app)[-1]
        assert str(late) in last and "exists; not overwritten" in last
        # nor the database itself, even when asked to overwrite
        before = file_bytes(db)
        app.export_conversation(ExportRequest(CONV, "json", str(db), overwrite=True))
        await settle(pilot)
        assert file_bytes(db) == before
        assert "is the database itself" in notices(app)[-1]


async def test_palette_command_and_key_need_a_conversation(db: Path, out: Path) -> None:
    app = make_app(str(db), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        main = await select(pilot, CONV)
        titles = [c.title for c in app.get_system_commands(main)]
        assert "Export conversation" in titles
        binding = next(bd for bd in app.BINDINGS if getattr(bd, "id", None) == "app.export")
        assert getattr(binding, "key", None) == "E"
        assert getattr(binding, "description", None) == "Export"
        assert app.check_action("export", ()) is True
        await open_dialog(pilot)
        # on the dialog itself E is text in the file name, not a second dialog
        assert app.check_action("export", ()) is False
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Export conversation" not in titles
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert names(out) == []


def test_default_file_name_keeps_the_name_in_the_folder() -> None:
    assert default_file_name("conv-1", "json") == "conv-1.json"
    assert default_file_name("conv-1", "markdown") == "conv-1.md"
    assert default_file_name("conv-1", "minitrace") == "conv-1.minitrace.json"
    assert default_file_name("../../etc/x\x1b[2J", "json") == "_.._etc_x__2J.json"
    assert default_file_name("", "json") == "conversation.json"
    assert "/" not in default_file_name("a/b", "markdown")
    assert resolve_path("x.md", "/tmp/folder") == "/tmp/folder/x.md"
    assert resolve_path("/abs/x.md", "/tmp/folder") == "/abs/x.md"
