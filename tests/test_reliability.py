"""Reliability: live writers, crashes mid-migration, WAL files, permissions, hostile files.

Each case of issue 4 is built for real: a separate writer process (``tests/writer_process.py``)
saving turns like pinocchio, migrations SIGKILLed at every step, read-only folders entered
as an unprivileged user (``setpriv`` when the suite runs as root), corrupt and hostile files.
The soak test (``--soak``; ``TURNS_TUI_SOAK_SECONDS``, default 600) runs writer + follow
polling + periodic re-opens and prints its figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import builders as b
from tui.store.async_reader import AsyncReader
from tui.store.errors import LockedError, NotADatabaseError, StoreError
from tui.store.models import Era
from tui.store.opener import open_database
from tests.sync_store import open_store

ROOT = Path(__file__).resolve().parent.parent
WRITER = ROOT / "tests" / "writer_process.py"
SIDE = ("-wal", "-shm", "-journal")
NOBODY = 65534

# --------------------------------------------------------------------------- helpers


def sha(path: Path | str) -> str | None:
    p = Path(path)
    return hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None


def file_state(path: Path) -> dict[str, str | None]:
    """Hashes of the file and its side files (None when absent)."""
    return {s or "db": sha(str(path) + s) for s in ("", *SIDE)}


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def cli(
    *args: str, user: bool = False, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run `python -m tui ARGS` (as the unprivileged user when `user`); bytes out."""
    cmd = [*(unprivileged() if user else []), sys.executable, "-m", "tui", *args]
    return subprocess.run(cmd, capture_output=True, timeout=timeout, cwd=ROOT, env=env)


def text(res: subprocess.CompletedProcess[bytes]) -> tuple[str, str]:
    return res.stdout.decode("utf-8", "replace"), res.stderr.decode("utf-8", "replace")


def assert_one_line_error(res: subprocess.CompletedProcess[bytes], path: Path, code: int) -> str:
    out, err = text(res)
    assert res.returncode == code, (res.returncode, err)
    lines = err.strip().splitlines()
    assert lines, "no error line"
    # Notices (one line each, "turns-tui: PATH: ...") may precede the error line.
    assert len(lines) <= 2, err
    last = lines[-1]
    assert str(path) in last, last
    assert "Traceback" not in err
    assert out == ""
    return last


@functools.cache
def _setpriv_prefix() -> tuple[str, ...] | None:
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = (setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups")
    probe = subprocess.run([*prefix, sys.executable, "-c", "import tui"], cwd=ROOT, check=False)
    return prefix if probe.returncode == 0 else None


def unprivileged() -> list[str]:
    """Command prefix that drops to an unprivileged user when running as root."""
    if os.geteuid() != 0:
        return []
    prefix = _setpriv_prefix()
    if prefix is None:
        pytest.skip("running as root and setpriv (util-linux) cannot drop privileges here")
    return list(prefix)


@pytest.fixture
def public_dir() -> Iterator[Path]:
    """A folder under /tmp the unprivileged user can enter; restored and removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="turns-rel-", dir="/tmp"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for root, dirs, files in os.walk(folder):
            os.chmod(root, 0o755)
            for name in dirs:
                os.chmod(os.path.join(root, name), 0o755)
            for name in files:
                os.chmod(os.path.join(root, name), 0o644)
        shutil.rmtree(folder, ignore_errors=True)


def open_dump(path: Path | str, **kwargs: Any) -> dict[str, Any]:
    reader = open_store(str(path), **kwargs)
    opened = reader.opened
    assert opened is not None
    try:
        return reader.dump()
    finally:
        reader.close()


def conv_ids(doc: dict[str, Any]) -> list[str]:
    return [c["conv_id"] for c in doc["conversations"]]


def shape(path: Path) -> dict[str, Any]:
    """Tables with their columns and row counts, and the index names (read-only)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        out: dict[str, Any] = {}
        for t in sorted(tables):
            cols = tuple(r[1] for r in conn.execute(f'PRAGMA table_info("{t}")'))
            count = conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
            out[t] = (cols, count)
        out["<indexes>"] = sorted(
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")
        )
        return out
    finally:
        conn.close()


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return "\n".join(str(r[0]) for r in conn.execute("PRAGMA integrity_check"))
    finally:
        conn.close()


def table_rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return sorted(conn.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
    finally:
        conn.close()


def to_wal(path: Path) -> Path:
    """Switch a built file to WAL journaling, as pinocchio leaves it."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()
    return path


# --------------------------------------------------------------------------- writer process


class WriterProc:
    """A `tests/writer_process.py` subprocess with its event log."""

    def __init__(self, path: Path, log: Path, *args: str) -> None:
        self.log = log
        self.summary_path = log.with_suffix(".summary.json")
        self.proc = subprocess.Popen(
            [sys.executable, str(WRITER), str(path), "--log", str(log)]
            + ["--summary", str(self.summary_path), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )

    def events(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        out = []
        for line in self.log.read_text().splitlines():
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
        return out

    def commits(self) -> int:
        return sum(1 for e in self.events() if e.get("event") == "commit")

    def wait_event(self, name: str, timeout: float = 20.0, count: int = 1) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(1 for e in self.events() if e.get("event") == name) >= count:
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"writer exited early: {self.proc.communicate()}")
            time.sleep(0.01)
        raise AssertionError(f"writer never reported {name!r}")

    def finish(self, timeout: float = 60.0) -> dict[str, Any]:
        out, err = self.proc.communicate(timeout=timeout)
        assert self.summary_path.exists(), f"no summary (rc={self.proc.returncode}): {err}"
        summary: dict[str, Any] = json.loads(self.summary_path.read_text())
        summary["returncode"] = self.proc.returncode
        summary["stderr"] = err
        return summary

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def committed_present(path: Path, committed: list[list[str]]) -> tuple[int, list[Any]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        have = set(conn.execute("SELECT conv_id, turn_id FROM turns").fetchall())
    finally:
        conn.close()
    missing = [c for c in committed if tuple(c) not in have]
    return len(committed) - len(missing), missing


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
        notices: list[str] = []
        started = time.monotonic()
        first = open_database(str(path), on_notice=notices.append)
        first_wait = time.monotonic() - started
        assert first.mode == "in_place" and first.report.applied
        assert first.schema_after == Era.GP26
        assert any("waiting" in n for n in notices), notices  # it said so while waiting
        assert first_wait >= 0.5  # it really waited for the writer's transaction

        # A reader holding a read transaction open must not block the writer (WAL snapshot).
        reader = Reader(first)
        conn = reader._conn("main")
        cur = conn.execute("SELECT conv_id, turn_id FROM turns")
        cur.fetchone()
        before = writer.commits()
        deadline = time.monotonic() + 5
        while writer.commits() < before + 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert writer.commits() >= before + 3, "the writer stalled behind an open reader"
        cur.close()
        reader.close()

        opens = 0
        migrations = 0
        seen_max = 0
        waits: list[float] = []
        while writer.proc.poll() is None:
            t0 = time.monotonic()
            opened = open_database(str(path), on_notice=notices.append)
            waits.append(time.monotonic() - t0)
            opens += 1
            migrations += opened.mode == "in_place"
            reader = Reader(opened)
            try:
                convs = reader.conversations()
                live = [c for c in convs if c.conv_id.startswith("live-")]
                n = sum(len(reader.turns(c.conv_id)) for c in live)
                assert n >= seen_max  # a committed turn never disappears
                seen_max = n
                reader.dump()
            finally:
                reader.close()
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


def assert_untouched(path: Path, before: dict[str, str | None], where: str = "") -> None:
    """The file, its WAL and its journal are byte-for-byte as before.

    ``-shm`` is SQLite's shared-memory index (every reader updates its read marks), and a
    read-only connection to a WAL database creates it and an empty ``-wal`` when they are
    missing and the folder is writable (every SQLite reader does): the only changes allowed.
    """
    after = file_state(path)
    for key, digest in before.items():
        if key == "-shm":
            continue
        if digest is not None:
            assert after[key] == digest, f"{key} changed {where}"
        elif after[key] is not None:
            assert key in ("-wal", "-shm"), f"{key} created {where}"
            if key == "-wal":
                assert Path(str(path) + "-wal").stat().st_size == 0, f"-wal written {where}"


def _check_after_kill(fx: dict[str, Any], path: Path, where: str) -> tuple[str, bool]:
    """Whole old or whole new schema, intact, and reopening completes the migration.

    Returns which schema the file held and whether the kill left a hot journal (one that
    must be rolled back before the file can be read)."""
    # A read-only look first: it must see a consistent file without writing it.
    state = file_state(path)
    ro = open_dump(path, read_only=True)
    hot = any("journal to roll back" in n for n in ro["database"]["notices"])
    assert ro["conversations"] == fx["dump"]["conversations"], where
    assert_untouched(path, state, where)
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


# --------------------------------------------------------------------------- 3. WAL present

WAL_BUILDS: dict[str, Callable[[Path], Path]] = {
    # the standard scenario still needs a backfill: read-only mode migrates a private copy
    "needs-backfill": lambda p: b.build_gp26(p, b.standard_scenario(), keep_wal=True),
    # every runtime stored: read-only mode reads the file in place through the WAL
    "up-to-date": lambda p: b.build_gp26(p, b.bulk_scenario(4, 3, 4), keep_wal=True),
}


def _wal_only_conv(path: Path) -> str:
    """The conversation whose rows are only in the -wal (the builder's last one).

    Works on copies: opening the file itself, even read-only and as root, would create its
    -shm (root ignores the read-only folder) and spoil the case under test.
    """
    work = Path(tempfile.mkdtemp())
    try:
        main_only = work / "main-only.db"
        with_wal = work / "with-wal.db"
        shutil.copyfile(path, main_only)
        shutil.copyfile(path, with_wal)
        shutil.copyfile(str(path) + "-wal", str(with_wal) + "-wal")
        sets = []
        for copy in (main_only, with_wal):
            conn = sqlite3.connect(copy)
            try:
                sets.append({r[0] for r in conn.execute("SELECT DISTINCT conv_id FROM turns")})
            finally:
                conn.close()
    finally:
        shutil.rmtree(work)
    (only,) = sets[1] - sets[0]
    return str(only)


@pytest.mark.parametrize("kind", list(WAL_BUILDS))
def test_wal_only_turns_are_shown(kind: str, tmp_path: Path) -> None:
    path = WAL_BUILDS[kind](tmp_path / "w.db")
    assert Path(str(path) + "-wal").stat().st_size > 0
    only = _wal_only_conv(path)

    before = file_state(path)
    res = cli("dump", str(path), "--read-only")
    assert res.returncode == 0, text(res)[1]
    doc = json.loads(res.stdout)
    assert only in conv_ids(doc)
    assert doc["database"]["mode"] == ("copy" if kind == "needs-backfill" else "none")
    assert_untouched(path, before, "(--read-only)")
    assert before["-wal"] is not None and file_state(path)["-wal"] == before["-wal"]

    res = cli("dump", str(path))
    assert res.returncode == 0, text(res)[1]
    assert only in conv_ids(json.loads(res.stdout))


def _read_only_folder(public_dir: Path, build: Callable[[Path], Path], keep_shm: bool) -> Path:
    folder = public_dir / "ro"
    folder.mkdir()
    path = build(folder / "w.db")
    if not keep_shm:
        os.remove(str(path) + "-shm")
    for f in folder.iterdir():
        f.chmod(0o444)
    folder.chmod(0o555)
    return path


@pytest.mark.parametrize("keep_shm", [False, True], ids=["no-shm", "with-shm"])
@pytest.mark.parametrize("kind", list(WAL_BUILDS))
def test_wal_in_read_only_folder(kind: str, keep_shm: bool, public_dir: Path) -> None:
    """A db + -wal copied off a server into a folder we cannot write (no -shm at all)."""
    path = _read_only_folder(public_dir, WAL_BUILDS[kind], keep_shm)
    only = _wal_only_conv(path)
    before = file_state(path)
    names = listing(path.parent)
    assert (before["-shm"] is not None) == keep_shm
    for extra in ([], ["--read-only"]):
        res = cli("dump", str(path), *extra, user=True)
        out, err = text(res)
        assert res.returncode == 0, err
        doc = json.loads(out)
        assert only in conv_ids(doc), (extra, conv_ids(doc))
        assert doc["database"]["notices"], "read-only mode must say so"
        assert file_state(path) == before
        assert listing(path.parent) == names
    res = cli("migrate", str(path), "--dry-run", user=True)
    assert res.returncode == 0, text(res)[1]
    assert file_state(path) == before


# --------------------------------------------------------------------------- 4. permissions


@pytest.mark.parametrize(
    "layout",
    ["ro-file", "ro-folder", "ro-file-wal-mode", "ro-folder-wal-mode"],
)
@pytest.mark.parametrize("builder", ["era2", "gp26-up-to-date"])
def test_unwritable_falls_back_to_read_only_by_itself(
    layout: str, builder: str, public_dir: Path
) -> None:
    folder = public_dir / "data"
    folder.mkdir()
    if builder == "era2":
        path = b.build_era2(folder / "t.db", b.standard_scenario())
    else:
        path = b.build_gp26(folder / "t.db", b.bulk_scenario(3, 3, 3))
    if layout.endswith("wal-mode"):
        to_wal(path)  # header in WAL mode, no -wal / -shm beside it (closed cleanly)
    path.chmod(0o444)
    folder.chmod(0o555 if layout.startswith("ro-folder") else 0o777)
    before = file_state(path)
    names = listing(folder)
    for command in (["dump", str(path)], ["migrate", str(path)]):
        res = cli(*command, user=True)
        out, err = text(res)
        assert res.returncode == 0, err
        assert "not writable; opened read-only" in err, err
        assert_untouched(path, before, str(command))
        if layout.startswith("ro-folder"):
            assert listing(folder) == names
        if command[0] == "dump":
            doc = json.loads(out)
            assert doc["database"]["mode"] in ("copy", "none")
            assert doc["database"]["schema_after"] == Era.GP26.value
            assert len(doc["conversations"]) == 3


@pytest.mark.parametrize("what", ["file", "folder"])
@pytest.mark.parametrize("command", [["dump"], ["dump", "--read-only"], ["migrate"]])
def test_no_permission_is_exit_5_as_any_user(
    what: str, command: list[str], public_dir: Path
) -> None:
    """Works as root too: the command runs as an unprivileged user (setpriv)."""
    folder = public_dir / "secret"
    folder.mkdir()
    path = b.build_era2(folder / "t.db", b.standard_scenario())
    if what == "file":
        path.chmod(0o000)
    else:
        folder.chmod(0o000)
    try:
        res = cli(command[0], str(path), *command[1:], user=True)
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)
    line = assert_one_line_error(res, path, 5)
    assert "permission denied" in line
    assert listing(folder) == ["t.db"]


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


def test_error_lines_never_carry_control_characters(tmp_path: Path) -> None:
    """A hostile file name or table name cannot put an escape sequence on the terminal."""
    evil = tmp_path / "evil\x1b]0;pwned\x07\x1b[2J\u202ename.db"
    res = cli("dump", str(evil))
    assert res.returncode == 3
    for raw in (b"\x1b", b"\x07", "\u202e".encode()):
        assert raw not in res.stderr
    assert b"\\x1b" in res.stderr
    hostile_tables = tmp_path / "tables.db"
    conn = sqlite3.connect(hostile_tables)
    conn.execute('CREATE TABLE "x\x1b[31mred\x9b" (a)')
    conn.commit()
    conn.close()
    res = cli("dump", str(hostile_tables))
    assert res.returncode == 3
    assert b"\x1b" not in res.stderr and "\x9b".encode() not in res.stderr
    assert b"without turns tables" in res.stderr


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
        opened = open_database(str(path))
        assert opened.report.applied
        reader = Reader(opened)
        try:
            turn = reader.turns("bulk-conv-000000")[0]
            snap = turn.snapshots[0]
            with pytest.raises(NotADatabaseError, match="corrupt") as info:
                reader.snapshot(
                    turn.conv_id,
                    turn.session_id,
                    turn.turn_id,
                    snap.phase,
                    snap.snapshot_created_at_ms,
                )
            assert "\n" not in str(info.value)
        finally:
            reader.close()
        return
    with pytest.raises(NotADatabaseError, match="corrupt") as info:
        open_database(str(path))
    assert "\n" not in str(info.value)
    assert file_state(path) == before
    assert listing(tmp_path) == ["d.db"]


# --------------------------------------------------------------------------- 6. future schema

FUTURE_BUILDERS: dict[str, Callable[[Path, Any], Path]] = {
    "era1": b.build_era1,
    "era2": b.build_era2,
    "gp26": b.build_gp26,
}


def _add_more_future(path: Path) -> None:
    """Beyond `add_future_schema`: an extra index and a view a newer writer might add."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("CREATE INDEX turn_annotations_by_conv ON turn_annotations(conv_id)")
        conn.execute("CREATE VIEW annotated AS SELECT conv_id, note FROM turn_annotations")
        conn.execute("CREATE TABLE future_kv (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID")
        conn.execute("INSERT INTO future_kv VALUES ('schema', x'00ff1b')")
    finally:
        conn.close()


@pytest.mark.parametrize("era", list(FUTURE_BUILDERS))
def test_future_schema_is_kept_ignored_and_untouched(era: str, tmp_path: Path) -> None:
    plain = FUTURE_BUILDERS[era](tmp_path / "plain.db", b.standard_scenario())
    path = FUTURE_BUILDERS[era](tmp_path / "future.db", b.standard_scenario())
    b.add_future_schema(path)
    _add_more_future(path)
    annotations = table_rows(path, "turn_annotations")
    kv = table_rows(path, "future_kv")
    future_cols = table_rows(path, "turns")
    plan = cli("migrate", str(path), "--dry-run")
    assert plan.returncode == 0, text(plan)[1]

    doc = open_dump(path)
    assert doc["conversations"] == open_dump(plain)["conversations"]  # ignored
    assert table_rows(path, "turn_annotations") == annotations  # kept, untouched
    assert table_rows(path, "future_kv") == kv
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT count(*) FROM annotated").fetchone()[0] == 2
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()
    assert {"turn_annotations_by_conv", "annotated", "future_kv"} <= names
    # The extra column keeps every value (era 1: on the kept legacy table).
    kept_in = "turn_snapshots_legacy" if era == "era1" else "turns"
    conn = sqlite3.connect(path)
    try:
        values = conn.execute(f"SELECT future_col FROM {kept_in}").fetchall()
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({kept_in})")]
    finally:
        conn.close()
    assert values and {v for (v,) in values} == {"kept"}
    assert len(values) == len(future_cols)
    assert "future_col" in cols
    assert integrity(path) == "ok"
    # A second open changes nothing.
    digest = sha(path)
    assert open_database(str(path)).mode == "none"
    assert sha(path) == digest


# --------------------------------------------------------------------------- 7. hostile content

ESC_CLEAR = "\x1b[2J"
ESC_TITLE = "\x1b]0;title\x07"
C1_CSI = "\x9b31m"
RLO = "\u202e"
HOSTILE_IDS = {
    "emoji": "conv-🙂-ü",
    "rtl": f"conv-{RLO}lave",
    "clear": f"conv-{ESC_CLEAR}",
    "title": f"conv-{ESC_TITLE}",
    "c1": f"conv-{C1_CSI}",
}
RAW_FORBIDDEN = (b"\x1b", b"\x07", "\x9b".encode(), RLO.encode())
FIVE_MB = 5 * 1024 * 1024


def _hostile_scenario() -> tuple[b.ConversationSpec, ...]:
    convs = []
    t0 = b.T0
    for n, (label, conv_id) in enumerate(HOSTILE_IDS.items()):
        turns = []
        for k, rk in enumerate((f"rt-{ESC_CLEAR}", f"{RLO}planner", "🙂-runtime")):
            turn_id = f"turn-{label}-{k}-{C1_CSI}{ESC_TITLE}"
            text_body = f"text {ESC_CLEAR}{ESC_TITLE}{C1_CSI}{RLO} 🙂 end"
            if label == "emoji" and k == 0:
                text_body = "A" * FIVE_MB  # a 5 MB block
            blocks = (
                b.BlockSpec(kind="user", role="user", payload={"text": text_body}),
                b.BlockSpec(
                    kind="tool_call",
                    payload={"id": f"call-{ESC_CLEAR}", "name": RLO, "args": {"q": C1_CSI}},
                    id=f"blk-{ESC_TITLE}-{n}-{k}",
                ),
            )
            ms = t0 + n * 100_000 + k * 1000
            turns.append(
                b.TurnSpec(
                    turn_id,
                    (
                        b.SnapshotSpec("pre_inference", ms, blocks[:1]),
                        b.SnapshotSpec("final", ms + 10, blocks),
                    ),
                    metadata={
                        "geppetto.runtime@v1": {"runtime_key": rk},
                        "geppetto.inference_id@v1": f"inf-{ESC_CLEAR}-{n}-{k}",
                    },
                )
            )
        convs.append(b.ConversationSpec(conv_id, f"sess-{RLO}-{ESC_CLEAR}", tuple(turns)))
    return tuple(convs)


def _add_hostile_rows(path: Path) -> None:
    """Rows no well-behaved writer leaves, added with foreign keys off."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("BEGIN")
        cols = {r[1] for r in conn.execute("PRAGMA table_info(turns)")}
        extra = ", runtime_key, inference_id" if "runtime_key" in cols else ""
        vals = ", '', ''" if extra else ""
        ins = (
            "INSERT INTO turns (conv_id, session_id, turn_id, turn_created_at_ms,"
            f" turn_metadata_json, turn_data_json, updated_at_ms{extra})"
            f" VALUES (?, ?, ?, ?, ?, ?, ?{vals})"
        )
        # malformed JSON metadata (and data), a turn without any snapshot
        conn.execute(ins, ("conv-malformed", "s", "t-bad-json", b.T0, "{not json", "[", b.T0))
        conn.execute(
            ins, ("conv-malformed", "s", "t-nan", b.T0 + 1, '{"runtime": NaN}', "{}", b.T0 + 1)
        )
        conn.execute(
            ins,
            ("conv-malformed", "s", f"t-{ESC_CLEAR}-no-snapshots", b.T0 + 2, "{}", "{}", b.T0 + 2),
        )
        # metadata stored as a BLOB, and a turn id that is not valid UTF-8
        conn.execute(
            ins, ("conv-malformed", "s", "t-blob-meta", b.T0 + 3, b"\x1b\xff{", "{}", b.T0 + 3)
        )
        conn.execute(
            ins.replace("VALUES (?, ?, ?,", "VALUES (?, ?, CAST(? AS TEXT),"),
            ("conv-malformed", "s", b"t-\xff\xfe-\x1b[2J", b.T0 + 4, "{}", "{}", b.T0 + 4),
        )
        # a conversation with membership rows but no turns row
        conn.execute(
            "INSERT INTO turn_block_membership VALUES"
            " ('conv-no-turns', 's', 'ghost', 'final', ?, 0, 'nowhere', 'nohash')",
            (b.T0,),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()
    # a conversation the timeline knows that has no turns at all
    b.build_timeline(path, [(f"conv-timeline-only-{ESC_CLEAR}", "s", f"rt-{RLO}", b.T0)])


def _legacy_hostile(path: Path) -> Path:
    """Era 1: hostile YAML payloads, one malformed, one 5 MB."""
    b.build_era1(path, _hostile_scenario())
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(
            "INSERT INTO turns VALUES (?, 's', ?, 'final', ?, ?)",
            (f"conv-yaml-{ESC_CLEAR}", f"t-{ESC_TITLE}", b.T0, "blocks: [unclosed\n\x1b[2J: :"),
        )
        conn.execute(
            "INSERT INTO turns VALUES (?, 's', 't-not-a-map', 'final', ?, ?)",
            (f"conv-yaml-{ESC_CLEAR}", b.T0 + 1, "- just\n- a list\n"),
        )
    finally:
        conn.close()
    return path


def _geppetto_hostile(path: Path) -> Path:
    b.build_geppetto(path, _hostile_scenario())
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(
            "INSERT INTO geppetto_turns VALUES (?, 's', 't', 'final', '', '', ?, ?)",
            (f"conv-{ESC_CLEAR}-bad-yaml", b.T0, "{{{ not yaml"),
        )
    finally:
        conn.close()
    return path


HOSTILE_FILES: dict[str, Callable[[Path], Path]] = {
    "gp26": lambda p: (
        b.build_gp26(p, _hostile_scenario()),
        _add_hostile_rows(p),
        p,
    )[-1],
    "era2": lambda p: (b.build_era2(p, _hostile_scenario()), _add_hostile_rows(p), p)[-1],
    "era1": _legacy_hostile,
    "geppetto": _geppetto_hostile,
}


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    return {name: build(folder / f"{name}.db") for name, build in HOSTILE_FILES.items()}


@pytest.mark.parametrize("kind", list(HOSTILE_FILES))
def test_hostile_content_never_crashes_nor_reaches_the_terminal_raw(
    kind: str, hostile_files: dict[str, Path], tmp_path: Path
) -> None:
    path = tmp_path / "h.db"
    shutil.copyfile(hostile_files[kind], path)
    res = cli("dump", str(path))
    out, err = text(res)
    assert res.returncode == 0, err
    for raw in RAW_FORBIDDEN:
        assert raw not in res.stdout, raw
        assert raw not in res.stderr, raw
    doc = json.loads(out)
    convs = {c["conv_id"]: c for c in doc["conversations"]}
    for conv_id in HOSTILE_IDS.values():
        assert conv_id in convs, conv_id  # shown, ids intact once decoded
    turn_ids = {t["turn_id"] for c in doc["conversations"] for t in c["turns"]}
    assert any(ESC_TITLE in t for t in turn_ids)
    runtimes = {t["runtime_key"] for c in doc["conversations"] for t in c["turns"]}
    assert {f"rt-{ESC_CLEAR}", f"{RLO}planner", "🙂-runtime"} <= runtimes
    # The 5 MB block is counted like any other.
    emoji = convs[HOSTILE_IDS["emoji"]]["turns"][0]
    assert [p["block_count"] for p in emoji["phases"]] == [1, 2]
    report = doc["database"]["migration"]
    if kind in ("gp26", "era2"):
        bad = convs["conv-malformed"]["turns"]
        assert len(bad) == 5
        assert any("malformed_metadata" in t["anomalies"] for t in bad)
        no_snap = next(t for t in bad if "no-snapshots" in t["turn_id"])
        assert no_snap["phases"] == [] and "no_final_snapshot" in no_snap["anomalies"]
        assert any("\ufffd" in t["turn_id"] for t in bad)  # invalid UTF-8 shown replaced
        assert "conv-no-turns" not in convs  # membership without a turns row: no turns
        assert report["malformed_metadata_rows"] >= 2 or kind == "gp26"
    if kind == "era1":
        assert report["legacy_rows_unparsed"] == 2
    if kind == "geppetto":
        bad_yaml = convs[f"conv-{ESC_CLEAR}-bad-yaml"]["turns"][0]
        assert bad_yaml["phases"][0]["block_count"] == 0

    res = cli("migrate", str(path), "--dry-run")
    assert res.returncode == 0, text(res)[1]
    for raw in RAW_FORBIDDEN:
        assert raw not in res.stdout and raw not in res.stderr, raw


def test_hostile_legacy_report_is_printable(hostile_files: dict[str, Path], tmp_path: Path) -> None:
    """The plain-text migrate report quotes unparsed legacy rows: escaped, one line each."""
    path = tmp_path / "h.db"
    shutil.copyfile(hostile_files["era1"], path)
    res = cli("migrate", str(path))
    out, err = text(res)
    assert res.returncode == 0, err
    assert "whose YAML does not parse" in out
    for raw in RAW_FORBIDDEN:
        assert raw not in res.stdout, raw
    assert "\\x1b" in out  # the id is shown, escaped
    lines = [ln for ln in out.splitlines() if ln.startswith("  - conv-yaml")]
    assert len(lines) == 2


# --------------------------------------------------------------------------- 8. locked


LOCK_COMMANDS = {
    "dump": ["dump"],
    "dump-ro": ["dump", "--read-only"],
    "migrate": ["migrate"],
    "dry-run": ["migrate", "--dry-run"],
}


HOLDER = r"""
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
if sys.argv[2] == "wal":
    conn.execute("PRAGMA journal_mode = WAL")
conn.execute("PRAGMA locking_mode = EXCLUSIVE")
conn.execute("BEGIN EXCLUSIVE")
conn.execute("UPDATE turns SET turn_data_json = turn_data_json")  # a writer, mid-transaction
print("HELD", flush=True)
sys.stdin.read()  # hold until the parent closes stdin
conn.execute("ROLLBACK")
conn.close()
"""


@contextlib.contextmanager
def exclusive_holder(path: Path, journal: str) -> Iterator[None]:
    """Another process holding an EXCLUSIVE lock (locking_mode=EXCLUSIVE) on `path`.

    (A separate process: in this one, reading the file's bytes to hash them would close a
    descriptor of the file and so release every POSIX lock the process holds on it.)
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), journal],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        assert proc.stdout.readline().strip() == "HELD"
        yield
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
        proc.stdout.close()


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
        assert 4.5 <= elapsed < 8.0, (name, elapsed)  # waited the busy timeout, no hang
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


# --------------------------------------------------------------------------- follow


async def _follow_until(
    reader: AsyncReader,
    conv_id: str,
    want: int,
    limit_s: float = 30.0,
    version: int | None = None,
) -> tuple[list[int], int]:
    """Poll data_version (from `version`, read before the writer started, when given); on
    each change re-read the conversation. Returns (turn counts seen at each change, polls).
    """
    seen: list[int] = []
    if version is None:
        version = await reader.data_version()
    polls = 0
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        polls += 1
        now = await reader.data_version()
        if now == version:
            continue
        version = now
        seen.append(len(await reader.turns(conv_id)))
        if seen[-1] >= want:
            break
    return seen, polls


async def test_follow_sees_turns_appended_by_another_process(tmp_path: Path) -> None:
    path = b.build_gp26(tmp_path / "f.db", b.bulk_scenario(2, 2, 2))
    opened = open_database(str(path))
    reader = AsyncReader(opened)
    try:
        assert await reader.turns("follow-0") == []
        version0 = await reader.data_version()
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
            seen, polls = await _follow_until(reader, "follow-0", 6)
            summary = writer.finish()
        finally:
            writer.kill()
        assert summary["errors"] == [] and summary["turns_committed"] == 6
        assert await reader.data_version() != version0
        assert seen and seen[-1] == 6, seen
        assert seen == sorted(seen)  # turns only ever appear
        assert len(seen) > 1  # they appeared as they landed, not all at the end
        turns = await reader.turns("follow-0")
        assert {t.turn_id for t in turns} == {t for _, t in summary["committed"]}
        assert all(t.runtime_key for t in turns)
    finally:
        await reader.close()


async def test_follow_survives_a_reopen_and_writer_restarts(tmp_path: Path) -> None:
    """The app re-opens the file (open_database) while its reader stays open, and the agent
    restarts between turns (each writer process closes the database when it exits: the last
    connection to close checkpoints and deletes the WAL unless a reader still holds it)."""
    path = to_wal(b.build_gp26(tmp_path / "f.db", b.bulk_scenario(2, 2, 2)))
    opened = open_database(str(path))
    reader = AsyncReader(opened)
    try:
        await reader.conversations()  # the reader's connection is open and has read
        want = 0
        for round_no in range(3):
            open_database(str(path))  # a refresh / re-open in the same process
            open_database(str(path), read_only=True)
            version = await reader.data_version()
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
                reader, f"restart{round_no}-0", 1, limit_s=5, version=version
            )
            assert seen and seen[-1] == 1, (round_no, seen)
        convs = {c.conv_id for c in await reader.conversations()}
        assert {f"restart{n}-0" for n in range(3)} <= convs
        assert len(convs) == 2 + want
    finally:
        await reader.close()


# --------------------------------------------------------------------------- soak


@pytest.mark.soak
async def test_soak_writer_follow_and_reopen(tmp_path: Path) -> None:
    """`--soak`: a pre-GP-26 writer saves turns for TURNS_TUI_SOAK_SECONDS (default 600)
    while we follow with data_version polling and re-open (migrate + backfill) every 5 s."""
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
    opened = open_database(str(path))
    reader = AsyncReader(opened)
    seen: dict[str, int] = {}
    polls = changes = opens = migrations = waited_opens = reader_rotations = 0
    open_times: list[float] = []
    wait_times: list[float] = []
    errors: list[str] = []
    next_open = time.monotonic() + 5
    next_rotate = time.monotonic() + 30
    version = await reader.data_version()
    try:
        while True:
            done = writer.proc.poll() is not None
            await asyncio.sleep(0.25)
            polls += 1
            now = await reader.data_version()
            if now != version or done:
                version = now
                changes += 1
                for conv in [f"soak-{c}" for c in range(4)]:
                    n = len(await reader.turns(conv))
                    if n < seen.get(conv, 0):
                        errors.append(f"{conv}: {n} turns after {seen[conv]}")
                    seen[conv] = max(n, seen.get(conv, 0))
            if time.monotonic() >= next_open and not done:
                notices: list[str] = []
                t0 = time.monotonic()
                reopened = open_database(str(path), on_notice=notices.append)
                elapsed = time.monotonic() - t0
                opens += 1
                open_times.append(elapsed)
                migrations += reopened.mode == "in_place"
                if any("waiting" in n for n in notices):
                    waited_opens += 1
                    wait_times.append(elapsed)
                next_open = time.monotonic() + 5
            if time.monotonic() >= next_rotate and not done:
                await reader.close()  # the app re-creates its reader after a reload
                reader = AsyncReader(open_database(str(path)))
                version = await reader.data_version()
                reader_rotations += 1
                next_rotate = time.monotonic() + 30
            if done:
                break
        summary = writer.finish()
    finally:
        writer.kill()
        await reader.close()
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
