"""The headless CLI: dump contract, migrate plan, one-line errors with distinct exit codes."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import builders as b

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_dump_contract_shape(tmp_path: Path) -> None:
    path = b.build_era1(tmp_path / "e1.db", b.standard_scenario())
    res = run("dump", str(path))
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    db = doc["database"]
    assert set(db) >= {"path", "schema_before", "schema_after", "mode", "migration"}
    assert db["mode"] == "in_place"
    assert set(db["migration"]) >= {
        "applied",
        "steps",
        "backfilled_runtime_key",
        "backfilled_inference_id",
        "unknown_runtime_turns",
        "malformed_metadata_rows",
        "legacy_rows_unparsed",
    }
    conv = doc["conversations"][0]
    assert set(conv) >= {
        "conv_id",
        "session_id",
        "current_runtime_key",
        "current_runtime_source",
        "turns",
    }
    turn = conv["turns"][0]
    assert set(turn) >= {
        "turn_id",
        "runtime_key",
        "inference_id",
        "turn_created_at_ms",
        "updated_at_ms",
        "runtime_switch",
        "previous_runtime_key",
        "phases",
        "anomalies",
    }
    assert set(turn["phases"][0]) >= {"phase", "snapshot_created_at_ms", "block_count"}


def test_dump_one_conversation(tmp_path: Path) -> None:
    path = b.build_era2(tmp_path / "e2.db", b.standard_scenario())
    res = run("dump", str(path), "--conv", "conv-switch")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert [c["conv_id"] for c in doc["conversations"]] == ["conv-switch"]
    assert [t["runtime_switch"] for t in doc["conversations"][0]["turns"]] == [
        False,
        False,
        True,
        False,
        True,
    ]


def test_migrate_dry_run_then_apply(tmp_path: Path) -> None:
    path = b.build_era2(tmp_path / "e2.db", b.standard_scenario())
    before = sha(path)
    res = run("migrate", str(path), "--dry-run")
    assert res.returncode == 0, res.stderr
    assert "era found: era2-normalized" in res.stdout
    assert "add column turns.runtime_key" in res.stdout
    assert "runtime_key to backfill: 9 turns" in res.stdout
    assert "turns that will stay unknown: 1" in res.stdout
    assert "no runtime key in turn metadata" in res.stdout
    assert sha(path) == before
    res = run("migrate", str(path))
    assert res.returncode == 0, res.stderr
    assert "applied steps:" in res.stdout
    assert sha(path) != before
    res = run("migrate", str(path))
    assert "nothing to do" in res.stdout


def _one_line_error(res: subprocess.CompletedProcess[str], path: Path, code: int) -> None:
    assert res.returncode == code, (res.returncode, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert str(path) in lines[0]
    assert "Traceback" not in res.stderr
    assert res.stdout == ""


@pytest.mark.parametrize(
    "make, cause",
    [
        (lambda p: p, "no such file"),
        (b.build_not_sqlite, "not a SQLite database"),
        (b.build_not_turns_sqlite, "without turns tables"),
        (lambda p: (p.mkdir(), p)[1], "folder"),
        (lambda p: b.build_truncated(p, b.bulk_scenario(4, 6, 6)), "truncated"),
    ],
    ids=["missing", "not-sqlite", "not-turns", "folder", "truncated"],
)
@pytest.mark.parametrize("command", ["dump", "migrate"])
def test_bad_input_is_one_line_exit_3_and_untouched(
    make: object, cause: str, command: str, tmp_path: Path
) -> None:
    path = tmp_path / "input.db"
    made = make(path)  # type: ignore[operator]
    before = sha(path) if path.is_file() else None
    res = run(command, str(path))
    _one_line_error(res, path, 3)
    assert cause in res.stderr
    if before is not None:
        assert sha(path) == before
    if cause == "no such file":
        assert not path.exists()
    assert made is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == (["input.db"] if path.exists() else [])


def test_empty_file_dumps_zero_conversations(tmp_path: Path) -> None:
    path = b.build_empty_file(tmp_path / "empty.db")
    res = run("dump", str(path))
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["conversations"] == []
    assert path.stat().st_size == 0


def test_usage_error_exit_2() -> None:
    res = run("dump")
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1


def test_locked_database_exit_4(tmp_path: Path) -> None:
    path = b.build_era2(tmp_path / "e2.db", b.standard_scenario())
    before = sha(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        res = run("dump", str(path), timeout=30)
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    _one_line_error(res, path, 4)
    assert "locked" in res.stderr
    assert waited >= 4.5  # pinocchio's 5 s busy timeout
    assert sha(path) == before


# No permission (exit 5) is covered in tests/test_reliability.py, as root too (setpriv).


def test_headless_commands_do_not_import_textual() -> None:
    code = (
        "import sys; import tui.cli, tui.dump, tui.store.opener, tui.store.queries, "
        "tui.store.migrate, tui.domain; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'aiosqlite')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stdout + res.stderr


def test_store_package_never_imports_textual() -> None:
    for source in (ROOT / "tui" / "store").glob("*.py"):
        text = source.read_text()
        assert "import textual" not in text and "from textual" not in text, source
    domain = (ROOT / "tui" / "domain.py").read_text()
    assert "import textual" not in domain and "from textual" not in domain


# --------------------------------------------------------------------------- small contracts


def test_dump_into_a_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    """`turns-tui dump FILE | head -c 10`: a real pipe closed early; exit 0, no traceback."""
    path = b.build_gp26(tmp_path / "big.db", b.bulk_scenario(40, 10, 2))  # > a pipe buffer
    err = tmp_path / "err"
    script = '( "$0" -m tui dump "$1"; echo "rc=$?" >&2 ) 2>"$2" | head -c 10'
    res = subprocess.run(
        ["sh", "-c", script, sys.executable, str(path), str(err)],
        capture_output=True,
        timeout=60,
        cwd=ROOT,
    )
    assert res.returncode == 0
    assert len(res.stdout) == 10 and res.stdout.startswith(b'{"database')
    stderr = err.read_text()
    assert stderr.strip().splitlines() == ["rc=0"], stderr  # nothing but the exit code
    assert "BrokenPipe" not in stderr and "Traceback" not in stderr


def test_dump_into_a_pipe_the_reader_closes_at_once(tmp_path: Path) -> None:
    path = b.build_gp26(tmp_path / "big.db", b.bulk_scenario(40, 10, 2))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "dump", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert len(proc.stdout.read(10)) == 10
    proc.stdout.close()  # the reader goes away mid-output
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 0, stderr
    assert stderr == "", stderr


def test_version() -> None:
    res = run("--version")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "turns-tui 0.1.0"


@pytest.mark.parametrize("with_path", [True, False], ids=["file", "demo"])
def test_the_app_without_a_terminal_says_so_and_exits_2(with_path: bool, tmp_path: Path) -> None:
    args = [str(b.build_gp26(tmp_path / "g.db", b.bulk_scenario(1, 1, 1)))] if with_path else []
    started = time.monotonic()
    res = subprocess.run(
        [sys.executable, "-m", "tui", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=10,
        cwd=ROOT,
    )
    assert res.returncode == 2, (res.returncode, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs a terminal" in lines[0], res.stderr
    assert res.stdout == ""
    assert time.monotonic() - started < 10


def test_dump_unknown_conversation_is_one_line_exit_3(tmp_path: Path) -> None:
    path = b.build_gp26(tmp_path / "g.db", b.standard_scenario())
    res = run("dump", str(path), "--conv", "NOPE")
    _one_line_error(res, path, 3)
    assert "NOPE" in res.stderr and "no conversation" in res.stderr


def test_a_mistyped_command_is_no_such_file_or_command(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "tui", "dunp"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,  # no file of that name here
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert res.returncode == 3, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "dunp" in lines[0], res.stderr
    assert "no such file or command" in lines[0]
    assert res.stdout == ""


HOLD_EXCLUSIVE = r"""
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA locking_mode = EXCLUSIVE")
conn.execute("BEGIN EXCLUSIVE")
print("HELD", flush=True)
sys.stdin.read()
conn.execute("ROLLBACK")
conn.close()
"""


@pytest.mark.parametrize("read_only", [False, True], ids=["default", "read-only"])
def test_lock_message_states_the_timeout_used(read_only: bool, tmp_path: Path) -> None:
    from tui.store.errors import LockedError
    from tui.store.opener import open_database

    path = b.build_era2(tmp_path / "e2.db", b.standard_scenario())
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_EXCLUSIVE, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "HELD"
        started = time.monotonic()
        with pytest.raises(LockedError) as info:
            open_database(str(path), read_only=read_only, timeout=0.4)
        waited = time.monotonic() - started
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()
    message = str(info.value)
    assert "0.4 s" in message and "5 s" not in message, message
    assert str(path) in message and "\n" not in message
    assert 0.3 <= waited < 3.0  # the short timeout, not the default 5 s


def test_dry_run_on_an_empty_file(tmp_path: Path) -> None:
    path = b.build_empty_file(tmp_path / "empty.db")
    res = run("migrate", str(path), "--dry-run")
    assert res.returncode == 0, res.stderr
    assert "era found: empty" in res.stdout
    assert "empty database: nothing to migrate" in res.stdout
    assert path.stat().st_size == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]
