"""`turns-tui diff` and the pure diff: blocks as multisets, metadata and data keys, the
system prompt's line diff first, the one-line switch summary; on real builder files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import builders as b
from tests import investigate_builders as ib
from tui.diff import diff_blocks, switch_summary
from tui.store.records import Block

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, cwd=ROOT, timeout=60
    )


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ib.build_investigate(tmp_path_factory.mktemp("diff") / "inv.db")


def diff(db: Path, *args: str) -> dict[str, Any]:
    res = run("diff", str(db), "--conv", ib.CONV, *args, "--json")
    assert res.returncode == 0, res.stderr
    doc: dict[str, Any] = json.loads(res.stdout)
    return doc


def ids(blocks: list[dict[str, Any]]) -> list[str]:
    return [x["block_id"] for x in blocks]


def test_switch_changes_system_prompt_model_and_tools(db: Path) -> None:
    doc = diff(db, "--turn", "turn-inv-3")
    assert doc["from"] == {
        "turn_id": "turn-inv-2",
        "phase": "final",
        "snapshot_created_at_ms": ib.T1 + 103_100,
        "runtime_key": "research",
    }
    assert (doc["to"]["turn_id"], doc["to"]["phase"], doc["to"]["runtime_key"]) == (
        "turn-inv-3",
        "final",
        "coder",
    )
    assert ids(doc["blocks"]["added"]) == ["inv-u3", "inv-a3"]
    assert doc["blocks"]["removed"] == []
    [changed] = doc["blocks"]["changed"]
    assert (changed["block_id"], changed["kind"], changed["role"], changed["ordinal"]) == (
        "inv-sys",
        "system",
        "system",
        0,
    )
    assert changed["content_hash"] == b.block_content_hash(
        "system", "system", {"text": ib.SYS_CODER}, {}
    )
    assert changed["from_content_hash"] == b.block_content_hash(
        "system", "system", {"text": ib.SYS_RESEARCH}, {}
    )
    assert set(doc["blocks"]["added"][0]) >= {"ordinal", "block_id", "content_hash", "kind", "role"}
    meta = doc["metadata"]
    assert meta["changed"]["geppetto.model@v1"] == ["gpt-4o", "o4-mini"]
    assert meta["changed"]["geppetto.runtime@v1"][1]["runtime_key"] == "coder"
    assert meta["added"] == [] and meta["removed"] == []
    assert doc["data"]["changed"] == {
        "geppetto.tool_config@v1": [ib.TOOLS_RESEARCH, ib.TOOLS_CODER]
    }
    first = doc["text_diff"][0]
    assert first["block_id"] == "inv-sys"
    lines = first["unified_diff"].splitlines()
    plus = [ln for ln in lines if ln.startswith("+") and not ln.startswith("+++")]
    minus = [ln for ln in lines if ln.startswith("-") and not ln.startswith("---")]
    assert (len(plus), len(minus)) == (ib.SYSTEM_PROMPT_PLUS, ib.SYSTEM_PROMPT_MINUS)
    assert "+Use Python 3.11." in lines and "-Cite sources." in lines


def test_switch_summary_line(db: Path) -> None:
    res = run("diff", str(db), "--conv", ib.CONV, "--turn", "turn-inv-3")
    assert res.returncode == 0, res.stderr
    summary = next(ln for ln in res.stdout.splitlines() if ln.startswith("summary: "))
    assert summary == (
        f"summary: research → coder · system prompt changed +{ib.SYSTEM_PROMPT_PLUS} "
        f"−{ib.SYSTEM_PROMPT_MINUS} · model gpt-4o → o4-mini · 1 data key changed "
        "· 2 blocks added · 1 block changed"
    )
    assert "--- turn-inv-2/final" in res.stdout


def test_tool_loop_phase_against_phase(db: Path) -> None:
    """The latest post_tools against the post_inference just before it: the second tool
    result is the only new block."""
    doc = diff(
        db, "--turn", "turn-inv-2", "--phase", "post_tools", "--against", "phase:post_inference"
    )
    assert (doc["from"]["phase"], doc["from"]["snapshot_created_at_ms"]) == (
        "post_inference",
        ib.T1 + 102_000,
    )
    assert (doc["to"]["phase"], doc["to"]["snapshot_created_at_ms"]) == (
        "post_tools",
        ib.T1 + 102_500,
    )
    assert ids(doc["blocks"]["added"]) == ["inv-tool-2"]
    assert doc["blocks"]["changed"] == doc["blocks"]["removed"] == []
    assert doc["text_diff"] == []
    # Same turn: the turn row's metadata and data, so nothing changes there.
    assert doc["metadata"] == {"changed": {}, "added": [], "removed": []}


def test_crashed_turn_uses_its_latest_snapshot(db: Path) -> None:
    doc = diff(db, "--turn", "turn-inv-4")
    assert (doc["to"]["phase"], doc["to"]["snapshot_created_at_ms"]) == (
        "pre_inference",
        ib.T1 + 300_000,
    )
    assert doc["from"]["turn_id"] == "turn-inv-3"
    assert ids(doc["blocks"]["added"]) == ["inv-u4"]


def test_against_turn_and_previous_runtime(db: Path) -> None:
    by_id = diff(db, "--turn", "turn-inv-3", "--against", "turn:turn-inv-1")
    assert by_id["from"]["turn_id"] == "turn-inv-1"
    prefix = diff(db, "--turn", "turn-inv-3", "--against", "turn:turn-inv-1")
    assert prefix == by_id
    rt = diff(db, "--turn", "turn-inv-4", "--against", "previous-runtime")
    assert rt["from"]["turn_id"] == "turn-inv-2"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--turn", "turn-inv-1"), "first turn"),
        (("--turn", "turn-nope"), "no turn"),
        (("--turn", "turn-inv"), "ambiguous"),
        (("--turn", "turn-inv-4", "--against", "phase:final"), "no 'final' snapshot"),
        (("--turn", "turn-inv-3", "--against", "sideways"), "expected previous"),
    ],
)
def test_lookup_errors_are_one_line_exit_3(db: Path, args: tuple[str, ...], needle: str) -> None:
    res = run("diff", str(db), "--conv", ib.CONV, *args)
    assert res.returncode == 3
    assert needle in res.stderr and len(res.stderr.splitlines()) == 1
    assert "Traceback" not in res.stderr and res.stdout == ""


def test_missing_file_keeps_the_cli_code(tmp_path: Path) -> None:
    res = run("diff", str(tmp_path / "nope.db"), "--conv", "c", "--turn", "t")
    assert res.returncode == 3 and len(res.stderr.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_read_only_era1_leaves_nothing_behind(tmp_path: Path) -> None:
    path = b.build_era1(tmp_path / "e1.db", b.standard_scenario())
    before = path.read_bytes()
    res = run(
        "diff",
        str(path),
        "--read-only",
        "--conv",
        "conv-switch",
        "--turn",
        "turn-switch-3",
        "--json",
    )
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert (doc["from"]["runtime_key"], doc["to"]["runtime_key"]) == ("inventory", "planner")
    assert doc["metadata"]["changed"]["geppetto.model@v1"] == ["gpt-4o-mini", "gpt-4o"]
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e1.db"]


def _block(ordinal: int, bid: str, h: str, kind: str = "user") -> Block:
    return Block(ordinal, bid, kind, "user", '{"text":"x"}', "{}", h)


def test_blocks_compare_as_multisets() -> None:
    """A duplicated block counts twice; same id with another hash is changed."""
    old = [_block(0, "a", "h1"), _block(1, "b", "h2"), _block(2, "b", "h2")]
    new = [_block(0, "a", "h9"), _block(1, "b", "h2"), _block(2, "c", "h3")]
    added, removed, changed = diff_blocks(old, new)
    assert [(x.block_id, x.content_hash) for x in added] == [("c", "h3")]
    assert [(x.block_id, x.ordinal) for x in removed] == [("b", 2)]
    assert [(x.block_id, x.from_content_hash, x.content_hash) for x in changed] == [
        ("a", "h1", "h9")
    ]
    assert diff_blocks(new, new) == ((), (), ())


def test_summary_of_no_difference_and_unknown_runtime() -> None:
    from tui.diff import KeyDiff, Side, SnapshotDiff

    same = SnapshotDiff(
        Side("t1", "final", 1, "a"),
        Side("t2", "final", 2, "a"),
        (),
        (),
        (),
        KeyDiff(),
        KeyDiff(),
        (),
    )
    assert switch_summary(same) == "no differences"
    unknown = SnapshotDiff(
        Side("t1", "final", 1, ""),
        Side("t2", "final", 2, "a\x1b"),
        (),
        (),
        (),
        KeyDiff(),
        KeyDiff(),
        (),
    )
    assert switch_summary(unknown) == "? → a␛"
