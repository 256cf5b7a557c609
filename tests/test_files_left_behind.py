"""Nothing left behind: after every command the folders list exactly what they listed before.

`turns-tui dump` / `migrate` / `migrate --dry-run` run as subprocesses (default and
`--read-only`) on every era, with the file in WAL mode and in rollback mode, with a
`--timeline-db` in another folder, and on bad input. Before and after, the bytes of the
files and the sorted listing of each folder (the database's, the timeline store's, and
TMPDIR, where private copies go) are compared: no -wal, -shm, -journal or `turns-tui-*`
copy folder may stay. A live writer's -wal / -shm are the one exception, and must stay.

Private copies (era 1 read-only) are removed on a normal exit, on SIGTERM and SIGHUP sent
while the command is busy, and, after a SIGKILL, by the next start.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import builders as b
from tests.test_reliability import ROOT, WriterProc, to_wal

COPY_PREFIX = "turns-tui-"

ERAS: dict[str, Callable[[Path, Any], Path]] = {
    "era0": b.build_era0,
    "era1": b.build_era1,
    "era2": b.build_era2,
    "gp26": b.build_gp26,  # the standard scenario still needs a backfill
    "geppetto": b.build_geppetto,
    "hybrid": b.build_go_hybrid_era1,
}
JOURNALS = ("rollback", "wal")
COMMANDS: dict[str, list[str]] = {
    "dump": ["dump"],
    "dump-ro": ["dump", "--read-only"],
    "migrate": ["migrate"],
    "dry-run": ["migrate", "--dry-run"],
}
NEVER_WRITE = ("dump-ro", "dry-run")


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(args: list[str], tmpdir: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`python -m tui ARGS` with TMPDIR pointing at `tmpdir` (where copies would go)."""
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
    )


def _hangup_as_default() -> None:
    """A child that gets SIGHUP's default action, even when this run's SIGHUP is ignored
    (under `nohup` the app leaves an ignored SIGHUP ignored, and would run on)."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def start(args: list[str], tmpdir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    return subprocess.Popen(
        [sys.executable, "-m", "tui", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
        preexec_fn=_hangup_as_default,
    )


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Every era in both journal modes, built once (closed cleanly: no side files)."""
    folder = tmp_path_factory.mktemp("pristine")
    out = {}
    for era, build in ERAS.items():
        for journal in JOURNALS:
            path = build(folder / f"{era}-{journal}.db", b.standard_scenario())
            if journal == "wal":
                to_wal(path)
            out[(era, journal)] = path
    assert listing(folder) == sorted(p.name for p in out.values())
    return out


@pytest.fixture
def place(tmp_path: Path) -> tuple[Path, Path]:
    """(the database's folder, TMPDIR), both empty."""
    db, tmp = tmp_path / "db", tmp_path / "tmp"
    db.mkdir()
    tmp.mkdir()
    return db, tmp


def wal_header(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(20)[18:20] == b"\x02\x02"


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("journal", JOURNALS)
@pytest.mark.parametrize("era", list(ERAS))
def test_every_era_and_command_leaves_the_folders_as_they_were(
    era: str,
    journal: str,
    command: str,
    pristine: dict[tuple[str, str], Path],
    place: tuple[Path, Path],
) -> None:
    folder, tmp = place
    path = folder / "turns.db"
    shutil.copyfile(pristine[(era, journal)], path)
    assert wal_header(path) == (journal == "wal")
    before_names, before_bytes = listing(folder), digest(path)
    res = run([COMMANDS[command][0], str(path), *COMMANDS[command][1:]], tmp)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    assert listing(folder) == before_names, (era, journal, command)  # no -wal/-shm/-journal
    assert listing(tmp) == [], "a private copy (or its folder) was left behind"
    if command in NEVER_WRITE or era == "geppetto":  # geppetto_turns is never written
        assert digest(path) == before_bytes, (era, journal, command)
    else:
        assert digest(path) != before_bytes  # it did migrate (the scenario needs a backfill)
    assert wal_header(path) == (journal == "wal")  # the journal mode is the writer's


@pytest.mark.parametrize("command", ["dump", "dump-ro"])
@pytest.mark.parametrize("journal", JOURNALS)
def test_timeline_db_folder_is_left_as_it_was(
    journal: str, command: str, pristine: dict[tuple[str, str], Path], tmp_path: Path
) -> None:
    """`--timeline-db` in another folder: read only, its folder listing unchanged too."""
    folder, tl_folder, tmp = tmp_path / "db", tmp_path / "timeline", tmp_path / "tmp"
    for f in (folder, tl_folder, tmp):
        f.mkdir()
    path = folder / "turns.db"
    shutil.copyfile(pristine[("era1", journal)], path)  # read-only: a private copy
    timeline = b.build_timeline(tl_folder / "timeline.db", b.standard_timeline_rows())
    if journal == "wal":
        to_wal(timeline)
    names, tl_names = listing(folder), listing(tl_folder)
    tl_bytes = digest(timeline)
    res = run(
        [*COMMANDS[command][:1], str(path), *COMMANDS[command][1:], "--timeline-db", str(timeline)],
        tmp,
    )
    assert res.returncode == 0, res.stderr
    assert '"timeline_db": "' in res.stdout  # the timeline store was read
    assert listing(folder) == names
    assert listing(tl_folder) == tl_names
    assert listing(tmp) == []
    assert digest(timeline) == tl_bytes


def _truncated_wal(path: Path) -> Path:
    b.build_gp26(path, b.bulk_scenario(4, 6, 6))
    to_wal(path)
    os.truncate(path, int(path.stat().st_size * 0.6))
    return path


FAILURES: dict[str, Callable[[Path], Path]] = {
    "truncated": lambda p: b.build_truncated(p, b.bulk_scenario(4, 6, 6)),
    "truncated-wal-mode": _truncated_wal,
    "not-a-database": b.build_not_sqlite,
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", list(FAILURES))
def test_failures_leave_the_folders_as_they_were(
    case: str, command: str, place: tuple[Path, Path]
) -> None:
    folder, tmp = place
    path = FAILURES[case](folder / "bad.db")
    names, before = listing(folder), digest(path)
    res = run([*COMMANDS[command][:1], str(path), *COMMANDS[command][1:]], tmp)
    assert res.returncode == 3, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert listing(folder) == names, (case, command)
    assert listing(tmp) == []
    assert digest(path) == before


# --------------------------------------------------------------------------- live writer

IDLE_WRITER = r"""
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=5)
conn.execute("PRAGMA journal_mode=WAL")
def commit(n):
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE turns SET updated_at_ms = updated_at_ms + 1 WHERE rowid = 1")
    conn.execute("COMMIT")
commit(0)
print("READY", flush=True)
for n, line in enumerate(sys.stdin, 1):
    commit(n)
    print("COMMITTED", flush=True)
conn.close()
"""


@contextlib.contextmanager
def idle_writer(path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process with a WAL connection open (idle between commits), like pinocchio."""
    proc = subprocess.Popen(
        [sys.executable, "-c", IDLE_WRITER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        assert proc.stdout.readline().strip() == "READY"
        yield proc
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
        proc.stdout.close()


def writer_commits(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("commit\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == "COMMITTED"


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_live_writers_wal_and_shm_are_never_deleted(
    command: str, pristine: dict[tuple[str, str], Path], place: tuple[Path, Path]
) -> None:
    folder, tmp = place
    path = folder / "turns.db"
    shutil.copyfile(pristine[("era2", "rollback")], path)
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    with idle_writer(path) as writer:
        assert wal.exists() and shm.exists()
        names = listing(folder)
        res = run([*COMMANDS[command][:1], str(path), *COMMANDS[command][1:]], tmp)
        assert res.returncode == 0, res.stderr
        assert shm.exists() and wal.exists(), "the live writer's -wal / -shm were deleted"
        assert listing(folder) == names
        assert listing(tmp) == []
        writer_commits(writer)  # the writer still commits, and a new reader sees it
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            updated = conn.execute("SELECT updated_at_ms FROM turns WHERE rowid = 1").fetchone()
        finally:
            conn.close()
        assert updated is not None
        writer_commits(writer)
    # The writer closed last: SQLite itself removed its -wal / -shm.
    assert listing(folder) == ["turns.db"]


def test_a_busy_writer_keeps_its_files_and_never_fails(
    pristine: dict[tuple[str, str], Path], place: tuple[Path, Path]
) -> None:
    """`tests/writer_process.py` saving turns while dump / dump --read-only / dry-run run."""
    folder, tmp = place
    path = folder / "turns.db"
    shutil.copyfile(pristine[("gp26", "rollback")], path)
    stop = tmp.parent / "stop"
    writer = WriterProc(
        path, tmp.parent / "writer.log", "--stop-file", str(stop), "--pause-ms", "20"
    )
    try:
        writer.wait_event("commit", count=2)
        for command in ("dump", "dump-ro", "dry-run"):
            res = run([*COMMANDS[command][:1], str(path), *COMMANDS[command][1:]], tmp)
            assert res.returncode == 0, res.stderr
            assert Path(f"{path}-shm").exists() and Path(f"{path}-wal").exists(), command
            assert listing(tmp) == []
        done = writer.commits()
        writer.wait_event("commit", count=done + 3)  # it keeps committing afterwards
        stop.touch()
        summary = writer.finish()
    finally:
        writer.kill()
    assert summary["errors"] == [] and summary["returncode"] == 0, summary
    assert listing(folder) == ["turns.db"]


# --------------------------------------------------------------------------- private copies


@pytest.fixture(scope="module")
def big_era1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An era-1 file whose read-only open spends a second or more migrating its copy."""
    return b.build_era1(tmp_path_factory.mktemp("big") / "big.db", b.bulk_scenario(40, 10, 8))


def copy_folders(tmp: Path) -> list[Path]:
    return sorted(p for p in tmp.iterdir() if p.name.startswith(COPY_PREFIX))


def wait_for_copy(tmp: Path, proc: subprocess.Popen[str], timeout: float = 30) -> Path:
    """The private copy folder, once the copy file is in it (the command is busy)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for folder in copy_folders(tmp):
            if (folder / "big.db").exists():
                return folder
        assert proc.poll() is None, f"finished before its copy was seen: {proc.returncode}"
        time.sleep(0.01)
    raise AssertionError("no private copy appeared")


def test_private_copy_removed_after_a_normal_exit(big_era1: Path, place: tuple[Path, Path]) -> None:
    folder, tmp = place
    path = folder / "big.db"
    shutil.copyfile(big_era1, path)
    before = digest(path)
    proc = start(["dump", str(path), "--read-only"], tmp)
    copy = wait_for_copy(tmp, proc)
    assert (copy / "owner.pid").read_text() == str(proc.pid)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert listing(tmp) == []
    assert listing(folder) == ["big.db"] and digest(path) == before


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_private_copy_removed_on_a_signal_mid_run(
    sig: signal.Signals, big_era1: Path, place: tuple[Path, Path]
) -> None:
    folder, tmp = place
    path = folder / "big.db"
    shutil.copyfile(big_era1, path)
    before = digest(path)
    proc = start(["dump", str(path), "--read-only"], tmp)
    wait_for_copy(tmp, proc)
    time.sleep(0.2)  # migrating the copy
    assert proc.poll() is None, "finished before the signal: use a bigger file"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == -sig, (proc.returncode, err)
    assert listing(tmp) == [], "the private copy survived the signal"
    assert listing(folder) == ["big.db"] and digest(path) == before


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_copy_of_a_killed_run_is_removed_at_the_next_start(
    big_era1: Path, place: tuple[Path, Path]
) -> None:
    folder, tmp = place
    path = folder / "big.db"
    shutil.copyfile(big_era1, path)
    # A real SIGKILL mid-run: nothing can clean up, the copy folder stays...
    proc = start(["dump", str(path), "--read-only"], tmp)
    killed = wait_for_copy(tmp, proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert copy_folders(tmp) == [killed]
    # ... and one made by hand, whose owner is a dead pid; and one of a live process.
    made = tmp / f"{COPY_PREFIX}handmade"
    made.mkdir()
    (made / "owner.pid").write_text(str(_dead_pid()))
    (made / "copy.db").write_bytes(b"x" * 100)
    alive = tmp / f"{COPY_PREFIX}alive"
    alive.mkdir()
    (alive / "owner.pid").write_text(str(os.getpid()))
    other = tmp / "someone-elses"
    other.mkdir()
    small = folder / "small.db"
    b.build_gp26(small, b.bulk_scenario(1, 1, 1))
    res = run(["dump", str(small)], tmp)  # the next start, on any file
    assert res.returncode == 0, res.stderr
    assert listing(tmp) == sorted([alive.name, other.name])  # only the stale ones went


# --------------------------------------------------------------------------- side files found


@pytest.mark.parametrize("command", NEVER_WRITE)
def test_a_wal_without_its_shm_is_kept_and_no_shm_is_left(
    command: str, place: tuple[Path, Path]
) -> None:
    """A db + -wal copied off a server without its -shm, in a folder we can write: the
    reader creates a -shm to read the WAL; it goes, the -wal stays byte for byte."""
    folder, tmp = place
    path = b.build_gp26(folder / "w.db", b.standard_scenario(), keep_wal=True)
    Path(f"{path}-shm").unlink()
    wal = Path(f"{path}-wal")
    names, wal_bytes, db_bytes = listing(folder), digest(wal), digest(path)
    assert names == ["w.db", "w.db-wal"] and wal.stat().st_size > 0
    res = run([*COMMANDS[command][:1], str(path), *COMMANDS[command][1:]], tmp)
    assert res.returncode == 0, res.stderr
    assert listing(folder) == names, "a -shm was left beside the -wal"
    assert digest(wal) == wal_bytes and digest(path) == db_bytes
    assert listing(tmp) == []


CRASHED_READER = r"""
import os, signal, sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
conn.execute("SELECT count(*) FROM turns").fetchone()
os.kill(os.getpid(), signal.SIGKILL)  # leaves its -wal and -shm behind
"""


def test_side_files_found_at_a_later_open_in_the_same_process_are_kept(tmp_path: Path) -> None:
    """The app re-opens a path whose side files changed since its first open (a crashed
    process left an empty -wal and a -shm): they were there before this open, so they stay
    (judged by a fresh look, not by what the first open saw)."""
    from tests.sync_store import open_store

    path = to_wal(b.build_gp26(tmp_path / "g.db", b.bulk_scenario(2, 2, 2)))
    store = open_store(path, read_only=True)
    store.close()
    assert listing(tmp_path) == ["g.db"]
    crashed = subprocess.run([sys.executable, "-c", CRASHED_READER, str(path)], check=False)
    assert crashed.returncode == -signal.SIGKILL
    names = listing(tmp_path)
    assert names == ["g.db", "g.db-shm", "g.db-wal"]
    store = open_store(path, read_only=True)
    store.close()
    assert listing(tmp_path) == names


@pytest.mark.parametrize("args", [["dump", "--read-only"], ["dump"], ["check"], ["find", "x"]])
def test_reading_commands_leave_the_folders_untouched_to_the_nanosecond(
    args: list[str], place: tuple[Path, Path]
) -> None:
    """Not even a file made and deleted (Python's tempfile proves TMPDIR writable that
    way): the modification times of the database's folder and of TMPDIR stay as they
    were, for a file that needs no migration."""
    folder, tmp = place
    path = b.build_gp26(folder / "turns.db", b.standard_scenario())
    assert run(["migrate", str(path)], tmp).returncode == 0  # nothing left to do after
    os.utime(folder, ns=(1_000_000_000, 1_000_000_000))
    os.utime(tmp, ns=(1_000_000_000, 1_000_000_000))
    before = digest(path)
    res = run([args[0], str(path), *args[1:]], tmp)
    assert res.returncode in (0, 1), res.stderr  # check: 1 when it found anomalies
    assert "Traceback" not in res.stderr
    assert os.stat(tmp).st_mtime_ns == 1_000_000_000, "something was made in TMPDIR"
    assert os.stat(folder).st_mtime_ns == 1_000_000_000, "something was made beside the file"
    assert digest(path) == before and listing(tmp) == []
