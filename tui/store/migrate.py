"""Bring any era of turns database to the GP-26 schema in one write transaction.

The result equals running pinocchio's own migrations in order: legacy YAML snapshot
rows normalised into turns / blocks / turn_block_membership (the legacy table is
renamed to ``turn_snapshots_legacy`` and kept), missing columns added, ``updated_at_ms``
repaired, ``runtime_key`` / ``inference_id`` backfilled from turn metadata by Go's exact
rules, and indexes created. ``geppetto_turns`` keeps its table and is backfilled in place.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from tui.store import gojson, schema
from tui.store.errors import printable
from tui.store.models import Era, MigrationReport, Progress, SchemaInfo

ProgressFn = Callable[[Progress], None]
StepFn = Callable[[str], None]

LEGACY_ARCHIVE = "turn_snapshots_legacy"
PROGRESS_EVERY = 2000
# Up to this many pages (64 MiB at 4 KiB) the whole file is checked before a migration
# writes it (about 0.1 s); above, only the tables the migration rewrites are checked, so
# the migration of a big file stays within its benchmark budget.
FULL_CHECK_MAX_PAGES = 16384
REASON_MALFORMED = "metadata JSON that Go's decoder rejects"
REASON_NO_KEY = "no runtime key in turn metadata"

# Columns pinocchio adds with ALTER TABLE, in its order.
_ADDED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("turn_created_at_ms", "INTEGER NOT NULL DEFAULT 0"),
    ("turn_metadata_json", "TEXT NOT NULL DEFAULT '{}'"),
    ("turn_data_json", "TEXT NOT NULL DEFAULT '{}'"),
    ("updated_at_ms", "INTEGER NOT NULL DEFAULT 0"),
    ("runtime_key", "TEXT NOT NULL DEFAULT ''"),
    ("inference_id", "TEXT NOT NULL DEFAULT ''"),
)


@dataclass
class _Run:
    """Mutable tally of one migration run."""

    steps: list[str] = field(default_factory=list)
    backfilled_runtime_key: int = 0
    backfilled_inference_id: int = 0
    malformed: int = 0
    legacy_normalized: int = 0
    legacy_unparsed: int = 0
    unparsed_examples: list[str] = field(default_factory=list)
    # Unknown runtimes tallied by the turn backfill scan (None: not scanned).
    unknown_no_key: int | None = None
    unknown_malformed: int = 0


def _noop_progress(_: Progress) -> None:
    return None


def _noop_step(_: str) -> None:
    return None


# --------------------------------------------------------------------------- backfill


@dataclass(frozen=True)
class BackfillUpdate:
    """New runtime_key / inference_id values for one selected row."""

    key: tuple[Any, ...]
    runtime_key: str
    inference_id: str
    runtime_changed: bool
    inference_changed: bool


def backfill_values(
    runtime_key: str, inference_id: str, metadata: dict[str, Any]
) -> tuple[str, str]:
    """Go's rule for a selected row: keep existing values trimmed, else read metadata."""
    rk = gojson.go_trim_space(runtime_key)
    inf = gojson.go_trim_space(inference_id)
    if rk == "":
        rk = gojson.extract_runtime_key(metadata)
    if inf == "":
        inf = gojson.extract_inference_id(metadata)
    return rk, inf


def _as_text(value: Any) -> str:
    """A TEXT value read as bytes or str (invalid UTF-8 shown as U+FFFD)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else ""


def _selected_turn_rows(conn: sqlite3.Connection) -> tuple[tuple[str, ...], list[Any]]:
    """Rows Go's backfill selects (a value exactly ''), keyed by rowid where there is one."""
    where = "WHERE runtime_key = '' OR inference_id = ''"
    cols = "runtime_key, inference_id, turn_metadata_json"
    factory = conn.text_factory
    conn.text_factory = bytes  # the metadata goes to orjson as raw UTF-8: no str decoding
    try:
        return ("rowid",), conn.execute(f"SELECT rowid, {cols} FROM turns {where}").fetchall()
    except sqlite3.OperationalError:  # a WITHOUT ROWID table from some other writer
        conn.text_factory = factory  # its key columns go back into an UPDATE as text
        key = ("conv_id", "session_id", "turn_id")
        rows = conn.execute(f"SELECT {', '.join(key)}, {cols} FROM turns {where}").fetchall()
        return key, rows
    finally:
        conn.text_factory = factory


# A JSON number "-0..." can only follow one of these (JSON whitespace included). orjson
# reads -0 as the integer 0 where Go keeps the float -0, so only texts with a "-0" in a
# number position need the exact decoder; a "-0" inside a string ("2026-02-...", a UUID)
# does not. Over-approximate on purpose: a match only means "take the exact path".
_NUMBER_NEG_ZERO = re.compile(rb"[:\[,\s]-0")


def _fast_metadata(meta_json: bytes) -> dict[str, Any] | None:
    """`gojson.decode_metadata(meta_json, float64=False)` for raw bytes, with orjson tried
    first whenever no "-0" stands in a number position; everything orjson refuses goes to
    `decode_metadata`, which has the last word (the same answers, per row)."""
    if gojson.FAST_DECODE and (
        b"-0" not in meta_json or _NUMBER_NEG_ZERO.search(meta_json) is None
    ):
        try:
            fast = orjson.loads(meta_json)
        except (orjson.JSONDecodeError, ValueError, TypeError, RecursionError):
            pass
        else:
            if fast is None:
                return {}
            return fast if isinstance(fast, dict) else None
    return gojson.decode_metadata(meta_json, float64=False)


def _compute_turn_backfill(
    conn: sqlite3.Connection, run: _Run, progress: ProgressFn
) -> tuple[tuple[str, ...], list[BackfillUpdate]]:
    """One pass over the selected rows: the updates, malformed rows, and unknown tallies."""
    key_cols, rows = _selected_turn_rows(conn)
    width = len(key_cols)
    updates: list[BackfillUpdate] = []
    total = len(rows)
    no_key = 0
    extract_rk = gojson.extract_runtime_key
    extract_inf = gojson.extract_inference_id
    for i, row in enumerate(rows):
        if i % PROGRESS_EVERY == 0:
            progress(Progress("backfill", i, total))
        rk0, inf0, meta_json = row[width:]
        if rk0 == b"" and inf0 == b"" and type(meta_json) is bytes:
            # The common case (both columns just added): backfill_values("", "", meta).
            meta = _fast_metadata(meta_json)
            if meta is None:
                run.malformed += 1
                run.unknown_malformed += 1
                continue
            rk = extract_rk(meta)
            inf = extract_inf(meta)
            if not rk.strip():
                no_key += 1
            if rk or inf:
                updates.append(BackfillUpdate(tuple(row[:width]), rk, inf, rk != "", inf != ""))
            continue
        rk0 = _as_text(rk0)
        inf0 = _as_text(inf0)
        if isinstance(meta_json, bytes):
            meta = _fast_metadata(meta_json)
        else:
            meta = gojson.decode_metadata(
                meta_json if isinstance(meta_json, str) else None, float64=False
            )
        if meta is None:
            run.malformed += 1
            if not rk0.strip():
                run.unknown_malformed += 1
            continue
        rk, inf = backfill_values(rk0, inf0, meta)
        if not rk.strip():
            no_key += 1
        if rk != rk0 or inf != inf0:
            updates.append(
                BackfillUpdate(
                    tuple(row[:width]), rk, inf, rk0 == "" and rk != "", inf0 == "" and inf != ""
                )
            )
    # Rows not selected (both values set) are unknown only when the key is blank spaces.
    blank = conn.execute(
        "SELECT COUNT(*) FROM turns WHERE runtime_key <> '' AND inference_id <> '' "
        "AND TRIM(runtime_key) = ''"
    ).fetchone()[0]
    run.unknown_no_key = no_key + int(blank)
    progress(Progress("backfill", total, total))
    return key_cols, updates


def _metadata_from_yaml(payload: str) -> dict[str, Any] | None:
    """Turn metadata of a YAML payload as Go's JSON decoder would see it."""
    from tui.store.payload import PayloadError, parse_turn_yaml  # only YAML eras need it

    try:
        turn = parse_turn_yaml(payload)
        return gojson.decode_metadata(gojson.go_json_marshal(turn.metadata))
    except (PayloadError, ValueError, TypeError):
        return None


# --------------------------------------------------------------------------- legacy rows


@dataclass(frozen=True)
class _LegacyRow:
    conv_id: str
    session_id: str
    turn_id: str
    phase: str
    created_at_ms: int
    payload: str
    runtime_key: str
    inference_id: str


def _pending_legacy_rows(
    conn: sqlite3.Connection, table: str, session_col: str, legacy_cols: frozenset[str]
) -> list[_LegacyRow]:
    """Legacy snapshots not yet present in the normalised tables, oldest first."""
    rk = "l.runtime_key" if "runtime_key" in legacy_cols else "''"
    inf = "l.inference_id" if "inference_id" in legacy_cols else "''"
    normalized = "turns" in schema.table_names(conn) and table != "turns"
    where = ""
    if normalized:
        where = f"""WHERE NOT EXISTS (
            SELECT 1 FROM turn_block_membership m
            WHERE m.conv_id = l.conv_id AND m.session_id = l.{session_col}
              AND m.turn_id = l.turn_id AND m.phase = l.phase
              AND m.snapshot_created_at_ms = l.created_at_ms)
          AND NOT EXISTS (
            SELECT 1 FROM turns t
            WHERE t.conv_id = l.conv_id AND t.session_id = l.{session_col}
              AND t.turn_id = l.turn_id
              AND t.turn_created_at_ms <= l.created_at_ms
              AND t.updated_at_ms >= l.created_at_ms)"""
    sql = f"""SELECT l.conv_id, l.{session_col}, l.turn_id, l.phase, l.created_at_ms,
                     l.payload, {rk}, {inf}
              FROM "{table}" l {where}
              ORDER BY l.created_at_ms ASC, l.rowid ASC"""
    out: list[_LegacyRow] = []
    for conv, sess, turn, phase, created, payload, rkv, infv in conn.execute(sql):
        out.append(
            _LegacyRow(
                str(conv),
                str(sess),
                str(turn),
                str(phase),
                int(created or 0),
                payload if isinstance(payload, str) else "",
                rkv if isinstance(rkv, str) else "",
                infv if isinstance(infv, str) else "",
            )
        )
    return out


def _normalize_block_id(block_id: str, turn_id: str, ordinal: int) -> str:
    bid = gojson.go_trim_space(block_id)
    return bid if bid else f"{gojson.go_trim_space(turn_id)}#{ordinal}"


def _membership_exists(conn: sqlite3.Connection, row: _LegacyRow, turn_id: str) -> bool:
    found = conn.execute(
        "SELECT 1 FROM turn_block_membership WHERE conv_id = ? AND session_id = ? "
        "AND turn_id = ? AND phase = ? AND snapshot_created_at_ms = ? LIMIT 1",
        (row.conv_id, row.session_id, turn_id, row.phase, row.created_at_ms),
    ).fetchone()
    return found is not None


_UPSERT_TURN = """INSERT INTO turns(conv_id, session_id, turn_id, turn_created_at_ms,
        turn_metadata_json, turn_data_json, updated_at_ms, runtime_key, inference_id)
    VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT(conv_id, session_id, turn_id) DO UPDATE SET
        turn_created_at_ms = MIN(turns.turn_created_at_ms, excluded.turn_created_at_ms),
        turn_metadata_json = CASE WHEN excluded.updated_at_ms >= turns.updated_at_ms
            THEN excluded.turn_metadata_json ELSE turns.turn_metadata_json END,
        turn_data_json = CASE WHEN excluded.updated_at_ms >= turns.updated_at_ms
            THEN excluded.turn_data_json ELSE turns.turn_data_json END,
        updated_at_ms = MAX(turns.updated_at_ms, excluded.updated_at_ms),
        runtime_key = CASE WHEN excluded.runtime_key <> ''
            THEN excluded.runtime_key ELSE turns.runtime_key END,
        inference_id = CASE WHEN excluded.inference_id <> ''
            THEN excluded.inference_id ELSE turns.inference_id END"""

_UPSERT_BLOCK = """INSERT INTO blocks(block_id, content_hash, hash_algorithm, kind, role,
        payload_json, block_metadata_json, first_seen_at_ms)
    VALUES(?, ?, 'sha256-canonical-json-v1', ?, ?, ?, ?, ?)
    ON CONFLICT(block_id, content_hash) DO UPDATE SET
        kind = excluded.kind, role = excluded.role,
        payload_json = excluded.payload_json,
        block_metadata_json = excluded.block_metadata_json,
        first_seen_at_ms = MIN(blocks.first_seen_at_ms, excluded.first_seen_at_ms)"""

_INSERT_MEMBERSHIP = """INSERT OR REPLACE INTO turn_block_membership(conv_id, session_id,
        turn_id, phase, snapshot_created_at_ms, ordinal, block_id, content_hash)
    VALUES(?, ?, ?, ?, ?, ?, ?, ?)"""

_DELETE_MEMBERSHIP = """DELETE FROM turn_block_membership WHERE conv_id = ? AND session_id = ?
    AND turn_id = ? AND phase = ? AND snapshot_created_at_ms = ?"""


@dataclass
class _LegacyPlan:
    """Rows a legacy normalisation would write (computed read-only, written in one go)."""

    turn_rows: list[tuple[Any, ...]] = field(default_factory=list)
    block_rows: list[tuple[Any, ...]] = field(default_factory=list)
    deletes: list[tuple[Any, ...]] = field(default_factory=list)
    members: list[tuple[Any, ...]] = field(default_factory=list)
    normalized: int = 0
    unparsed: int = 0
    unparsed_examples: list[str] = field(default_factory=list)


def _legacy_plan(
    conn: sqlite3.Connection, info: SchemaInfo, table: str, progress: ProgressFn
) -> _LegacyPlan:
    """Parse the pending legacy rows into the normalised rows they become (reads only)."""
    from tui.store.payload import PayloadError, parse_turn_yaml  # only YAML eras need it

    assert info.legacy_session_column is not None
    plan = _LegacyPlan()
    legacy_cols = schema.table_columns(conn, table)
    rows = _pending_legacy_rows(conn, table, info.legacy_session_column, legacy_cols)
    total = len(rows)
    for i, row in enumerate(rows):
        if i % PROGRESS_EVERY == 0:
            progress(Progress("normalise legacy snapshots", i, total))
        try:
            turn = parse_turn_yaml(row.payload)
            meta_json = gojson.marshal_object(turn.metadata)
            data_json = gojson.marshal_object(turn.data)
        except (PayloadError, ValueError, TypeError) as exc:
            plan.unparsed += 1
            if len(plan.unparsed_examples) < 5:
                plan.unparsed_examples.append(
                    printable(f"{row.conv_id}/{row.turn_id}/{row.phase}@{row.created_at_ms}: {exc}")
                )
            continue
        turn_id = gojson.go_trim_space(row.turn_id)
        yaml_id = gojson.go_trim_space(turn.id)
        if yaml_id:
            turn_id = yaml_id
        if not turn_id:
            turn_id = "turn"
        if turn_id != row.turn_id and _membership_exists(conn, row, turn_id):
            continue
        key = (row.conv_id, row.session_id, turn_id, row.phase, row.created_at_ms)
        plan.turn_rows.append(
            (
                row.conv_id,
                row.session_id,
                turn_id,
                row.created_at_ms,
                meta_json,
                data_json,
                row.created_at_ms,
                gojson.go_trim_space(row.runtime_key),
                gojson.go_trim_space(row.inference_id),
            )
        )
        plan.deletes.append(key)
        for ordinal, block in enumerate(turn.blocks):
            block_id = _normalize_block_id(block.id, turn_id, ordinal)
            content_hash = gojson.canonical_block_hash(
                block.kind, block.role, block.payload, block.metadata
            )
            plan.block_rows.append(
                (
                    block_id,
                    content_hash,
                    gojson.go_trim_space(block.kind),
                    gojson.go_trim_space(block.role),
                    gojson.marshal_object(block.payload),
                    gojson.marshal_object(block.metadata),
                    row.created_at_ms,
                )
            )
            plan.members.append((*key, ordinal, block_id, content_hash))
        plan.normalized += 1
    progress(Progress("normalise legacy snapshots", total, total))
    return plan


def _write_legacy(conn: sqlite3.Connection, plan: _LegacyPlan, run: _Run) -> None:
    """Write a legacy plan's rows into the normalised tables (batched)."""
    if not plan.turn_rows:
        return
    conn.executemany(_UPSERT_TURN, plan.turn_rows)
    conn.executemany(_UPSERT_BLOCK, plan.block_rows)
    conn.executemany(_DELETE_MEMBERSHIP, plan.deletes)
    conn.executemany(_INSERT_MEMBERSHIP, plan.members)
    run.legacy_normalized = plan.normalized
    run.steps.append(
        f"normalise {len(plan.turn_rows)} legacy snapshots into turns/blocks/membership"
    )


# --------------------------------------------------------------------------- the steps


@dataclass
class Context:
    """One migration (or probe) of one connection: the tally and what steps computed."""

    conn: sqlite3.Connection
    info: SchemaInfo
    progress: ProgressFn = _noop_progress
    step: StepFn = _noop_step
    run: _Run = field(default_factory=_Run)
    legacy: _LegacyPlan | None = None  # computed by the legacy step's `needed`
    backfill: tuple[tuple[str, ...], list[BackfillUpdate]] | None = None

    def tables(self) -> frozenset[str]:
        """Tables now (earlier steps of this transaction may have added some)."""
        return schema.table_names(self.conn)

    def legacy_table(self) -> str | None:
        """The table holding legacy YAML snapshots now (after a rename, the archive)."""
        table = self.info.legacy_table
        if table == "turns" and LEGACY_ARCHIVE in self.tables():
            return LEGACY_ARCHIVE
        return table


@dataclass(frozen=True)
class Step:
    """One migration step: when it is needed, and what it does inside the transaction.

    `needed` reads only; `apply` runs inside the caller's BEGIN IMMEDIATE transaction.
    `in_memory` says the read-only overlay can stand in for the step (no copy needed).
    """

    name: str
    needed: Callable[[Context], bool]
    apply: Callable[[Context], None]
    in_memory: bool


def _turns_is_legacy(ctx: Context) -> bool:
    return ctx.info.legacy_table == "turns" and LEGACY_ARCHIVE not in ctx.tables()


def _rename_legacy_turns(ctx: Context) -> None:
    """Move a legacy `turns` snapshot table aside as `turn_snapshots_legacy` (kept)."""
    conn = ctx.conn
    legacy_indexes = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'turns' "
        "AND sql IS NOT NULL"
    ).fetchall()
    for (name,) in legacy_indexes:
        if name in schema.GP26_INDEXES:
            # An index name the normalised table needs; indexes hold no data.
            conn.execute(f'DROP INDEX "{name}"')
    conn.execute("PRAGMA legacy_alter_table = ON")
    try:
        conn.execute(f"ALTER TABLE turns RENAME TO {LEGACY_ARCHIVE}")
    finally:
        conn.execute("PRAGMA legacy_alter_table = OFF")
    ctx.run.steps.append(f"rename legacy turns to {LEGACY_ARCHIVE} (kept)")
    ctx.step("rename legacy table")


_NORMALIZED_TABLES = (
    ("turns", schema.CREATE_TURNS),
    ("blocks", schema.CREATE_BLOCKS),
    ("turn_block_membership", schema.CREATE_MEMBERSHIP),
)


def _tables_missing(ctx: Context) -> bool:
    tables = ctx.tables()
    return any(name not in tables for name, _ in _NORMALIZED_TABLES)


def _create_tables(ctx: Context) -> None:
    tables = ctx.tables()
    for name, ddl in _NORMALIZED_TABLES:
        if name not in tables:
            ctx.conn.execute(ddl)
            ctx.run.steps.append(f"create table {name}")
            ctx.step(f"create table {name}")


def _columns_missing(ctx: Context) -> bool:
    cols = schema.table_columns(ctx.conn, "turns")
    return any(column not in cols for column, _ in _ADDED_COLUMNS)


def _add_columns(ctx: Context) -> None:
    conn = ctx.conn
    cols = schema.table_columns(conn, "turns")
    for column, decl in _ADDED_COLUMNS:
        if column in cols:
            continue
        conn.execute(f"ALTER TABLE turns ADD COLUMN {column} {decl}")
        if column == "turn_created_at_ms" and "created_at_ms" in cols:
            conn.execute(
                "UPDATE turns SET turn_created_at_ms = CASE WHEN turn_created_at_ms > 0 "
                "THEN turn_created_at_ms ELSE COALESCE(created_at_ms, 0) END"
            )
        ctx.run.steps.append(f"add column turns.{column}")
        ctx.step(f"add column turns.{column}")


def _legacy_pending(ctx: Context) -> bool:
    table = ctx.legacy_table()
    if table is None:
        return False
    ctx.legacy = _legacy_plan(ctx.conn, ctx.info, table, ctx.progress)
    return bool(ctx.legacy.turn_rows)


def _normalize_legacy(ctx: Context) -> None:
    plan = ctx.legacy
    if plan is None:
        table = ctx.legacy_table()
        assert table is not None
        plan = _legacy_plan(ctx.conn, ctx.info, table, ctx.progress)
    _write_legacy(ctx.conn, plan, ctx.run)
    ctx.step("normalise legacy snapshots")


def _has_rows(ctx: Context) -> bool:
    return ctx.conn.execute("SELECT 1 FROM turns LIMIT 1").fetchone() is not None


def _zero_updated(ctx: Context) -> bool:
    if "updated_at_ms" not in schema.table_columns(ctx.conn, "turns"):
        return _has_rows(ctx)  # judged read-only before the column exists
    found = ctx.conn.execute(
        "SELECT 1 FROM turns WHERE NOT COALESCE(updated_at_ms, 0) > 0 LIMIT 1"
    ).fetchone()
    return found is not None


def _repair_updated_at(ctx: Context) -> None:
    cur = ctx.conn.execute(
        """UPDATE turns SET updated_at_ms = CASE
               WHEN COALESCE(turn_created_at_ms, 0) > 0 THEN turn_created_at_ms
               ELSE CAST(strftime('%s', 'now') AS INTEGER) * 1000 END
           WHERE NOT COALESCE(updated_at_ms, 0) > 0"""
    )
    if cur.rowcount > 0:
        ctx.run.steps.append(f"repair updated_at_ms on {cur.rowcount} turns")
        ctx.step("repair updated_at_ms")


def _backfill_pending(ctx: Context) -> bool:
    if not {"runtime_key", "inference_id"} <= schema.table_columns(ctx.conn, "turns"):
        return _has_rows(ctx)  # judged read-only before the columns exist
    ctx.run.malformed = ctx.run.unknown_malformed = 0
    ctx.backfill = _compute_turn_backfill(ctx.conn, ctx.run, ctx.progress)
    return bool(ctx.backfill[1])


def _backfill(ctx: Context) -> None:
    if ctx.backfill is None:
        _backfill_pending(ctx)
    assert ctx.backfill is not None
    key_cols, updates = ctx.backfill
    run = ctx.run
    run.backfilled_runtime_key += sum(u.runtime_changed for u in updates)
    run.backfilled_inference_id += sum(u.inference_changed for u in updates)
    if updates:
        where = " AND ".join(f"{c} = ?" for c in key_cols)
        ctx.conn.executemany(
            f"UPDATE turns SET runtime_key = ?, inference_id = ? WHERE {where}",
            [(u.runtime_key, u.inference_id, *u.key) for u in updates],
        )
        run.steps.append(f"backfill runtime_key/inference_id on {len(updates)} turns")
        ctx.step("backfill")


def _indexes_missing(ctx: Context) -> bool:
    present = schema.index_names(ctx.conn)
    return any(name not in present for name in schema.GP26_INDEXES)


def _create_indexes(ctx: Context) -> None:
    present = schema.index_names(ctx.conn)
    for name, ddl in schema.GP26_INDEXES.items():
        if name not in present:
            ctx.conn.execute(ddl)
            ctx.run.steps.append(f"create index {name}")
    ctx.step("create indexes")


# pinocchio's order. `geppetto_turns` belongs to geppetto's JS provider and is never
# written: its empty values are derived in memory (tui.store.overlay).
STEPS: tuple[Step, ...] = (
    Step("rename legacy turns table", _turns_is_legacy, _rename_legacy_turns, in_memory=False),
    Step("create normalised tables", _tables_missing, _create_tables, in_memory=False),
    Step("add GP-26 columns", _columns_missing, _add_columns, in_memory=True),
    Step("normalise legacy snapshots", _legacy_pending, _normalize_legacy, in_memory=False),
    Step("repair updated_at_ms", _zero_updated, _repair_updated_at, in_memory=True),
    Step("backfill runtime_key / inference_id", _backfill_pending, _backfill, in_memory=True),
    Step("create indexes", _indexes_missing, _create_indexes, in_memory=True),
)

_NOTHING_TO_DO = (Era.EMPTY, Era.NOT_TURNS, Era.NOT_SQLITE, Era.GEPPETTO)


def _geppetto_unknown(conn: sqlite3.Connection) -> tuple[int, int]:
    """(rows of unknown runtime, of which malformed) in geppetto_turns, after the overlay."""
    rows = conn.execute(
        "SELECT runtime_key, payload FROM geppetto_turns WHERE TRIM(runtime_key) = ''"
    ).fetchall()
    malformed = no_key = 0
    for rk, text in rows:
        meta = _metadata_from_yaml(text if isinstance(text, str) else "")
        if meta is None:
            malformed += 1
        elif not backfill_values(rk if isinstance(rk, str) else "", "x", meta)[0].strip():
            no_key += 1
    return no_key, malformed


def _report(ctx: Context, applied: bool) -> MigrationReport:
    run = ctx.run
    if run.unknown_no_key is None and ctx.info.era in (Era.GP26, Era.ERA2_NORMALIZED, Era.HYBRID):
        if "runtime_key" in schema.table_columns(ctx.conn, "turns"):
            _backfill_pending(ctx)  # tallies unknown runtimes and malformed rows
    no_key, malformed = run.unknown_no_key or 0, run.unknown_malformed
    if ctx.info.era == Era.GEPPETTO:
        no_key, malformed = _geppetto_unknown(ctx.conn)
    unknown = no_key + malformed
    reasons = tuple(
        (reason, n) for reason, n in ((REASON_NO_KEY, no_key), (REASON_MALFORMED, malformed)) if n
    )
    legacy = ctx.legacy
    return MigrationReport(
        applied=applied,
        steps=tuple(run.steps),
        backfilled_runtime_key=run.backfilled_runtime_key,
        backfilled_inference_id=run.backfilled_inference_id,
        unknown_runtime_turns=unknown,
        malformed_metadata_rows=run.malformed,
        legacy_rows_unparsed=legacy.unparsed if legacy else 0,
        legacy_rows_normalized=run.legacy_normalized,
        unparsed_legacy_examples=tuple(legacy.unparsed_examples) if legacy else (),
        unknown_runtime_reasons=reasons,
    )


def inspect(
    conn: sqlite3.Connection, info: SchemaInfo
) -> tuple[list[Step], MigrationReport | None]:
    """Judge the file read-only, once: (the steps it needs, the report of the file as it
    is when it needs none). After a step the overlay cannot stand in for, the rest depends
    on that step's writes and is not judged."""
    if info.era in (Era.EMPTY, Era.NOT_TURNS, Era.NOT_SQLITE):
        return [], MigrationReport(applied=False, steps=())
    ctx = Context(conn, info)
    steps: list[Step] = []
    if info.era != Era.GEPPETTO:
        for step in STEPS:
            if step.needed(ctx):
                steps.append(step)
                if not step.in_memory:
                    break
    if steps:
        return steps, None
    return steps, _report(ctx, applied=False)  # reuses the scan the steps' checks made


def needed_steps(conn: sqlite3.Connection, info: SchemaInfo) -> list[Step]:
    """The steps this file needs (see `inspect`)."""
    return inspect(conn, info)[0]


def probe(conn: sqlite3.Connection, info: SchemaInfo) -> MigrationReport | None:
    """Read-only: None when some step is needed, else the report of the file as it is."""
    return inspect(conn, info)[1]


def check_before_writing(conn: sqlite3.Connection, info: SchemaInfo) -> None:
    """Refuse to write into a damaged file: raise sqlite3.DatabaseError unless it checks ok.

    SQLite notices damage only in the pages a statement reads; a migration that adds
    columns and indexes does not read every page, and must not commit into a file whose
    other pages are garbage. Runs inside the migration's transaction (nothing written yet).
    """
    pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    if pages <= FULL_CHECK_MAX_PAGES:
        targets: list[str | None] = [None]
    else:
        written = ("turns", LEGACY_ARCHIVE, "turn_snapshots")
        targets = [t for t in written if t in info.tables]
    for table in targets:
        pragma = "PRAGMA quick_check(1)" if table is None else f'PRAGMA quick_check("{table}")'
        rows = conn.execute(pragma).fetchall()
        result = " ".join(str(rows[0][0]).split()) if rows else "no result"
        if result != "ok":
            raise sqlite3.DatabaseError(
                f"database disk image is malformed (found before migrating: {result})"
            )


def migrate(
    conn: sqlite3.Connection,
    info: SchemaInfo,
    *,
    on_progress: ProgressFn | None = None,
    on_step: StepFn | None = None,
    commit: bool = True,
) -> MigrationReport:
    """Apply the needed steps in one BEGIN IMMEDIATE transaction.

    `conn` must be in autocommit mode (isolation_level=None). On any error the
    transaction is rolled back and the file is left as it was. With `commit=False`
    the work is rolled back at the end (used for dry runs on private copies).
    """
    ctx = Context(conn, info, on_progress or _noop_progress, on_step or _noop_step)
    conn.execute("BEGIN IMMEDIATE")
    try:
        if info.era not in _NOTHING_TO_DO:
            check_before_writing(conn, info)
            for step in STEPS:
                if step.needed(ctx):
                    step.apply(ctx)
        report = _report(ctx, applied=bool(ctx.run.steps) and commit)
        if ctx.run.steps and commit:
            ctx.step("commit")
            conn.execute("COMMIT")
        else:
            conn.execute("ROLLBACK")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return report
