"""Rows fetched as one JSON row (`queries.rows_as_one_plan`) read exactly as plain rows:
every SQLite value (NUL and control characters, any Unicode, bytes that are not UTF-8,
integers at the limits, REALs, BLOBs, NULL); and the conversation index, read as one JSON
row per conversation, holds the same turns as a plain query, grouped by conversation in
turn order, on files of every normalised era and on hostile ids."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import builders as b
from tui.store import queries
from tui.store.opener import is_decode_error, lenient_text
from tui.store.overlay import NO_OVERLAY
from tui.store.queries import Plan, Rows


def _fetch(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> Rows:
    """As `tui.store.reader.Reader._fetch`: text that is not UTF-8 reads with U+FFFD."""
    try:
        return [tuple(r) for r in conn.execute(sql, params).fetchall()]
    except sqlite3.OperationalError as exc:
        if not is_decode_error(exc) or conn.text_factory is lenient_text:
            raise
        conn.text_factory = lenient_text
        return [tuple(r) for r in conn.execute(sql, params).fetchall()]


def _run(conn: sqlite3.Connection, plan: Plan[Any]) -> tuple[Any, int]:
    """The plan's result and how many queries it asked."""
    asked = 0
    try:
        query = next(plan)
        while True:
            asked += 1
            query = plan.send(_fetch(conn, query[1], query[2]))
    except StopIteration as stop:
        return stop.value, asked


def _key(row: tuple[Any, ...]) -> str:
    return repr([(type(v).__name__, v) for v in row])


# A value as SQLite may hold it: TEXT (any code point but lone surrogates, NUL included),
# TEXT whose bytes are not UTF-8 (stored from a blob), INTEGER, REAL, BLOB or NULL.
_values = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.sampled_from(["<b>x</b>", "a\x00b", "\t\n\r", "\u2028", "[red]x[/red]", "\\u0000", '"']),
    st.binary(max_size=6).map(lambda raw: ("bytes", raw)),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.binary(max_size=6),
    st.none(),
)


def _table(rows: list[tuple[Any, Any]]) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (a, b)")
    for row in rows:
        values: list[Any] = []
        sql = []
        for v in row:
            if isinstance(v, tuple):  # bytes stored as TEXT: not necessarily UTF-8
                values.append(v[1])
                sql.append("CAST(? AS TEXT)")
            else:
                values.append(v)
                sql.append("?")
        conn.execute(f"INSERT INTO t VALUES ({', '.join(sql)})", values)
    return conn


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_values, _values), max_size=8))
def test_any_value_reads_as_a_plain_row(rows: list[tuple[Any, Any]]) -> None:
    sql = "SELECT a AS c0, b AS c1 FROM t"
    plain_conn, one_conn = _table(rows), _table(rows)
    plain = _fetch(plain_conn, sql, ())
    got, _ = _run(one_conn, queries.rows_as_one_plan(queries.MAIN, sql, (), 2))
    assert sorted(map(_key, got)) == sorted(map(_key, plain))


def test_json_safe_values_take_one_query_and_others_fall_back() -> None:
    """The fallback is for values JSON cannot hold exactly: text, integers and NULL take
    the one query; a REAL or a BLOB anywhere sends the plain query too."""
    sql = "SELECT a AS c0, b AS c1 FROM t"
    safe = _table([("a\x00<b>", 2**63 - 1), (None, "é")])
    got, asked = _run(safe, queries.rows_as_one_plan(queries.MAIN, sql, (), 2))
    assert asked == 1
    assert sorted(map(_key, got)) == sorted(map(_key, [("a\x00<b>", 2**63 - 1), (None, "é")]))
    for odd in (0.1 + 0.2, b"\x00\xff"):
        conn = _table([("x", 1), ("y", odd)])
        got, asked = _run(conn, queries.rows_as_one_plan(queries.MAIN, sql, (), 2))
        assert asked == 2
        assert ("y", odd) in got


def _index(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    source, _ = _run(conn, queries.source_plan())
    rows, _ = _run(conn, queries.conversation_index_plan(source, NO_OVERLAY))
    return list(rows)


def _plain_index(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    source, _ = _run(conn, queries.source_plan())
    e = source.expr
    return _fetch(
        conn,
        f"""SELECT CAST(conv_id AS TEXT), COALESCE(CAST(session_id AS TEXT), ''),
                   COALESCE(CAST(turn_id AS TEXT), ''),
                   COALESCE(CAST({e("runtime_key")} AS TEXT), ''),
                   COALESCE(CAST({e("turn_created_at_ms")} AS INTEGER), 0),
                   COALESCE(CAST({e("updated_at_ms")} AS INTEGER), 0),
                   COALESCE(CAST({e("inference_id")} AS TEXT), '')
            FROM turns WHERE conv_id IS NOT NULL ORDER BY 1, 5, 3""",
        (),
    )


def _check_index(conn: sqlite3.Connection) -> None:
    got, plain = _index(conn), _plain_index(conn)
    assert got
    assert sorted(map(_key, got)) == sorted(map(_key, plain))
    # grouped by conversation, each in turn order (created, then turn id)
    assert got == sorted(got, key=lambda r: (r[0], r[4], r[2]))


def test_conversation_index_equals_plain_rows_on_every_era(tmp_path: Path) -> None:
    for name, build in {"era2": b.build_era2, "gp26": b.build_gp26}.items():
        path = build(tmp_path / f"{name}.db", b.standard_scenario())
        conn = sqlite3.connect(path)
        try:
            _check_index(conn)
        finally:
            conn.close()


def test_conversation_index_keeps_hostile_ids_and_values(tmp_path: Path) -> None:
    path = b.build_gp26(tmp_path / "hostile.db", b.standard_scenario())
    conn = sqlite3.connect(path)
    try:
        hostile = [
            ("c\x00nul", "s\x00", "t\x00", "rk\x00", 5, "inf\x00"),
            ("<conv attr='x'>", "<s>", "<t>", "<runtime>", 3, "<inf>"),
            ("emoji 😀", "s", "t", "[red]rk[/red]", 2**62, "i"),
            ("tab\tnew\nline", "s", "t", " padded ", -1, ""),
            # one conversation's turns stored newest first (rowid order is not turn order)
            ("reversed", "s", "t3", "c", 30, "i3"),
            ("reversed", "s", "t2", "b", 20, "i2"),
            ("reversed", "s", "t1", "a", 20, "i1"),
        ]
        for conv, sess, turn, rk, created, inf in hostile:
            conn.execute(
                "INSERT INTO turns (conv_id, session_id, turn_id, turn_created_at_ms, "
                "updated_at_ms, runtime_key, inference_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (conv, sess, turn, created, created, rk, inf),
            )
        # ids stored as bytes that are not UTF-8, a REAL time, a text time
        conn.execute(
            "INSERT INTO turns (conv_id, session_id, turn_id, turn_created_at_ms, "
            "updated_at_ms, runtime_key, inference_id) "
            "VALUES (CAST(X'63FF6E' AS TEXT), X'73', 't', 12.75, '77', X'FF', '')"
        )
        conn.commit()
        got = _index(conn)
        assert ("c\x00nul", "s\x00", "t\x00", "rk\x00", 5, 5, "inf\x00") in got
        assert ("<conv attr='x'>", "<s>", "<t>", "<runtime>", 3, 3, "<inf>") in got
        assert ("c\ufffdn", "s", "t", "\ufffd", 12, 77, "") in got
        assert [r[2] for r in got if r[0] == "reversed"] == ["t1", "t2", "t3"]
        _check_index(conn)
    finally:
        conn.close()
