"""The built-in demo database: deterministic, pre-GP-26, and it shows every feature."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from tests.sync_store import open_store
from tui.demo import DEMO_FILE_NAME, build_demo_database, demo_database, demo_id
from tui.domain import NO_FINAL, UNKNOWN_RUNTIME, build_conversation
from tui.store.gojson import canonical_block_hash
from tui.store.models import Era
from tui.store.records import TimelineEntry


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_demo_is_deterministic(tmp_path: Path) -> None:
    a = build_demo_database(tmp_path / "a.sqlite")
    b = build_demo_database(tmp_path / "b.sqlite")
    assert _digest(a) == _digest(b)
    with pytest.raises(FileExistsError):
        build_demo_database(a)


def test_demo_database_in_a_fresh_folder() -> None:
    """The demo lives in a private folder marked with this process (swept after a kill)."""
    from tui.store import cleanup

    path = demo_database()
    try:
        assert path.name == DEMO_FILE_NAME and path.exists()
        assert not Path(str(path) + "-wal").exists()
        listed = sorted(p.name for p in path.parent.iterdir())
        assert listed == sorted([DEMO_FILE_NAME, "owner.pid"])
        assert path.parent.name.startswith(cleanup.COPY_PREFIX)
    finally:
        cleanup.remove_copy(str(path.parent))
    assert not path.parent.exists()


def test_demo_is_era2_without_runtime_columns(tmp_path: Path) -> None:
    path = build_demo_database(tmp_path / DEMO_FILE_NAME)
    conn = sqlite3.connect(path)
    try:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(turns)")}
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        blocks = conn.execute(
            "SELECT kind, role, payload_json, block_metadata_json, content_hash FROM blocks"
        ).fetchall()
    finally:
        conn.close()
    assert "runtime_key" not in columns and "inference_id" not in columns
    assert {"turns", "blocks", "turn_block_membership", "timeline_conversations"} <= tables
    for kind, role, payload, meta, digest in blocks:
        assert canonical_block_hash(kind, role, json.loads(payload), json.loads(meta)) == digest


def test_demo_opens_with_the_real_migration_and_shows_every_case(tmp_path: Path) -> None:
    path = build_demo_database(tmp_path / DEMO_FILE_NAME)
    reader = open_store(path)
    opened = reader.opened
    assert opened is not None
    assert opened.schema_before == Era.ERA2_NORMALIZED and opened.schema_after == Era.GP26
    assert opened.mode == "in_place" and opened.report.applied
    assert opened.report.unknown_runtime_turns == 1
    try:
        dump = reader.dump()
        convs = {c["conv_id"]: c for c in dump["conversations"]}
        assert len(convs) == 6
        assert dump["conversations"][0]["conv_id"] == demo_id("warehouse")

        warehouse = convs[demo_id("warehouse")]
        keys = [t["runtime_key"] for t in warehouse["turns"]]
        assert keys == ["inventory", "inventory", "planner", "planner", "inventory"]
        assert [t["runtime_switch"] for t in warehouse["turns"]] == [
            False,
            False,
            True,
            False,
            True,
        ]
        # the current runtime (timeline store) differs from the latest turn's runtime
        assert warehouse["current_runtime_key"] == "planner"
        assert warehouse["current_runtime_source"] == "timeline"
        loop = warehouse["turns"][1]
        assert [p["phase"] for p in loop["phases"]] == [
            "pre_inference",
            "post_inference",
            "post_tools",
            "post_inference",
            "post_tools",
            "post_inference",
            "final",
        ]

        support = convs[demo_id("support")]
        assert [t["runtime_key"] for t in support["turns"]] == ["support", "", "support", "support"]
        assert UNKNOWN_RUNTIME in support["turns"][1]["anomalies"]
        crashed = support["turns"][3]
        assert [p["phase"] for p in crashed["phases"]] == ["pre_inference"]
        assert NO_FINAL in crashed["anomalies"]
        assert support["current_runtime_source"] == "latest_turn"

        legacy = convs[demo_id("legacy")]
        assert {t["runtime_key"] for t in legacy["turns"]} == {"inventory"}
        assert all(t["inference_id"] for t in legacy["turns"])

        kinds: set[str] = set()
        errors = 0
        for conv in dump["conversations"]:
            for t in conv["turns"]:
                last = t["phases"][-1]
                snap = reader.snapshot(
                    conv["conv_id"],
                    conv["session_id"],
                    t["turn_id"],
                    last["phase"],
                    last["snapshot_created_at_ms"],
                )
                assert snap is not None and len(snap.blocks) == last["block_count"]
                for block in snap.blocks:
                    kinds.add(block.kind)
                    errors += "error" in json.loads(block.payload_json)
        assert {"system", "user", "llm_text", "tool_call", "tool_use", "reasoning"} <= kinds
        assert errors >= 1
        view = build_conversation(
            demo_id("warehouse"),
            reader.turns(demo_id("warehouse")),
            TimelineEntry(demo_id("warehouse"), "planner", "", 0),
        )
        assert view.switch_indexes == (2, 4)
    finally:
        reader.close()
