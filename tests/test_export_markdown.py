"""Markdown export: golden report, safe fences, cuts, determinism across time zones."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests import builders as b
from tests import export_builders as eb
from tests.test_export_json import build_report, check_golden, export
from tui.export.markdown import CUT_CHARS, fence, inline_code

ROOT = Path(__file__).resolve().parent.parent


def report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    build_report(tmp_path)
    return export("report.db", eb.REPORT_CONV, "markdown", timeline_db="timeline.db")


def test_markdown_golden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check_golden("report.md", report(tmp_path, monkeypatch))


def test_report_header_switches_and_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    md = report(tmp_path, monkeypatch)
    assert "- **Database:** `report.db` (schema gp26;" in md
    assert "- **Sessions (2):** 1 `sess-1`, 2 `sess-2`" in md
    assert "- **Current runtime:** `coder` (from the timeline store)" in md
    assert "- `research` → `coder` at turn 4 (`turn-c4`)" in md
    rows = [line for line in md.splitlines() if re.match(r"\| \d ", line)]
    assert len(rows) == 5
    assert "| 3 | 2026-02-24 02:28:40 | 1 | `turn-r3` | `research` | `inf-r3` " in rows[2]
    assert rows[2].endswith("| pre_inference | no_final_snapshot |")
    assert "`coder` (switch)" in rows[3]
    assert "- shown: latest (pre_inference; no final) snapshot" in md


def test_report_content_is_verbatim_and_safe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    md = report(tmp_path, monkeypatch)
    # user text verbatim, inside a fence longer than its ``` run
    assert (
        "````text\nWhy does `make test` fail? It prints ```FAIL``` and <exit 2> & stops.\n````"
        in md
    )
    # a 4-backtick run inside: a 5-backtick fence
    assert "`````text\nPatched:\n```python\nx = 1\n```\nand ````four```` ticks.\n`````" in md
    # tool call arguments as JSON, results as text
    assert "**tool call** `run_shell` · id `call-1`" in md
    assert '"cmd": "make test"' in md
    assert "FAIL: test_parse <expected 1> & got 2" in md
    # reasoning summary shown, encrypted content only counted
    assert "Look at the Makefile first." in md
    assert "*(encrypted reasoning, 46 characters, not shown)*" in md
    # the long log cut at CUT_CHARS with a note
    assert f"*({len(eb.LONG_LOG) - CUT_CHARS:,} of {len(eb.LONG_LOG):,} characters cut)*" in md
    # control and bidi characters never reach the terminal raw
    assert "\x1b" not in md and "\u202e" not in md
    assert "␛[31mred␛[0m and <U+202E>evil<U+202C>." in md
    assert "naïve parser fails ✓" in md
    # carried-over blocks are not repeated
    assert md.count("You are a careful build engineer.") == 1
    assert "(5 carried over from earlier turns, not repeated)" in md
    assert "**other block** · block `r-o4`" in md


def test_fence_and_inline_code_rules() -> None:
    assert fence("a ``` b") == ["````text", "a ``` b", "````"]
    assert fence("plain") == ["```text", "plain", "```"]
    lines = fence("x" * (CUT_CHARS + 10))
    assert lines[-1] == f"*(10 of {CUT_CHARS + 10:,} characters cut)*"
    assert lines[1] == "x" * CUT_CHARS
    assert inline_code("a`b") == "``a`b``"
    assert inline_code("`x") == "`` `x ``"
    assert inline_code("line\nbreak") == "`line␊break`"
    assert inline_code("") == "(empty)"


def test_same_bytes_in_every_time_zone(tmp_path: Path) -> None:
    b.build_gp26(tmp_path / "report.db", eb.report_scenario())
    outs = []
    for tz in ("UTC", "Asia/Tokyo", "America/Los_Angeles"):
        res = subprocess.run(
            [
                sys.executable,
                "-m",
                "tui",
                "export",
                "report.db",
                "--conv",
                eb.REPORT_CONV,
                "--format",
                "markdown",
            ],
            capture_output=True,
            cwd=tmp_path,
            env={**os.environ, "TZ": tz, "PYTHONPATH": str(ROOT)},
            timeout=60,
        )
        assert res.returncode == 0, res.stderr
        outs.append(res.stdout)
    assert outs[0] == outs[1] == outs[2]
    assert b"(derived from the latest turn" in outs[0]
