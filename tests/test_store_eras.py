"""Every era of turns database opens, migrates to GP-26 and dumps the same truth."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests import builders as b
from tests.sync_store import open_store
from tui.store.models import Era
from tui.store.opener import plan_migration


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dump(path: Path, **kwargs: Any) -> dict[str, Any]:
    reader = open_store(str(path), **kwargs)
    opened = reader.opened
    assert opened is not None
    try:
        return reader.dump()
    finally:
        reader.close()


def turn_truth(doc: dict[str, Any], *, with_updated: bool = True) -> dict[str, Any]:
    """The per-conversation facts every era must agree on."""
    out: dict[str, Any] = {}
    for conv in doc["conversations"]:
        turns = []
        for t in conv["turns"]:
            item = {k: v for k, v in t.items() if k != "updated_at_ms" or with_updated}
            turns.append(item)
        out[conv["conv_id"]] = {
            "session_id": conv["session_id"],
            "current_runtime_key": conv["current_runtime_key"],
            "current_runtime_source": conv["current_runtime_source"],
            "turns": turns,
        }
    return out


Builder = Callable[[Path, Any], Path]

ERA_BUILDERS: dict[str, tuple[Builder, str]] = {
    "era0": (b.build_era0, Era.ERA0_RUN_ID.value),
    "era1": (b.build_era1, Era.ERA1_SNAPSHOTS.value),
    "era2": (b.build_era2, Era.ERA2_NORMALIZED.value),
    "gp26-empty-columns": (b.build_gp26, Era.GP26.value),
    "go-hybrid-era1": (b.build_go_hybrid_era1, Era.HYBRID.value),
    "go-hybrid-era0": (b.build_go_hybrid_era0, Era.HYBRID.value),
    "half-normalized": (
        lambda p, c: b.build_half_normalized(p, c, normalized_convs=1),
        Era.HYBRID.value,
    ),
}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = b.build_era2(tmp_path_factory.mktemp("ref") / "ref.db", b.standard_scenario())
    return dump(path)


def test_reference_dump_matches_the_go_rules(reference: dict[str, Any]) -> None:
    convs = {c["conv_id"]: c for c in reference["conversations"]}
    assert [c["conv_id"] for c in reference["conversations"]] == [
        "conv-single",
        "conv-switch",
        "conv-legacy-keys",
    ]
    for (conv_id, turn_id), (rk, inf) in b.STANDARD_EXPECTED_ATTRIBUTION.items():
        turn = next(t for t in convs[conv_id]["turns"] if t["turn_id"] == turn_id)
        assert (turn["runtime_key"], turn["inference_id"]) == (rk, inf), turn_id
    switch = convs["conv-switch"]
    assert [t["runtime_switch"] for t in switch["turns"]] == [False, False, True, False, True]
    assert switch["turns"][2]["previous_runtime_key"] == "inventory"
    assert switch["turns"][4]["previous_runtime_key"] == "planner"
    assert (switch["current_runtime_key"], switch["current_runtime_source"]) == (
        "inventory",
        "latest_turn",
    )
    legacy = convs["conv-legacy-keys"]
    assert [t["runtime_switch"] for t in legacy["turns"]] == [False, False, False, True]
    assert "unknown_runtime" in legacy["turns"][2]["anomalies"]
    assert "no_final_snapshot" in legacy["turns"][3]["anomalies"]
    assert [p["phase"] for p in legacy["turns"][3]["phases"]] == ["pre_inference"]
    tool_loop = switch["turns"][1]["phases"]
    assert [p["phase"] for p in tool_loop].count("post_tools") == 2
    times = [p["snapshot_created_at_ms"] for p in tool_loop]
    assert times == sorted(times)
    migration = reference["database"]["migration"]
    assert migration["applied"] is True
    assert migration["unknown_runtime_turns"] == 1
    assert migration["backfilled_runtime_key"] == 9


@pytest.mark.parametrize("era", sorted(ERA_BUILDERS))
def test_every_era_gives_the_same_dump(era: str, tmp_path: Path, reference: dict[str, Any]) -> None:
    builder, expected_era = ERA_BUILDERS[era]
    path = builder(tmp_path / f"{era}.db", b.standard_scenario())
    doc = dump(path)
    assert doc["database"]["schema_before"] == expected_era
    assert doc["database"]["schema_after"] == Era.GP26.value
    assert doc["database"]["mode"] == "in_place"
    assert turn_truth(doc) == turn_truth(reference)
    # Opening again changes nothing, byte for byte.
    before = sha(path)
    again = dump(path)
    assert again["database"]["mode"] == "none"
    assert again["database"]["migration"]["applied"] is False
    assert again["database"]["migration"]["steps"] == []
    assert sha(path) == before
    assert turn_truth(again) == turn_truth(reference)


@pytest.mark.parametrize(
    "variant",
    ["no_updated_at", "no_metadata_json", "no_data_json", "created_at_ms", "zero_updated_at"],
)
def test_older_era2_variants(variant: str, tmp_path: Path, reference: dict[str, Any]) -> None:
    path = b.build_era2(tmp_path / "v.db", b.standard_scenario(), variant=variant)
    doc = dump(path)
    assert doc["database"]["schema_after"] == Era.GP26.value
    conn = sqlite3.connect(path)
    cols = {r[1] for r in conn.execute("PRAGMA table_info(turns)")}
    zero = conn.execute("SELECT COUNT(*) FROM turns WHERE updated_at_ms <= 0").fetchone()[0]
    conn.close()
    assert {"runtime_key", "inference_id", "updated_at_ms", "turn_metadata_json"} <= cols
    assert zero == 0
    if variant == "no_metadata_json":
        # No metadata at all: every runtime stays unknown, never borrowed from elsewhere.
        assert all(t["runtime_key"] == "" for c in doc["conversations"] for t in c["turns"])
        return
    got = turn_truth(doc, with_updated=False)
    want = turn_truth(reference, with_updated=False)
    assert got == want
    if variant in ("no_updated_at", "zero_updated_at"):
        # pinocchio's repair: updated_at_ms falls back to turn_created_at_ms.
        for conv in doc["conversations"]:
            for t in conv["turns"]:
                assert t["updated_at_ms"] == t["turn_created_at_ms"]


def test_geppetto_turns_backfilled_in_memory_and_never_written(tmp_path: Path) -> None:
    """geppetto_turns belongs to geppetto's JS provider: its empty runtime keys and
    inference ids are derived in memory, and the file keeps every byte."""
    path = b.build_geppetto(tmp_path / "g.db", b.standard_scenario())
    first = sha(path)
    doc = dump(path)
    assert sha(path) == first
    assert doc["database"]["mode"] == "overlay"
    assert any("never written" in n for n in doc["database"]["notices"])
    assert doc["database"]["schema_before"] == Era.GEPPETTO.value
    assert doc["database"]["schema_after"] == Era.GEPPETTO.value
    convs = {c["conv_id"]: c for c in doc["conversations"]}
    for (conv_id, turn_id), (rk, inf) in b.STANDARD_EXPECTED_ATTRIBUTION.items():
        turn = next(t for t in convs[conv_id]["turns"] if t["turn_id"] == turn_id)
        assert (turn["runtime_key"], turn["inference_id"]) == (rk, inf), turn_id
    conn = sqlite3.connect(path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert tables == {"geppetto_turns"}
    assert dump(path)["database"]["mode"] == "overlay"
    assert sha(path) == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.db"]


def test_legacy_table_is_kept_and_recoverable(tmp_path: Path) -> None:
    path = b.build_era1(tmp_path / "e1.db", b.standard_scenario())
    conn = sqlite3.connect(path)
    original = sorted(conn.execute("SELECT * FROM turns").fetchall())
    conn.close()
    dump(path)
    conn = sqlite3.connect(path)
    kept = sorted(conn.execute("SELECT * FROM turn_snapshots_legacy").fetchall())
    assert kept == original
    # Every legacy snapshot is recoverable from the normalised tables.
    for conv, sess, turn, phase, created, payload in original:
        blocks = conn.execute(
            "SELECT b.kind, b.role, b.payload_json FROM turn_block_membership m JOIN blocks b "
            "ON b.block_id = m.block_id AND b.content_hash = m.content_hash "
            "WHERE m.conv_id=? AND m.session_id=? AND m.turn_id=? AND m.phase=? "
            "AND m.snapshot_created_at_ms=? ORDER BY m.ordinal",
            (conv, sess, turn, phase, created),
        ).fetchall()
        import yaml

        doc = yaml.safe_load(payload)
        assert [
            (x["kind"], x.get("role", ""), json.loads(p))
            for x, (_, _, p) in zip(doc["blocks"], blocks, strict=True)
        ] == [(k, r, json.loads(p)) for k, r, p in blocks]
        assert [x.get("payload", {}) for x in doc["blocks"]] == [
            json.loads(p) for _, _, p in blocks
        ]
    conn.close()


def test_unparseable_legacy_row_is_kept_counted_and_does_not_abort(tmp_path: Path) -> None:
    path = b.build_era1(tmp_path / "e1.db", b.standard_scenario())
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO turns VALUES ('conv-bad', 'sess-x', 'turn-bad', 'final', 1771900000000, ?)",
        ("blocks: [unclosed\n  - : :",),
    )
    conn.commit()
    conn.close()
    doc = dump(path)
    mig = doc["database"]["migration"]
    assert mig["legacy_rows_unparsed"] == 1
    assert mig["applied"] is True
    assert {c["conv_id"] for c in doc["conversations"]} == {
        "conv-switch",
        "conv-legacy-keys",
        "conv-single",
    }
    conn = sqlite3.connect(path)
    assert conn.execute(
        "SELECT COUNT(*) FROM turn_snapshots_legacy WHERE conv_id = 'conv-bad'"
    ).fetchone() == (1,)
    conn.close()
    before = sha(path)
    again = dump(path)
    assert again["database"]["migration"]["legacy_rows_unparsed"] == 1
    assert again["database"]["migration"]["applied"] is False
    assert sha(path) == before


def test_timeline_store_gives_the_current_runtime(tmp_path: Path) -> None:
    path = b.build_era2(tmp_path / "t.db", b.standard_scenario())
    timeline = b.build_timeline(tmp_path / "timeline.db", b.standard_timeline_rows())
    doc = dump(path, timeline_db=str(timeline))
    convs = {c["conv_id"]: c for c in doc["conversations"]}
    switch = convs["conv-switch"]
    assert (switch["current_runtime_key"], switch["current_runtime_source"]) == (
        "planner",
        "timeline",
    )
    # The per-turn history is untouched by the current pointer.
    assert switch["turns"][-1]["runtime_key"] == "inventory"
    # Timeline table inside the turns file is recognised too.
    inside = b.build_timeline(path, b.standard_timeline_rows())
    doc2 = dump(inside)
    assert {c["conv_id"]: c["current_runtime_source"] for c in doc2["conversations"]} == {
        "conv-switch": "timeline",
        "conv-legacy-keys": "timeline",
        "conv-single": "timeline",
    }


def test_dry_run_writes_nothing_and_reports_the_plan(tmp_path: Path) -> None:
    path = b.build_era1(tmp_path / "e1.db", b.standard_scenario())
    before = sha(path)
    era, report = plan_migration(str(path))
    assert era == Era.ERA1_SNAPSHOTS
    assert report.applied is False
    assert any("rename" in s for s in report.steps)
    assert report.backfilled_runtime_key == 9
    assert report.unknown_runtime_turns == 1
    assert dict(report.unknown_runtime_reasons) == {"no runtime key in turn metadata": 1}
    assert sha(path) == before
    assert not Path(str(path) + "-journal").exists()


def test_read_only_mode_never_writes(tmp_path: Path, reference: dict[str, Any]) -> None:
    path = b.build_era1(tmp_path / "e1.db", b.standard_scenario())
    before = sha(path)
    doc = dump(path, read_only=True)
    assert doc["database"]["mode"] == "copy"
    assert doc["database"]["schema_after"] == Era.GP26.value
    assert turn_truth(doc) == turn_truth(reference)
    assert sha(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e1.db"]


def test_future_schema_is_kept(tmp_path: Path) -> None:
    path = b.add_future_schema(b.build_era2(tmp_path / "f.db", b.standard_scenario()))
    conn = sqlite3.connect(path)
    notes = conn.execute("SELECT * FROM turn_annotations ORDER BY rowid").fetchall()
    future = conn.execute("SELECT conv_id, turn_id, future_col FROM turns ORDER BY 1, 2").fetchall()
    conn.close()
    dump(path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT * FROM turn_annotations ORDER BY rowid").fetchall() == notes
    assert (
        conn.execute("SELECT conv_id, turn_id, future_col FROM turns ORDER BY 1, 2").fetchall()
        == future
    )
    conn.close()


def test_empty_file_is_an_empty_database(tmp_path: Path) -> None:
    path = b.build_empty_file(tmp_path / "empty.db")
    doc = dump(path)
    assert doc["conversations"] == []
    assert doc["database"]["mode"] == "none"
    assert path.stat().st_size == 0


def test_timeline_only_conversation_is_listed_last_with_zero_turns(tmp_path: Path) -> None:
    """A conversation only the timeline store knows is listed after this file's own
    (even when its activity is the newest), marked in_file false, with its session."""
    path = b.build_era2(tmp_path / "t.db", b.standard_scenario())
    rows = (*b.standard_timeline_rows(), ("conv-ghost", "sess-g", "research", 1_771_999_999_999))
    timeline = b.build_timeline(tmp_path / "timeline.db", rows)
    doc = dump(path, timeline_db=str(timeline))
    assert [c["in_file"] for c in doc["conversations"]] == [True, True, True, False]
    first = doc["conversations"][-1]
    assert (first["conv_id"], first["session_id"], first["turns"]) == ("conv-ghost", "sess-g", [])
    assert first["sessions"] == ["sess-g"]
    assert (first["current_runtime_key"], first["current_runtime_source"]) == (
        "research",
        "timeline",
    )
    reader = open_store(str(path), timeline_db=str(timeline))
    opened = reader.opened
    assert opened is not None
    try:
        one = reader.dump("conv-ghost")["conversations"]
    finally:
        reader.close()
    assert [c["conv_id"] for c in one] == ["conv-ghost"]
