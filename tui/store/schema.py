"""Era detection: classify a SQLite file by its tables and columns, never its name."""

from __future__ import annotations

import sqlite3

from tui.store.models import Era, SchemaInfo

LEGACY_ARCHIVE_TABLES = ("turn_snapshots_legacy", "turn_snapshots")
NORMALIZED_SUPPORT_TABLES = ("blocks", "turn_block_membership")
GEPPETTO_TABLE = "geppetto_turns"
TIMELINE_TABLE = "timeline_conversations"

# Index name -> CREATE statement, in the order pinocchio creates them.
GP26_INDEXES: dict[str, str] = {
    "turns_by_conv_session": (
        "CREATE INDEX IF NOT EXISTS turns_by_conv_session "
        "ON turns(conv_id, session_id, updated_at_ms DESC)"
    ),
    "turns_by_session": (
        "CREATE INDEX IF NOT EXISTS turns_by_session ON turns(session_id, updated_at_ms DESC)"
    ),
    "blocks_by_kind_role": "CREATE INDEX IF NOT EXISTS blocks_by_kind_role ON blocks(kind, role)",
    "turn_block_membership_by_turn_phase": (
        "CREATE INDEX IF NOT EXISTS turn_block_membership_by_turn_phase "
        "ON turn_block_membership(conv_id, session_id, turn_id, phase, "
        "snapshot_created_at_ms DESC, ordinal)"
    ),
    "turn_block_membership_by_block": (
        "CREATE INDEX IF NOT EXISTS turn_block_membership_by_block "
        "ON turn_block_membership(block_id, content_hash)"
    ),
    "turns_by_conv_runtime_updated": (
        "CREATE INDEX IF NOT EXISTS turns_by_conv_runtime_updated "
        "ON turns(conv_id, runtime_key, updated_at_ms DESC)"
    ),
    "turns_by_conv_inference_updated": (
        "CREATE INDEX IF NOT EXISTS turns_by_conv_inference_updated "
        "ON turns(conv_id, inference_id, updated_at_ms DESC)"
    ),
}

CREATE_TURNS = """CREATE TABLE IF NOT EXISTS turns (
    conv_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    turn_id TEXT NOT NULL,
    turn_created_at_ms INTEGER NOT NULL,
    turn_metadata_json TEXT NOT NULL DEFAULT '{}',
    turn_data_json TEXT NOT NULL DEFAULT '{}',
    updated_at_ms INTEGER NOT NULL,
    runtime_key TEXT NOT NULL DEFAULT '',
    inference_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (conv_id, session_id, turn_id)
)"""

CREATE_BLOCKS = """CREATE TABLE IF NOT EXISTS blocks (
    block_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    hash_algorithm TEXT NOT NULL DEFAULT 'sha256-canonical-json-v1',
    kind TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT '',
    payload_json TEXT NOT NULL DEFAULT '{}',
    block_metadata_json TEXT NOT NULL DEFAULT '{}',
    first_seen_at_ms INTEGER NOT NULL,
    PRIMARY KEY (block_id, content_hash)
)"""

CREATE_MEMBERSHIP = """CREATE TABLE IF NOT EXISTS turn_block_membership (
    conv_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    turn_id TEXT NOT NULL,
    phase TEXT NOT NULL,
    snapshot_created_at_ms INTEGER NOT NULL,
    ordinal INTEGER NOT NULL,
    block_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    PRIMARY KEY (conv_id, session_id, turn_id, phase, snapshot_created_at_ms, ordinal),
    FOREIGN KEY (conv_id, session_id, turn_id)
        REFERENCES turns(conv_id, session_id, turn_id) ON DELETE CASCADE,
    FOREIGN KEY (block_id, content_hash) REFERENCES blocks(block_id, content_hash)
)"""

LEGACY_COLUMNS = frozenset({"conv_id", "turn_id", "phase", "created_at_ms", "payload"})


def table_names(conn: sqlite3.Connection) -> frozenset[str]:
    """Names of the ordinary tables in the main schema."""
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    return frozenset(str(r[0]) for r in rows)


def index_names(conn: sqlite3.Connection) -> frozenset[str]:
    """Names of all indexes in the main schema."""
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    return frozenset(str(r[0]) for r in rows)


def table_columns(conn: sqlite3.Connection, table: str) -> frozenset[str]:
    """Lower-cased column names of a table (empty when it does not exist)."""
    rows = conn.execute("SELECT name FROM pragma_table_info(?)", (table,)).fetchall()
    return frozenset(str(r[0]).strip().lower() for r in rows)


def _is_legacy(columns: frozenset[str]) -> bool:
    return LEGACY_COLUMNS <= columns and ("session_id" in columns or "run_id" in columns)


def legacy_session_column(columns: frozenset[str]) -> str:
    """The column a legacy snapshot table keeps the session in (era 0 calls it run_id)."""
    return "session_id" if "session_id" in columns else "run_id"


def detect(conn: sqlite3.Connection) -> SchemaInfo:
    """Classify the open database into an `Era` (tables and columns only, no row scans)."""
    tables = table_names(conn)
    has_timeline = TIMELINE_TABLE in tables
    has_geppetto = GEPPETTO_TABLE in tables
    turns_cols = table_columns(conn, "turns") if "turns" in tables else frozenset()
    legacy_table: str | None = None
    legacy_cols: frozenset[str] = frozenset()
    if turns_cols and _is_legacy(turns_cols):
        legacy_table, legacy_cols = "turns", turns_cols
    else:
        for name in LEGACY_ARCHIVE_TABLES:
            if name in tables:
                cols = table_columns(conn, name)
                if _is_legacy(cols):
                    legacy_table, legacy_cols = name, cols
                    break
    normalized_turns = bool(turns_cols) and legacy_table != "turns"
    support = [t for t in NORMALIZED_SUPPORT_TABLES if t in tables]

    if legacy_table == "turns":
        era = (
            Era.HYBRID
            if support
            else (Era.ERA1_SNAPSHOTS if "session_id" in turns_cols else Era.ERA0_RUN_ID)
        )
    elif normalized_turns:
        era = Era.GP26 if {"runtime_key", "inference_id"} <= turns_cols else Era.ERA2_NORMALIZED
        if legacy_table is not None:
            # Legacy archive beside normalised tables: a finished migration keeps it;
            # the migration plan decides whether rows are still pending.
            era = Era.HYBRID if not {"runtime_key", "inference_id"} <= turns_cols else era
    elif legacy_table is not None:
        era = Era.HYBRID
    elif has_geppetto:
        era = Era.GEPPETTO
    elif not tables:
        era = Era.EMPTY
    else:
        era = Era.NOT_TURNS

    missing: tuple[str, ...] = ()
    if era in (Era.GP26, Era.ERA2_NORMALIZED):
        present = index_names(conn)
        missing = tuple(name for name in GP26_INDEXES if name not in present)
    return SchemaInfo(
        era=era,
        tables=tables,
        turns_columns=turns_cols,
        legacy_table=legacy_table,
        legacy_session_column=legacy_session_column(legacy_cols) if legacy_table else None,
        has_geppetto=has_geppetto,
        has_timeline=has_timeline,
        missing_indexes=missing,
    )


# Tables and columns some era of pinocchio or geppetto writes; anything else is kept as is.
KNOWN_TABLES = frozenset(
    {
        "turns",
        "blocks",
        "turn_block_membership",
        *LEGACY_ARCHIVE_TABLES,
        GEPPETTO_TABLE,
        TIMELINE_TABLE,
        "timeline_entities",
        "timeline_versions",
        "pinocchio_schema_version",
    }
)
KNOWN_TURNS_COLUMNS = frozenset(
    {
        "conv_id",
        "session_id",
        "run_id",
        "turn_id",
        "phase",
        "payload",
        "created_at_ms",
        "turn_created_at_ms",
        "turn_metadata_json",
        "turn_data_json",
        "updated_at_ms",
        "runtime_key",
        "inference_id",
    }
)


def future_schema(conn: sqlite3.Connection, info: SchemaInfo) -> tuple[str, ...]:
    """What a newer writer may have added: unknown tables, `turns` columns, views and a
    non-zero `user_version`. Such things are kept as they are and ignored."""
    found = [f"table {t}" for t in sorted(info.tables - KNOWN_TABLES)]
    found += [f"column turns.{c}" for c in sorted(info.turns_columns - KNOWN_TURNS_COLUMNS)]
    views = conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'").fetchall()
    found += [f"view {r[0]}" for r in sorted(views)]
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version:
        found.append(f"user_version {version}")
    return tuple(found)
