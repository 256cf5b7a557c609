"""The conversation list's activity (newest snapshot of each latest turn) read by skipping
from phase to phase in the membership index equals the full scan of the turn's rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tests import builders as b
from tui.store import queries
from tui.store.queries import Plan


def _run(conn: sqlite3.Connection, plan: Plan[Any]) -> Any:
    try:
        query = next(plan)
        while True:
            query = plan.send(conn.execute(query[1], query[2]).fetchall())
    except StopIteration as stop:
        return stop.value


def _activity(conn: sqlite3.Connection, *, skip: bool) -> dict[str, int]:
    saved = queries._phase_skips_exactly
    queries._phase_skips_exactly = (lambda rows: True) if skip else (lambda rows: False)  # type: ignore[assignment]
    try:
        source = _run(conn, queries.source_plan())
        result: dict[str, int] = _run(conn, queries.activity_plan(source))
        return result
    finally:
        queries._phase_skips_exactly = saved  # type: ignore[assignment]


def test_skip_equals_scan_on_every_era(tmp_path: Path) -> None:
    builders = {
        "era2": b.build_era2,
        "gp26": b.build_gp26,
    }
    for name, build in builders.items():
        path = build(tmp_path / f"{name}.db", b.standard_scenario())
        conn = sqlite3.connect(path)
        try:
            # Extra snapshots of many phases (and phase names sorting either way).
            conv, sess, turn = conn.execute(
                "SELECT conv_id, session_id, turn_id FROM turns LIMIT 1"
            ).fetchone()
            block = conn.execute("SELECT block_id, content_hash FROM blocks LIMIT 1").fetchone()
            for i, phase in enumerate(["a", "post_tools", "zz", "Final", "post_tools", "é"]):
                conn.execute(
                    "INSERT OR REPLACE INTO turn_block_membership VALUES(?,?,?,?,?,?,?,?)",
                    (conv, sess, turn, phase, 10**13 + (7 - i) * 1000, 0, *block),
                )
            scan = _activity(conn, skip=False)
            assert scan
            assert _activity(conn, skip=True) == scan
            source = _run(conn, queries.source_plan())
            assert _run(conn, queries.activity_plan(source)) == scan
        finally:
            conn.close()


def test_skip_only_where_the_column_allows_it() -> None:
    assert queries._phase_skips_exactly([("TEXT", 1)])
    assert queries._phase_skips_exactly([("varchar(20)", 1)])
    assert not queries._phase_skips_exactly([("TEXT", 0)])  # NULL phases: MIN skips them
    assert not queries._phase_skips_exactly([("", 1)])  # no affinity: integers possible
    assert not queries._phase_skips_exactly([("INTEGER", 1)])
    assert not queries._phase_skips_exactly([("CHARINT", 1)])
    assert not queries._phase_skips_exactly([])


def test_untyped_phase_falls_back_to_the_scan(tmp_path: Path) -> None:
    path = tmp_path / "untyped.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        """CREATE TABLE turns(conv_id, session_id, turn_id, turn_created_at_ms,
               turn_metadata_json, turn_data_json, updated_at_ms, runtime_key, inference_id);
           CREATE TABLE blocks(block_id, content_hash, kind, role, payload_json,
               block_metadata_json, first_seen_at_ms);
           CREATE TABLE turn_block_membership(conv_id, session_id, turn_id, phase,
               snapshot_created_at_ms, ordinal, block_id, content_hash);
           CREATE INDEX mb ON turn_block_membership(conv_id, session_id, turn_id, phase,
               snapshot_created_at_ms DESC, ordinal);
           INSERT INTO turns VALUES('c', 's', 't', 5, '{}', '{}', 5, '', '');
           INSERT INTO turn_block_membership VALUES('c', 's', 't', 3, 100, 0, 'b', 'h');
           INSERT INTO turn_block_membership VALUES('c', 's', 't', 7, 900, 0, 'b', 'h');
           INSERT INTO turn_block_membership VALUES('c', 's', 't', NULL, 950, 0, 'b', 'h');
           INSERT INTO turn_block_membership VALUES('c', 's', 't', 'final', 200, 0, 'b', 'h');"""
    )
    source = _run(conn, queries.source_plan())
    assert _run(conn, queries.activity_plan(source)) == {"c": 950}
    conn.close()


def _activity_from_index(conn: sqlite3.Connection) -> tuple[dict[str, int], list[str]]:
    """The activity as the conversation list reads it, and the SQL it ran."""
    source = _run(conn, queries.source_plan())
    index = _run(conn, queries.conversation_index_plan(source, queries.NO_OVERLAY))
    asked: list[str] = []
    plan = queries.activity_plan(source, queries.latest_turns(index))
    try:
        query = next(plan)
        while True:
            asked.append(query[1])
            query = plan.send(conn.execute(query[1], query[2]).fetchall())
    except StopIteration as stop:
        return stop.value, asked


def _add_turns(conn: sqlite3.Connection, convs: list[str], block: tuple[str, str]) -> None:
    for i, conv in enumerate(convs):
        for turn, created in (("t-b", 500), ("t-a", 500), ("t-0", 100)):
            conn.execute(
                "INSERT INTO turns (conv_id, session_id, turn_id, turn_created_at_ms,"
                " updated_at_ms) VALUES (?, ?, ?, ?, ?)",
                (conv, f"s-{conv}", turn, created, created),
            )
            if conv.strip():  # a blank id: no snapshot at all
                conn.execute(
                    "INSERT INTO turn_block_membership VALUES(?,?,?,?,?,?,?,?)",
                    (conv, f"s-{conv}", turn, "final", created + len(turn) + i, 0, *block),
                )


def test_latest_turns_from_the_index_give_the_same_activity(tmp_path: Path) -> None:
    """The conversation list passes each conversation's latest turn as its index found it
    (no second pass over `turns`); the activity is the one the query finds by itself, with
    tied creation times (the turn id decides), ids with quotes, emoji and brackets, a
    conversation whose latest turn has no snapshot (its creation time), on both eras the
    migration leaves; an id holding NUL (which SQLite's JSON functions cut) makes the
    query find the latest turns itself, with the same answers."""
    builders = {"era2": b.build_era2, "gp26": b.build_gp26}
    for name, build in builders.items():
        path = build(tmp_path / f"{name}.db", b.standard_scenario())
        conn = sqlite3.connect(path)
        try:
            block = conn.execute("SELECT block_id, content_hash FROM blocks LIMIT 1").fetchone()
            _add_turns(conn, ["q\"u\\o'te", "emoji 🦜", "[1,2]", "  "], block)
            own = _run(conn, queries.activity_plan(_run(conn, queries.source_plan())))
            assert len(own) >= 5
            got, asked = _activity_from_index(conn)
            assert any("json_each" in sql for sql in asked)
            assert got == own
            assert own["emoji 🦜"] == 500 + 3 + 1  # t-b, the larger id of the tie
            assert own["  "] == 500  # no snapshot: the latest turn's creation time
            _add_turns(conn, ["nul\x00id"], block)
            own = _run(conn, queries.activity_plan(_run(conn, queries.source_plan())))
            got, asked = _activity_from_index(conn)
            assert not any("json_each" in sql for sql in asked)
            assert got == own and own["nul\x00id"] == 500 + 3
        finally:
            conn.close()
