"""Read queries over a turns database, returning plain dataclasses.

Each query is written once as a *plan*: a generator that yields ``(target, sql,
params)`` and receives the fetched rows. `tui.store.reader.Reader` runs plans on
aiosqlite, resuming each plan in a worker thread, so decoding and summarising never run
on the event loop. Plans read files of any normalised era as they are (missing columns
read as the migration would add them) and apply the read-only overlay to every row.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any, TypeVar

import orjson

from tui.store import gojson, schema
from tui.store.attribution import inference_attribution, runtime_attribution
from tui.store.overlay import NO_OVERLAY, Overlay
from tui.store.payload import PayloadError, parse_turn_yaml
from tui.store.records import (
    Block,
    ConversationSummary,
    PhaseSnapshot,
    SnapshotDetail,
    TimelineEntry,
    TurnRecord,
)

MAIN = "main"
TIMELINE = "timeline"

Query = tuple[str, str, tuple[Any, ...]]
Rows = list[tuple[Any, ...]]
T = TypeVar("T")
Plan = Generator[Query, Rows, T]


@dataclass(frozen=True)
class Source:
    """Which tables hold the turns of this database, and how to read `turns` columns."""

    kind: str  # "normalized" | "geppetto" | "none"
    has_timeline: bool
    columns: frozenset[str] = frozenset()

    def expr(self, column: str) -> str:
        """SQL for a `turns` column, or what the migration would fill when it is missing."""
        if column in self.columns:
            return column
        if column == "turn_created_at_ms":
            return "created_at_ms" if "created_at_ms" in self.columns else "0"
        if column in ("turn_metadata_json", "turn_data_json"):
            return "'{}'"
        if column == "updated_at_ms":
            return "0"
        return "''"


def source_plan() -> Plan[Source]:
    """Find where turns live (normalised tables or geppetto_turns) and their columns."""
    rows = yield (
        MAIN,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN "
        "('turns', 'turn_block_membership', 'blocks', 'geppetto_turns', "
        "'timeline_conversations')",
        (),
    )
    names = {str(r[0]) for r in rows}
    columns: frozenset[str] = frozenset()
    if {"turns", "turn_block_membership", "blocks"} <= names:
        kind = "normalized"
        cols = yield (MAIN, "SELECT name FROM pragma_table_info('turns')", ())
        columns = frozenset(str(r[0]).strip().lower() for r in cols)
    elif schema.GEPPETTO_TABLE in names:
        kind = "geppetto"
    else:
        kind = "none"
    return Source(kind, schema.TIMELINE_TABLE in names, columns)


def rows_as_one_plan(target: str, sql: str, params: tuple[Any, ...], width: int) -> Plan[Rows]:
    """The rows of `sql`, whose columns are named c0 .. c{width-1}, fetched as one row
    (in no promised order: sort them where order matters).

    Python's sqlite3 gives up the GIL around every row it steps and takes it back after;
    while the UI thread is busy (composing and painting the first screen) each return
    waits for it. Next to a busy thread 28,000 rows took 1.7-10 s to fetch, and 93 ms as
    one JSON array built by SQLite with the GIL released. (A JSON array holds a few
    megabytes at most: for more rows, group them, as `conversation_index_plan` does.)

    A BLOB or REAL value, which JSON cannot hold exactly, sends the query again as plain
    rows, so every value reads as a plain query gives it."""
    odd = [f"typeof(c{i}) IN ('blob', 'real')" for i in range(width)]
    values = ", ".join(f"CASE WHEN {o} THEN NULL ELSE c{i} END" for i, o in enumerate(odd))
    # LIMIT -1 keeps SQLite from flattening the subquery into the aggregate, which would
    # compute each column thrice (the wrapper names it thrice); MATERIALIZED would too,
    # but needs SQLite 3.35.
    got = yield (
        target,
        f"""SELECT json_group_array(json_array({values})), MAX({" OR ".join(odd)})
            FROM (SELECT * FROM ({sql}) LIMIT -1)""",
        params,
    )
    if got and as_int(got[0][1]):
        plain: Rows = yield (target, sql, params)
        return plain
    if not got or not isinstance(got[0][0], str):
        return []
    return [tuple(r) for r in orjson.loads(got[0][0])]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def as_int(value: Any) -> int:
    """An INTEGER column as read (NULL, text or junk read as 0)."""
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def timeline_plan(conv_ids: tuple[str, ...] | None = None) -> Plan[dict[str, TimelineEntry]]:
    """Current runtime, session, activity and status per conversation (timeline store)."""
    cols = yield (TIMELINE, "SELECT name FROM pragma_table_info('timeline_conversations')", ())
    have = {str(r[0]).lower() for r in cols}
    status = "status" if "status" in have else "''"
    error = "last_error" if "last_error" in have else "''"
    activity = "last_activity_ms" if "last_activity_ms" in have else "0"
    select = (
        f"SELECT conv_id, runtime_key, session_id, {activity}, {status}, {error} "
        "FROM timeline_conversations"
    )
    if conv_ids is None:
        rows = yield (TIMELINE, select, ())
    else:
        marks = ",".join("?" * len(conv_ids))
        rows = yield (TIMELINE, f"{select} WHERE conv_id IN ({marks})", conv_ids)
    return {
        _text(c): TimelineEntry(_text(c), _text(rk), _text(s), as_int(la), _text(st), _text(le))
        for c, rk, s, la, st, le in rows
    }


# One turn of the conversation index: (conv_id, session_id, turn_id, runtime_key,
# turn_created_at_ms, updated_at_ms, inference_id), typed by SQL and sorted by
# conversation, then turn order, so 10,000 conversations are grouped without per-row
# Python objects.
IndexRow = tuple[str, str, str, str, int, int, str]
_INDEX_ORDER = itemgetter(0, 4, 2)  # conversation, created, turn id


def _turn_index_sql(source: Source) -> str:
    if source.kind == "geppetto":
        return """SELECT conv_id, session_id, turn_id, '' AS rk,
                         MIN(created_at_ms) AS created, MAX(created_at_ms) AS updated,
                         '' AS inf
                  FROM geppetto_turns GROUP BY conv_id, session_id, turn_id"""
    return (
        f"SELECT conv_id, session_id, turn_id, {source.expr('runtime_key')} AS rk, "
        f"{source.expr('turn_created_at_ms')} AS created, "
        f"{source.expr('updated_at_ms')} AS updated, "
        f"{source.expr('inference_id')} AS inf FROM turns"
    )


def conversation_index_plan(source: Source, overlay: Overlay) -> Plan[list[IndexRow]]:
    """Every turn's ids, runtime and times, for building the conversation list."""
    if source.kind == "none":
        return []
    # One row per conversation, its turns as one JSON array: 1,000 rows where there were
    # 28,000 (sqlite3 hands the GIL back and forth once per row: next to a busy UI thread
    # 28,000 rows took 1.7-10 s, 1,000 rows 0.6 s), and each conversation id one object.
    got = yield (
        MAIN,
        f"""SELECT c0, json_group_array(json_array(c1, c2, c3, c4, c5, c6)) FROM (
              SELECT CAST(conv_id AS TEXT) AS c0,
                     COALESCE(CAST(session_id AS TEXT), '') AS c1,
                     COALESCE(CAST(turn_id AS TEXT), '') AS c2,
                     COALESCE(CAST(rk AS TEXT), '') AS c3,
                     COALESCE(CAST(created AS INTEGER), 0) AS c4,
                     COALESCE(CAST(updated AS INTEGER), 0) AS c5,
                     COALESCE(CAST(inf AS TEXT), '') AS c6
              FROM ({_turn_index_sql(source)}) WHERE conv_id IS NOT NULL)
            GROUP BY c0""",
        (),
    )
    rows: list[IndexRow] = []
    for conv, turns in got:  # every value is TEXT or INTEGER (CAST): JSON holds them exactly
        rows.extend((conv, *turn) for turn in orjson.loads(turns))
    got.clear()  # the reader's list: its JSON texts go now, not after the next query
    rows.sort(key=_INDEX_ORDER)  # as SQL's ORDER BY 1, 5, 3 (text and integers sort alike)
    if source.kind == "geppetto":
        ids = yield from _geppetto_ids(overlay)
        none = ("", "")
        rows = [
            (c, s, t, got[0], cr, up, got[1])
            for c, s, t, _, cr, up, _ in rows
            for got in (ids.get((c, s, t), none),)
        ]
    elif overlay.turns:
        derived = overlay.turns
        rows = [
            (c, s, t, derived[(c, s, t)][0], cr, up, derived[(c, s, t)][1])
            if (c, s, t) in derived
            else row
            for row in rows
            for c, s, t, _, cr, up, _ in (row,)
        ]
    return rows


def _geppetto_ids(overlay: Overlay) -> Plan[dict[tuple[str, str, str], tuple[str, str]]]:
    """Per turn, the latest non-empty runtime key and inference id of its geppetto_turns
    rows (overlaid)."""
    rows = yield (
        MAIN,
        "SELECT conv_id, session_id, turn_id, phase, runtime_key, inference_id "
        "FROM geppetto_turns ORDER BY created_at_ms, phase",
        (),
    )
    out: dict[tuple[str, str, str], tuple[str, str]] = {}
    for conv, sess, turn, phase, rk, inf in rows:
        key = (_text(conv), _text(sess), _text(turn))
        value, inference, _ = overlay.geppetto_values((*key, _text(phase)), _text(rk), _text(inf))
        old_rk, old_inf = out.get(key, ("", ""))
        out[key] = (value or old_rk, inference or old_inf)
    return out


_SNAPSHOT_KEY = "m.conv_id = l.conv_id AND m.session_id = l.session_id AND m.turn_id = l.turn_id"

# The newest snapshot time of one turn, read from the membership index without walking
# all its rows: the index (conv, session, turn, phase, snapshot DESC, ...) gives each
# phase's newest snapshot in one seek, and the phases are found by skipping from one to
# the next (MIN(phase) > the previous). The latest turn of a long agent conversation has
# hundreds of rows (every block, in every snapshot) but a handful of phases.
_NEWEST_SNAPSHOT_SKIP = f"""(WITH RECURSIVE ph(p) AS (
        SELECT MIN(m.phase) FROM turn_block_membership m WHERE {_SNAPSHOT_KEY}
        UNION ALL
        SELECT (SELECT MIN(m.phase) FROM turn_block_membership m
                WHERE {_SNAPSHOT_KEY} AND m.phase > ph.p)
        FROM ph WHERE ph.p IS NOT NULL)
    SELECT MAX((SELECT MAX(m.snapshot_created_at_ms) FROM turn_block_membership m
                WHERE {_SNAPSHOT_KEY} AND m.phase = ph.p))
    FROM ph WHERE ph.p IS NOT NULL)"""
_NEWEST_SNAPSHOT_SCAN = (
    f"(SELECT MAX(m.snapshot_created_at_ms) FROM turn_block_membership m WHERE {_SNAPSHOT_KEY})"
)


def _phase_skips_exactly(rows: Rows) -> bool:
    """Whether skipping phases finds every row: `phase` NOT NULL (MIN skips NULLs) with
    TEXT affinity (so `phase > p` compares as the index orders; a column without it could
    hold integers, which a text `p` would compare after)."""
    if len(rows) != 1:
        return False
    decl, notnull = str(rows[0][0] or "").upper(), rows[0][1]
    text = "INT" not in decl and any(t in decl for t in ("CHAR", "CLOB", "TEXT"))
    return text and as_int(notnull) == 1


def latest_turns(index: Sequence[IndexRow]) -> list[tuple[str, str, str, int]]:
    """(conv, session, turn, created) of each conversation's latest turn in the index
    (rows ordered by conversation, created, turn id: the last row of each group)."""
    out: list[tuple[str, str, str, int]] = []
    for i, row in enumerate(index):
        if i + 1 == len(index) or index[i + 1][0] != row[0]:
            out.append((row[0], row[1], row[2], row[4]))
    return out


def activity_plan(
    source: Source, latest: Sequence[tuple[str, str, str, int]] | None = None
) -> Plan[dict[str, int]]:
    """Newest snapshot time of each conversation (its latest turn's newest snapshot).

    `latest` gives each conversation's latest turn as the conversation index found it
    (`latest_turns`), which saves a second pass over `turns`; without it the query finds
    them itself. `updated_at_ms` is not activity: the GP-26 repair sets it to the time of
    migration for rows whose times were both 0.
    """
    if source.kind != "normalized":
        return {}
    phase = yield (
        MAIN,
        "SELECT type, \"notnull\" FROM pragma_table_info('turn_block_membership') "
        "WHERE name = 'phase'",
        (),
    )
    newest = _NEWEST_SNAPSHOT_SKIP if _phase_skips_exactly(phase) else _NEWEST_SNAPSHOT_SCAN
    created = source.expr("turn_created_at_ms")
    if latest is not None and any("\x00" in "".join(row[:3]) for row in latest):
        latest = None  # SQLite's JSON functions cut a text at NUL: let the query find them
    if latest is not None:
        try:
            params: tuple[Any, ...] = (orjson.dumps(latest).decode(),)
        except (orjson.JSONEncodeError, TypeError):
            latest = None  # not JSON text (it never is for ids read as TEXT): ask SQL
    if latest is not None:
        given = """SELECT json_extract(value, '$[0]') AS conv_id,
                          json_extract(value, '$[1]') AS session_id,
                          json_extract(value, '$[2]') AS turn_id,
                          json_extract(value, '$[3]') AS created FROM json_each(?)"""
    else:
        given = f"""SELECT conv_id, session_id, turn_id, {created} AS created FROM (
                    SELECT conv_id, session_id, turn_id, {created},
                           ROW_NUMBER() OVER (PARTITION BY conv_id
                                              ORDER BY {created} DESC, turn_id DESC) AS n
                    FROM turns) WHERE n = 1"""
        params = ()
    rows = yield from rows_as_one_plan(
        MAIN,
        f"""WITH latest AS ({given})
            SELECT CAST(l.conv_id AS TEXT) AS c0, COALESCE({newest}, l.created, 0) AS c1
            FROM latest l""",
        params,
        2,
    )
    return {_text(c): as_int(ms) for c, ms in rows}


def summarize(
    index: list[IndexRow],
    timeline: dict[str, TimelineEntry],
    activity: dict[str, int] | None = None,
) -> list[ConversationSummary]:
    """Group turn rows (ordered by conversation and turn) into summaries, newest first.

    Conversations the timeline store knows but this file has no turns of are listed after
    the others with `in_file=False` (the screens hide them unless asked).
    """
    out: list[ConversationSummary] = []
    seen: set[str] = set()
    for conv_id, group in groupby(index, key=itemgetter(0)):
        turns = list(group)
        seen.add(conv_id)
        keys = tuple(r[3] for r in turns)
        latest = turns[-1]  # turn order: created, then turn id
        tl = timeline.get(conv_id)
        last = activity.get(conv_id) if activity is not None else None
        out.append(
            ConversationSummary(
                conv_id=conv_id,
                session_id=latest[1],
                turn_count=len(turns),
                last_activity_ms=last if last is not None else max(r[5] for r in turns),
                latest_runtime_key=next((k for k in reversed(keys) if k.strip()), ""),
                timeline_runtime_key=tl.runtime_key if tl else None,
                runtime_keys=keys,
                sessions=tuple(dict.fromkeys(r[1] for r in turns)),
                inference_ids=tuple(r[6] for r in turns if r[6]),
                in_file=True,
                status=tl.status if tl else "",
                last_error=tl.last_error if tl else "",
            )
        )
    out.sort(key=lambda c: (-c.last_activity_ms, c.conv_id))
    only_timeline = [
        ConversationSummary(
            conv_id=conv_id,
            session_id=entry.session_id,
            turn_count=0,
            last_activity_ms=entry.last_activity_ms,
            latest_runtime_key="",
            timeline_runtime_key=entry.runtime_key,
            sessions=(entry.session_id,) if entry.session_id else (),
            in_file=False,
            status=entry.status,
            last_error=entry.last_error,
        )
        for conv_id, entry in timeline.items()
        if conv_id not in seen
    ]
    only_timeline.sort(key=lambda c: (-c.last_activity_ms, c.conv_id))
    return out + only_timeline


def conversations_plan(with_timeline: bool, overlay: Overlay) -> Plan[list[ConversationSummary]]:
    """All conversations with counts, last activity and runtimes, newest first."""
    source = yield from source_plan()
    index = yield from conversation_index_plan(source, overlay)
    activity = yield from activity_plan(source, latest_turns(index))
    timeline: dict[str, TimelineEntry] = {}
    if with_timeline:
        timeline = yield from timeline_plan()
    return summarize(index, timeline, activity if source.kind == "normalized" else None)


def _geppetto_block_count(payload: str) -> int:
    try:
        return len(parse_turn_yaml(payload).blocks)
    except PayloadError:
        return 0


def turn_record(
    conv_id: str,
    session_id: str,
    turn_id: str,
    runtime_key: str,
    inference_id: str,
    created_ms: int,
    updated_ms: int,
    metadata_json: str,
    snapshots: tuple[PhaseSnapshot, ...],
    derived: frozenset[str] = frozenset(),
) -> TurnRecord:
    """A turn record with the facts the rules need decided now (metadata decoded once)."""
    meta = gojson.decode_metadata(metadata_json)
    return TurnRecord(
        conv_id,
        session_id,
        turn_id,
        runtime_key,
        inference_id,
        created_ms,
        updated_ms,
        metadata_json,
        snapshots,
        metadata_malformed=meta is None,
        runtime_from=runtime_attribution(meta),
        inference_from=inference_attribution(meta),
        derived=derived,
    )


def _geppetto_turns(conv_id: str, rows: Rows, overlay: Overlay) -> list[TurnRecord]:
    by_turn: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    for row in rows:
        by_turn.setdefault((_text(row[0]), _text(row[1])), []).append(row)
    out: list[TurnRecord] = []
    for (sess, turn), snaps in by_turn.items():
        rk = inf = ""
        derived: set[str] = set()
        for s in snaps:
            r, i, d = overlay.geppetto_values(
                (conv_id, sess, turn, _text(s[2])), _text(s[4]), _text(s[5])
            )
            if r:
                rk = r
            if i:
                inf = i
            derived |= d
        phases = tuple(
            PhaseSnapshot(_text(s[2]), as_int(s[3]), _geppetto_block_count(_text(s[6])))
            for s in snaps
        )
        out.append(
            turn_record(
                conv_id,
                sess,
                turn,
                rk,
                inf,
                min(p.snapshot_created_at_ms for p in phases),
                max(p.snapshot_created_at_ms for p in phases),
                _geppetto_metadata_json(_text(snaps[-1][6])),
                phases,
                frozenset(derived),
            )
        )
    return out


def turns_plan(conv_id: str, overlay: Overlay = NO_OVERLAY) -> Plan[list[TurnRecord]]:
    """Every turn of one conversation with its snapshots (phase, time, block count)."""
    source = yield from source_plan()
    if source.kind == "none":
        return []
    if source.kind == "geppetto":
        rows = yield (
            MAIN,
            "SELECT session_id, turn_id, phase, created_at_ms, runtime_key, inference_id, payload "
            "FROM geppetto_turns WHERE conv_id = ? ORDER BY created_at_ms, phase",
            (conv_id,),
        )
        return _geppetto_turns(conv_id, rows, overlay)
    e = source.expr
    turn_rows = yield (
        MAIN,
        f"SELECT session_id, turn_id, {e('runtime_key')}, {e('inference_id')}, "
        f"{e('turn_created_at_ms')}, {e('updated_at_ms')}, {e('turn_metadata_json')} "
        "FROM turns WHERE conv_id = ?",
        (conv_id,),
    )
    snap_rows = yield (
        MAIN,
        "SELECT session_id, turn_id, phase, snapshot_created_at_ms, COUNT(*) "
        "FROM turn_block_membership WHERE conv_id = ? "
        "GROUP BY session_id, turn_id, phase, snapshot_created_at_ms",
        (conv_id,),
    )
    return turn_records_from_rows(conv_id, turn_rows, snap_rows, overlay)


def turn_records_from_rows(
    conv_id: str,
    turn_rows: Rows,
    snap_rows: Rows,
    overlay: Overlay = NO_OVERLAY,
    *,
    text: Callable[[Any], str] = _text,
) -> list[TurnRecord]:
    """Turn records of one conversation from its `turns` rows (session, turn, runtime_key,
    inference_id, created, updated, metadata) and snapshot rows (session, turn, phase,
    time, block count), overlaid; `text` decodes ids (the MySQL store's keep raw bytes)."""
    snaps_by_turn: dict[tuple[str, str], list[PhaseSnapshot]] = {}
    for sess, turn, phase, created, count in snap_rows:
        snaps_by_turn.setdefault((text(sess), text(turn)), []).append(
            PhaseSnapshot(text(phase), as_int(created), as_int(count))
        )
    records: list[TurnRecord] = []
    for sess, turn, rk, inf, created, updated, meta in turn_rows:
        sess, turn = text(sess), text(turn)
        ordered_snaps = sorted(
            snaps_by_turn.get((sess, turn), []),
            key=lambda p: (p.snapshot_created_at_ms, p.phase),
        )
        rk2, inf2, updated2, derived = overlay.turn_values(
            (conv_id, sess, turn), text(rk), text(inf), as_int(created), as_int(updated)
        )
        records.append(
            turn_record(
                conv_id,
                sess,
                turn,
                rk2,
                inf2,
                as_int(created),
                updated2,
                text(meta) if meta is not None else "{}",
                tuple(ordered_snaps),
                derived,
            )
        )
    return records


def _geppetto_metadata_json(payload: str) -> str:
    try:
        return gojson.go_json_marshal(parse_turn_yaml(payload).metadata)
    except (PayloadError, ValueError, TypeError):
        return "<unparseable YAML payload>"


def snapshot_plan(
    conv_id: str, session_id: str, turn_id: str, phase: str, created_at_ms: int
) -> Plan[SnapshotDetail | None]:
    """Blocks (in ordinal order) and turn metadata of one snapshot."""
    source = yield from source_plan()
    if source.kind == "geppetto":
        rows = yield (
            MAIN,
            "SELECT payload FROM geppetto_turns WHERE conv_id = ? AND session_id = ? "
            "AND turn_id = ? AND phase = ?",
            (conv_id, session_id, turn_id, phase),
        )
        if not rows:
            return None
        payload = _text(rows[0][0])
        try:
            parsed = parse_turn_yaml(payload)
            blocks = tuple(
                Block(
                    i,
                    b.id,
                    b.kind,
                    b.role,
                    gojson.marshal_object(b.payload),
                    gojson.marshal_object(b.metadata),
                )
                for i, b in enumerate(parsed.blocks)
            )
            meta = gojson.marshal_object(parsed.metadata)
            data = gojson.marshal_object(parsed.data)
        except (PayloadError, ValueError, TypeError):
            blocks, meta, data = (), "{}", "{}"
        return SnapshotDetail(
            conv_id, session_id, turn_id, phase, created_at_ms, blocks, meta, data, payload
        )
    if source.kind == "none":
        return None
    block_rows = yield (
        MAIN,
        """SELECT m.ordinal, m.block_id, COALESCE(b.kind, ''), COALESCE(b.role, ''),
                  COALESCE(b.payload_json, '{}'), COALESCE(b.block_metadata_json, '{}'),
                  m.content_hash
           FROM turn_block_membership m
           LEFT JOIN blocks b ON b.block_id = m.block_id AND b.content_hash = m.content_hash
           WHERE m.conv_id = ? AND m.session_id = ? AND m.turn_id = ? AND m.phase = ?
             AND m.snapshot_created_at_ms = ?
           ORDER BY m.ordinal""",
        (conv_id, session_id, turn_id, phase, created_at_ms),
    )
    turn_rows = yield (
        MAIN,
        f"SELECT {source.expr('turn_metadata_json')}, {source.expr('turn_data_json')} "
        "FROM turns WHERE conv_id = ? AND session_id = ? AND turn_id = ?",
        (conv_id, session_id, turn_id),
    )
    return snapshot_from_rows(
        conv_id, session_id, turn_id, phase, created_at_ms, block_rows, turn_rows
    )


def snapshot_from_rows(
    conv_id: str,
    session_id: str,
    turn_id: str,
    phase: str,
    created_at_ms: int,
    block_rows: Rows,
    turn_rows: Rows,
    *,
    text: Callable[[Any], str] = _text,
) -> SnapshotDetail:
    """A snapshot from its block rows (ordinal, block_id, kind, role, payload, metadata,
    content_hash) and its turn's (metadata, data) row."""
    meta, data = turn_rows[0] if turn_rows else ("{}", "{}")
    return SnapshotDetail(
        conv_id,
        session_id,
        turn_id,
        phase,
        created_at_ms,
        tuple(
            Block(as_int(o), text(bid), text(k), text(r), text(p), text(bm), text(h))
            for o, bid, k, r, p, bm, h in block_rows
        ),
        text(meta) or "{}",
        text(data) or "{}",
        None,
    )


def data_version_plan() -> Plan[int]:
    """SQLite's data_version: changes when another connection commits."""
    rows = yield (MAIN, "PRAGMA data_version", ())
    return as_int(rows[0][0]) if rows else 0
