"""JSON export: golden file, the dump contract inside it, byte-for-byte payload round trip."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import builders as b
from tests import export_builders as eb
from tui.commands.export import render
from tui.dump import dump_file
from tui.store import gojson

GOLDEN = Path(__file__).resolve().parent / "golden"
FIXED = dt.datetime(2026, 5, 6, 12, 0, 0, tzinfo=dt.UTC)


def export(path: str | Path, conv: str, fmt: str, **kw: Any) -> str:
    return asyncio.run(render(str(path), conv, fmt, quiet=True, now=FIXED, **kw))


def check_golden(name: str, text: str) -> None:
    """Compare with tests/golden/NAME; `UPDATE_GOLDEN=1` rewrites it (then review the diff)."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_bytes(text.encode("utf-8"))
    assert path.read_bytes().decode("utf-8") == text, f"{name} differs (UPDATE_GOLDEN=1)"


def build_report(folder: Path) -> None:
    b.build_gp26(folder / "report.db", eb.report_scenario())
    b.build_timeline(folder / "timeline.db", eb.report_timeline_rows())


def test_json_golden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    build_report(tmp_path)
    text = export("report.db", eb.REPORT_CONV, "json", timeline_db="timeline.db")
    check_golden("report.json", text)
    assert text == export("report.db", eb.REPORT_CONV, "json", timeline_db="timeline.db")


def test_json_holds_the_dump_contract_and_every_snapshot(tmp_path: Path) -> None:
    build_report(tmp_path)
    db, tl = tmp_path / "report.db", str(tmp_path / "timeline.db")
    doc = json.loads(export(db, eb.REPORT_CONV, "json", timeline_db=tl))
    dump = dump_file(str(db), timeline_db=tl, conv_id=eb.REPORT_CONV)
    assert doc["schema"] == "turns-tui-export-v1"
    assert list(doc) == ["schema", "database", "conversation"]
    assert doc["database"] == dump["database"]
    conv = doc["conversation"]
    extra_turn = {"metadata", "metadata_format", "data", "data_format"}
    stripped = json.loads(json.dumps(conv))
    for t in stripped["turns"]:
        for k in extra_turn:
            del t[k]
        for p in t["phases"]:
            del p["blocks"]
    assert stripped == dump["conversations"][0]  # nothing of the dump changed
    # every snapshot with all its blocks, in ordinal order, as the builder stored them
    specs = {t.turn_id: t for c in eb.report_scenario() for t in c.turns}
    for t in conv["turns"]:
        spec = specs[t["turn_id"]]
        assert len(t["phases"]) == len(spec.snapshots)
        for phase, snap in zip(t["phases"], spec.snapshots, strict=True):
            assert phase["phase"] == snap.phase
            assert [bl["ordinal"] for bl in phase["blocks"]] == list(range(len(snap.blocks)))
            assert [bl["block_id"] for bl in phase["blocks"]] == [x.id for x in snap.blocks]
            assert [bl["payload"] for bl in phase["blocks"]] == [
                json.loads(json.dumps(dict(x.payload))) for x in snap.blocks
            ]
            for bl, x in zip(phase["blocks"], snap.blocks, strict=True):
                assert bl["content_hash"] == b.block_content_hash(
                    x.kind, x.role, x.payload, x.metadata
                )
        assert t["metadata"] == json.loads(json.dumps(dict(spec.metadata)))
        assert t["data"] == json.loads(json.dumps(dict(spec.data)))
    r3 = next(t for t in conv["turns"] if t["turn_id"] == "turn-r3")
    assert r3["anomalies"] == ["no_final_snapshot"]


def test_unparseable_and_non_canonical_json_is_kept_as_text(tmp_path: Path) -> None:
    path = b.build_gp26(tmp_path / "g.db", (eb._one("c", (eb.user("u", "hi"),)),))
    conn = sqlite3.connect(path)
    conn.execute("UPDATE blocks SET payload_json = ?, block_metadata_json = ?", ("{oops", " {}"))
    conn.execute("UPDATE turns SET turn_metadata_json = ?", ('{"a":1,"a":2}',))
    conn.commit()
    conn.close()
    doc = json.loads(export(path, "c", "json", read_only=True))
    turn = doc["conversation"]["turns"][0]
    block = turn["phases"][0]["blocks"][0]
    assert (block["payload"], block["payload_format"]) == ("{oops", "text")
    assert (block["metadata"], block["metadata_format"]) == (" {}", "text")
    assert (turn["metadata"], turn["metadata_format"]) == ('{"a":1,"a":2}', "text")


# ---------------------------------------------------------------------------------------
# Property: every stored payload comes back byte for byte
# ---------------------------------------------------------------------------------------

_chars = st.characters(exclude_categories=["Cs"])  # SQLite TEXT is valid UTF-8
_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    # -0.0: Go writes "-0", which JSON decoders read back as the integer 0, so that one
    # text is kept as text (nothing is lost; the round-trip test above covers it).
    | st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: str(f) != "-0.0")
    | st.text(_chars, max_size=12)
    | st.sampled_from(["<b>&", "\u2028", "naïve ✓", "\x1b[0m", "`"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(_chars, max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def _go_style(value: Any) -> str:
    return gojson.go_json_marshal(value)


def _python_style(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


_stored = st.one_of(
    _json_values.map(_go_style),  # what pinocchio writes
    _json_values.map(_python_style),  # what a Python writer (or our builders) writes
    _json_values.map(lambda v: json.dumps(v, indent=1)),  # other spacing
    st.text(_chars, max_size=30),  # anything at all
)


def _reserialise(value: Any, fmt: str) -> str:
    if fmt == "go-json":
        return _go_style(value)
    if fmt == "compact-json":
        return _python_style(value)
    assert fmt == "text"
    assert isinstance(value, str)
    return value


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payloads=st.lists(_stored, min_size=1, max_size=6))
def test_payloads_round_trip_byte_for_byte(payloads: list[str]) -> None:
    blocks = tuple(eb.user(f"u{i}", "placeholder") for i in range(len(payloads)))
    with tempfile.TemporaryDirectory() as tmp:
        path = b.build_gp26(Path(tmp) / "p.db", (eb._one("c", blocks),))
        conn = sqlite3.connect(path)
        for i, stored in enumerate(payloads):
            conn.execute(
                "UPDATE blocks SET payload_json = ?, block_metadata_json = ? WHERE block_id = ?",
                (stored, stored, f"u{i}"),
            )
        conn.commit()
        conn.close()
        doc = json.loads(export(path, "c", "json", read_only=True))
    exported = doc["conversation"]["turns"][0]["phases"][0]["blocks"]
    assert len(exported) == len(payloads)
    for block, stored in zip(exported, payloads, strict=True):
        assert _reserialise(block["payload"], block["payload_format"]) == stored
        assert _reserialise(block["metadata"], block["metadata_format"]) == stored
        parses = True
        try:
            json.loads(stored)
        except ValueError:
            parses = False
        if not parses:
            assert block["payload_format"] == "text"


@settings(max_examples=40, deadline=None)
@given(value=_json_values)
def test_canonical_payloads_are_exported_parsed(value: Any) -> None:
    """Text written by Go's or Python's compact serialiser is never left as a string."""
    from tui.export.json_export import json_value

    for stored in (_go_style(value), _python_style(value)):
        parsed, fmt = json_value(stored)
        assert fmt in ("go-json", "compact-json")
        assert _reserialise(parsed, fmt) == stored
