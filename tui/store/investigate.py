"""Query plans of the investigation commands: database-wide facts for `check`, id and text
look-ups for `find`.

Plans as in `tui.store.queries` (generators yielding ``(target, sql, params)``), run by
`tui.store.reader.Reader`. They return plain frozen dataclasses; the rules that turn them
into anomalies and matches live in the pure modules `tui.check` and `tui.find`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from tui.store.overlay import Overlay, TurnKey
from tui.store.payload import PayloadError, parse_turn_yaml
from tui.store.queries import MAIN, Plan, Rows, Source, as_int, source_plan

# Fields an id look-up matches, in the order matches are listed.
ID_FIELDS: tuple[str, ...] = ("conv_id", "session_id", "turn_id", "inference_id", "runtime_key")

_CHUNK = 300  # (value, value) pairs per VALUES list, well under SQLite's variable limit


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else ("" if value is None else str(value))


def like_escape(text: str) -> str:
    """`text` for a LIKE pattern with ``ESCAPE '\\'`` (``%`` and ``_`` taken literally)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --------------------------------------------------------------------------------------
# check: facts only SQL can see
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrphanSnapshot:
    """Membership rows of one snapshot whose (conv, session, turn) has no `turns` row."""

    conv_id: str
    session_id: str
    turn_id: str
    phase: str
    snapshot_created_at_ms: int
    rows: int


@dataclass(frozen=True)
class EarlySnapshot:
    """A snapshot taken before its turn's `turn_created_at_ms`."""

    conv_id: str
    session_id: str
    turn_id: str
    phase: str
    snapshot_created_at_ms: int
    turn_created_at_ms: int


@dataclass(frozen=True)
class AnomalyFacts:
    """Database-wide facts of the `check` rules that the per-turn records do not carry."""

    orphan_snapshots: tuple[OrphanSnapshot, ...] = ()
    early_snapshots: tuple[EarlySnapshot, ...] = ()


def anomaly_facts_plan() -> Plan[AnomalyFacts]:
    """Orphan membership rows and snapshots older than their turn (normalised tables only:
    `geppetto_turns` has one row per snapshot and derives the turn's times from them)."""
    source = yield from source_plan()
    if source.kind != "normalized":
        return AnomalyFacts()
    orphans = yield (
        MAIN,
        """SELECT m.conv_id, m.session_id, m.turn_id, m.phase, m.snapshot_created_at_ms,
                  COUNT(*)
           FROM turn_block_membership m
           WHERE NOT EXISTS (SELECT 1 FROM turns t WHERE t.conv_id = m.conv_id
                             AND t.session_id = m.session_id AND t.turn_id = m.turn_id)
           GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 5, 4""",
        (),
    )
    created = source.expr("turn_created_at_ms")
    early = yield (
        MAIN,
        f"""SELECT m.conv_id, m.session_id, m.turn_id, m.phase, m.snapshot_created_at_ms,
                   t.{created}
            FROM (SELECT DISTINCT conv_id, session_id, turn_id, phase, snapshot_created_at_ms
                  FROM turn_block_membership) m
            JOIN turns t ON t.conv_id = m.conv_id AND t.session_id = m.session_id
                        AND t.turn_id = m.turn_id
            WHERE m.snapshot_created_at_ms < t.{created}
            ORDER BY 1, 2, 3, 5, 4"""
        if created != "0"
        else "SELECT 1 WHERE 0",
        (),
    )
    return AnomalyFacts(
        tuple(
            OrphanSnapshot(_text(c), _text(s), _text(t), _text(p), as_int(ms), as_int(n))
            for c, s, t, p, ms, n in orphans
        ),
        tuple(
            EarlySnapshot(_text(c), _text(s), _text(t), _text(p), as_int(ms), as_int(tc))
            for c, s, t, p, ms, tc in early
        ),
    )


# --------------------------------------------------------------------------------------
# find: ids
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TurnIds:
    """A turn's ids (runtime key and inference id as read, overlay applied), and the
    snapshot a look-up jumps to: its final, else its latest ("" / 0 when it has none)."""

    conv_id: str
    session_id: str
    turn_id: str
    runtime_key: str
    inference_id: str
    turn_created_at_ms: int
    phase: str = ""
    snapshot_created_at_ms: int = 0


def _prefix(value: str, needle: str) -> bool:
    return value.lower().startswith(needle)


def _matches_any(row: TurnIds, needle: str) -> bool:
    return any(
        _prefix(v, needle)
        for v in (row.conv_id, row.session_id, row.turn_id, row.runtime_key, row.inference_id)
    )


def _jump_target(snaps: Iterable[tuple[str, int]]) -> tuple[str, int]:
    """The final snapshot (its latest), else the latest snapshot."""
    best: tuple[str, int] = ("", 0)
    best_final: tuple[str, int] | None = None
    for phase, ms in snaps:
        if phase == "final" and (best_final is None or ms >= best_final[1]):
            best_final = (phase, ms)
        if not best[0] or ms >= best[1]:
            best = (phase, ms)
    return best_final if best_final is not None else best


def _chunks(items: list[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def find_ids_plan(query: str, overlay: Overlay, limit: int | None = None) -> Plan[list[TurnIds]]:
    """Turns any of whose ids starts with `query` (case-insensitive ASCII; exact included).

    Values the read-only overlay derives in memory are matched too. Each turn carries the
    snapshot to jump to (final, else latest)."""
    needle = query.strip().lower()
    if not needle:
        return []
    source = yield from source_plan()
    if source.kind == "none":
        return []
    if source.kind == "geppetto":
        rows = yield (
            MAIN,
            "SELECT conv_id, session_id, turn_id, phase, created_at_ms, runtime_key, "
            "inference_id FROM geppetto_turns ORDER BY created_at_ms, phase",
            (),
        )
        turns: dict[tuple[str, str, str], list[Any]] = {}
        snaps: dict[tuple[str, str, str], list[tuple[str, int]]] = {}
        for conv, sess, turn, phase, ms, rk, inf in rows:
            key = (_text(conv), _text(sess), _text(turn))
            r, i, _ = overlay.geppetto_values((*key, _text(phase)), _text(rk), _text(inf))
            entry = turns.setdefault(key, ["", "", as_int(ms)])
            entry[0] = r or entry[0]
            entry[1] = i or entry[1]
            entry[2] = min(entry[2], as_int(ms))
            snaps.setdefault(key, []).append((_text(phase), as_int(ms)))
        out = []
        for key, (rk, inf, created) in turns.items():
            row = TurnIds(*key, rk, inf, created, *_jump_target(snaps[key]))
            if _matches_any(row, needle):
                out.append(row)
        return out[:limit] if limit is not None else out
    found = yield from _matching_turns(needle, source, overlay, limit)
    # The jump target: the latest final, read with the turn; only turns without a final
    # read all their snapshots (every block row of them, so kept to those few turns).
    snaps = yield from _snapshots_of([key for key, (_, final) in found.items() if final is None])
    return [
        TurnIds(
            *key,
            row.runtime_key,
            row.inference_id,
            row.turn_created_at_ms,
            *_jump_target([("final", as_int(final))] if final is not None else snaps[key]),
        )
        for key, (row, final) in found.items()
    ]


_Handle = tuple[str, Any]  # ("rowid", n) or ("key", (conv_id, session_id, turn_id))

# The latest `final` snapshot of the turn row `turns` (one seek in the membership index,
# which leads with the turn and phase); NULL when the turn has no final.
_FINAL_MS = """(SELECT MAX(m.snapshot_created_at_ms) FROM turn_block_membership m
               WHERE m.conv_id = turns.conv_id AND m.session_id = turns.session_id
                 AND m.turn_id = turns.turn_id AND m.phase = 'final')"""


def _matching_turns(
    needle: str, source: Source, overlay: Overlay, limit: int | None
) -> Plan[dict[TurnKey, tuple[TurnIds, Any]]]:
    """The first `limit` matching turns in (conversation, creation, turn id) order, each
    with its latest final snapshot's time (None when it has no final).

    With a limit, candidates (rowid, conversation) come from the narrow indexes, in their
    conversation order (pinocchio's (conv_id, session_id, turn_id) key and its
    (conv_id, runtime_key, …) and (conv_id, inference_id, …) indexes), at most 2 x
    `limit` from each; whole rows, whose created time sits behind the wide metadata JSON,
    are read for just enough whole conversations. Should the first candidates not fill
    `limit` (one conversation holding most of them), every candidate is read."""
    if limit is not None and limit <= 0:
        return {}
    e = source.expr
    pattern = like_escape(needle) + "%"
    like = "LIKE ?1 ESCAPE '\\'"
    with_rowid = not (yield from without_rowid_plan("turns"))
    ids = f"conv_id {like} OR session_id {like} OR turn_id {like}"
    stored = [c for c in ("runtime_key", "inference_id") if c in source.columns]
    columns = (
        f"conv_id, session_id, turn_id, {e('runtime_key')}, {e('inference_id')}, "
        f"{e('turn_created_at_ms')}, {_FINAL_MS}"
    )
    # Turns whose derived (read-only overlay) runtime key or inference id matches.
    extras: list[tuple[str, _Handle]] = [
        (key[0], ("key", key)) for key in overlay.turns_with_prefix(needle)
    ]
    found: dict[TurnKey, tuple[TurnIds, Any]] = {}

    def keep(fetched: Rows) -> None:
        for conv, sess, turn, rk, inf, created, final in fetched:
            key = (_text(conv), _text(sess), _text(turn))
            derived = overlay.turns.get(key)
            if derived is not None:
                rk, inf = derived
            row = TurnIds(*key, _text(rk), _text(inf), as_int(created))
            if _matches_any(row, needle):
                found[key] = (row, final)

    def read(candidates: list[tuple[str, _Handle]], cap: int | None) -> Plan[None]:
        """Read candidates' rows, whole conversations at a time, until `cap` turns match."""
        candidates.sort(key=lambda c: c[0])
        start = 0
        while start < len(candidates) and (cap is None or len(found) < cap):
            stop = len(candidates) if cap is None else start + cap - len(found)
            stop = min(stop, len(candidates))
            while stop < len(candidates) and candidates[stop][0] == candidates[stop - 1][0]:
                stop += 1
            batch = [h for _, h in candidates[start:stop]]
            start = stop
            rowids = list(dict.fromkeys(v for kind, v in batch if kind == "rowid"))
            if rowids:
                keep(
                    (
                        yield (
                            MAIN,
                            f"SELECT {columns} FROM turns "
                            "WHERE rowid IN (SELECT value FROM json_each(?))",
                            (json.dumps(rowids),),
                        )
                    )
                )
            keys = list(dict.fromkeys(v for kind, v in batch if kind == "key"))
            for chunk in _chunks(keys):
                marks = ",".join("(?, ?, ?)" for _ in chunk)
                keep(
                    (
                        yield (
                            MAIN,
                            f"""WITH k(c, s, t) AS (VALUES {marks})
                                SELECT {columns} FROM turns
                                JOIN k ON conv_id = k.c AND session_id = k.s AND turn_id = k.t""",
                            tuple(v for key in chunk for v in key),
                        )
                    )
                )

    if limit is None or not with_rowid:  # every match (or no rowid): one pass over the table
        where = " OR ".join([ids, *(f"{c} {like}" for c in stored)])
        keep((yield (MAIN, f"SELECT {columns} FROM turns WHERE {where}", (pattern,))))
        yield from read(extras, None)
    else:
        parts = [ids, *(f"{c} {like}" for c in stored)]
        for per_part in (2 * limit, None):
            found.clear()
            rows: Rows = []
            bound: Any = None  # candidates of conversations below it are all listed
            for where in parts:
                sql = f"SELECT rowid, conv_id FROM turns WHERE {where}"
                if per_part is None:
                    got = yield (MAIN, sql, (pattern,))
                else:
                    got = yield (MAIN, f"{sql} ORDER BY conv_id LIMIT ?2", (pattern, per_part))
                    if len(got) == per_part and (bound is None or got[-1][1] < bound):
                        bound = got[-1][1]
                rows += got
            if bound is not None and not all(
                isinstance(conv, str) and "\ufffd" not in conv for _, conv in rows
            ):
                continue  # SQLite's order of these ids may not be Python's: read all
            candidates = [(_text(conv), ("rowid", rid)) for rid, conv in rows]
            candidates += extras
            if bound is not None:
                candidates = [c for c in candidates if c[0] < bound]
            yield from read(candidates, limit)
            if bound is None or len(found) >= limit:
                break
    ordered = sorted(found, key=lambda k: (k[0], found[k][0].turn_created_at_ms, k[2]))
    return {key: found[key] for key in ordered[:limit]}


def _snapshots_of(keys: list[TurnKey]) -> Plan[dict[TurnKey, list[tuple[str, int]]]]:
    """Every (phase, snapshot time) of each turn in `keys`."""
    snaps: dict[TurnKey, list[tuple[str, int]]] = {key: [] for key in keys}
    for chunk in _chunks(keys):
        marks = ",".join("(?, ?, ?)" for _ in chunk)
        rows = yield (
            MAIN,
            f"""WITH k(c, s, t) AS (VALUES {marks})
                SELECT DISTINCT m.conv_id, m.session_id, m.turn_id, m.phase,
                       m.snapshot_created_at_ms
                FROM k JOIN turn_block_membership m
                  ON m.conv_id = k.c AND m.session_id = k.s AND m.turn_id = k.t""",
            tuple(v for key in chunk for v in key),
        )
        for conv, sess, turn, phase, ms in rows:
            snaps.setdefault((_text(conv), _text(sess), _text(turn)), []).append(
                (_text(phase), as_int(ms))
            )
    return snaps


def without_rowid_plan(table: str) -> Plan[bool]:
    """Whether `table` was created WITHOUT ROWID (some writers other than pinocchio do)."""
    rows = yield (MAIN, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
    return bool(rows) and "WITHOUT ROWID" in " ".join(_text(rows[0][0]).upper().split())


# --------------------------------------------------------------------------------------
# find: text inside blocks
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextHit:
    """A block whose payload JSON holds the searched text, at the first snapshot of its
    conversation that contains it."""

    conv_id: str
    session_id: str
    turn_id: str
    phase: str
    snapshot_created_at_ms: int
    block_ordinal: int
    block_id: str
    kind: str
    payload_json: str


def json_forms(query: str) -> tuple[str, ...]:
    """The forms `query` can take inside stored JSON text: as written (UTF-8, as Go and
    most writers store it), with Go's HTML escapes, and fully ASCII-escaped."""
    inner = json.dumps(query, ensure_ascii=False)[1:-1]
    go = (
        inner.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
    ascii_form = json.dumps(query, ensure_ascii=True)[1:-1]
    return tuple(dict.fromkeys((inner, go, ascii_form)))


def find_text_plan(query: str) -> Plan[list[TextHit]]:
    """Blocks whose payload JSON contains `query` (SQLite LIKE: case-insensitive for ASCII).

    Candidates only: `tui.find` keeps those whose decoded text really holds the query (a
    LIKE over JSON also matches key names). Each (block, conversation) is reported once,
    at the earliest snapshot holding it."""
    if not query:
        return []
    source = yield from source_plan()
    forms = json_forms(query)
    if source.kind == "geppetto":
        where = " OR ".join("payload LIKE ? ESCAPE '\\'" for _ in forms)
        rows = yield (
            MAIN,
            "SELECT conv_id, session_id, turn_id, phase, created_at_ms, payload "
            f"FROM geppetto_turns WHERE {where} ORDER BY created_at_ms, phase",
            tuple(f"%{like_escape(f)}%" for f in forms),
        )
        return _geppetto_hits(rows)
    if source.kind != "normalized":
        return []
    like = tuple(f"%{like_escape(f)}%" for f in forms)
    where = " OR ".join("b.payload_json LIKE ? ESCAPE '\\'" for _ in forms)
    # One pass: the blocks table is scanned in its own order and each candidate's
    # membership rows are read through `turn_block_membership_by_block`, so the GROUP BY
    # follows the scan (no sort of every membership row). Blocks listed in more than one
    # conversation (rare) are read again, per conversation.
    without_rowid = yield from without_rowid_plan("blocks")
    group = "b.block_id, b.content_hash" if without_rowid else "b.rowid"
    rows = yield (
        MAIN,
        f"""SELECT b.block_id, b.content_hash, b.kind, b.payload_json, m.conv_id, m.session_id,
                   m.turn_id, m.phase, MIN(m.snapshot_created_at_ms), m.ordinal,
                   COUNT(DISTINCT m.conv_id)
            FROM blocks b CROSS JOIN turn_block_membership m
              ON m.block_id = b.block_id AND m.content_hash = b.content_hash
            WHERE {where}
            GROUP BY {group}""",
        like,
    )
    hits: list[TextHit] = []
    shared: dict[tuple[str, str], tuple[str, str]] = {}
    for bid, h, kind, payload, conv, sess, turn, phase, ms, ordinal, convs in rows:
        if as_int(convs) > 1:
            shared[(_text(bid), _text(h))] = (_text(kind), _text(payload))
            continue
        hits.append(
            TextHit(
                _text(conv),
                _text(sess),
                _text(turn),
                _text(phase),
                as_int(ms),
                as_int(ordinal),
                _text(bid),
                _text(kind),
                _text(payload),
            )
        )
    for chunk in _chunks(list(shared)):
        marks = ",".join("(?, ?)" for _ in chunk)
        more = yield (
            MAIN,
            f"""WITH k(b, h) AS (VALUES {marks})
                SELECT m.block_id, m.content_hash, m.conv_id, m.session_id, m.turn_id,
                       m.phase, MIN(m.snapshot_created_at_ms), m.ordinal
                FROM k CROSS JOIN turn_block_membership m
                  ON m.block_id = k.b AND m.content_hash = k.h
                GROUP BY m.block_id, m.content_hash, m.conv_id""",
            tuple(v for key in chunk for v in key),
        )
        for bid, h, conv, sess, turn, phase, ms, ordinal in more:
            kind, payload = shared[(_text(bid), _text(h))]
            hits.append(
                TextHit(
                    _text(conv),
                    _text(sess),
                    _text(turn),
                    _text(phase),
                    as_int(ms),
                    as_int(ordinal),
                    _text(bid),
                    kind,
                    payload,
                )
            )
    hits.sort(
        key=lambda t: (
            t.conv_id,
            t.snapshot_created_at_ms,
            t.turn_id,
            t.block_ordinal,
            t.phase,
            t.block_id,
        )
    )
    return hits


def _geppetto_hits(rows: list[tuple[Any, ...]]) -> list[TextHit]:
    from tui.store import gojson

    seen: set[tuple[str, str, str]] = set()
    hits: list[TextHit] = []
    for conv, sess, turn, phase, ms, payload in rows:
        try:
            parsed = parse_turn_yaml(_text(payload))
        except PayloadError:
            continue
        for ordinal, block in enumerate(parsed.blocks):
            try:
                payload_json = gojson.marshal_object(block.payload)
            except (ValueError, TypeError):
                continue
            bid = block.id or f"{_text(turn)}#{ordinal}"
            key = (_text(conv), bid, payload_json)
            if key in seen:
                continue
            seen.add(key)
            hits.append(
                TextHit(
                    _text(conv),
                    _text(sess),
                    _text(turn),
                    _text(phase),
                    as_int(ms),
                    ordinal,
                    bid,
                    block.kind,
                    payload_json,
                )
            )
    return hits
