"""Follow mode against another process: turns appear as they land, across re-opens and
writer restarts; and the soak test (``--soak``; ``TURNS_TUI_SOAK_SECONDS``, default 600):
a pre-GP-26 writer + change-token polling + periodic re-opens, with its figures printed.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Hashable
from pathlib import Path

import pytest

from tests import builders as b
from tests.test_reliability import WriterProc, committed_present, integrity, to_wal
from tui.store.models import Notice, NoticeKind
from tui.store.opener import open_database
from tui.store.records import TurnRecord
from tui.store.sqlite_store import SqliteStore

# --------------------------------------------------------------------------- follow


async def turns_of(store: SqliteStore, conv_id: str) -> list[TurnRecord]:
    return list((await store.conversation(conv_id)).turns)


async def opened_store(path: Path) -> SqliteStore:
    """A `SqliteStore` on `path`, opened (migrated in place when needed), as the app has."""
    store = SqliteStore(str(path))
    await store.open()
    return store


async def _follow_until(
    store: SqliteStore,
    conv_id: str,
    want: int,
    limit_s: float = 30.0,
    version: Hashable | None = None,
) -> tuple[list[int], int]:
    """Poll the change token (from `version`, read before the writer started, when given); on
    each change re-read the conversation. Returns (turn counts seen at each change, polls).
    """
    seen: list[int] = []
    if version is None:
        version = await store.change_token()
    polls = 0
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        polls += 1
        now = await store.change_token()
        if now == version:
            continue
        version = now
        seen.append(len(await turns_of(store, conv_id)))
        if seen[-1] >= want:
            break
    return seen, polls


async def test_follow_sees_turns_appended_by_another_process(tmp_path: Path) -> None:
    path = b.build_gp26(tmp_path / "f.db", b.bulk_scenario(2, 2, 2))
    store = await opened_store(path)
    try:
        assert await turns_of(store, "follow-0") == []
        version0 = await store.change_token()
        writer = WriterProc(
            path,
            tmp_path / "w.log",
            "--turns",
            "6",
            "--convs",
            "1",
            "--conv-prefix",
            "follow",
            "--pause-ms",
            "40",
        )
        try:
            seen, polls = await _follow_until(store, "follow-0", 6)
            summary = writer.finish()
        finally:
            writer.kill()
        assert summary["errors"] == [] and summary["turns_committed"] == 6
        assert await store.change_token() != version0
        assert seen and seen[-1] == 6, seen
        assert seen == sorted(seen)  # turns only ever appear
        assert len(seen) > 1  # they appeared as they landed, not all at the end
        turns = await turns_of(store, "follow-0")
        assert {t.turn_id for t in turns} == {t for _, t in summary["committed"]}
        assert all(t.runtime_key for t in turns)
    finally:
        await store.close()


async def test_follow_survives_a_reopen_and_writer_restarts(tmp_path: Path) -> None:
    """The app re-opens the file (open_database) while its store stays open, and the agent
    restarts between turns (each writer process closes the database when it exits: the last
    connection to close checkpoints and deletes the WAL unless a reader still holds it)."""
    path = to_wal(b.build_gp26(tmp_path / "f.db", b.bulk_scenario(2, 2, 2)))
    store = await opened_store(path)
    try:
        await store.conversations()  # the store's connection is open and has read
        want = 0
        for round_no in range(3):
            open_database(str(path))  # a refresh / re-open in the same process
            open_database(str(path), read_only=True)
            version = await store.change_token()
            writer = WriterProc(
                path,
                tmp_path / f"w{round_no}.log",
                "--turns",
                "1",
                "--convs",
                "1",
                "--conv-prefix",
                f"restart{round_no}",
                "--pause-ms",
                "0",
            )
            summary = writer.finish()
            assert summary["errors"] == [], summary
            want += 1
            seen, _ = await _follow_until(
                store, f"restart{round_no}-0", 1, limit_s=5, version=version
            )
            assert seen and seen[-1] == 1, (round_no, seen)
        convs = {c.conv_id for c in await store.conversations()}
        assert {f"restart{n}-0" for n in range(3)} <= convs
        assert len(convs) == 2 + want
    finally:
        await store.close()


# --------------------------------------------------------------------------- soak


@pytest.mark.soak
async def test_soak_writer_follow_and_reopen(tmp_path: Path) -> None:
    """`--soak`: a pre-GP-26 writer saves turns for TURNS_TUI_SOAK_SECONDS (default 600)
    while we follow with change-token polling and re-open (migrate + backfill) every 5 s."""
    seconds = float(os.environ.get("TURNS_TUI_SOAK_SECONDS", "600"))
    path = b.build_era2(tmp_path / "soak.db", b.standard_scenario())
    writer = WriterProc(
        path,
        tmp_path / "writer.log",
        "--mode",
        "era2",  # every re-open has new rows to backfill: a migration under load
        "--duration",
        str(seconds),
        "--convs",
        "4",
        "--conv-prefix",
        "soak",
        "--pause-ms",
        "20",
        "--hold-every",
        "50",
        "--hold-ms",
        "300",
    )
    started = time.monotonic()
    store = await opened_store(path)
    seen: dict[str, int] = {}
    polls = changes = opens = migrations = waited_opens = reader_rotations = 0
    open_times: list[float] = []
    wait_times: list[float] = []
    errors: list[str] = []
    next_open = time.monotonic() + 5
    next_rotate = time.monotonic() + 30
    version = await store.change_token()
    try:
        while True:
            done = writer.proc.poll() is not None
            await asyncio.sleep(0.25)
            polls += 1
            now = await store.change_token()
            if now != version or done:
                version = now
                changes += 1
                for conv in [f"soak-{c}" for c in range(4)]:
                    n = len(await turns_of(store, conv))
                    if n < seen.get(conv, 0):
                        errors.append(f"{conv}: {n} turns after {seen[conv]}")
                    seen[conv] = max(n, seen.get(conv, 0))
            if time.monotonic() >= next_open and not done:
                notices: list[Notice] = []
                t0 = time.monotonic()
                reopened = open_database(str(path), on_notice=notices.append)
                elapsed = time.monotonic() - t0
                opens += 1
                open_times.append(elapsed)
                migrations += reopened.mode == "in_place"
                if any(n.kind == NoticeKind.LOCK_WAIT for n in notices):
                    waited_opens += 1
                    wait_times.append(elapsed)
                next_open = time.monotonic() + 5
            if time.monotonic() >= next_rotate and not done:
                await store.close()  # the app re-creates its store after a reload
                store = await opened_store(path)
                version = await store.change_token()
                reader_rotations += 1
                next_rotate = time.monotonic() + 30
            if done:
                break
        summary = writer.finish()
    finally:
        writer.kill()
        await store.close()
    open_database(str(path))  # the last backfill
    present, missing = committed_present(path, summary["committed"])
    figures = {
        "seconds": round(time.monotonic() - started, 1),
        "turns_written": summary["turns_committed"],
        "snapshots_written": summary["snapshots_committed"],
        "turns_seen_by_follow": sum(seen.values()),
        "turns_present_after": present,
        "writer_errors": len(summary["errors"]),
        "writer_max_lock_wait_ms": summary["max_lock_wait_ms"],
        "writer_max_tx_ms": summary["max_tx_ms"],
        "writer_max_commit_ms": summary["max_commit_ms"],
        "follow_polls": polls,
        "follow_version_changes": changes,
        "reopens": opens,
        "reopens_that_migrated": migrations,
        "reopens_that_waited_for_the_writer": waited_opens,
        "max_reopen_s": round(max(open_times, default=0.0), 3),
        "median_reopen_s": round(sorted(open_times)[len(open_times) // 2], 3) if open_times else 0,
        "max_migration_wait_s": round(max(wait_times, default=0.0), 3),
        "reader_rotations": reader_rotations,
        "file_mb": round(path.stat().st_size / 1e6, 1),
    }
    print("\nSOAK FIGURES " + json.dumps(figures))
    assert summary["errors"] == [], summary["errors"]
    assert errors == []
    assert missing == []
    assert figures["turns_seen_by_follow"] == summary["turns_committed"]
    assert summary["max_lock_wait_ms"] < 5000
    assert integrity(path) == "ok"
