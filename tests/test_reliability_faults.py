"""Reliability under faults: SIGKILL at every step of a migration, bad input, damaged pages.

Migrations are SIGKILLed at every on_step / on_progress point and at random moments; the
file must hold the whole old or the whole new schema, and reopening must finish the job.
Bad input (missing, not SQLite, truncated, garbage pages) is one line, the right exit code,
and leaves the folder as it was.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests import builders as b
from tests.sync_store import open_store
from tests.test_reliability import (
    ROOT,
    SIDE,
    assert_one_line_error,
    assert_untouched,
    cli,
    comparable,
    file_state,
    integrity,
    listing,
    open_dump,
    shape,
    to_wal,
)
from tui.store.errors import NotADatabaseError
from tui.store.models import Era
from tui.store.opener import open_database

# --------------------------------------------------------------------------- 2. SIGKILL


KILL_CHILD = r"""
import sys, time
sys.path.insert(0, sys.argv[3])
from tui.store.opener import open_database
target = sys.argv[2]
def mark(name):
    sys.stdout.write(name + "\n")
    sys.stdout.flush()
    if name == target:
        sys.stdout.write("AT " + name + "\n")
        sys.stdout.flush()
        time.sleep(600)
def step(name):
    mark("step:" + name)
def progress(p):
    mark("progress:%s:%d/%d" % (p.step, p.done, p.total))
mark("start")
open_database(sys.argv[1], on_step=step, on_progress=progress)
mark("done")
"""


def run_child(path: Path, target: str, timeout: float = 60) -> tuple[list[str], bool, float]:
    """Run a migration in a child; SIGKILL it when it reaches `target`.

    Returns (marks, killed, seconds from "start" to the last mark)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_CHILD, str(path), target, str(ROOT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    marks: list[str] = []
    killed = False
    deadline = time.monotonic() + timeout
    started = last = time.monotonic()
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip("\n")
        last = time.monotonic()
        if line == "start":
            started = last
        if line.startswith("AT "):
            proc.send_signal(signal.SIGKILL)
            killed = True
            break
        marks.append(line)
        assert time.monotonic() < deadline
    proc.wait(timeout=timeout)
    if not killed:
        assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    else:
        assert proc.returncode == -signal.SIGKILL
    proc.stdout.close()
    if proc.stderr:
        proc.stderr.close()
    return marks, killed, last - started


def kill_after(path: Path, delay: float) -> bool:
    """Start a migration child and SIGKILL it `delay` seconds after it started migrating."""
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_CHILD, str(path), "<never>", str(ROOT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "start"
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    return proc.returncode == -signal.SIGKILL


def _medium(builder: Callable[..., Path], *size: int) -> Callable[[Path], Path]:
    return lambda p: builder(p, b.bulk_scenario(*size))


# Medium files: big enough that SQLite spills the migration's pages into the database file
# before COMMIT (so a kill leaves a hot journal), small enough for CI.
KILL_CASES: dict[str, Callable[[Path], Path]] = {
    "era1": _medium(b.build_era1, 20, 8, 8),
    "era2": _medium(b.build_era2, 30, 10, 8),
    "era2-wal": lambda p: to_wal(_medium(b.build_era2, 30, 10, 8)(p)),
}


@pytest.fixture(scope="module")
def kill_fixtures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Per case: the pristine file, its shape, the migrated shape and dump, the kill points."""
    out: dict[str, dict[str, Any]] = {}
    for name, build in KILL_CASES.items():
        folder = tmp_path_factory.mktemp(f"kill-{name}")
        pristine = build(folder / "pristine.db")
        old_shape = shape(pristine)
        ref = folder / "ref.db"
        shutil.copyfile(pristine, ref)
        if Path(str(pristine) + "-wal").exists():
            shutil.copyfile(str(pristine) + "-wal", str(ref) + "-wal")
        marks, killed, duration = run_child(ref, "<never>")
        assert not killed and marks[-1] == "done"
        points = [m for m in marks if m.startswith(("step:", "progress:"))]
        out[name] = {
            "pristine": pristine,
            "old_shape": old_shape,
            "new_shape": shape(ref),
            "dump": open_dump(ref),
            "points": points,
            "duration": duration,
        }
    return out


def _fresh(fx: dict[str, Any], folder: Path) -> Path:
    path = folder / "victim.db"
    for s in SIDE:
        with contextlib.suppress(FileNotFoundError):
            os.remove(str(path) + s)
    shutil.copyfile(fx["pristine"], path)
    if Path(str(fx["pristine"]) + "-wal").exists():
        shutil.copyfile(str(fx["pristine"]) + "-wal", str(path) + "-wal")
    return path


def _check_after_kill(fx: dict[str, Any], path: Path, where: str) -> tuple[str, bool]:
    """Whole old or whole new schema, intact, and reopening completes the migration.

    Returns which schema the file held and whether the kill left a hot journal (one that
    must be rolled back before the file can be read)."""
    # A read-only look first: it must see a consistent file without writing it.
    state = file_state(path)
    names = listing(path.parent)
    ro = open_dump(path, read_only=True)
    hot = any("journal to roll back" in n for n in ro["database"]["notices"])
    assert comparable(ro["conversations"]) == comparable(fx["dump"]["conversations"]), where
    assert_untouched(path, state, where)
    assert listing(path.parent) == names, where  # no -wal / -shm left, nothing created
    assert integrity(path) == "ok", where
    got = shape(path)
    if got == fx["old_shape"]:
        which = "old"
    elif got == fx["new_shape"]:
        which = "new"
    else:
        raise AssertionError(f"mixed schema after a kill at {where}: {got}")
    doc = open_dump(path)
    assert doc["database"]["schema_after"] == Era.GP26.value
    assert doc["conversations"] == fx["dump"]["conversations"], where
    assert shape(path) == fx["new_shape"], where
    return which, hot


@pytest.mark.parametrize("case", list(KILL_CASES))
def test_sigkill_at_every_step(
    case: str, kill_fixtures: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    fx = kill_fixtures[case]
    points = fx["points"]
    assert any(p.startswith("progress:") for p in points)
    assert "step:commit" in points
    outcomes: dict[str, str] = {}
    hot_journals = 0
    for point in dict.fromkeys(points):
        path = _fresh(fx, tmp_path)
        _, killed, _ = run_child(path, point)
        assert killed, point
        outcomes[point], hot = _check_after_kill(fx, path, point)
        hot_journals += hot
    # Every on_step / on_progress point is inside the one transaction: all roll back.
    assert set(outcomes.values()) == {"old"}, outcomes
    if case == "era1":
        assert hot_journals > 0  # some kills really left a journal that had to be rolled back


@pytest.mark.parametrize("case", ["era1", "era2-wal"])
def test_sigkill_at_random_moments(
    case: str, kill_fixtures: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    """Kills at moments spread over the migration: inside executemany, during COMMIT..."""
    fx = kill_fixtures[case]
    rng = random.Random(26)
    span = fx["duration"]
    delays = sorted(rng.uniform(0.0, span * 1.1) for _ in range(8))
    outcomes = []
    for delay in delays:
        path = _fresh(fx, tmp_path)
        kill_after(path, delay)
        outcomes.append(_check_after_kill(fx, path, f"t={delay:.3f}s")[0])
    assert "old" in outcomes


# --------------------------------------------------------------------------- 5. bad input


def garbage_in_the_middle(path: Path, start: float = 0.2, end: float = 0.8) -> Path:
    """Overwrite the pages between `start` and `end` of the file with random bytes
    (page 1, the header and schema, stays intact: SQLite opens the file happily)."""
    size = path.stat().st_size
    page = 4096
    first = max(1, int(size * start) // page) * page
    last = int(size * end) // page * page
    rng = random.Random(4)
    with open(path, "r+b") as fh:
        fh.seek(first)
        fh.write(rng.randbytes(last - first))
    return path


BAD_INPUTS: dict[str, tuple[Callable[[Path], Any], int, str]] = {
    "missing": (lambda p: None, 3, "no such file"),
    "not-sqlite": (b.build_not_sqlite, 3, "not a SQLite database"),
    "binary-junk": (lambda p: p.write_bytes(random.Random(1).randbytes(8192)), 3, "not a SQLite"),
    "not-turns": (b.build_not_turns_sqlite, 3, "without turns tables"),
    "folder": (lambda p: p.mkdir(), 3, "folder"),
    "truncated": (lambda p: b.build_truncated(p, b.bulk_scenario(4, 6, 6)), 3, "truncated"),
    "garbage-era2": (
        lambda p: garbage_in_the_middle(b.build_era2(p, b.bulk_scenario(20, 6, 6))),
        3,
        "corrupt",
    ),
    "garbage-era1": (
        lambda p: garbage_in_the_middle(b.build_era1(p, b.bulk_scenario(20, 6, 6))),
        3,
        "corrupt",
    ),
    "garbage-gp26": (
        lambda p: garbage_in_the_middle(b.build_gp26(p, b.bulk_scenario(20, 6, 6))),
        3,
        "corrupt",
    ),
    "garbage-gp26-wal-mode": (
        lambda p: garbage_in_the_middle(to_wal(b.build_gp26(p, b.bulk_scenario(20, 6, 6)))),
        3,
        "corrupt",
    ),
}

COMMANDS = {
    "dump": ["dump"],
    "dump-ro": ["dump", "--read-only"],
    "migrate": ["migrate"],
    "dry-run": ["migrate", "--dry-run"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_one_line_right_code_untouched(case: str, command: str, tmp_path: Path) -> None:
    make, code, cause = BAD_INPUTS[case]
    path = tmp_path / "input.db"
    make(path)
    before = file_state(path) if path.is_file() else None
    names = listing(tmp_path)
    res = cli(*COMMANDS[command][:1], str(path), *COMMANDS[command][1:])
    line = assert_one_line_error(res, path, code)
    assert cause in line, line
    if before is not None:
        assert file_state(path) == before
    assert listing(tmp_path) == names  # nothing created: no -journal, -wal, -shm
    if case == "missing":
        assert not path.exists()


def _overwrite_page(path: Path, page_no: int) -> None:
    with open(path, "r+b") as fh:
        fh.seek((page_no - 1) * 4096)
        fh.write(random.Random(page_no).randbytes(4096))


def _root_page(path: Path, name: str) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(
            conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]
        )
    finally:
        conn.close()


@pytest.mark.parametrize("full_check", [True, False], ids=["small-file", "big-file-mode"])
@pytest.mark.parametrize("table", ["turns", "turn_block_membership"])
def test_migration_never_commits_into_a_damaged_file(
    table: str, full_check: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Damage in pages the migration itself never reads is caught before it writes."""
    from tui.store import migrate

    if not full_check:
        # Pretend the file is big: only the tables the migration rewrites are checked.
        monkeypatch.setattr(migrate, "FULL_CHECK_MAX_PAGES", 0)
    path = b.build_era2(tmp_path / "d.db", b.bulk_scenario(10, 6, 6))
    _overwrite_page(path, _root_page(path, table))
    before = file_state(path)
    if table == "turn_block_membership" and not full_check:
        # The documented limit of big-file mode: damage in a table the migration neither
        # reads nor writes is met (and reported as one line) only when that table is read.
        store = open_store(path)
        try:
            assert store.opened is not None and store.opened.report.applied
            turn = store.turns("bulk-conv-000000")[0]
            snap = turn.snapshots[0]
            with pytest.raises(NotADatabaseError, match="corrupt") as info:
                store.snapshot(
                    turn.conv_id,
                    turn.session_id,
                    turn.turn_id,
                    snap.phase,
                    snap.snapshot_created_at_ms,
                )
            assert "\n" not in str(info.value)
            assert str(path) in str(info.value)  # names the user's file
        finally:
            store.close()
        return
    with pytest.raises(NotADatabaseError, match="corrupt") as info:
        open_database(str(path))
    assert "\n" not in str(info.value)
    assert file_state(path) == before
    assert listing(tmp_path) == ["d.db"]


_HALF_COMMITTED = r"""
import os, signal, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA cache_size=5")  # tiny: the new pages spill into the file before COMMIT
conn.execute("BEGIN")
conn.execute("CREATE TABLE spill (x BLOB)")  # page 1 changes: its original is journaled
for _ in range(300):
    conn.execute("INSERT INTO spill VALUES (randomblob(3000))")
os.kill(os.getpid(), signal.SIGKILL)  # a writer killed mid-transaction: the journal is hot
"""


def _killed_with_page_one_ahead(path: Path) -> None:
    """A writer killed while its transaction was half in the file: a hot journal beside
    it, and page 1 already counting more pages than the file holds (what a kill inside
    COMMIT leaves: page 1 is written before the file is extended)."""
    done = subprocess.run([sys.executable, "-c", _HALF_COMMITTED, str(path)], check=False)
    assert done.returncode == -signal.SIGKILL
    assert Path(str(path) + "-journal").stat().st_size > 0
    with open(path, "r+b") as f:
        header = bytearray(f.read(100))
        page_size = int.from_bytes(header[16:18], "big")
        pages = os.path.getsize(path) // page_size
        header[28:32] = (pages + 50).to_bytes(4, "big")  # ahead of the file's length
        header[92:96] = header[24:28]  # and valid: the change counter it was written with
        f.seek(0)
        f.write(header)


def test_a_hot_journal_with_page_one_ahead_is_rolled_back_not_called_truncated(
    tmp_path: Path,
) -> None:
    """The size check must leave such a file to SQLite's recovery: read-only, the dump is
    the file as it was before the killed transaction, and nothing beside it changes; in
    place, the journal is rolled back and the migration completes."""
    ref = b.build_era1(tmp_path / "ref.sqlite", b.bulk_scenario(6, 4, 4))
    expected = open_dump(ref)
    path = tmp_path / "victim" / "turns.sqlite"
    path.parent.mkdir()
    shutil.copyfile(ref, path)
    _killed_with_page_one_ahead(path)
    state, names = file_state(path), listing(path.parent)
    ro = open_dump(path, read_only=True)
    assert comparable(ro["conversations"]) == comparable(expected["conversations"])
    assert any("journal to roll back" in n for n in ro["database"]["notices"])
    assert_untouched(path, state, "read-only open of a hot journal")
    assert listing(path.parent) == names
    doc = open_dump(path)
    assert doc["conversations"] == expected["conversations"]
    assert integrity(path) == "ok"
    assert listing(path.parent) == ["turns.sqlite"]  # rolled back: the journal is gone
