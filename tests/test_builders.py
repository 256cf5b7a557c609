"""The fixture builders must write exactly the files the Go writers leave behind."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import builders as B

# ---------------------------------------------------------------------------- helpers

ERA_SNAPSHOT_COLS = ["conv_id", "session_id", "turn_id", "phase", "created_at_ms", "payload"]
ERA0_COLS = ["conv_id", "run_id", "turn_id", "phase", "created_at_ms", "payload"]
ERA2_TURN_COLS = [
    "conv_id",
    "session_id",
    "turn_id",
    "turn_created_at_ms",
    "turn_metadata_json",
    "turn_data_json",
    "updated_at_ms",
]
GP26_TURN_COLS = [*ERA2_TURN_COLS, "runtime_key", "inference_id"]
BLOCK_COLS = [
    "block_id",
    "content_hash",
    "hash_algorithm",
    "kind",
    "role",
    "payload_json",
    "block_metadata_json",
    "first_seen_at_ms",
]
MEMBERSHIP_COLS = [
    "conv_id",
    "session_id",
    "turn_id",
    "phase",
    "snapshot_created_at_ms",
    "ordinal",
    "block_id",
    "content_hash",
]
GO_ADDED_COLS = [
    "turn_created_at_ms",
    "turn_metadata_json",
    "turn_data_json",
    "updated_at_ms",
    "runtime_key",
    "inference_id",
]
ERA2_INDEXES = {
    "turns_by_conv_session",
    "turns_by_session",
    "blocks_by_kind_role",
    "turn_block_membership_by_turn_phase",
    "turn_block_membership_by_block",
}
GP26_INDEXES = ERA2_INDEXES | {"turns_by_conv_runtime_updated", "turns_by_conv_inference_updated"}


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(path)
    try:
        yield conn
    finally:
        conn.close()


def tables(conn: sqlite3.Connection) -> dict[str, list[str]]:
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {n: [r[1] for r in conn.execute(f"PRAGMA table_info({n})")] for n in names}


def indexes(conn: sqlite3.Connection) -> set[str]:
    return {
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL"
        )
    }


def count(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def no_side_files(path: Path) -> bool:
    return not any(path.with_name(path.name + s).exists() for s in ("-wal", "-shm", "-journal"))


def all_snapshots(convs: tuple[B.ConversationSpec, ...]) -> list[tuple[Any, ...]]:
    return list(B.iter_snapshots(convs))


def n_memberships(convs: tuple[B.ConversationSpec, ...]) -> int:
    return sum(len(s.blocks) for _, _, s in B.iter_snapshots(convs))


@pytest.fixture(scope="module")
def scenario() -> tuple[B.ConversationSpec, ...]:
    return B.standard_scenario()


# ------------------------------------------------------------------ the scenario itself


def test_standard_scenario_shape(scenario: tuple[B.ConversationSpec, ...]) -> None:
    assert [c.conv_id for c in scenario] == ["conv-switch", "conv-legacy-keys", "conv-single"]
    assert [c.session_id for c in scenario] == ["sess-a", "sess-b", "sess-a"]
    assert [len(c.turns) for c in scenario] == [5, 4, 1]
    newest_first = sorted(scenario, key=B.last_activity_ms, reverse=True)
    assert [c.conv_id for c in newest_first] == ["conv-single", "conv-switch", "conv-legacy-keys"]
    for conv in scenario:
        previous_end = 0
        for turn in conv.turns:
            times = [s.created_at_ms for s in turn.snapshots]
            assert times == sorted(set(times)), "snapshot times strictly increase"
            assert times[0] > previous_end
            previous_end = times[-1]
            assert 1_771_800_000_000 < times[0] < 1_772_000_000_000
    switch, legacy, single = scenario
    runtimes = [t.metadata["geppetto.runtime@v1"]["runtime_key"] for t in switch.turns]
    assert runtimes == ["inventory", "inventory", "planner", "planner", "inventory"]
    assert [t.metadata["geppetto.inference_id@v1"] for t in switch.turns] == [
        f"inf-{n}" for n in range(1, 6)
    ]
    assert [s.phase for s in switch.turns[1].snapshots] == [
        "pre_inference",
        "post_inference",
        "post_tools",
        "post_inference",
        "post_tools",
        "post_inference",
        "final",
    ]
    kinds = {b.kind for _, _, s in B.iter_snapshots(scenario) for b in s.blocks}
    assert {"system", "user", "llm_text", "tool_call", "tool_use", "reasoning"} <= kinds
    assert legacy.turns[0].metadata["geppetto.runtime@v1"] == "  planner "
    assert legacy.turns[1].metadata["runtime"] == {"slug": "planner"}
    assert not any("runtime" in k or "inference" in k for k in legacy.turns[2].metadata)
    assert legacy.turns[3].metadata == {"runtime_key": "inventory", "inference_id": 42}
    assert [s.phase for s in legacy.turns[3].snapshots] == ["pre_inference"]
    assert [s.phase for s in single.turns[0].snapshots] == [
        "pre_inference",
        "post_inference",
        "post_tools",
        "final",
    ]
    assert set(B.STANDARD_EXPECTED_ATTRIBUTION) == {
        (c.conv_id, t.turn_id) for c in scenario for t in c.turns
    }
    # The current runtime of conv-switch differs from its last turn's runtime.
    current = {r[0]: r[2] for r in B.standard_timeline_rows()}
    assert current["conv-switch"] == "planner" != runtimes[-1]


def test_block_content_hash_matches_go_canonical_json() -> None:
    material = (
        '{"kind":"tool_call","role":"","payload":{"args":{"sku":"A-1"},"id":"c","name":"n"},'
        '"metadata":{}}'
    )
    expected = hashlib.sha256(material.encode()).hexdigest()
    got = B.block_content_hash(
        "tool_call", "", {"name": "n", "id": "c", "args": {"sku": "A-1"}}, {}
    )
    assert got == expected
    # Go escapes HTML characters in strings.
    html = hashlib.sha256(
        b'{"kind":"user","role":"user","payload":{"text":"a\\u003cb"},"metadata":{}}'
    ).hexdigest()
    assert B.block_content_hash("user", "user", {"text": "a<b"}, {}) == html


def test_turn_yaml_round_trips_and_omits_empty_keys(
    scenario: tuple[B.ConversationSpec, ...],
) -> None:
    legacy_turn = scenario[1].turns[0]
    doc = load_yaml(B.turn_yaml(legacy_turn, legacy_turn.snapshots[-1]))
    assert doc["id"] == "turn-legacy-1"
    assert "data" not in doc
    assert all("id" not in b for b in doc["blocks"])  # old writer: no block ids
    switch_turn = scenario[0].turns[1]
    doc = load_yaml(B.turn_yaml(switch_turn, switch_turn.snapshots[1]))
    assert list(doc) == ["id", "blocks", "metadata", "data"]
    reasoning, call = doc["blocks"][-2:]
    assert reasoning == {
        "id": "switch-r2",
        "kind": "reasoning",
        "payload": {"text": "thinking..."},
        "metadata": {"geppetto.reasoning_tokens@v1": 42},
    }
    assert call["payload"] == {"id": "call-1", "name": "lookup_sku", "args": {"sku": "A-1"}}
    assert "role" not in call


# ---------------------------------------------------------------------- era 0 / era 1


@pytest.mark.parametrize("era", [0, 1])
def test_snapshot_table_eras(
    tmp_path: Path, scenario: tuple[B.ConversationSpec, ...], era: int
) -> None:
    path = tmp_path / f"era{era}.db"
    assert (B.build_era0 if era == 0 else B.build_era1)(path, scenario) == path
    assert no_side_files(path)
    with connect(path) as conn:
        cols = ERA0_COLS if era == 0 else ERA_SNAPSHOT_COLS
        assert tables(conn) == {"turns": cols}
        expected_idx = (
            {"turns_by_run"}
            if era == 0
            else {
                "turns_by_conv",
                "turns_by_session",
                "turns_by_phase",
            }
        )
        assert indexes(conn) == expected_idx
        snaps = all_snapshots(scenario)
        assert count(conn, "turns") == len(snaps) == 33
        sess_col = cols[1]
        for conv, turn, snap in snaps:
            (payload,) = conn.execute(
                f"SELECT payload FROM turns WHERE conv_id=? AND {sess_col}=? AND turn_id=?"
                " AND phase=? AND created_at_ms=?",
                (conv.conv_id, conv.session_id, turn.turn_id, snap.phase, snap.created_at_ms),
            ).fetchone()
            doc = load_yaml(payload)
            assert doc["id"] == turn.turn_id
            assert [b["kind"] for b in doc["blocks"]] == [b.kind for b in snap.blocks]
            assert [b.get("id", "") for b in doc["blocks"]] == [b.id for b in snap.blocks]
            assert [b.get("payload", {}) for b in doc["blocks"]] == [
                json.loads(json.dumps(dict(b.payload))) for b in snap.blocks
            ]
            assert doc.get("metadata", {}) == dict(B.snapshot_metadata(turn, snap))
            assert doc.get("data", {}) == dict(turn.data)


# ------------------------------------------------------------------------------ era 2


def check_normalised(
    conn: sqlite3.Connection,
    convs: tuple[B.ConversationSpec, ...],
    turn_cols: list[str],
) -> None:
    n_turns = sum(len(c.turns) for c in convs)
    assert count(conn, "turns") == n_turns
    assert count(conn, "turn_block_membership") == n_memberships(convs)
    distinct = {
        (
            B.block_id_for(t.turn_id, i, b),
            B.block_content_hash(b.kind, b.role, b.payload, b.metadata),
        )
        for _, t, s in B.iter_snapshots(convs)
        for i, b in enumerate(s.blocks)
    }
    assert count(conn, "blocks") == len(distinct)
    assert {tuple(r) for r in conn.execute("SELECT block_id, content_hash FROM blocks")} == distinct
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # Snapshots read back in ordinal order equal the scenario.
    for conv, turn, snap in B.iter_snapshots(convs):
        rows = conn.execute(
            "SELECT b.kind, b.role, b.payload_json, b.block_metadata_json, m.block_id"
            " FROM turn_block_membership m JOIN blocks b USING (block_id, content_hash)"
            " WHERE m.conv_id=? AND m.session_id=? AND m.turn_id=? AND m.phase=?"
            " AND m.snapshot_created_at_ms=? ORDER BY m.ordinal",
            (conv.conv_id, conv.session_id, turn.turn_id, snap.phase, snap.created_at_ms),
        ).fetchall()
        assert [(k, r, json.loads(p), json.loads(m)) for k, r, p, m, _ in rows] == [
            (b.kind, b.role, dict(b.payload), dict(b.metadata)) for b in snap.blocks
        ]
        assert [r[4] for r in rows] == [
            b.id or f"{turn.turn_id}#{i}" for i, b in enumerate(snap.blocks)
        ]


@pytest.mark.parametrize(
    ("variant", "turn_cols", "turn_indexes"),
    [
        ("full", ERA2_TURN_COLS, True),
        ("zero_updated_at", ERA2_TURN_COLS, True),
        ("no_updated_at", [c for c in ERA2_TURN_COLS if c != "updated_at_ms"], False),
        ("no_metadata_json", [c for c in ERA2_TURN_COLS if c != "turn_metadata_json"], True),
        ("no_data_json", [c for c in ERA2_TURN_COLS if c != "turn_data_json"], True),
        (
            "created_at_ms",
            [c if c != "turn_created_at_ms" else "created_at_ms" for c in ERA2_TURN_COLS],
            True,
        ),
    ],
)
def test_era2_variants(
    tmp_path: Path,
    scenario: tuple[B.ConversationSpec, ...],
    variant: str,
    turn_cols: list[str],
    turn_indexes: bool,
) -> None:
    path = B.build_era2(tmp_path / "era2.db", scenario, variant=variant)
    assert no_side_files(path)
    with connect(path) as conn:
        assert tables(conn) == {
            "turns": turn_cols,
            "blocks": BLOCK_COLS,
            "turn_block_membership": MEMBERSHIP_COLS,
        }
        expected = (
            ERA2_INDEXES
            if turn_indexes
            else ERA2_INDEXES
            - {
                "turns_by_conv_session",
                "turns_by_session",
            }
        )
        assert indexes(conn) == expected
        check_normalised(conn, scenario, turn_cols)
        conn.row_factory = sqlite3.Row
        rows = {r["turn_id"]: r for r in conn.execute("SELECT * FROM turns")}
    for conv in scenario:
        for turn in conv.turns:
            row = rows[turn.turn_id]
            times = [s.created_at_ms for s in turn.snapshots]
            created_col = "created_at_ms" if variant == "created_at_ms" else "turn_created_at_ms"
            assert row[created_col] == min(times)
            if "updated_at_ms" in turn_cols:
                assert row["updated_at_ms"] == (0 if variant == "zero_updated_at" else max(times))
            if "turn_metadata_json" in turn_cols:
                latest = max(turn.snapshots, key=lambda s: s.created_at_ms)
                assert json.loads(row["turn_metadata_json"]) == dict(
                    B.snapshot_metadata(turn, latest)
                )
            if "turn_data_json" in turn_cols:
                assert json.loads(row["turn_data_json"]) == dict(turn.data)


def test_era2_first_seen_and_hash_algorithm(
    tmp_path: Path, scenario: tuple[B.ConversationSpec, ...]
) -> None:
    path = B.build_era2(tmp_path / "era2.db", scenario)
    with connect(path) as conn:
        assert conn.execute("SELECT DISTINCT hash_algorithm FROM blocks").fetchall() == [
            ("sha256-canonical-json-v1",)
        ]
        (first_seen,) = conn.execute(
            "SELECT first_seen_at_ms FROM blocks WHERE block_id='switch-sys'"
        ).fetchone()
    assert first_seen == scenario[0].turns[0].snapshots[0].created_at_ms
    # Metadata at pre_inference is partial; the turn row holds the final one.
    turn = scenario[0].turns[0]
    assert "geppetto.usage@v1" not in B.snapshot_metadata(turn, turn.snapshots[0])


def test_builders_refuse_existing_paths(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(b"")
    with pytest.raises(FileExistsError):
        B.build_era1(path, ())
    with pytest.raises(ValueError):
        B.build_era2(tmp_path / "y.db", (), variant="nope")
    assert not (tmp_path / "y.db").exists()


# ----------------------------------------------------------------------- era 3 (GP-26)


def test_gp26(tmp_path: Path, scenario: tuple[B.ConversationSpec, ...]) -> None:
    path = B.build_gp26(tmp_path / "gp26.db", scenario)
    assert no_side_files(path)
    assert path.read_bytes()[18:20] == b"\x01\x01", "rollback journal mode in the header"
    with connect(path) as conn:
        assert tables(conn) == {
            "turns": GP26_TURN_COLS,
            "blocks": BLOCK_COLS,
            "turn_block_membership": MEMBERSHIP_COLS,
        }
        assert indexes(conn) == GP26_INDEXES
        check_normalised(conn, scenario, GP26_TURN_COLS)
        got = {
            r[0]: (r[1], r[2])
            for r in conn.execute("SELECT turn_id, runtime_key, inference_id FROM turns")
        }
    assert got == {
        t.turn_id: (t.runtime_key_column, t.inference_id_column) for c in scenario for t in c.turns
    }
    assert got["turn-switch-3"] == ("planner", "inf-3")
    assert got["turn-legacy-1"] == ("", "")  # left for the backfill


def conv_ids(path: Path) -> set[str]:
    with connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT DISTINCT conv_id FROM turns")}


def test_gp26_keep_wal(tmp_path: Path, scenario: tuple[B.ConversationSpec, ...]) -> None:
    path = B.build_gp26(tmp_path / "gp26.db", scenario, keep_wal=True)
    wal = path.with_name(path.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 0
    assert path.read_bytes()[18:20] == b"\x02\x02", "WAL mode in the header"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    # Copies, because opening the original would checkpoint the WAL away.
    main_only = tmp_path / "main-only" / "gp26.db"
    main_only.parent.mkdir()
    shutil.copyfile(path, main_only)
    with_wal = tmp_path / "with-wal" / "gp26.db"
    with_wal.parent.mkdir()
    for suffix in ("", "-wal", "-shm"):
        shutil.copyfile(str(path) + suffix, str(with_wal) + suffix)
    everything = {c.conv_id for c in scenario}
    assert conv_ids(main_only) == everything - {scenario[-1].conv_id}
    assert conv_ids(with_wal) == everything
    with connect(with_wal) as conn:
        check_normalised(conn, scenario, GP26_TURN_COLS)


def test_truncated(tmp_path: Path, scenario: tuple[B.ConversationSpec, ...]) -> None:
    path = B.build_truncated(tmp_path / "cut.db", scenario)
    reference = B.build_gp26(tmp_path / "whole.db", scenario)
    assert path.stat().st_size == int(reference.stat().st_size * 0.6)
    assert reference.stat().st_size > 8 * 4096
    try:
        with connect(path) as conn:
            result = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError:
        return
    assert result != [("ok",)]


# --------------------------------------------------------------------------- geppetto


def test_geppetto_keeps_last_snapshot_per_phase(
    tmp_path: Path, scenario: tuple[B.ConversationSpec, ...]
) -> None:
    path = B.build_geppetto(tmp_path / "gep.db", scenario)
    assert no_side_files(path)
    latest: dict[tuple[str, str], tuple[B.TurnSpec, B.SnapshotSpec]] = {}
    for _, turn, snap in B.iter_snapshots(scenario):
        key = (turn.turn_id, snap.phase)
        if key not in latest or snap.created_at_ms > latest[key][1].created_at_ms:
            latest[key] = (turn, snap)
    with connect(path) as conn:
        assert tables(conn) == {
            "geppetto_turns": [
                "conv_id",
                "session_id",
                "turn_id",
                "phase",
                "runtime_key",
                "inference_id",
                "created_at_ms",
                "payload",
            ]
        }
        rows = conn.execute(
            "SELECT turn_id, phase, runtime_key, inference_id, created_at_ms, payload"
            " FROM geppetto_turns"
        ).fetchall()
    assert (
        len(rows) == len(latest) == 30
    )  # turn-switch-2 keeps 1 of 3 post_inference, 1 of 2 post_tools
    for turn_id, phase, runtime_key, inference_id, created, payload in rows:
        turn, snap = latest[(turn_id, phase)]
        assert created == snap.created_at_ms
        assert (runtime_key, inference_id) == (turn.runtime_key_column, turn.inference_id_column)
        assert load_yaml(payload) == B.turn_document(turn, snap)


# ------------------------------------------------------------------------- Go hybrids


def test_go_hybrid_era1(tmp_path: Path, scenario: tuple[B.ConversationSpec, ...]) -> None:
    path = B.build_go_hybrid_era1(tmp_path / "h1.db", scenario)
    assert no_side_files(path)
    with connect(path) as conn:
        assert tables(conn) == {
            "turns": ERA_SNAPSHOT_COLS + GO_ADDED_COLS,
            "blocks": BLOCK_COLS,
            "turn_block_membership": MEMBERSHIP_COLS,
        }
        assert indexes(conn) == {"turns_by_conv", "turns_by_phase"} | GP26_INDEXES
        (sql,) = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name='turns_by_session'"
        ).fetchone()
        assert "created_at_ms DESC" in sql and "updated_at_ms" not in sql
        assert count(conn, "turns") == len(all_snapshots(scenario))
        assert count(conn, "blocks") == count(conn, "turn_block_membership") == 0
        bad = conn.execute(
            "SELECT COUNT(*) FROM turns WHERE turn_created_at_ms != created_at_ms"
            " OR updated_at_ms != created_at_ms OR runtime_key != '' OR inference_id != ''"
            " OR turn_metadata_json != '{}' OR turn_data_json != '{}'"
        ).fetchone()[0]
        assert bad == 0


def test_go_hybrid_era0(tmp_path: Path, scenario: tuple[B.ConversationSpec, ...]) -> None:
    path = B.build_go_hybrid_era0(tmp_path / "h0.db", scenario)
    assert no_side_files(path)
    with connect(path) as conn:
        assert tables(conn) == {
            "turns": ERA0_COLS + GO_ADDED_COLS,
            "blocks": BLOCK_COLS,
            "turn_block_membership": MEMBERSHIP_COLS,
        }
        assert indexes(conn) == {"turns_by_run"}
        assert count(conn, "turns") == len(all_snapshots(scenario))
        assert (
            conn.execute(
                "SELECT COUNT(*) FROM turns WHERE turn_created_at_ms != created_at_ms"
                " OR updated_at_ms != created_at_ms"
            ).fetchone()[0]
            == 0
        )


@pytest.mark.parametrize("normalized", [0, 1, 2])
def test_half_normalized(
    tmp_path: Path, scenario: tuple[B.ConversationSpec, ...], normalized: int
) -> None:
    path = B.build_half_normalized(tmp_path / "half.db", scenario, normalized_convs=normalized)
    assert no_side_files(path)
    with connect(path) as conn:
        assert tables(conn) == {
            "turn_snapshots_legacy": ERA_SNAPSHOT_COLS,
            "turns": ERA2_TURN_COLS,
            "blocks": BLOCK_COLS,
            "turn_block_membership": MEMBERSHIP_COLS,
        }
        assert indexes(conn) == ERA2_INDEXES | {
            "turn_snapshots_legacy_turns_by_conv",
            "turn_snapshots_legacy_turns_by_session",
            "turn_snapshots_legacy_turns_by_phase",
        }
        assert count(conn, "turn_snapshots_legacy") == len(all_snapshots(scenario))
        check_normalised(conn, scenario[:normalized], ERA2_TURN_COLS)


# ---------------------------------------------------------------- timeline and others


def test_timeline_standalone_and_inside_turns_db(tmp_path: Path) -> None:
    rows = B.standard_timeline_rows()
    timeline_cols = [
        "conv_id",
        "session_id",
        "runtime_key",
        "created_at_ms",
        "last_activity_ms",
        "last_seen_version",
        "has_timeline",
        "status",
        "last_error",
    ]
    expected_tables = {
        "timeline_conversations": timeline_cols,
        "timeline_entities": ["conv_id", "entity_id", "kind", "payload"],
        "timeline_versions": ["conv_id", "version"],
    }
    alone = B.build_timeline(tmp_path / "timeline.db", rows)
    assert no_side_files(alone)
    with connect(alone) as conn:
        assert tables(conn) == expected_tables
        got = conn.execute(
            "SELECT conv_id, session_id, runtime_key, last_activity_ms FROM timeline_conversations"
            " ORDER BY last_activity_ms DESC"
        ).fetchall()
    assert [r[0] for r in got] == ["conv-single", "conv-switch", "conv-legacy-keys"]
    assert set(got) == set(rows)

    turns_db = B.build_gp26(tmp_path / "both.db", B.standard_scenario())
    B.build_timeline(turns_db, rows)
    assert no_side_files(turns_db)
    with connect(turns_db) as conn:
        assert set(tables(conn)) == set(expected_tables) | {
            "turns",
            "blocks",
            "turn_block_membership",
        }
        assert count(conn, "timeline_conversations") == 3


def test_not_turns_files(tmp_path: Path) -> None:
    notes = B.build_not_turns_sqlite(tmp_path / "notes.db")
    assert no_side_files(notes)
    with connect(notes) as conn:
        assert tables(conn) == {"notes": ["id", "body"]}
        assert count(conn, "notes") == 3
    text = B.build_not_sqlite(tmp_path / "text.db")
    assert text.read_text() == "this is not a database\n" * 100
    with connect(text) as conn, pytest.raises(sqlite3.DatabaseError):
        conn.execute("SELECT * FROM sqlite_master").fetchall()
    empty = B.build_empty_file(tmp_path / "empty.db")
    assert empty.stat().st_size == 0


@pytest.mark.parametrize(
    ("builder", "turn_cols"),
    [
        (B.build_era0, ERA0_COLS),
        (B.build_era1, ERA_SNAPSHOT_COLS),
        (B.build_era2, ERA2_TURN_COLS),
        (B.build_gp26, GP26_TURN_COLS),
        (B.build_go_hybrid_era1, ERA_SNAPSHOT_COLS + GO_ADDED_COLS),
    ],
)
def test_add_future_schema(
    tmp_path: Path,
    scenario: tuple[B.ConversationSpec, ...],
    builder: Callable[..., Path],
    turn_cols: list[str],
) -> None:
    path = builder(tmp_path / "f.db", scenario)
    with connect(path) as conn:
        before = set(tables(conn))
        n_rows = count(conn, "turns")
    assert B.add_future_schema(path) == path
    assert no_side_files(path)
    with connect(path) as conn:
        got = tables(conn)
        assert set(got) == before | {"turn_annotations"}
        assert got["turns"] == [*turn_cols, "future_col"]
        assert got["turn_annotations"] == ["conv_id", "turn_id", "note"]
        assert count(conn, "turn_annotations") == 2
        assert count(conn, "turns") == n_rows
        assert conn.execute("SELECT DISTINCT future_col FROM turns").fetchall() == [("kept",)]


# ------------------------------------------------------------------------------- bulk


def test_bulk_scenario_is_deterministic_and_switches_runtime() -> None:
    a = B.bulk_scenario(6, 12, 5, seed=3)
    assert a == B.bulk_scenario(6, 12, 5, seed=3)
    assert a != B.bulk_scenario(6, 12, 5, seed=4)
    assert n_memberships(a) == B.bulk_membership_rows(6, 12, 5)
    runtimes = {t.metadata["geppetto.runtime@v1"]["runtime_key"] for c in a for t in c.turns}
    assert runtimes == {"inventory", "planner", "research"}
    switches = sum(
        a_.runtime_key_column != b_.runtime_key_column
        for c in a
        for a_, b_ in zip(c.turns, c.turns[1:], strict=False)
    )
    assert switches > 0
    for c in a:
        times = [s.created_at_ms for t in c.turns for s in t.snapshots]
        assert times == sorted(set(times))


def dump(path: Path) -> list[list[tuple[Any, ...]]]:
    with connect(path) as conn:
        return [
            sorted(conn.execute(f"SELECT * FROM {t}"))
            for t in ("turns", "blocks", "turn_block_membership")
        ]


def test_build_era2_fast_equals_build_era2(tmp_path: Path) -> None:
    fast = B.build_era2_fast(tmp_path / "fast.db", 7, 6, 5, seed=1)
    slow = B.build_era2(tmp_path / "slow.db", B.bulk_scenario(7, 6, 5, seed=1))
    assert no_side_files(fast)
    with connect(fast) as conn:
        assert tables(conn) == {
            "turns": ERA2_TURN_COLS,
            "blocks": BLOCK_COLS,
            "turn_block_membership": MEMBERSHIP_COLS,
        }
        assert indexes(conn) == ERA2_INDEXES
        assert count(conn, "turn_block_membership") == B.bulk_membership_rows(7, 6, 5)
    assert dump(fast) == dump(slow)


def test_build_era2_fast_scales(tmp_path: Path) -> None:
    path = B.build_era2_fast(tmp_path / "big.db", 200, 10, 8)
    with connect(path) as conn:
        assert count(conn, "turn_block_membership") == 48_000
        assert count(conn, "turns") == 2_000
