"""Migration safety: atomic on failure, idempotent, loses nothing; Go backfill parity."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import builders as b
from tui.store.models import Era
from tui.store.opener import open_database


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Boom(RuntimeError):
    pass


def steps_of(path: Path, tmp: Path) -> list[str]:
    """The step names a migration of a copy of `path` reports to on_step."""
    copy = tmp / ("probe-" + path.name)
    copy.write_bytes(path.read_bytes())
    seen: list[str] = []
    open_database(str(copy), on_step=seen.append)
    return seen


@pytest.mark.parametrize(
    "builder",
    [b.build_era0, b.build_era1, b.build_era2, b.build_go_hybrid_era1],
    ids=["era0", "era1", "era2", "go-hybrid-era1"],
)
def test_failure_at_every_step_leaves_the_file_byte_for_byte(builder: Any, tmp_path: Path) -> None:
    path = builder(tmp_path / "db.sqlite", b.standard_scenario())
    steps = steps_of(path, tmp_path)
    assert steps, "the migration must have steps to interrupt"
    before = sha(path)
    for target in steps:

        def fail(step: str, target: str = target) -> None:
            if step == target:
                raise Boom(step)

        with pytest.raises(Boom):
            open_database(str(path), on_step=fail)
        assert sha(path) == before, f"file changed after a failure at {target!r}"
        assert not Path(str(path) + "-journal").exists()
    # And it still migrates afterwards.
    opened = open_database(str(path))
    assert opened.report.applied is True


def test_backfill_parity_with_pinocchio_tests(tmp_path: Path) -> None:
    """The cases of pinocchio's own store tests, on one era-2 file."""
    path = b.build_era2(tmp_path / "p.db", (), variant="no_updated_at")
    conn = sqlite3.connect(path)
    rows = [
        (
            "c",
            "s",
            "present",
            1000,
            json.dumps(
                {"geppetto.runtime@v1": {"runtime_key": "rt"}, "geppetto.inference_id@v1": "inf"}
            ),
        ),
        ("c", "s", "absent", 2000, "{}"),
        ("c", "s", "malformed", 3000, "{not json"),
        ("c", "s", "nan", 4000, '{"geppetto.runtime@v1": NaN}'),
        ("c", "s", "huge", 5000, '{"runtime": "x", "n": 1e400}'),
        ("c", "s", "number", 6000, '{"runtime": 1000000, "inference_id": 7}'),
        ("c", "s", "nested", 7000, '{"runtime": {"profile": {"slug": " deep "}}}'),
        ("c", "s", "ctrl", 8000, '{"runtime_key": "\\u001fkeep\\u00a0"}'),
        ("c", "s", "dup", 9000, '{"runtime": "first", "runtime": "last"}'),
        ("c", "s", "list", 9500, '{"runtime": ["a", "b"]}'),
    ]
    conn.executemany(
        "INSERT INTO turns (conv_id, session_id, turn_id, turn_created_at_ms, turn_metadata_json)"
        " VALUES (?, ?, ?, ?, ?)",
        rows,
    )
    conn.commit()
    conn.close()
    opened = open_database(str(path))
    assert opened.report.malformed_metadata_rows == 3
    conn = sqlite3.connect(path)
    got = {
        r[0]: (r[1], r[2], r[3])
        for r in conn.execute("SELECT turn_id, runtime_key, inference_id, updated_at_ms FROM turns")
    }
    conn.close()
    assert got["present"] == ("rt", "inf", 1000)  # updated_at_ms repaired from created
    assert got["absent"][:2] == ("", "")
    assert got["malformed"][:2] == ("", "")
    assert got["nan"][:2] == ("", "")
    assert got["huge"][:2] == ("", "")  # Go rejects the whole row
    assert got["number"][:2] == ("1e+06", "7")
    assert got["nested"][:2] == ("deep", "")
    assert got["ctrl"][:2] == ("\x1fkeep", "")  # Go's TrimSpace keeps U+001F
    assert got["dup"][:2] == ("last", "")
    assert got["list"][:2] == ("[a b]", "")


def test_existing_values_are_kept_trimmed_and_spaces_are_not_selected(tmp_path: Path) -> None:
    path = b.build_gp26(tmp_path / "g.db", ())
    conn = sqlite3.connect(path)
    conn.executemany(
        "INSERT INTO turns (conv_id, session_id, turn_id, turn_created_at_ms, updated_at_ms,"
        " turn_metadata_json, runtime_key, inference_id) VALUES (?,?,?,?,?,?,?,?)",
        [
            ("c", "s", "keep", 1, 1, '{"runtime": "meta"}', "stored", ""),
            ("c", "s", "trim", 2, 2, '{"inference_id": "i"}', "  padded ", ""),
            ("c", "s", "spaces", 3, 3, '{"runtime": "meta"}', "   ", "x"),
        ],
    )
    conn.commit()
    conn.close()
    open_database(str(path))
    conn = sqlite3.connect(path)
    got = {
        r[0]: (r[1], r[2])
        for r in conn.execute("SELECT turn_id, runtime_key, inference_id FROM turns")
    }
    conn.close()
    assert got["keep"] == ("stored", "")
    assert got["trim"] == ("padded", "i")
    assert got["spaces"] == ("   ", "x")  # not selected: neither column is exactly ''


# ---------------------------------------------------------------- property tests

ids = st.text(alphabet="abcxyz-_0123456789é🙂", min_size=1, max_size=8)
runtime_values = st.one_of(
    st.none(),
    st.sampled_from(["inventory", "planner", " spaced ", ""]),
    st.builds(lambda k: {"runtime_key": k}, st.sampled_from(["inventory", "planner"])),
    st.builds(lambda k: {"slug": k}, st.sampled_from(["research", "planner"])),
    st.integers(min_value=-5, max_value=2_000_000),
)
texts = st.text(max_size=30)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[b.ConversationSpec, ...]:
    convs = []
    t0 = 1_771_900_000_000
    n_convs = draw(st.integers(min_value=1, max_value=3))
    for c in range(n_convs):
        turns = []
        for n in range(draw(st.integers(min_value=1, max_value=4))):
            meta: dict[str, Any] = {}
            rv = draw(runtime_values)
            if rv is not None:
                meta[draw(st.sampled_from(["geppetto.runtime@v1", "runtime", "runtime_key"]))] = rv
            if draw(st.booleans()):
                meta["geppetto.inference_id@v1"] = f"inf-{c}-{n}"
            phases = draw(
                st.lists(
                    st.sampled_from(["pre_inference", "post_inference", "post_tools", "final"]),
                    min_size=1,
                    max_size=4,
                )
            )
            snaps = []
            for k, phase in enumerate(phases):
                blocks = tuple(
                    b.BlockSpec(
                        kind=draw(st.sampled_from(["user", "llm_text", "reasoning"])),
                        role="user",
                        payload={"text": draw(texts)},
                    )
                    for _ in range(draw(st.integers(min_value=0, max_value=3)))
                )
                snaps.append(b.SnapshotSpec(phase, t0 + c * 100_000 + n * 1000 + k, blocks))
            turns.append(b.TurnSpec(f"t{n}-{draw(ids)}", tuple(snaps), meta))
        convs.append(b.ConversationSpec(f"conv{c}-{draw(ids)}", draw(ids), tuple(turns)))
    return tuple(convs)


def table_rows(path: Path, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        cols = ", ".join(columns)
        return sorted(conn.execute(f"SELECT {cols} FROM {table}").fetchall(), key=repr)
    finally:
        conn.close()


def columns(path: Path, table: str) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
    finally:
        conn.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_era2_migration_is_idempotent_and_loses_nothing(convs: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = b.build_era2(Path(tmp) / "p.db", convs)
        snapshot = {
            t: (columns(path, t), table_rows(path, t, columns(path, t)))
            for t in ("turns", "blocks", "turn_block_membership")
        }
        first = open_database(str(path))
        assert first.schema_after == Era.GP26
        for table, (cols, rows) in snapshot.items():
            assert table_rows(path, table, cols) == rows, table
        digest = sha(path)
        second = open_database(str(path))
        assert second.mode == "none" and not second.report.steps
        assert sha(path) == digest


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_era1_migration_keeps_every_snapshot_recoverable(convs: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = b.build_era1(Path(tmp) / "p.db", convs)
        legacy_cols = columns(path, "turns")
        legacy = table_rows(path, "turns", legacy_cols)
        open_database(str(path))
        assert table_rows(path, "turn_snapshots_legacy", legacy_cols) == legacy
        conn = sqlite3.connect(path)
        try:
            for conv_id, sess, turn_id, phase, created, payload in legacy:
                got = conn.execute(
                    "SELECT b.kind, b.role, b.payload_json FROM turn_block_membership m "
                    "JOIN blocks b USING (block_id, content_hash) WHERE m.conv_id=? "
                    "AND m.session_id=? AND m.turn_id=? AND m.phase=? "
                    "AND m.snapshot_created_at_ms=? ORDER BY m.ordinal",
                    (conv_id, sess, turn_id, phase, created),
                ).fetchall()
                doc = yaml.safe_load(payload)
                assert [(k, r, json.loads(p)) for k, r, p in got] == [
                    (blk["kind"], blk.get("role", ""), blk.get("payload", {}))
                    for blk in doc.get("blocks") or []
                ]
        finally:
            conn.close()
        digest = sha(path)
        assert open_database(str(path)).mode == "none"
        assert sha(path) == digest
