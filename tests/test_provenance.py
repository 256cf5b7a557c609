"""Provenance in `dump`: where each turn's runtime key and inference id come from (the
column, the metadata's key and shape, nowhere), what pinocchio 61eeed77 would give, and
where stored value and metadata disagree; the current runtime's provenance."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import builders as b
from tests import investigate_builders as ib
from tests.sync_store import dump

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, cwd=ROOT, timeout=60
    )


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("prov")
    path = ib.build_investigate(folder / "inv.db")
    return dump(path, timeline_db=str(ib.build_investigate_timeline(folder / "tl.db")))


def turn(doc: dict[str, Any], conv: str, turn_id: str) -> dict[str, Any]:
    c = next(c for c in doc["conversations"] if c["conv_id"] == conv)
    t: dict[str, Any] = next(t for t in c["turns"] if t["turn_id"] == turn_id)
    return t


def test_canonical_map_agrees(doc: dict[str, Any]) -> None:
    p = turn(doc, ib.CONV, "turn-inv-1")["provenance"]
    assert p["runtime_key"] == {
        "from": "metadata",
        "metadata_value": "research",
        "metadata_key": "geppetto.runtime@v1",
        "metadata_shape": "map",
        "metadata_field": "runtime_key",
        "newer_rule_value": None,
        "disagrees": False,
        "derived_in_memory": False,
    }
    assert p["inference_id"]["from"] == "metadata"
    assert p["inference_id"]["metadata_shape"] == "string"


def test_stored_value_the_metadata_does_not_give(doc: dict[str, Any]) -> None:
    t = turn(doc, ib.CONV, "turn-inv-5")
    assert t["runtime_key"] == "coder"  # the column wins, as in pinocchio
    rk = t["provenance"]["runtime_key"]
    assert (rk["from"], rk["metadata_value"], rk["disagrees"]) == ("stored", "research", True)
    assert t["provenance"]["inference_id"]["disagrees"] is False


def test_legacy_shape_and_the_newer_rule(doc: dict[str, Any]) -> None:
    """`runtime: {slug: ...}` gives the key under the GP-26 rules; 61eeed77 gives nothing."""
    p = turn(doc, ib.CONV2, "turn-reuse-1")["provenance"]
    rk = p["runtime_key"]
    assert (rk["from"], rk["metadata_key"], rk["metadata_shape"], rk["metadata_field"]) == (
        "metadata",
        "runtime",
        "map",
        "slug",
    )
    assert rk["newer_rule_value"] == ""
    assert p["inference_id"]["metadata_key"] == "inference_id"
    assert p["inference_id"]["newer_rule_value"] is None


def test_unknown_and_malformed(doc: dict[str, Any]) -> None:
    unknown = turn(doc, ib.CONV2, "turn-reuse-2")["provenance"]["runtime_key"]
    assert (unknown["from"], unknown["metadata_value"], unknown["metadata_key"]) == (
        "none",
        "",
        None,
    )
    bad = turn(doc, ib.CONV2, ib.MALFORMED_TURN)["provenance"]
    assert bad["runtime_key"]["from"] == "stored"
    assert bad["runtime_key"]["metadata_shape"] == "malformed"
    assert bad["runtime_key"]["disagrees"] is False  # the metadata says nothing


def test_current_runtime_provenance(doc: dict[str, Any]) -> None:
    conv = next(c for c in doc["conversations"] if c["conv_id"] == ib.CONV)
    cp = conv["current_runtime_provenance"]
    assert (cp["key"], cp["source"], cp["timeline_value"]) == ("research", "timeline", "research")
    assert (cp["latest_turn_id"], cp["latest_turn_value"], cp["disagrees"]) == (
        "turn-inv-5",
        "coder",
        True,
    )
    other = next(c for c in doc["conversations"] if c["conv_id"] == ib.CONV2)
    assert other["current_runtime_provenance"]["disagrees"] is False


def test_read_only_overlay_says_derived_in_memory(tmp_path: Path) -> None:
    path = b.build_era2(tmp_path / "e2.db", b.standard_scenario())
    doc = dump(path, read_only=True)
    t = turn(doc, "conv-legacy-keys", "turn-legacy-4")
    rk, inf = t["provenance"]["runtime_key"], t["provenance"]["inference_id"]
    assert (rk["from"], rk["metadata_key"], rk["derived_in_memory"]) == (
        "metadata",
        "runtime_key",
        True,
    )
    assert rk["newer_rule_value"] == ""  # a bare `runtime_key` key: 61eeed77 ignores it
    assert (inf["metadata_value"], inf["metadata_shape"], inf["newer_rule_value"]) == (
        "42",
        "scalar",
        None,
    )
    migrated = dump(b.build_era2(tmp_path / "m.db", b.standard_scenario()))
    t2 = turn(migrated, "conv-legacy-keys", "turn-legacy-4")
    assert t2["provenance"]["runtime_key"]["derived_in_memory"] is False


def test_dump_inference(tmp_path: Path) -> None:
    path = ib.build_investigate(tmp_path / "inv.db")
    res = run("dump", str(path), "--inference", "inf-i3")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["inference"]["turn_id"] == "turn-inv-3"
    [conv] = doc["conversations"]
    assert [t["turn_id"] for t in conv["turns"]] == ["turn-inv-3"]
    assert conv["turns"][0]["runtime_switch"] is True  # decided in the whole conversation
    shared = run("dump", str(path), "--inference", "inf-i2")
    assert shared.returncode == 3 and "shared by 2 turns" in shared.stderr
    one = run("dump", str(path), "--inference", "inf-i2", "--conv", ib.CONV2)
    assert one.returncode == 0, one.stderr
    assert json.loads(one.stdout)["inference"]["turn_id"] == "turn-reuse-2"
    for query in ("inf-i", "nope"):
        res = run("dump", str(path), "--inference", query)
        assert res.returncode == 3 and len(res.stderr.splitlines()) == 1
        assert "Traceback" not in res.stderr
    prefix = run("dump", str(path), "--inference", "inf-r3")
    assert json.loads(prefix.stdout)["inference"]["conv_id"] == ib.CONV2
