"""`turns-tui check`: every anomaly of the file, counts by kind, exit 1 when any; on real
builder files whose anomalies the builders state."""

from __future__ import annotations

import hashlib
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


def check(*args: str, code: int = 1) -> dict[str, Any]:
    res = run("check", *args, "--json")
    assert res.returncode == code, res.stderr
    doc: dict[str, Any] = json.loads(res.stdout)
    return doc


def found(doc: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(a["kind"], a["conv_id"], a["turn_id"]) for a in doc["anomalies"]}


def test_every_anomaly_of_the_scenario(tmp_path: Path) -> None:
    path = ib.build_investigate(tmp_path / "inv.db")
    doc = check(str(path))
    assert found(doc) == ib.EXPECTED_ANOMALIES
    assert len(doc["anomalies"]) == len(ib.EXPECTED_ANOMALIES)
    assert doc["counts"] == {
        "unknown_runtime": 1,
        "missing_final": 1,
        "reused_inference_id": 2,
        "malformed_metadata": 1,
        "runtime_disagreement": 1,
        "orphan_membership": 1,
        "time_order": 1,
    }
    for a in doc["anomalies"]:
        assert set(a) == {"kind", "conv_id", "turn_id", "detail"} and a["detail"]
    by_kind = {a["kind"]: a["detail"] for a in doc["anomalies"]}
    assert f"{ib.GHOST_ROWS} membership rows" in by_kind["orphan_membership"]
    assert f"by {ib.EARLY_BY_MS} ms" in by_kind["time_order"]
    assert "'coder'" in by_kind["runtime_disagreement"]
    assert "'research'" in by_kind["runtime_disagreement"]


def test_timeline_disagreement(tmp_path: Path) -> None:
    path = ib.build_investigate(tmp_path / "inv.db")
    tl = ib.build_investigate_timeline(tmp_path / "tl.db")
    doc = check(str(path), "--timeline-db", str(tl))
    assert found(doc) == ib.EXPECTED_WITH_TIMELINE
    assert doc["counts"]["current_runtime_disagreement"] == 1


def test_read_only_gives_the_same_and_writes_nothing(tmp_path: Path) -> None:
    path = ib.build_investigate(tmp_path / "inv.db")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    doc = check(str(path), "--read-only")
    assert found(doc) == ib.EXPECTED_ANOMALIES
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inv.db"]


def test_standard_scenario_in_every_era_agrees(tmp_path: Path) -> None:
    """Unknown runtime and crashed turn of conv-legacy-keys; era 1 read-only (a private
    copy) leaves nothing behind."""
    want = {
        ("unknown_runtime", "conv-legacy-keys", "turn-legacy-3"),
        ("missing_final", "conv-legacy-keys", "turn-legacy-4"),
    }
    e2 = check(str(b.build_era2(tmp_path / "e2.db", b.standard_scenario())))
    assert found(e2) == want
    folder = tmp_path / "ro"
    folder.mkdir()
    e1 = check(str(b.build_era1(folder / "e1.db", b.standard_scenario())), "--read-only")
    assert found(e1) == want
    assert sorted(p.name for p in folder.iterdir()) == ["e1.db"]
    gp = check(str(b.build_geppetto(tmp_path / "g.db", b.standard_scenario())))
    assert found(gp) == want


def test_clean_file_exits_0(tmp_path: Path) -> None:
    path = ib.build_clean(tmp_path / "clean.db")
    assert check(str(path), code=0) == {"anomalies": [], "counts": {}}
    res = run("check", str(path))
    assert (res.returncode, res.stdout) == (0, "no anomalies\n")


def test_text_form_lists_and_counts(tmp_path: Path) -> None:
    res = run("check", str(ib.build_investigate(tmp_path / "inv.db")))
    assert res.returncode == 1
    assert "orphan_membership" in res.stdout and "conv-inv/turn-ghost" in res.stdout
    assert f"{len(ib.EXPECTED_ANOMALIES)} anomalies:" in res.stdout


@pytest.mark.parametrize("make", ["missing", "not_sqlite"])
def test_errors_keep_the_cli_codes(tmp_path: Path, make: str) -> None:
    path = tmp_path / "x.db"
    if make == "not_sqlite":
        b.build_not_sqlite(path)
    res = run("check", str(path))
    assert res.returncode == 3
    assert len(res.stderr.splitlines()) == 1 and "Traceback" not in res.stderr
    assert res.stdout == ""
