"""Reliability: shared helpers of the themed reliability test files.

Each case of issue 4 is built for real: a separate writer process (``tests/writer_process.py``)
saving turns like pinocchio, migrations SIGKILLed at every step, read-only folders entered
as an unprivileged user (``setpriv`` when the suite runs as root), corrupt and hostile files.
The tests live by theme in:

* ``test_reliability_writer.py``: a live writer, checkpoints, locks held past the timeout;
* ``test_reliability_faults.py``: SIGKILL mid-migration, bad input, damaged pages;
* ``test_reliability_permissions.py``: WAL files present, read-only folders, permissions;
* ``test_reliability_hostile.py``: hostile content, control characters, future schemas;
* ``test_reliability_follow.py``: follow mode and the soak test (``--soak``;
  ``TURNS_TUI_SOAK_SECONDS``, default 600: writer + follow polling + periodic re-opens).

This module holds no test; the others import its helpers.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sync_store import dump

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
    """Open through the real store (`SqliteStore`), dump, close."""
    return dump(str(path), **kwargs)


PROVENANCE_KEYS = ("current_runtime_provenance", "provenance")


def comparable(conversations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Dumped conversations without their provenance objects, which say by design whether
    a value was derived in memory (read-only overlay) or read from the file (migrated):
    ids, runtime keys, inference ids, phases, switches and anomalies must match."""
    return [
        {
            **{k: v for k, v in conv.items() if k not in PROVENANCE_KEYS},
            "turns": [
                {k: v for k, v in turn.items() if k not in PROVENANCE_KEYS}
                for turn in conv["turns"]
            ],
        }
        for conv in conversations
    ]


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


# --------------------------------------------------------------------------- locks


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
