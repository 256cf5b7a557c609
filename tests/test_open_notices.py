"""What the app says about the file it opened: one notice per fact, from the open's result."""

from __future__ import annotations

import io
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.widgets import Static

from tests import builders as b
from tests.snapshot_apps.support import fixed_clock, main_screen, pin_utc, settle
from tui.app import make_app
from tui.store.errors import LockedError
from tui.store.opener import open_database
from tui.store.sqlite_store import SqliteStore

SIZE = (160, 48)


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from pin_utc(monkeypatch)


def text_of(screen: Any, selector: str) -> str:
    found = screen.query(selector)
    if not found:
        return ""
    content = found.first(Static).content
    console = Console(width=300, file=io.StringIO(), color_system=None)
    with console.capture() as capture:
        console.print(content)
    return capture.get()


async def test_an_empty_file_says_it_is_empty(tmp_path: Path) -> None:
    path = b.build_empty_file(tmp_path / "empty.db")
    app = make_app(str(path), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        assert "empty database (0 bytes): no conversations" in text_of(main, "#notice")
        assert main.conversations.row_count == 0
    assert sorted(os.listdir(tmp_path)) == ["empty.db"]


async def test_a_future_schema_gets_one_notice_naming_what_is_kept(tmp_path: Path) -> None:
    path = b.add_future_schema(b.build_gp26(tmp_path / "f.db", b.standard_scenario()))
    conn = sqlite3.connect(path)
    conn.execute("CREATE VIEW recent AS SELECT conv_id FROM turns")
    conn.execute("PRAGMA user_version = 7")
    conn.commit()
    conn.close()
    app = make_app(str(path), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        notice = text_of(main_screen(app), "#notice")
        assert notice.count("kept and ignored") == 1
        for part in ("table turn_annotations", "column turns.future_col", "view recent"):
            assert part in notice
        assert "user_version 7" in notice


async def test_no_false_read_only_banner_from_words_in_the_path(tmp_path: Path) -> None:
    """A file in a folder called read-only, migrated in place after waiting for a lock,
    shows no READ-ONLY banner (the banner comes from the open's result)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    path = b.build_era2(folder / "turns.db", b.standard_scenario())
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    app = make_app(store=SqliteStore(str(path), timeout=5.0), clock=fixed_clock)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(0.6)  # the open is now waiting for the lock
            holder.execute("ROLLBACK")
            await settle(pilot)
            main = main_screen(app)
            assert not main.query("#banner")
            notice = text_of(main, "#notice")
            assert notice.startswith("migrated in place: backfilled 9 runtime keys")
            assert "waited" in notice and "for another writer's lock" in notice
            assert app.opened is not None and app.opened.mode == "in_place"
    finally:
        holder.close()


def test_the_lock_message_states_the_timeout_used(tmp_path: Path) -> None:
    path = b.build_era2(tmp_path / "t.db", b.standard_scenario())
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(LockedError, match=r"for more than 0\.4 s"):
            open_database(str(path), timeout=0.4)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


async def test_a_backfill_of_one_turn_is_worded_as_such(tmp_path: Path) -> None:
    """Not "migrated in place (gp26 → gp26)" and not "1 rows"."""
    path = b.build_gp26(tmp_path / "t.db", b.standard_scenario())
    open_database(str(path))  # migrated: every key the metadata gives is filled
    conn = sqlite3.connect(path)
    conn.execute(
        "UPDATE turns SET runtime_key = '' WHERE turn_id = "
        "(SELECT turn_id FROM turns WHERE runtime_key <> '' ORDER BY turn_id LIMIT 1)"
    )
    conn.commit()
    conn.close()
    app = make_app(str(path), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        notice = text_of(main, "#notice")
        assert notice.startswith("updated: backfilled 1 runtime key")
        assert "gp26 → gp26" not in notice and "gp26 → gp26" not in text_of(main, "#title-bar")


async def test_the_turn_detail_supplies_its_own_palette_commands(tmp_path: Path) -> None:
    path = b.build_gp26(tmp_path / "t.db", b.standard_scenario())
    app = make_app(str(path), clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(app)
        main.timeline.focus()
        await pilot.press("enter")
        await settle(pilot)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for title in ("Toggle exact text", "Show raw payloads", "Next turn", "Previous turn"):
            assert title in titles
        assert "Focus timeline" not in titles  # the main screen's own, not shown here
