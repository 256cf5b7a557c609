"""Read queries over a migrated turns database, returning plain dataclasses.

Each query is written once as a *plan*: a generator that yields ``(target, sql,
params)`` and receives the fetched rows. `Reader` runs plans on sqlite3 (the CLI);
`tui.store.async_reader.AsyncReader` runs the same plans on aiosqlite (the app).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Generator
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any, TypeVar

from tui.store import gojson, schema
from tui.store.errors import StoreError
from tui.store.models import Era, OpenedDatabase
from tui.store.opener import classify_error, connect, is_decode_error, lenient_text
from tui.store.payload import PayloadError, parse_turn_yaml
from tui.store.records import Block, ConversationSummary, PhaseSnapshot, SnapshotDetail, TurnRecord

MAIN = "main"
TIMELINE = "timeline"

Query = tuple[str, str, tuple[Any, ...]]
Rows = list[tuple[Any, ...]]
T = TypeVar("T")
Plan = Generator[Query, Rows, T]


@dataclass(frozen=True)
class Source:
    """Which tables hold the turns of this database."""

    kind: str  # "normalized" | "geppetto" | "none"
    has_timeline: bool


def source_plan() -> Plan[Source]:
    """Find where turns live (normalised tables or geppetto_turns)."""
    rows = yield (
        MAIN,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN "
        "('turns', 'turn_block_membership', 'blocks', 'geppetto_turns', "
        "'timeline_conversations')",
        (),
    )
    names = {str(r[0]) for r in rows}
    if {"turns", "turn_block_membership", "blocks"} <= names:
        kind = "normalized"
    elif schema.GEPPETTO_TABLE in names:
        kind = "geppetto"
    else:
        kind = "none"
    return Source(kind, schema.TIMELINE_TABLE in names)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _turn_index_sql(source: Source) -> str:
    if source.kind == "geppetto":
        return """SELECT conv_id, session_id, turn_id,
                         COALESCE(MAX(CASE WHEN runtime_key <> '' THEN runtime_key END), '')
                           AS rk,
                         MIN(created_at_ms) AS created, MAX(created_at_ms) AS updated
                  FROM geppetto_turns GROUP BY conv_id, session_id, turn_id"""
    return (
        "SELECT conv_id, session_id, turn_id, runtime_key AS rk, "
        "turn_created_at_ms AS created, updated_at_ms AS updated FROM turns"
    )


# A timeline-store row: (current runtime_key, session_id, last_activity_ms).
TimelineRow = tuple[str, str, int]


def timeline_plan(conv_ids: tuple[str, ...] | None = None) -> Plan[dict[str, TimelineRow]]:
    """Current runtime, session and last activity per conversation from the timeline store."""
    if conv_ids is None:
        rows = yield (
            TIMELINE,
            "SELECT conv_id, runtime_key, session_id, last_activity_ms FROM timeline_conversations",
            (),
        )
    else:
        marks = ",".join("?" * len(conv_ids))
        rows = yield (
            TIMELINE,
            f"SELECT conv_id, runtime_key, session_id, last_activity_ms "
            f"FROM timeline_conversations "
            f"WHERE conv_id IN ({marks})",
            conv_ids,
        )
    return {_text(c): (_text(rk), _text(s), _int(la)) for c, rk, s, la in rows}


# One turn of the conversation index: (conv_id, session_id, turn_id, runtime_key,
# turn_created_at_ms, updated_at_ms), typed by SQL and ordered by conversation, then turn
# order, so 10,000 conversations are grouped without per-row Python objects.
IndexRow = tuple[str, str, str, str, int, int]


def conversation_index_plan(source: Source) -> Plan[list[IndexRow]]:
    """Every turn's ids, runtime and times, for building the conversation list."""
    if source.kind == "none":
        return []
    rows = yield (
        MAIN,
        f"""SELECT CAST(conv_id AS TEXT), COALESCE(CAST(session_id AS TEXT), ''),
                   COALESCE(CAST(turn_id AS TEXT), ''), COALESCE(CAST(rk AS TEXT), ''),
                   COALESCE(CAST(created AS INTEGER), 0), COALESCE(CAST(updated AS INTEGER), 0)
            FROM ({_turn_index_sql(source)}) WHERE conv_id IS NOT NULL
            ORDER BY 1, 5, 3""",
        (),
    )
    return rows


def summarize(index: list[IndexRow], timeline: dict[str, TimelineRow]) -> list[ConversationSummary]:
    """Group turn rows (ordered by conversation and turn) into summaries, newest first.

    A conversation the timeline store knows but that has no turns (yet, or any more) is
    listed too, with zero turns: it exists, and hiding it would hide a problem.
    """
    out: list[ConversationSummary] = []
    seen: set[str] = set()
    for conv_id, group in groupby(index, key=itemgetter(0)):
        turns = list(group)
        seen.add(conv_id)
        keys = tuple(r[3] for r in turns)
        latest = max(turns, key=_activity)
        tl = timeline.get(conv_id)
        out.append(
            ConversationSummary(
                conv_id=conv_id,
                session_id=latest[1],
                turn_count=len(turns),
                last_activity_ms=latest[5],
                latest_runtime_key=next((k for k in reversed(keys) if k.strip()), ""),
                timeline_runtime_key=tl[0] if tl else None,
                runtime_keys=keys,
            )
        )
    for conv_id, (runtime_key, session_id, last_activity) in timeline.items():
        if conv_id not in seen:
            out.append(
                ConversationSummary(
                    conv_id=conv_id,
                    session_id=session_id,
                    turn_count=0,
                    last_activity_ms=last_activity,
                    latest_runtime_key="",
                    timeline_runtime_key=runtime_key,
                )
            )
    out.sort(key=lambda c: (-c.last_activity_ms, c.conv_id))
    return out


def _activity(row: IndexRow) -> tuple[int, int, str]:
    return row[5], row[4], row[2]


def conversations_plan(with_timeline: bool) -> Plan[list[ConversationSummary]]:
    """All conversations with counts, last activity and runtimes, newest first."""
    source = yield from source_plan()
    index = yield from conversation_index_plan(source)
    timeline: dict[str, TimelineRow] = {}
    if with_timeline:
        timeline = yield from timeline_plan()
    return summarize(index, timeline)


def _geppetto_block_count(payload: str) -> int:
    try:
        return len(parse_turn_yaml(payload).blocks)
    except PayloadError:
        return 0


def turns_plan(conv_id: str) -> Plan[list[TurnRecord]]:
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
        by_turn: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
        for row in rows:
            by_turn.setdefault((_text(row[0]), _text(row[1])), []).append(row)
        out: list[TurnRecord] = []
        for (sess, turn), snaps in by_turn.items():
            rk = next((_text(s[4]) for s in reversed(snaps) if _text(s[4])), "")
            inf = next((_text(s[5]) for s in reversed(snaps) if _text(s[5])), "")
            phases = tuple(
                PhaseSnapshot(_text(s[2]), _int(s[3]), _geppetto_block_count(_text(s[6])))
                for s in snaps
            )
            meta = _geppetto_metadata_json(_text(snaps[-1][6]))
            out.append(
                TurnRecord(
                    conv_id,
                    sess,
                    turn,
                    rk,
                    inf,
                    min(p.snapshot_created_at_ms for p in phases),
                    max(p.snapshot_created_at_ms for p in phases),
                    meta,
                    phases,
                )
            )
        return out
    turn_rows = yield (
        MAIN,
        "SELECT session_id, turn_id, runtime_key, inference_id, turn_created_at_ms, "
        "updated_at_ms, turn_metadata_json FROM turns WHERE conv_id = ?",
        (conv_id,),
    )
    snap_rows = yield (
        MAIN,
        "SELECT session_id, turn_id, phase, snapshot_created_at_ms, COUNT(*) "
        "FROM turn_block_membership WHERE conv_id = ? "
        "GROUP BY session_id, turn_id, phase, snapshot_created_at_ms",
        (conv_id,),
    )
    snaps_by_turn: dict[tuple[str, str], list[PhaseSnapshot]] = {}
    for sess, turn, phase, created, count in snap_rows:
        snaps_by_turn.setdefault((_text(sess), _text(turn)), []).append(
            PhaseSnapshot(_text(phase), _int(created), _int(count))
        )
    records: list[TurnRecord] = []
    for sess, turn, rk, inf, created, updated, meta in turn_rows:
        ordered_snaps = sorted(
            snaps_by_turn.get((_text(sess), _text(turn)), []),
            key=lambda p: (p.snapshot_created_at_ms, p.phase),
        )
        records.append(
            TurnRecord(
                conv_id,
                _text(sess),
                _text(turn),
                _text(rk),
                _text(inf),
                _int(created),
                _int(updated),
                _text(meta) if meta is not None else "{}",
                tuple(ordered_snaps),
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
                  COALESCE(b.payload_json, '{}'), COALESCE(b.block_metadata_json, '{}')
           FROM turn_block_membership m
           LEFT JOIN blocks b ON b.block_id = m.block_id AND b.content_hash = m.content_hash
           WHERE m.conv_id = ? AND m.session_id = ? AND m.turn_id = ? AND m.phase = ?
             AND m.snapshot_created_at_ms = ?
           ORDER BY m.ordinal""",
        (conv_id, session_id, turn_id, phase, created_at_ms),
    )
    turn_rows = yield (
        MAIN,
        "SELECT turn_metadata_json, turn_data_json FROM turns "
        "WHERE conv_id = ? AND session_id = ? AND turn_id = ?",
        (conv_id, session_id, turn_id),
    )
    meta, data = turn_rows[0] if turn_rows else ("{}", "{}")
    return SnapshotDetail(
        conv_id,
        session_id,
        turn_id,
        phase,
        created_at_ms,
        tuple(
            Block(_int(o), _text(bid), _text(k), _text(r), _text(p), _text(bm))
            for o, bid, k, r, p, bm in block_rows
        ),
        _text(meta) or "{}",
        _text(data) or "{}",
        None,
    )


def data_version_plan() -> Plan[int]:
    """SQLite's data_version: changes when another connection commits."""
    rows = yield (MAIN, "PRAGMA data_version", ())
    return _int(rows[0][0]) if rows else 0


def read_error(opened: OpenedDatabase, target: str, exc: sqlite3.Error) -> StoreError:
    """The StoreError for a SQLite error met while reading `target` of `opened`."""
    if target == TIMELINE and opened.timeline_path not in (None, opened.read_path):
        assert opened.timeline_path is not None
        return classify_error(opened.timeline_path, exc, read_only=True)
    return classify_error(opened.path, exc, read_only=True, check=opened.read_path)


class Reader:
    """Synchronous reader (stdlib sqlite3) over an opened database; used by the CLI."""

    def __init__(self, opened: OpenedDatabase) -> None:
        self.opened = opened
        self._conns: dict[str, sqlite3.Connection] = {}

    def _conn(self, target: str) -> sqlite3.Connection:
        if target not in self._conns:
            path = self.opened.read_path if target == MAIN else self.opened.timeline_path
            assert path is not None
            self._conns[target] = connect(path, "ro")
        return self._conns[target]

    def run(self, plan: Plan[T]) -> T:
        """Drive a plan to completion on sqlite3 connections.

        A SQLite error (a damaged page met while reading, a lock held past the timeout)
        becomes the same one-line StoreError the opener raises, naming the user's file.
        """
        target = MAIN
        try:
            query = next(plan)
            while True:
                target, sql, params = query
                if target == TIMELINE and self.opened.timeline_path is None:
                    rows: Rows = []
                else:
                    conn = self._conn(target)
                    try:
                        rows = conn.execute(sql, params).fetchall()
                    except sqlite3.OperationalError as exc:
                        if not is_decode_error(exc) or conn.text_factory is lenient_text:
                            raise
                        conn.text_factory = lenient_text  # shown with U+FFFD from now on
                        rows = conn.execute(sql, params).fetchall()
                query = plan.send(rows)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        except sqlite3.Error as exc:
            raise read_error(self.opened, target, exc) from None

    def conversations(self) -> list[ConversationSummary]:
        """All conversations, newest activity first."""
        if self.opened.schema_after == Era.EMPTY:
            return []
        return self.run(conversations_plan(self.opened.timeline_path is not None))

    def turns(self, conv_id: str) -> list[TurnRecord]:
        """All turns of a conversation (unordered; see tui.domain for the order)."""
        if self.opened.schema_after == Era.EMPTY:
            return []
        return self.run(turns_plan(conv_id))

    def timeline(self, conv_ids: tuple[str, ...]) -> dict[str, TimelineRow]:
        """Timeline-store runtime and session for these conversations."""
        if self.opened.timeline_path is None:
            return {}
        return self.run(timeline_plan(conv_ids))

    def snapshot(
        self, conv_id: str, session_id: str, turn_id: str, phase: str, created_at_ms: int
    ) -> SnapshotDetail | None:
        """One snapshot's blocks and metadata."""
        return self.run(snapshot_plan(conv_id, session_id, turn_id, phase, created_at_ms))

    def close(self) -> None:
        """Close every connection."""
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()
