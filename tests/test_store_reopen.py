"""Re-opening a migrated file: no step needed, no write lock taken, not one byte changed.

Every era builder of `tests/builders`, in rollback and WAL mode: the first open migrates
in place; the second needs no step (`migrate.needed_steps` on a read-only connection is
empty, mode "none") and succeeds while ANOTHER PROCESS holds `BEGIN IMMEDIATE` on the
file (with a 1 s timeout, a write lock wrongly taken fails fast), leaving the bytes and
the folder listing as they were. And `dump --read-only` of a file that needs a backfill
gives the in-place dump's conversations, writes nothing and makes no private copy.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import builders as b
from tests.sync_store import open_store
from tests.test_reliability import ROOT, comparable, to_wal
from tui.store import migrate, schema
from tui.store.models import Era
from tui.store.opener import open_database

LEGACY = "turn_snapshots_legacy"

BUILDERS: dict[str, Callable[[Path], Path]] = {
    "era0": lambda p: b.build_era0(p, b.standard_scenario()),
    "era1": lambda p: b.build_era1(p, b.standard_scenario()),
    "era2": lambda p: b.build_era2(p, b.standard_scenario()),
    "era2-no-updated-at": lambda p: b.build_era2(p, b.standard_scenario(), variant="no_updated_at"),
    "era2-created-at-ms": lambda p: b.build_era2(p, b.standard_scenario(), variant="created_at_ms"),
    "gp26-needs-backfill": lambda p: b.build_gp26(p, b.standard_scenario()),
    "gp26-up-to-date": lambda p: b.build_gp26(p, b.bulk_scenario(3, 3, 3)),
    "geppetto": lambda p: b.build_geppetto(p, b.standard_scenario()),
    "go-hybrid-era1": lambda p: b.build_go_hybrid_era1(p, b.standard_scenario()),
    "go-hybrid-era0": lambda p: b.build_go_hybrid_era0(p, b.standard_scenario()),
    "half-normalized": lambda p: b.build_half_normalized(
        p, b.standard_scenario(), normalized_convs=1
    ),
}
KEEPS_LEGACY = ("era0", "era1", "go-hybrid-era1", "go-hybrid-era0", "half-normalized")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


HOLDER = r"""
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")  # the write lock (RESERVED; in WAL mode the WAL write lock)
print("HELD", flush=True)
sys.stdin.read()
conn.execute("ROLLBACK")
conn.close()
"""


@contextlib.contextmanager
def write_lock_held(path: Path) -> Iterator[None]:
    """Another process holding `BEGIN IMMEDIATE` on `path` until the block ends."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        assert proc.stdout.readline().strip() == "HELD"
        yield
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
        proc.stdout.close()


def steps_on_a_read_only_connection(path: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)
    try:
        info = schema.detect(conn)
        return [step.name for step in migrate.needed_steps(conn, info)]
    finally:
        conn.close()


def tables(path: Path) -> set[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()


@pytest.mark.parametrize("journal", ["rollback", "wal"])
@pytest.mark.parametrize("era", list(BUILDERS))
def test_second_open_needs_nothing_takes_no_lock_changes_no_byte(
    era: str, journal: str, tmp_path: Path
) -> None:
    path = BUILDERS[era](tmp_path / "t.db")
    if journal == "wal":
        to_wal(path)
    first = open_database(str(path))
    if era == "geppetto":
        assert first.mode == "overlay"  # geppetto_turns is never written
    else:
        assert first.mode == ("none" if era == "gp26-up-to-date" else "in_place"), first.mode
    if era in KEEPS_LEGACY:
        assert LEGACY in tables(path)  # the legacy snapshots are kept
    first_dump = None
    with write_lock_held(path):
        names, before = listing(tmp_path), digest(path)
        assert steps_on_a_read_only_connection(path) == []
        second = open_database(str(path), timeout=1.0)  # a write lock would fail in 1 s
        assert second.mode == ("overlay" if era == "geppetto" else "none"), second.notice_texts
        assert second.schema_after == first.schema_after
        assert second.lock_wait_s == 0.0 and not second.report.applied
        store = open_store(path, timeout=1.0)  # the whole store: open, read, close
        try:
            first_dump = store.dump()
        finally:
            store.close()
        assert digest(path) == before
        assert listing(tmp_path) == names
    assert first_dump["database"]["mode"] == second.mode
    assert first_dump["conversations"], era
    if era in KEEPS_LEGACY:
        assert LEGACY in tables(path)
    assert second.schema_after in (Era.GP26, Era.GEPPETTO)


# --------------------------------------------------------------------------- read-only dump


def cli(args: list[str], tmpdir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
    )


def essentials(doc: dict[str, Any]) -> list[Any]:
    """What must match: per conversation, each turn's id, runtime key, inference id, phases."""
    return [
        (
            c["conv_id"],
            c["current_runtime_key"],
            [(t["turn_id"], t["runtime_key"], t["inference_id"], t["phases"]) for t in c["turns"]],
        )
        for c in doc["conversations"]
    ]


NEEDS_BACKFILL: dict[str, Callable[[Path], Path]] = {
    "era2": BUILDERS["era2"],
    "era2-no-updated-at": BUILDERS["era2-no-updated-at"],
    "era2-zero-updated-at": lambda p: b.build_era2(
        p, b.standard_scenario(), variant="zero_updated_at"
    ),
    "gp26": BUILDERS["gp26-needs-backfill"],
    "gp26-wal": lambda p: to_wal(b.build_gp26(p, b.standard_scenario())),
    "gp26-keep-wal": lambda p: b.build_gp26(p, b.standard_scenario(), keep_wal=True),
}


@pytest.mark.parametrize("era", list(NEEDS_BACKFILL))
def test_read_only_dump_equals_the_in_place_dump_writes_nothing_copies_nothing(
    era: str, tmp_path: Path
) -> None:
    folder, copy_folder, tmp = tmp_path / "db", tmp_path / "copy", tmp_path / "tmp"
    for f in (folder, copy_folder, tmp):
        f.mkdir()
    path = NEEDS_BACKFILL[era](folder / "t.db")
    for name in listing(folder):  # the copy keeps any -wal / -shm, as a copy of the files
        shutil.copyfile(folder / name, copy_folder / name)
    names = listing(folder)

    def contents() -> dict[str, str]:  # (a reader updates the -shm's read marks: not data)
        return {n: digest(folder / n) for n in listing(folder) if not n.endswith("-shm")}

    before = contents()

    ro = cli(["dump", str(path), "--read-only"], tmp)
    assert ro.returncode == 0, ro.stderr
    assert listing(tmp) == [], "a private copy was made"
    assert listing(folder) == names
    assert contents() == before  # nothing written

    in_place = cli(["dump", str(copy_folder / "t.db")], tmp)
    assert in_place.returncode == 0, in_place.stderr
    ro_doc, ip_doc = json.loads(ro.stdout), json.loads(in_place.stdout)
    assert ro_doc["database"]["mode"] == "overlay"
    assert ip_doc["database"]["mode"] == "in_place"
    assert ro_doc["database"]["schema_after"] == ip_doc["database"]["schema_after"]
    assert essentials(ro_doc) == essentials(ip_doc)
    assert any(t[1] for c in essentials(ro_doc) for t in c[2])  # runtime keys were derived
    assert comparable(ro_doc["conversations"]) == comparable(ip_doc["conversations"])
    backfilled = ("backfilled_runtime_key", "backfilled_inference_id", "unknown_runtime_turns")
    for key in backfilled:
        assert ro_doc["database"]["migration"][key] == ip_doc["database"]["migration"][key], key
