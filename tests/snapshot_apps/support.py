"""Await the app's workers instead of sleeping; pin the time zone; build fixture files."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.worker import WorkerCancelled, WorkerFailed, WorkerState

from tui.app import TurnsApp
from tui.screens.main import MainScreen

FIXED_NOW = 1_771_927_200.0  # 2026-02-24 10:00:00 UTC


def fixed_clock() -> float:
    """The tests' "now"."""
    return FIXED_NOW


async def wait_workers(app: Any) -> None:
    """Wait for the app's current workers; a failed one (the app reports it) or one
    cancelled by a newer exclusive worker (a later selection) is not an error here."""
    try:
        await app.workers.wait_for_complete()
    except (WorkerFailed, WorkerCancelled):
        pass


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until no worker is pending or running and the message queues are drained."""
    app = pilot.app
    quiet = 0
    for _ in range(100):
        await pilot.pause()
        await wait_workers(app)
        await pilot.pause()
        busy = any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers)
        quiet = 0 if busy else quiet + 1
        if quiet >= 2:
            return
    raise AssertionError("the app did not settle")


def main_screen(app: TurnsApp) -> MainScreen:
    """The app's main screen (asserting it is the one shown)."""
    screen = app.screen
    assert isinstance(screen, MainScreen), f"expected the main screen, got {screen!r}"
    return screen


def pin_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Pin TZ=UTC for a test (and restore the previous zone after it); use in a fixture."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def write_not_turns_sqlite(path: Path) -> Path:
    """A valid SQLite file without any turns table."""
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("INSERT INTO notes (body) VALUES ('buy milk')")
        conn.commit()
    finally:
        conn.close()
    return path
