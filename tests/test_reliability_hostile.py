"""Reliability against hostile content: escape sequences, bidi controls, invalid UTF-8,
malformed metadata, 5 MB blocks, hostile file and table names, and schemas from the future.

Nothing reaches the terminal raw, nothing crashes, and what a newer writer added is kept.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests import builders as b
from tests.test_reliability import cli, integrity, open_dump, sha, table_rows, text
from tui.store.opener import open_database

# --------------------------------------------------------------------------- 7. hostile content

ESC_CLEAR = "\x1b[2J"
ESC_TITLE = "\x1b]0;title\x07"
C1_CSI = "\x9b31m"
RLO = "\u202e"
HOSTILE_IDS = {
    "emoji": "conv-🙂-ü",
    "rtl": f"conv-{RLO}lave",
    "clear": f"conv-{ESC_CLEAR}",
    "title": f"conv-{ESC_TITLE}",
    "c1": f"conv-{C1_CSI}",
}
RAW_FORBIDDEN = (b"\x1b", b"\x07", "\x9b".encode(), RLO.encode())
FIVE_MB = 5 * 1024 * 1024


def _hostile_scenario() -> tuple[b.ConversationSpec, ...]:
    convs = []
    t0 = b.T0
    for n, (label, conv_id) in enumerate(HOSTILE_IDS.items()):
        turns = []
        for k, rk in enumerate((f"rt-{ESC_CLEAR}", f"{RLO}planner", "🙂-runtime")):
            turn_id = f"turn-{label}-{k}-{C1_CSI}{ESC_TITLE}"
            text_body = f"text {ESC_CLEAR}{ESC_TITLE}{C1_CSI}{RLO} 🙂 end"
            if label == "emoji" and k == 0:
                text_body = "A" * FIVE_MB  # a 5 MB block
            blocks = (
                b.BlockSpec(kind="user", role="user", payload={"text": text_body}),
                b.BlockSpec(
                    kind="tool_call",
                    payload={"id": f"call-{ESC_CLEAR}", "name": RLO, "args": {"q": C1_CSI}},
                    id=f"blk-{ESC_TITLE}-{n}-{k}",
                ),
            )
            ms = t0 + n * 100_000 + k * 1000
            turns.append(
                b.TurnSpec(
                    turn_id,
                    (
                        b.SnapshotSpec("pre_inference", ms, blocks[:1]),
                        b.SnapshotSpec("final", ms + 10, blocks),
                    ),
                    metadata={
                        "geppetto.runtime@v1": {"runtime_key": rk},
                        "geppetto.inference_id@v1": f"inf-{ESC_CLEAR}-{n}-{k}",
                    },
                )
            )
        convs.append(b.ConversationSpec(conv_id, f"sess-{RLO}-{ESC_CLEAR}", tuple(turns)))
    return tuple(convs)


def _add_hostile_rows(path: Path) -> None:
    """Rows no well-behaved writer leaves, added with foreign keys off."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("BEGIN")
        cols = {r[1] for r in conn.execute("PRAGMA table_info(turns)")}
        extra = ", runtime_key, inference_id" if "runtime_key" in cols else ""
        vals = ", '', ''" if extra else ""
        ins = (
            "INSERT INTO turns (conv_id, session_id, turn_id, turn_created_at_ms,"
            f" turn_metadata_json, turn_data_json, updated_at_ms{extra})"
            f" VALUES (?, ?, ?, ?, ?, ?, ?{vals})"
        )
        # malformed JSON metadata (and data), a turn without any snapshot
        conn.execute(ins, ("conv-malformed", "s", "t-bad-json", b.T0, "{not json", "[", b.T0))
        conn.execute(
            ins, ("conv-malformed", "s", "t-nan", b.T0 + 1, '{"runtime": NaN}', "{}", b.T0 + 1)
        )
        conn.execute(
            ins,
            ("conv-malformed", "s", f"t-{ESC_CLEAR}-no-snapshots", b.T0 + 2, "{}", "{}", b.T0 + 2),
        )
        # metadata stored as a BLOB, and a turn id that is not valid UTF-8
        conn.execute(
            ins, ("conv-malformed", "s", "t-blob-meta", b.T0 + 3, b"\x1b\xff{", "{}", b.T0 + 3)
        )
        conn.execute(
            ins.replace("VALUES (?, ?, ?,", "VALUES (?, ?, CAST(? AS TEXT),"),
            ("conv-malformed", "s", b"t-\xff\xfe-\x1b[2J", b.T0 + 4, "{}", "{}", b.T0 + 4),
        )
        # a conversation with membership rows but no turns row
        conn.execute(
            "INSERT INTO turn_block_membership VALUES"
            " ('conv-no-turns', 's', 'ghost', 'final', ?, 0, 'nowhere', 'nohash')",
            (b.T0,),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()
    # a conversation the timeline knows that has no turns at all
    b.build_timeline(path, [(f"conv-timeline-only-{ESC_CLEAR}", "s", f"rt-{RLO}", b.T0)])


def _legacy_hostile(path: Path) -> Path:
    """Era 1: hostile YAML payloads, one malformed, one 5 MB."""
    b.build_era1(path, _hostile_scenario())
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(
            "INSERT INTO turns VALUES (?, 's', ?, 'final', ?, ?)",
            (f"conv-yaml-{ESC_CLEAR}", f"t-{ESC_TITLE}", b.T0, "blocks: [unclosed\n\x1b[2J: :"),
        )
        conn.execute(
            "INSERT INTO turns VALUES (?, 's', 't-not-a-map', 'final', ?, ?)",
            (f"conv-yaml-{ESC_CLEAR}", b.T0 + 1, "- just\n- a list\n"),
        )
    finally:
        conn.close()
    return path


def _geppetto_hostile(path: Path) -> Path:
    b.build_geppetto(path, _hostile_scenario())
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(
            "INSERT INTO geppetto_turns VALUES (?, 's', 't', 'final', '', '', ?, ?)",
            (f"conv-{ESC_CLEAR}-bad-yaml", b.T0, "{{{ not yaml"),
        )
    finally:
        conn.close()
    return path


HOSTILE_FILES: dict[str, Callable[[Path], Path]] = {
    "gp26": lambda p: (
        b.build_gp26(p, _hostile_scenario()),
        _add_hostile_rows(p),
        p,
    )[-1],
    "era2": lambda p: (b.build_era2(p, _hostile_scenario()), _add_hostile_rows(p), p)[-1],
    "era1": _legacy_hostile,
    "geppetto": _geppetto_hostile,
}


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    return {name: build(folder / f"{name}.db") for name, build in HOSTILE_FILES.items()}


@pytest.mark.parametrize("kind", list(HOSTILE_FILES))
def test_hostile_content_never_crashes_nor_reaches_the_terminal_raw(
    kind: str, hostile_files: dict[str, Path], tmp_path: Path
) -> None:
    path = tmp_path / "h.db"
    shutil.copyfile(hostile_files[kind], path)
    res = cli("dump", str(path))
    out, err = text(res)
    assert res.returncode == 0, err
    for raw in RAW_FORBIDDEN:
        assert raw not in res.stdout, raw
        assert raw not in res.stderr, raw
    doc = json.loads(out)
    convs = {c["conv_id"]: c for c in doc["conversations"]}
    for conv_id in HOSTILE_IDS.values():
        assert conv_id in convs, conv_id  # shown, ids intact once decoded
    turn_ids = {t["turn_id"] for c in doc["conversations"] for t in c["turns"]}
    assert any(ESC_TITLE in t for t in turn_ids)
    runtimes = {t["runtime_key"] for c in doc["conversations"] for t in c["turns"]}
    assert {f"rt-{ESC_CLEAR}", f"{RLO}planner", "🙂-runtime"} <= runtimes
    # The 5 MB block is counted like any other.
    emoji = convs[HOSTILE_IDS["emoji"]]["turns"][0]
    assert [p["block_count"] for p in emoji["phases"]] == [1, 2]
    report = doc["database"]["migration"]
    if kind in ("gp26", "era2"):
        bad = convs["conv-malformed"]["turns"]
        assert len(bad) == 5
        assert any("malformed_metadata" in t["anomalies"] for t in bad)
        no_snap = next(t for t in bad if "no-snapshots" in t["turn_id"])
        assert no_snap["phases"] == [] and "no_final_snapshot" in no_snap["anomalies"]
        assert any("\ufffd" in t["turn_id"] for t in bad)  # invalid UTF-8 shown replaced
        assert "conv-no-turns" not in convs  # membership without a turns row: no turns
        assert report["malformed_metadata_rows"] >= 2 or kind == "gp26"
    if kind == "era1":
        assert report["legacy_rows_unparsed"] == 2
    if kind == "geppetto":
        bad_yaml = convs[f"conv-{ESC_CLEAR}-bad-yaml"]["turns"][0]
        assert bad_yaml["phases"][0]["block_count"] == 0

    res = cli("migrate", str(path), "--dry-run")
    assert res.returncode == 0, text(res)[1]
    for raw in RAW_FORBIDDEN:
        assert raw not in res.stdout and raw not in res.stderr, raw


def test_hostile_legacy_report_is_printable(hostile_files: dict[str, Path], tmp_path: Path) -> None:
    """The plain-text migrate report quotes unparsed legacy rows: escaped, one line each."""
    path = tmp_path / "h.db"
    shutil.copyfile(hostile_files["era1"], path)
    res = cli("migrate", str(path))
    out, err = text(res)
    assert res.returncode == 0, err
    assert "whose YAML does not parse" in out
    for raw in RAW_FORBIDDEN:
        assert raw not in res.stdout, raw
    assert "\\x1b" in out  # the id is shown, escaped
    lines = [ln for ln in out.splitlines() if ln.startswith("  - conv-yaml")]
    assert len(lines) == 2


# --------------------------------------------------------------------------- hostile names


def test_error_lines_never_carry_control_characters(tmp_path: Path) -> None:
    """A hostile file name or table name cannot put an escape sequence on the terminal."""
    evil = tmp_path / "evil\x1b]0;pwned\x07\x1b[2J\u202ename.db"
    res = cli("dump", str(evil))
    assert res.returncode == 3
    for raw in (b"\x1b", b"\x07", "\u202e".encode()):
        assert raw not in res.stderr
    assert b"\\x1b" in res.stderr
    hostile_tables = tmp_path / "tables.db"
    conn = sqlite3.connect(hostile_tables)
    conn.execute('CREATE TABLE "x\x1b[31mred\x9b" (a)')
    conn.commit()
    conn.close()
    res = cli("dump", str(hostile_tables))
    assert res.returncode == 3
    assert b"\x1b" not in res.stderr and "\x9b".encode() not in res.stderr
    assert b"without turns tables" in res.stderr


# --------------------------------------------------------------------------- 6. future schema

FUTURE_BUILDERS: dict[str, Callable[[Path, Any], Path]] = {
    "era1": b.build_era1,
    "era2": b.build_era2,
    "gp26": b.build_gp26,
}


def _add_more_future(path: Path) -> None:
    """Beyond `add_future_schema`: an extra index and a view a newer writer might add."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("CREATE INDEX turn_annotations_by_conv ON turn_annotations(conv_id)")
        conn.execute("CREATE VIEW annotated AS SELECT conv_id, note FROM turn_annotations")
        conn.execute("CREATE TABLE future_kv (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID")
        conn.execute("INSERT INTO future_kv VALUES ('schema', x'00ff1b')")
    finally:
        conn.close()


@pytest.mark.parametrize("era", list(FUTURE_BUILDERS))
def test_future_schema_is_kept_ignored_and_untouched(era: str, tmp_path: Path) -> None:
    plain = FUTURE_BUILDERS[era](tmp_path / "plain.db", b.standard_scenario())
    path = FUTURE_BUILDERS[era](tmp_path / "future.db", b.standard_scenario())
    b.add_future_schema(path)
    _add_more_future(path)
    annotations = table_rows(path, "turn_annotations")
    kv = table_rows(path, "future_kv")
    future_cols = table_rows(path, "turns")
    plan = cli("migrate", str(path), "--dry-run")
    assert plan.returncode == 0, text(plan)[1]

    doc = open_dump(path)
    assert doc["conversations"] == open_dump(plain)["conversations"]  # ignored
    assert table_rows(path, "turn_annotations") == annotations  # kept, untouched
    assert table_rows(path, "future_kv") == kv
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT count(*) FROM annotated").fetchone()[0] == 2
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()
    assert {"turn_annotations_by_conv", "annotated", "future_kv"} <= names
    # The extra column keeps every value (era 1: on the kept legacy table).
    kept_in = "turn_snapshots_legacy" if era == "era1" else "turns"
    conn = sqlite3.connect(path)
    try:
        values = conn.execute(f"SELECT future_col FROM {kept_in}").fetchall()
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({kept_in})")]
    finally:
        conn.close()
    assert values and {v for (v,) in values} == {"kept"}
    assert len(values) == len(future_cols)
    assert "future_col" in cols
    assert integrity(path) == "ok"
    # A second open changes nothing.
    digest = sha(path)
    assert open_database(str(path)).mode == "none"
    assert sha(path) == digest
