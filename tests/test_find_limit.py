"""`find_ids(query, limit)`: the app asks for the first matches only, and the store reads
whole rows for just enough conversations; the answer must be the first `limit` of the
full answer, in the same order, on every kind of file (migrated, read-only overlay, a
`turns` table WITHOUT ROWID)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests import builders as b
from tui.store.investigate import TurnIds
from tui.store.overlay import Overlay
from tui.store.sqlite_store import SqliteStore

QUERIES = ("bulk-", "research", "resea", "planner", "bulk-sess-00001", "bulk-conv-00000", "INV")
LIMITS = (0, 1, 2, 5, 7, 11, 13, 40, 1000)


def _rewrite_turns(path: Path, *, without_rowid: bool) -> Path:
    """Rewrite `turns` with its rows stored newest first (rowid order is then the reverse
    of the find's order), or as a WITHOUT ROWID table (another writer's); same rows, same
    indexes."""
    conn = sqlite3.connect(path)
    try:
        (table_sql,) = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'turns'"
        ).fetchone()
        index_sqls = [
            r[0]
            for r in conn.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'turns' "
                "AND sql IS NOT NULL"
            )
        ]
        conn.execute("PRAGMA foreign_keys=OFF")
        new_sql = table_sql.replace("CREATE TABLE turns", "CREATE TABLE turns_new", 1)
        conn.execute(new_sql + (" WITHOUT ROWID" if without_rowid else ""))
        conn.execute(
            "INSERT INTO turns_new SELECT * FROM turns "
            "ORDER BY conv_id DESC, turn_created_at_ms DESC"
        )
        conn.execute("DROP TABLE turns")
        conn.execute("ALTER TABLE turns_new RENAME TO turns")
        for sql in index_sqls:
            conn.execute(sql)
        conn.commit()
    finally:
        conn.close()
    return path


async def _answers(path: Path, read_only: bool) -> dict[str, dict[int | None, list[TurnIds]]]:
    store = SqliteStore(str(path), read_only=read_only)
    await store.open()
    try:
        return {q: {lim: await store.find_ids(q, lim) for lim in (None, *LIMITS)} for q in QUERIES}
    finally:
        await store.close()


@pytest.mark.parametrize("kind", ["migrated", "read-only overlay", "without rowid"])
def test_first_matches_are_the_head_of_every_match(tmp_path: Path, kind: str) -> None:
    convs = b.bulk_scenario(14, 5, 3, seed=7)
    if kind == "read-only overlay":  # pre-GP-26: ids derived in memory, none stored
        path, read_only = b.build_era2(tmp_path / "t.db", convs), True
    else:
        path, read_only = b.build_gp26(tmp_path / "t.db", convs), False
    _rewrite_turns(path, without_rowid=kind == "without rowid")
    answers = asyncio.run(_answers(path, read_only))
    assert len(answers["bulk-"][None]) == 14 * 5  # every turn: each conv id starts so
    assert {t.runtime_key for t in answers["research"][None]} == {"research"}
    assert len({t.conv_id for t in answers["research"][None]}) > 2  # spans conversations
    for q, by_limit in answers.items():
        every = by_limit[None]
        order = [(t.conv_id, t.turn_created_at_ms, t.turn_id) for t in every]
        assert order == sorted(order), q
        assert all(t.phase == "final" and t.snapshot_created_at_ms > 0 for t in every), q
        for lim in LIMITS:
            assert by_limit[lim] == every[:lim], (q, lim)


_ids = st.text("aAbİ\u0130ß", max_size=5)  # few letters, so prefixes are shared


@given(
    st.dictionaries(
        st.tuples(st.text(max_size=3), st.just("s"), st.text(max_size=3)),
        st.tuples(_ids, _ids),
        max_size=30,
    ),
    st.text("aAbİß", min_size=1, max_size=3),
)
def test_overlay_prefix_lookup_is_the_scan(
    turns: dict[tuple[str, str, str], tuple[str, str]], query: str
) -> None:
    """The overlay's bisect answers what a scan of every derived value would."""
    needle = query.lower()
    scan = {
        k
        for k, (rk, inf) in turns.items()
        if rk.lower().startswith(needle) or inf.lower().startswith(needle)
    }
    got = Overlay(turns=turns).turns_with_prefix(needle)
    assert set(got) == scan and len(got) == len(scan)
