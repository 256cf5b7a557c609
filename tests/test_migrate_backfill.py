"""The migration's backfill fast path (orjson unless a "-0" stands in a number position)
gives exactly the values and tallies of the exact rule, for every metadata shape."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests import builders as b
from tests.test_gojson_fastpath import decide_bytes, documents
from tui.store import gojson, schema
from tui.store import migrate as migration
from tui.store.opener import connect

# Shapes a turns file holds: canonical maps, strings, legacy keys, scalars, nested maps,
# blank values, malformed JSON, "-0" in strings (dates, UUIDs) and as numbers.
SHAPES: tuple[bytes, ...] = (
    b'{"geppetto.runtime@v1":{"runtime_key":"planner","profile.slug":"p"},'
    b'"geppetto.inference_id@v1":"5a1b-0c2d","geppetto.session_id@v1":"2026-02-01"}',
    b'{"geppetto.runtime@v1":"inventory","geppetto.inference_id@v1":"inf-1"}',
    b'{"geppetto.runtime@v1":{"slug":"s1"},"inference_id":"i-0"}',
    b'{"geppetto.runtime@v1":{"key":" k "},"runtime":"r"}',
    b'{"geppetto.runtime@v1":{"profile":{"profile_key":"deep"}}}',
    b'{"runtime_key":12,"inference_id":1e21}',
    b'{"runtime":-0,"inference_id":-0.0}',
    b'{"runtime": -0 , "x":"2026-01-02"}',
    b'{"runtime":[-0],"inference_id":"a-0"}',
    b'{"geppetto.runtime@v1":{"runtime_key":"   "},"geppetto.inference_id@v1":"  "}',
    b'{"geppetto.runtime@v1":null,"runtime":true}',
    b'{"geppetto.runtime@v1":"a","geppetto.runtime@v1":"b"}',
    b"{}",
    b"null",
    b"",
    b"   ",
    b"[1,2]",
    b'"planner"',
    b"{not json",
    b'{"runtime":"x"} trailing',
    b'{"runtime":NaN}',
    b'{"runtime":1e400}',
    b'\xef\xbb\xbf{"runtime":"bom"}',
    b'{"runtime":"bad\xff utf8"}',
    b'{"runtime":"ctl\x01"}',
    b'{"runtime":"\\ud800"}',
    b'{"geppetto.runtime@v1":{"runtime_key":"2026-02-03T10:00:00Z"},"n":-0}',
)


def test_fast_metadata_decides_as_the_exact_path() -> None:
    for raw in SHAPES:
        meta = migration._fast_metadata(raw)
        got = (
            (False, "", "")
            if meta is None
            else (True, gojson.extract_runtime_key(meta), gojson.extract_inference_id(meta))
        )
        assert got == decide_bytes(raw, fast=False), raw


dashes = st.sampled_from(['"2026-02-01"', '"a-0b"', '"-0"', '" -0"', '"x,-0"'])


@settings(max_examples=400, deadline=None)
@given(documents(), dashes)
def test_fast_metadata_with_dashes_in_strings(text: str, dash: str) -> None:
    """Texts with "-0" inside strings take orjson now: the same decisions as exact."""
    body = text.replace('"x"', dash, 1) if '"x"' in text else text
    raw = body.encode("utf-8", "surrogatepass")
    meta = migration._fast_metadata(raw)
    got = (
        (False, "", "")
        if meta is None
        else (True, gojson.extract_runtime_key(meta), gojson.extract_inference_id(meta))
    )
    assert got == decide_bytes(raw, fast=False)


def _expected(rk0: str, inf0: str, raw: bytes) -> tuple[str, str] | None:
    """The previous rule: exact decoding (no fast path), then Go's backfill."""
    gojson.FAST_DECODE = False
    try:
        meta = gojson.decode_metadata(raw, float64=False)
    finally:
        gojson.FAST_DECODE = True
    if meta is None:
        return None
    return migration.backfill_values(rk0, inf0, meta)


def test_migration_backfills_every_shape_as_the_exact_rule(tmp_path: Path) -> None:
    path = b.build_era2(tmp_path / "shapes.db", b.standard_scenario())
    conn = sqlite3.connect(path)
    base = conn.execute(
        "SELECT conv_id, session_id, turn_created_at_ms, updated_at_ms FROM turns LIMIT 1"
    ).fetchone()
    for i, raw in enumerate(SHAPES * 2):
        conn.execute(
            "INSERT INTO turns(conv_id, session_id, turn_id, turn_created_at_ms, "
            "turn_metadata_json, updated_at_ms) VALUES(?, ?, ?, ?, CAST(? AS TEXT), ?)",
            (base[0], base[1], f"shape-{i}", base[2] + i, raw, base[3] + i),
        )
    conn.commit()
    conn.close()

    conn = connect(str(path), "rw", lenient=True)
    try:
        conn.text_factory = bytes
        before = conn.execute("SELECT rowid, turn_metadata_json FROM turns").fetchall()
        conn.text_factory = str
        report = migration.migrate(conn, schema.detect(conn))
        conn.text_factory = bytes
        after = dict(
            (r[0], (r[1], r[2]))
            for r in conn.execute("SELECT rowid, runtime_key, inference_id FROM turns")
        )
    finally:
        conn.close()
    malformed = no_key = rk_filled = inf_filled = 0
    for rowid, raw in before:
        want = _expected("", "", raw if isinstance(raw, bytes) else b"")
        got = tuple(v.decode("utf-8", "surrogateescape") for v in after[rowid])
        if want is None:
            malformed += 1
            assert got == ("", ""), raw
            continue
        assert got == want, raw
        no_key += not want[0].strip()
        rk_filled += want[0] != ""
        inf_filled += want[1] != ""
    assert report.malformed_metadata_rows == malformed > 0
    assert report.backfilled_runtime_key == rk_filled
    assert report.backfilled_inference_id == inf_filled
    assert report.unknown_runtime_turns == no_key + malformed
