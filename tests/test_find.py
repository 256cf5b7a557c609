"""`turns-tui find`: ids (exact or prefix, case-insensitive) and text inside blocks, each
match naming its conversation, turn, phase and block; excerpts safe to print."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import builders as b
from tests import investigate_builders as ib

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, cwd=ROOT, timeout=60
    )


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ib.build_investigate(tmp_path_factory.mktemp("find") / "inv.db")


def find(path: Path, *args: str) -> list[dict[str, Any]]:
    res = run("find", str(path), *args, "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["query"] == args[0]
    matches: list[dict[str, Any]] = doc["matches"]
    for m in matches:
        assert set(m) == {
            "conv_id",
            "session_id",
            "turn_id",
            "phase",
            "snapshot_created_at_ms",
            "field",
            "block_ordinal",
            "excerpt",
        }
    return matches


def where(m: dict[str, Any]) -> tuple[Any, ...]:
    return (m["conv_id"], m["turn_id"], m["phase"], m["snapshot_created_at_ms"], m["block_ordinal"])


def test_reused_inference_id_finds_both_turns(db: Path) -> None:
    ms = find(db, "INF-I2", "--field", "id")
    assert [(m["field"], m["conv_id"], m["turn_id"]) for m in ms] == [
        ("inference_id", ib.CONV, "turn-inv-2"),
        ("inference_id", ib.CONV2, "turn-reuse-2"),
    ]
    assert (ms[0]["phase"], ms[0]["snapshot_created_at_ms"]) == ("final", ib.T1 + 103_100)


def test_prefix_and_exact_first(db: Path) -> None:
    ms = find(db, "turn-inv-", "--field", "id")
    assert [m["turn_id"] for m in ms] == [f"turn-inv-{n}" for n in range(1, 6)]
    crashed = next(m for m in ms if m["turn_id"] == "turn-inv-4")
    assert crashed["phase"] == "pre_inference"  # no final: its latest snapshot
    conv = find(db, "conv-re", "--field", "id")
    assert [(m["field"], m["conv_id"], m["session_id"], m["turn_id"]) for m in conv] == [
        ("conv_id", ib.CONV2, ib.SESS2, None)
    ]
    runtime = find(db, "coder", "--field", "id")
    assert {m["field"] for m in runtime} == {"runtime_key"}
    assert [m["turn_id"] for m in runtime] == ["turn-inv-3", "turn-inv-4", "turn-inv-5"]
    assert find(db, "sess-j", "--field", "id")[0]["field"] == "session_id"


def test_text_first_appearance(db: Path) -> None:
    ms = find(db, "ZEBRAFISH FIN regeneration", "--field", "text")
    assert [where(m) for m in ms] == [ib.ZEBRA_FIRST]
    assert ms[0]["field"] == "text"
    assert "Zebrafish fin regeneration" in ms[0]["excerpt"]


def test_key_names_do_not_match_text(db: Path) -> None:
    """`result` is a payload key of every tool_use block, never a value here."""
    assert find(db, "result", "--field", "text") == []
    assert find(db, "papers", "--field", "text")  # the values still match


def test_control_characters_are_made_visible(db: Path) -> None:
    [m] = find(db, "red", "--field", "text")
    assert where(m) == ib.CONTROL_FIRST
    assert "\x1b" not in m["excerpt"] and "␛[31mred" in m["excerpt"]
    res = run("find", str(db), "red", "--field", "text")
    assert "\x1b" not in res.stdout


def test_like_wildcards_are_literal(db: Path) -> None:
    assert find(db, "%", "--field", "text") == []
    assert find(db, "inf_i2", "--field", "id") == []


def test_any_field_lists_ids_then_text(db: Path) -> None:
    ms = find(db, "inv-a", "--field", "any")
    assert ms == []  # block ids are not searched, and no text holds it
    both = find(db, "research")
    assert both[0]["field"] == "runtime_key" and both[-1]["field"] == "text"


def test_read_only_era2_overlay_ids_and_geppetto(tmp_path: Path) -> None:
    """Ids the read-only overlay derives in memory are found; geppetto_turns too."""
    path = b.build_era2(tmp_path / "e2.db", b.standard_scenario())
    ms = find(path, "inf-b2", "--read-only", "--field", "id")
    assert [(m["conv_id"], m["turn_id"]) for m in ms] == [("conv-legacy-keys", "turn-legacy-2")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e2.db"]
    gp = b.build_geppetto(tmp_path / "g.db", b.standard_scenario())
    ids = find(gp, "42", "--field", "id")
    assert [(m["field"], m["turn_id"]) for m in ids] == [("inference_id", "turn-legacy-4")]
    text = find(gp, "Q2 plan", "--field", "text")
    # Blocks without ids are "<turn_id>#<ordinal>" blocks, one per turn holding them.
    got = [(m["turn_id"], m["phase"], m["block_ordinal"]) for m in text]
    assert got[0] == ("turn-legacy-1", "post_inference", 2)
    normalised = find(path, "Q2 plan", "--read-only", "--field", "text")
    assert [(m["turn_id"], m["phase"], m["block_ordinal"]) for m in normalised] == got


def test_limit_and_text_form(db: Path) -> None:
    res = run("find", str(db), "inf-", "--field", "id", "--limit", "2", "--json")
    doc = json.loads(res.stdout)
    assert len(doc["matches"]) == 2 and doc["truncated"] is True
    text = run("find", str(db), "nothing-like-this")
    assert (text.returncode, text.stdout) == (0, "no match for 'nothing-like-this'\n")


def test_missing_file_exit_3(tmp_path: Path) -> None:
    res = run("find", str(tmp_path / "nope.db"), "x")
    assert res.returncode == 3 and len(res.stderr.splitlines()) == 1
