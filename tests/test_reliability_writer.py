"""Reliability with a live writer: pinocchio-like saves, checkpoints, locks past the timeout.

A separate writer process (``tests/writer_process.py``) saves turns like pinocchio while we
open, migrate and read; another process holds an EXCLUSIVE lock past the busy timeout.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import builders as b
from tests.sync_store import open_store
from tests.test_reliability import (
    ROOT,
    WriterProc,
    assert_one_line_error,
    assert_untouched,
    cli,
    committed_present,
    exclusive_holder,
    file_state,
    integrity,
    text,
)
from tui.store.errors import LockedError, StoreError
from tui.store.models import Era, Notice, NoticeKind
from tui.store.opener import open_database

# --------------------------------------------------------------------------- 1. live writer


@pytest.mark.parametrize("mode", ["gp26", "era2"])
def test_live_writer_never_locked_and_loses_nothing(mode: str, tmp_path: Path) -> None:
    """A pinocchio-like writer keeps saving while we open, migrate and read repeatedly."""
    if mode == "gp26":
        # GP-26 tables, but older rows still need a backfill: the open must migrate.
        path = b.build_gp26(tmp_path / "live.db", b.standard_scenario())
    else:
        # A pinocchio that predates GP-26 keeps writing while we add the runtime columns.
        path = b.build_era2(tmp_path / "live.db", b.standard_scenario())
    writer = WriterProc(
        path,
        tmp_path / "writer.log",
        "--mode",
        mode,
        "--duration",
        "6",
        "--hold-first-ms",
        "1500",  # a slow first save: our migration must wait for it, and say so
        "--hold-every",
        "20",
        "--hold-ms",
        "300",  # longer than the 200 ms probe slice: later migrations wait too
        "--pause-ms",
        "8",
    )
    try:
        writer.wait_event("holding")
        notices: list[Notice] = []
        started = time.monotonic()
        first = open_database(str(path), on_notice=notices.append)
        first_wait = time.monotonic() - started
        assert first.mode == "in_place" and first.report.applied
        assert first.schema_after == Era.GP26
        # It said so while waiting (a LOCK_WAIT notice, as data), and the wait is recorded.
        waiting = [n for n in notices if n.kind == NoticeKind.LOCK_WAIT]
        assert waiting and "waiting up to 5 s" in waiting[0].text, notices
        assert first.lock_wait_s >= 0.5 and first.lock_wait_s <= first_wait
        assert first_wait >= 0.5  # it really waited for the writer's transaction

        # A reader holding a read transaction open must not block the writer (WAL snapshot).
        held = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        try:
            held.execute("BEGIN")
            cur = held.execute("SELECT conv_id, turn_id FROM turns")
            cur.fetchone()
            before = writer.commits()
            deadline = time.monotonic() + 5
            while writer.commits() < before + 3 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert writer.commits() >= before + 3, "the writer stalled behind an open reader"
            cur.close()
            held.execute("COMMIT")
        finally:
            held.close()

        opens = 0
        migrations = 0
        seen_max = 0
        waits: list[float] = []
        while writer.proc.poll() is None:
            t0 = time.monotonic()
            store = open_store(path, on_notice=notices.append)
            waits.append(time.monotonic() - t0)
            opens += 1
            assert store.opened is not None
            migrations += store.opened.mode == "in_place"
            try:
                convs = store.conversations()
                live = [c for c in convs if c.conv_id.startswith("live-")]
                n = sum(len(store.turns(c.conv_id)) for c in live)
                assert n >= seen_max  # a committed turn never disappears
                seen_max = n
                store.dump()
            finally:
                store.close()
        summary = writer.finish()
    finally:
        writer.kill()
    assert summary["returncode"] == 0, summary["stderr"]
    assert summary["errors"] == [], summary["errors"]  # never "database is locked"
    assert summary["turns_committed"] >= 20, summary
    assert opens >= 5
    assert max(waits) < 5.5  # no open ever waited past the busy timeout
    # Our migrations and reads never made the writer wait anywhere near its timeout.
    assert summary["max_lock_wait_ms"] < 2500, summary
    final = open_database(str(path))
    assert final.schema_after == Era.GP26
    present, missing = committed_present(path, summary["committed"])
    assert missing == [] and present == summary["turns_committed"]
    conn = sqlite3.connect(path)
    try:
        snaps = conn.execute(
            "SELECT count(DISTINCT turn_id || '|' || phase || '|' || snapshot_created_at_ms) "
            "FROM turn_block_membership WHERE conv_id LIKE 'live-%'"
        ).fetchone()[0]
        unattributed = conn.execute(
            "SELECT count(*) FROM turns WHERE conv_id LIKE 'live-%' AND runtime_key = ''"
        ).fetchone()[0]
        mode_now = conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()
    assert snaps == summary["snapshots_committed"]
    assert unattributed == 0  # era-2 rows written mid-run were backfilled on the next open
    assert mode_now == "wal"  # we never switched the writer's journal mode
    assert integrity(path) == "ok"
    if mode == "era2":
        assert migrations >= 2  # new era-2 rows kept needing a backfill: it migrated again


GROWER = r"""
import os, sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=5)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("PRAGMA wal_autocheckpoint=0")
end = time.monotonic() + float(sys.argv[2])
blob = os.urandom(4000)
print("GROWING", flush=True)
while time.monotonic() < end:
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO grow VALUES (?)", [(blob,)] * 20)
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")  # page 1 first, then the file grows
"""


def test_a_live_checkpoint_never_looks_like_a_truncated_file(tmp_path: Path) -> None:
    """Between a checkpoint writing page 1 and extending the file, the header's page count
    exceeds the file size: a lock-free truncation check must not call that truncated."""
    from tui.store.opener import check_path

    path = b.build_gp26(tmp_path / "g.db", b.bulk_scenario(2, 2, 2))
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE grow (b BLOB)")
    conn.commit()
    conn.close()
    grower = subprocess.Popen(
        [sys.executable, "-c", GROWER, str(path), "3"], stdout=subprocess.PIPE, text=True
    )
    assert grower.stdout is not None and grower.stdout.readline().strip() == "GROWING"
    checks = 0
    false_alarms: list[str] = []
    while grower.poll() is None:
        checks += 1
        try:
            check_path(str(path))
        except StoreError as exc:
            false_alarms.append(str(exc))
    grower.stdout.close()
    assert grower.returncode == 0
    assert checks > 100
    assert false_alarms == [], (len(false_alarms), false_alarms[:1])


# --------------------------------------------------------------------------- 8. locked


LOCK_COMMANDS = {
    "dump": ["dump"],
    "dump-ro": ["dump", "--read-only"],
    "migrate": ["migrate"],
    "dry-run": ["migrate", "--dry-run"],
}


@pytest.mark.parametrize("journal", ["delete", "wal"])
def test_exclusive_lock_past_the_timeout_is_exit_4(journal: str, tmp_path: Path) -> None:
    """Another process holds an EXCLUSIVE lock (locking_mode=EXCLUSIVE) longer than 5 s:
    every command, read-only included, says so in one line, exit 4, in about 5 s."""
    path = b.build_era2(tmp_path / "e2.db", b.standard_scenario())
    with exclusive_holder(path, journal):
        before = file_state(path)
        started = time.monotonic()
        procs = {
            name: subprocess.Popen(
                [sys.executable, "-m", "tui", args[0], str(path), *args[1:]],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=ROOT,
            )
            for name, args in LOCK_COMMANDS.items()
        }
        results = {}
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=30)
            results[name] = (
                subprocess.CompletedProcess(proc.args, proc.returncode, out, err),
                time.monotonic() - started,
            )
        assert_untouched(path, before, "(under the lock)")
    for name, (res, elapsed) in results.items():
        line = assert_one_line_error(res, path, 4)
        assert "locked" in line, (name, line)
        assert "more than 5 s" in line, (name, line)  # the timeout actually used
        # Waited the busy timeout, and no hang (four cold starts share the CPUs, so the
        # upper bound is loose: a second wait of the timeout would take over 10 s).
        assert 4.5 <= elapsed < 10.5, (name, elapsed)
        if name in ("dump-ro", "dry-run"):
            assert "--read-only" not in line, line  # no advice to do what was just done
    # Released: everything works again.
    res = cli("dump", str(path))
    assert res.returncode == 0, text(res)[1]


def test_lock_message_in_process_names_the_file(tmp_path: Path) -> None:
    path = b.build_gp26(tmp_path / "g.db", b.bulk_scenario(2, 2, 2))
    with exclusive_holder(path, "wal"):
        t0 = time.monotonic()
        with pytest.raises(LockedError) as info:
            open_database(str(path), read_only=True, timeout=1.0)
        assert time.monotonic() - t0 < 3
    assert str(path) in str(info.value) and info.value.exit_code == 4
    assert "more than 1 s" in str(info.value)  # the timeout actually used, not the default
