"""minitrace export: the rules of pinocchio's converter (export.md), golden files, eras, CLI."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import builders as b
from tests import export_builders as eb
from tests.test_export_json import FIXED, build_report, check_golden, export
from tui.export.minitrace import go_marshal_indent

ROOT = Path(__file__).resolve().parent.parent
STAMP = "2026-05-06T12:00:00Z"


@pytest.fixture(scope="module")
def mt_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return b.build_gp26(tmp_path_factory.mktemp("mt") / "mt.db", eb.minitrace_scenario())


def doc_of(path: Path, conv: str, **kw: Any) -> dict[str, Any]:
    text = export(path, conv, "minitrace", **kw)
    out: dict[str, Any] = json.loads(text)
    return out


def entries(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["role"], e["content"]) for e in doc["turns"]]


# ---------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------


def test_go_marshal_indent_formatting() -> None:
    value = {"b": [], "a": {"z": 1957.0, "y": [1, {"x": None}]}, "c": {}, "h": "<&>\u2028é"}
    assert go_marshal_indent(value) == (
        '{\n  "a": {\n    "y": [\n      1,\n      {\n        "x": null\n      }\n    ],\n'
        '    "z": 1957\n  },\n  "b": [],\n  "c": {},\n  "h": "\\u003c\\u0026\\u003e\\u2028é"\n}'
    )


def test_report_golden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    build_report(tmp_path)
    text = export("report.db", eb.REPORT_CONV, "minitrace", timeline_db="timeline.db")
    check_golden("report.minitrace.json", text)
    assert text.endswith("}\n") and '\n  "annotations": [\n' in text


def test_standard_switch_golden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    b.build_gp26(tmp_path / "std.db", b.standard_scenario())
    check_golden("conv-switch.minitrace.json", export("std.db", "conv-switch", "minitrace"))


# ---------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------


def test_every_block_kind_roles_and_reasoning(mt_db: Path) -> None:
    doc = doc_of(mt_db, "mt-kinds")
    assert entries(doc) == [
        ("system", "sys prompt"),
        ("user", "hi"),
        ("assistant", "done"),
        ("user", "7"),  # a non-string text is printed as Go's fmt.Sprint; role ignored
        ("assistant", '{"extra":"\\u003c\\u0026\\u003e","text":"  "}'),  # blank text: JSON
    ]
    sys_e, user_e, asst, user2, asst2 = doc["turns"]
    assert (sys_e["source"], sys_e["input_channel"]) == ("system", "system_prompt")
    assert (user_e["source"], user_e["input_channel"]) == ("human", "user_input")
    assert (asst["source"], asst["input_channel"]) == ("model", None)
    # a reasoning block with blank text contributes its payload JSON (never blank)
    assert asst["thinking"] == 'plan first\n\n{"text":"   "}\n\nthen act'
    assert asst2["thinking"] is None  # reasoning after the last text is dropped
    assert user2["framework_metadata"] == {
        "pinocchio_kind": "user",
        "original_role": "assistant",
        "turn_id": "mt-kinds-t1",
        "phase": "final",
        "session_id": "sess-m",
    }
    for i, e in enumerate(doc["turns"]):
        assert e["index"] == i
        assert e["timestamp"] == "2026-02-24T02:26:40Z"
        assert e["model"] == "gpt-4o"
        assert e["content_type"] is None and e["usage"] is None and e["intent_markers"] is None
        assert e["tool_calls_in_turn"] == []
        assert e["streaming"] == {"was_streamed": False, "stream_log": None}
    (c,) = doc["tool_calls"]
    assert c["emitting_turn_index"] == 4  # the last entry of the delta
    assert c["input"]["arguments"] == {"sku": "A-1", "n": 2}
    assert c["output"]["success"] is True and c["output"]["result"] == "ok"
    assert doc["environment"]["provider_hint"] == "openai"
    assert doc["quality"] == "B" and doc["title"] == "hi"


def test_tool_calls_with_and_without_result_and_orphans(mt_db: Path) -> None:
    doc = doc_of(mt_db, "mt-tools")
    calls = {c["id"]: c for c in doc["tool_calls"]}
    assert [c["id"] for c in doc["tool_calls"]] == ["a", "b", "c", "tool-call-3", "e"]
    a, bb, cc, anon, e = (calls[k] for k in ("a", "b", "c", "tool-call-3", "e"))
    assert a["tool_name"] == "search" and a["output"]["success"] is True
    assert a["output"]["result"] == '{"hits":[1,2],"html":"\\u003cb\\u003e"}'
    assert a["output"]["truncated"] is False and a["output"]["full_bytes"] is None
    assert bb["tool_name"] == "unknown"
    assert bb["output"]["error"] == "no tool result received"
    assert bb["output"]["result"] is None and bb["output"]["success"] is False
    assert cc["input"]["arguments"] is None
    assert (cc["output"]["success"], cc["output"]["error"], cc["output"]["result"]) == (
        False,
        "boom",
        "",
    )
    assert anon["tool_name"] == "anon"
    assert anon["output"]["error"] == "no tool result received"
    assert anon["framework_metadata"]["payload"] == {
        "args": {"k": [1, 2.5, True, None]},
        "name": "anon",
    }
    for c in (a, bb, cc, anon):
        assert c["emitting_turn_index"] == 1  # "found it", the last entry of turn 1's delta
        assert c["operation_type"] == "EXECUTE"
        assert c["output"]["content_origin"] == "local_exec"
    # turn 2 (post_tools, no final): a delta with a call and no entry
    assert e["emitting_turn_index"] is None and e["output"]["result"] == "fine"
    anns = doc["annotations"]
    orphan = [x for x in anns if x["content"]["title"] == "Orphan tool_use block"]
    assert [x["id"] for x in orphan] == ["ann-tool-use-orphan-0"]
    assert orphan[0]["content"]["detail"] == '{"id":"zzz","result":"lost"}'
    assert orphan[0]["scope"] == {"type": "session", "target_id": "session"}
    pending = {
        (x["id"], x["scope"]["target_id"], x["content"]["detail"])
        for x in anns
        if x["content"]["title"] == "Tool call never received result"
    }
    # pinocchio walks pending calls in Go map order: compare as a set
    assert {p[1] for p in pending} == {"b", "tool-call-3"}
    assert {p[0] for p in pending} == {"ann-tool-call-pending-1", "ann-tool-call-pending-2"}
    assert all(p[1] == p[2] for p in pending)
    for x in anns:
        assert x["timestamp"] == STAMP and x["annotator"] == "adapter"
        assert x["taxonomy_mappings"] == {"minitrace": [], "mast": [], "toolemu": []}
    assert doc["environment"]["tools_enabled"] == ["again", "anon", "fail", "search", "unknown"]
    assert doc["metrics"]["tool_call_count"] == doc["metrics"]["execute_count"] == 5


def test_reasoning_is_not_carried_to_the_next_turn(mt_db: Path) -> None:
    doc = doc_of(mt_db, "mt-reasoning")
    assert entries(doc) == [("user", "q1"), ("user", "q2"), ("assistant", "a2")]
    assert doc["turns"][2]["thinking"] is None


def test_results_cut_at_10240_bytes_with_multibyte_characters(mt_db: Path) -> None:
    text = export(mt_db, "mt-big", "minitrace")
    doc = json.loads(text)
    e_call, u_call, x_call = doc["tool_calls"]
    # é (2 bytes) straddles the cut: its first byte is invalid UTF-8 -> one U+FFFD
    assert e_call["output"]["result"] == "a" * 10_239 + "\ufffd"
    assert e_call["output"]["truncated"] is True
    assert e_call["output"]["full_bytes"] == len(eb.BIG_E_ACUTE.encode()) == 10_245
    assert e_call["output"]["full_hash"] == hashlib.sha256(eb.BIG_E_ACUTE.encode()).hexdigest()
    # € (3 bytes): two of its bytes before the cut -> one U+FFFD per byte, as Go writes
    assert u_call["output"]["result"] == "b" * 10_238 + "\ufffd\ufffd"
    assert '"' + "b" * 10_238 + '\\ufffd\\ufffd"' in text  # written as escapes, like Go
    assert x_call["output"]["result"] == eb.EXACT_LIMIT  # exactly the limit: kept whole
    assert x_call["output"]["truncated"] is False and x_call["output"]["full_hash"] is None
    # the title: trimmed, over 80 bytes -> 77 bytes (é split again) plus "..."
    assert doc["title"] == "x" * 76 + "\ufffd..."


def test_whitespace_only_and_empty_runtime_keys(mt_db: Path) -> None:
    doc = doc_of(mt_db, "mt-blank-runtime")
    assert [e["model"] for e in doc["turns"]] == ["gpt-4o", None, None]
    # the last non-empty key is "   ": environment.model is null, the hint unknown
    assert doc["environment"]["model"] is None
    assert doc["environment"]["provider_hint"] == "unknown"


def test_phase_choice_without_final_and_turn_order(mt_db: Path) -> None:
    doc = doc_of(mt_db, "mt-nofinal")
    assert entries(doc) == [
        ("user", "first"),
        ("assistant", "post tools answer"),  # post_tools beats a later pre_inference
        ("user", "C2"),  # ph-t2 before ph-t3 (same time): only an unknown phase, latest
        ("user", "B"),  # only pre_inference: the latest
    ]
    assert [e["framework_metadata"]["phase"] for e in doc["turns"]] == [
        "post_tools",
        "post_tools",
        "checkpoint",
        "pre_inference",
    ]
    assert doc["environment"]["provider_hint"] == "cerebras"
    assert doc["timing"]["duration_seconds"] == 1  # creation times 02:26:40 and 02:26:41


def test_delta_is_a_multiset_and_edits_count_as_new(mt_db: Path) -> None:
    doc = doc_of(mt_db, "mt-delta")
    assert entries(doc) == [
        ("system", "v1"),
        ("user", "one"),
        ("assistant", "uno"),
        ("system", "v2"),  # the edited system prompt appears mid-conversation
        ("user", "two"),
        ("user", "two"),  # the same block twice counts twice
        ("assistant", "tres"),
    ]


def test_quality_timing_metrics_and_provenance(mt_db: Path) -> None:
    doc = doc_of(mt_db, "mt-quality")
    assert doc["quality"] == "A"
    assert doc["metrics"]["turn_count"] == 6 and doc["metrics"]["tool_call_count"] == 11
    assert doc["timing"] == {
        "privacy_level": "full",
        "duration_seconds": 0,
        "active_duration_seconds": 0,
        "started_at": "2026-02-24T02:26:40Z",
        "ended_at": "2026-02-24T02:26:40Z",
        "hour_of_day": 2,
        "day_of_week": 1,  # a Tuesday; Monday = 0
    }
    assert doc["provenance"] == {
        "source_format": "pinocchio-turns-sqlite-v1",
        "source_path": str(mt_db),
        "converted_at": STAMP,
        "converter_version": "turns-tui-0.1.0",
        "original_session_id": "mt-quality",
    }
    assert doc["flags"]["contains_pii"] is ("/home/" in str(mt_db) or "/Users/" in str(mt_db))
    zero = doc_of(mt_db, "mt-zero-time")
    assert zero["turns"][0]["timestamp"] is None
    assert zero["timing"]["started_at"] is None and zero["timing"]["duration_seconds"] is None
    assert zero["timing"]["hour_of_day"] is None and zero["metrics"]["duration_seconds"] is None
    assert zero["quality"] == "B" and zero["title"] == "when?"


def test_contains_pii_from_the_path(tmp_path: Path) -> None:
    home = tmp_path / "home" / "alice"
    home.mkdir(parents=True)
    path = b.build_gp26(home / "turns.db", (eb._one("c", (eb.user("u", "hi"),)),))
    assert "/home/" in str(path)
    assert doc_of(path, "c")["flags"]["contains_pii"] is True


# ---------------------------------------------------------------------------------------
# Eras, read-only files, CLI
# ---------------------------------------------------------------------------------------


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "tui", "export", *args],
        capture_output=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        timeout=60,
    )


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def without_path(doc: dict[str, Any]) -> dict[str, Any]:
    doc = json.loads(json.dumps(doc))
    doc["provenance"]["source_path"] = None
    return doc


def test_era1_read_only_uses_a_private_copy_and_matches_gp26(tmp_path: Path) -> None:
    e1 = b.build_era1(tmp_path / "e1.db", b.standard_scenario())
    g = b.build_gp26(tmp_path / "g.db", b.standard_scenario())
    before = sha(e1)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    res = run_cli(
        str(e1),
        "--conv",
        "conv-switch",
        "--format",
        "minitrace",
        "--read-only",
        "--converted-at",
        STAMP,
        cwd=tmp_path,
        env={"TMPDIR": str(tmp)},
    )
    assert res.returncode == 0, res.stderr
    assert sha(e1) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e1.db", "g.db", "tmp"]
    assert list(tmp.iterdir()) == []  # the private migrated copy is gone
    ref = doc_of(g, "conv-switch")
    assert without_path(json.loads(res.stdout)) == without_path(ref)


def test_era2_read_only_overlay_writes_nothing(tmp_path: Path) -> None:
    e2 = b.build_era2(tmp_path / "e2.db", b.standard_scenario())
    before = sha(e2)
    for fmt in ("json", "markdown", "minitrace"):
        res = run_cli(
            str(e2), "--conv", "conv-switch", "--format", fmt, "--read-only", cwd=tmp_path
        )
        assert res.returncode == 0, res.stderr
        assert sha(e2) == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["e2.db"]
    doc = json.loads(res.stdout)
    # the backfill, derived in memory, gives the per-turn runtimes
    assert [e["model"] for e in doc["turns"] if e["role"] == "user"] == [
        "inventory",
        "inventory",
        "planner",
        "planner",
        "inventory",
    ]
    js = json.loads(
        run_cli(
            str(e2), "--conv", "conv-switch", "--format", "json", "--read-only", cwd=tmp_path
        ).stdout
    )
    assert js["database"]["mode"] == "overlay"


def test_cli_output_file_never_overwritten_without_force(tmp_path: Path) -> None:
    g = b.build_gp26(tmp_path / "g.db", b.standard_scenario())
    out = tmp_path / "conv.md"
    res = run_cli(
        str(g), "--conv", "conv-single", "--format", "markdown", "-o", str(out), cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    assert out.read_bytes().startswith(b"# Conversation `conv-single`")
    # (the first open migrated the file in place; from now on the report says so no more)
    first = run_cli(str(g), "--conv", "conv-single", "--format", "markdown", cwd=tmp_path).stdout
    assert b"wrote" in res.stderr
    out.write_bytes(b"keep me")
    res = run_cli(
        str(g), "--conv", "conv-single", "--format", "markdown", "-o", str(out), cwd=tmp_path
    )
    assert res.returncode == 2 and out.read_bytes() == b"keep me"
    assert res.stderr.count(b"\n") == 1 and b"--force" in res.stderr
    res = run_cli(
        str(g),
        "--conv",
        "conv-single",
        "--format",
        "markdown",
        "-o",
        str(out),
        "--force",
        cwd=tmp_path,
    )
    assert res.returncode == 0 and out.read_bytes() == first
    before = sha(g)
    res = run_cli(
        str(g), "--conv", "conv-single", "--format", "json", "-o", str(g), "--force", cwd=tmp_path
    )
    assert res.returncode == 2 and sha(g) == before  # never over the database itself
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conv.md", "g.db"]


def test_cli_errors_are_one_line_with_exit_codes(tmp_path: Path) -> None:
    g = b.build_gp26(tmp_path / "g.db", b.standard_scenario())
    res = run_cli(str(g), "--conv", "nope", "--format", "json", cwd=tmp_path)
    assert res.returncode == 3 and res.stderr.count(b"\n") == 1 and b"'nope'" in res.stderr
    assert res.stdout == b""
    res = run_cli(str(tmp_path / "missing.db"), "--conv", "c", "--format", "json", cwd=tmp_path)
    assert res.returncode == 3 and res.stderr.count(b"\n") == 1
    res = run_cli(str(g), "--conv", "c", "--format", "yaml", cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.count(b"\n") == 1
    res = run_cli(str(g), "--format", "json", cwd=tmp_path)
    assert res.returncode == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.db"]


def test_fixed_clock_gives_the_same_bytes(mt_db: Path) -> None:
    a = export(mt_db, "mt-tools", "minitrace")
    assert a == export(mt_db, "mt-tools", "minitrace")
    assert FIXED.strftime("%Y-%m-%dT%H:%M:%SZ") == STAMP
