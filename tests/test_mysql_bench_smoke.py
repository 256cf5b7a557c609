"""The MySQL store's fast read paths (benchmarks/bench_mysql.py) give exact answers, and
the benchmark runs end to end on a tiny data set. No timing is asserted.

The fast paths: block counts from each snapshot's ordinal span, checked against the
conversation's row count (gaps fall back to counting), and the conversation index packed
per conversation by the server (a cut list falls back to one row per turn).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests import builders as b
from tests.mysql_server import MariaDb
from tui.store import mysql_store
from tui.store.dsn import parse_dsn
from tui.store.mysql_store import MySqlStore
from tui.store.sqlite_store import SqliteStore

ROOT = Path(__file__).resolve().parent.parent
DB = "turns_fastpaths"


@pytest.fixture(scope="module")
def gapped(mariadb: MariaDb, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The standard scenario with holes in some snapshots' ordinals, in both stores."""
    path = b.build_gp26(tmp_path_factory.mktemp("gaps") / "gaps.sqlite", b.standard_scenario())
    conn = sqlite3.connect(path)
    with conn:
        # Drop the middle block of every snapshot with three or more: ordinals 0, 2, ...
        conn.execute(
            """DELETE FROM turn_block_membership WHERE ordinal = 1 AND EXISTS (
                   SELECT 1 FROM turn_block_membership o
                   WHERE o.conv_id = turn_block_membership.conv_id
                     AND o.session_id = turn_block_membership.session_id
                     AND o.turn_id = turn_block_membership.turn_id
                     AND o.phase = turn_block_membership.phase
                     AND o.snapshot_created_at_ms = turn_block_membership.snapshot_created_at_ms
                     AND o.ordinal = 2)"""
        )
        assert conn.total_changes > 0
    conn.close()
    mariadb.create_store(DB)
    mariadb.load_sqlite(DB, path)
    return mariadb.dsn(DB), path


async def _both(dsn: str, path: Path) -> tuple[MySqlStore, SqliteStore]:
    mine, theirs = MySqlStore(parse_dsn(dsn)), SqliteStore(str(path), read_only=True)
    await mine.open()
    await theirs.open()
    return mine, theirs


async def test_block_counts_with_gaps_in_the_ordinals(gapped: tuple[str, Path]) -> None:
    mine, theirs = await _both(*gapped)
    try:
        counts = set()
        for summary in await theirs.conversations():
            got = await mine.conversation(summary.conv_id)
            want = await theirs.conversation(summary.conv_id)
            key = lambda t: t.turn_id  # noqa: E731
            assert sorted(got.turns, key=key) == sorted(want.turns, key=key)
            counts |= {s.block_count for t in got.turns for s in t.snapshots}
        assert len(counts) > 1
    finally:
        await mine.close()
        await theirs.close()


async def test_index_read_row_by_row_when_the_packed_list_is_cut(
    gapped: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    mine, theirs = await _both(*gapped)
    try:
        packed = await mine.conversations()
        monkeypatch.setattr(mysql_store, "_PACKED_MAX", 4)  # the smallest the server takes
        assert await mine.conversations() == packed == await theirs.conversations()
        assert [r.conv_id for r in await mine.find_ids("conv")] == [
            r.conv_id for r in await theirs.find_ids("conv")
        ]
    finally:
        await mine.close()
        await theirs.close()


def test_the_benchmark_runs_on_a_tiny_data_set(mariadb: MariaDb, tmp_path: Path) -> None:
    """bench_mysql.py end to end (its own server, load, reads, dumps, RSS children) on
    20 x 10 conversations, one run: every figure is there and both stores agree."""
    out = tmp_path / "bench.json"
    res = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_mysql.py"),
            "--convs",
            "20",
            "--turns",
            "10",
            "--runs",
            "1",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    assert res.returncode in (0, 1), res.stderr[-2000:]
    doc = json.loads(out.read_text())
    assert set(doc["figures"]) == {"open", "index", "long", "typical", "snapshot", "token", "dump"}
    assert all(len(f["mysql"]["values"]) == 1 for f in doc["figures"].values())
    assert doc["dump_equal"] is True and doc["same_counts"] is True
    assert doc["info"]["load"]["rows"]["turns"] == doc["info"]["dataset"]["stats"]["turns"]
    assert len(doc["rss_mb"]["mysql"]) == 1 and doc["rss_mb"]["server_after_load"][0] > 0
    # A failure can only be a timing target on this shared machine, never the results.
    assert set(doc["failed"]) <= {f["label"] for f in doc["figures"].values()}
    assert "| conversation index" in res.stdout
