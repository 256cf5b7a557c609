"""Era writers: real SQLite files of every schema era, as the Go writers leave them."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.builders.specs import (
    HASH_ALGORITHM,
    BlockSpec,
    ConversationSpec,
    TurnSpec,
    _hash_from_json,
    _json,
    block_id_for,
    iter_snapshots,
    latest_snapshot,
    snapshot_metadata,
    turn_yaml,
)

# --------------------------------------------------------------------------------------
# SQL building blocks
# --------------------------------------------------------------------------------------

ERA0_TURNS_SQL = """CREATE TABLE turns (
  conv_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  turn_id TEXT NOT NULL,
  phase TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  payload TEXT NOT NULL,
  PRIMARY KEY (conv_id, run_id, turn_id, phase, created_at_ms)
)"""
ERA0_INDEXES = ("CREATE INDEX turns_by_run ON turns(run_id, created_at_ms DESC)",)

ERA1_TURNS_SQL = """CREATE TABLE turns (
  conv_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  turn_id TEXT NOT NULL,
  phase TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  payload TEXT NOT NULL,
  PRIMARY KEY (conv_id, session_id, turn_id, phase, created_at_ms)
)"""
ERA1_INDEXES = (
    "CREATE INDEX turns_by_conv ON turns(conv_id, created_at_ms DESC)",
    "CREATE INDEX turns_by_session ON turns(session_id, created_at_ms DESC)",
    "CREATE INDEX turns_by_phase ON turns(phase, created_at_ms DESC)",
)

BLOCKS_SQL = """CREATE TABLE IF NOT EXISTS blocks (
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

MEMBERSHIP_SQL = """CREATE TABLE IF NOT EXISTS turn_block_membership (
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

# (name, table, column list, columns of `turns` it needs)
_ERA2_INDEXES: tuple[tuple[str, str, str, frozenset[str]], ...] = (
    (
        "turns_by_conv_session",
        "turns",
        "conv_id, session_id, updated_at_ms DESC",
        frozenset({"updated_at_ms"}),
    ),
    ("turns_by_session", "turns", "session_id, updated_at_ms DESC", frozenset({"updated_at_ms"})),
    ("blocks_by_kind_role", "blocks", "kind, role", frozenset()),
    (
        "turn_block_membership_by_turn_phase",
        "turn_block_membership",
        "conv_id, session_id, turn_id, phase, snapshot_created_at_ms DESC, ordinal",
        frozenset(),
    ),
    (
        "turn_block_membership_by_block",
        "turn_block_membership",
        "block_id, content_hash",
        frozenset(),
    ),
)
_GP26_INDEXES: tuple[tuple[str, str, str, frozenset[str]], ...] = (
    (
        "turns_by_conv_runtime_updated",
        "turns",
        "conv_id, runtime_key, updated_at_ms DESC",
        frozenset({"runtime_key", "updated_at_ms"}),
    ),
    (
        "turns_by_conv_inference_updated",
        "turns",
        "conv_id, inference_id, updated_at_ms DESC",
        frozenset({"inference_id", "updated_at_ms"}),
    ),
)

_ERA2_TURN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("conv_id", "TEXT NOT NULL"),
    ("session_id", "TEXT NOT NULL"),
    ("turn_id", "TEXT NOT NULL"),
    ("turn_created_at_ms", "INTEGER NOT NULL"),
    ("turn_metadata_json", "TEXT NOT NULL DEFAULT '{}'"),
    ("turn_data_json", "TEXT NOT NULL DEFAULT '{}'"),
    ("updated_at_ms", "INTEGER NOT NULL"),
)
_RUNTIME_COLUMNS: tuple[tuple[str, str], ...] = (
    ("runtime_key", "TEXT NOT NULL DEFAULT ''"),
    ("inference_id", "TEXT NOT NULL DEFAULT ''"),
)

ERA2_VARIANTS = (
    "full",
    "no_updated_at",
    "no_metadata_json",
    "no_data_json",
    "created_at_ms",
    "zero_updated_at",
)


def _turn_columns(variant: str, *, runtime: bool) -> list[tuple[str, str]]:
    if variant not in ERA2_VARIANTS:
        raise ValueError(f"unknown era-2 variant {variant!r}; expected one of {ERA2_VARIANTS}")
    cols: list[tuple[str, str]] = []
    for name, decl in _ERA2_TURN_COLUMNS:
        if variant == "no_updated_at" and name == "updated_at_ms":
            continue
        if variant == "no_metadata_json" and name == "turn_metadata_json":
            continue
        if variant == "no_data_json" and name == "turn_data_json":
            continue
        if variant == "created_at_ms" and name == "turn_created_at_ms":
            cols.append(("created_at_ms", "INTEGER NOT NULL"))
            continue
        cols.append((name, decl))
    if runtime:
        cols.extend(_RUNTIME_COLUMNS)
    return cols


def _create_normalised_schema(
    conn: sqlite3.Connection, variant: str = "full", *, runtime: bool = False
) -> list[str]:
    """Create turns/blocks/membership tables; returns the turns column names."""
    cols = _turn_columns(variant, runtime=runtime)
    body = ",\n  ".join(f"{name} {decl}" for name, decl in cols)
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS turns (\n  {body},\n"
        "  PRIMARY KEY (conv_id, session_id, turn_id)\n)"
    )
    conn.execute(BLOCKS_SQL)
    conn.execute(MEMBERSHIP_SQL)
    return [name for name, _ in cols]


def _create_indexes(
    conn: sqlite3.Connection,
    turn_columns: Sequence[str],
    specs: Sequence[tuple[str, str, str, frozenset[str]]],
) -> None:
    have = set(turn_columns)
    for name, table, columns, needs in specs:
        if needs <= have:
            conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table}({columns})")


# --------------------------------------------------------------------------------------
# Row derivation
# --------------------------------------------------------------------------------------


def _turn_row(conv: ConversationSpec, turn: TurnSpec) -> dict[str, Any]:
    if not turn.snapshots:
        raise ValueError(f"turn {turn.turn_id!r} has no snapshots")
    created = min(s.created_at_ms for s in turn.snapshots)
    updated = max(s.created_at_ms for s in turn.snapshots)
    latest = latest_snapshot(turn)
    return {
        "conv_id": conv.conv_id,
        "session_id": conv.session_id,
        "turn_id": turn.turn_id,
        "turn_created_at_ms": created,
        "created_at_ms": created,
        "turn_metadata_json": _json(snapshot_metadata(turn, latest)),
        "turn_data_json": _json(turn.data),
        "updated_at_ms": updated,
        "runtime_key": turn.runtime_key_column,
        "inference_id": turn.inference_id_column,
    }


def _block_row(block_id: str, block: BlockSpec, seen_at: int) -> tuple[Any, ...]:
    payload_json = _json(block.payload or {})
    metadata_json = _json(block.metadata or {})
    return (
        block_id,
        _hash_from_json(block.kind, block.role, payload_json, metadata_json),
        HASH_ALGORITHM,
        block.kind.strip(),
        block.role.strip(),
        payload_json,
        metadata_json,
        seen_at,
    )


def _write_normalised(
    conn: sqlite3.Connection,
    convs: Sequence[ConversationSpec],
    turn_columns: Sequence[str],
    *,
    zero_updated_at: bool = False,
) -> None:
    """Insert turns, blocks and membership rows of ``convs`` (caller owns the transaction)."""
    turn_rows: list[tuple[Any, ...]] = []
    blocks: dict[tuple[str, str], tuple[Any, ...]] = {}
    membership: list[tuple[Any, ...]] = []
    # Accumulated turns share BlockSpec objects: compute each one's JSON and hash once.
    # (Keyed by object id; the specs stay alive in ``convs`` for the whole call.)
    content: dict[int, tuple[Any, ...]] = {}
    for conv in convs:
        for turn in conv.turns:
            row = _turn_row(conv, turn)
            if zero_updated_at:
                row["updated_at_ms"] = 0
            turn_rows.append(tuple(row[c] for c in turn_columns))
            for snap in turn.snapshots:
                for ordinal, block in enumerate(snap.blocks):
                    cached = content.get(id(block))
                    if cached is None:
                        cached = content[id(block)] = _block_row("", block, 0)[1:7]
                    key = (block_id_for(turn.turn_id, ordinal, block), cached[0])
                    old = blocks.get(key)
                    if old is None or snap.created_at_ms < old[7]:
                        blocks[key] = (key[0], *cached, snap.created_at_ms)
                    membership.append(
                        (
                            conv.conv_id,
                            conv.session_id,
                            turn.turn_id,
                            snap.phase,
                            snap.created_at_ms,
                            ordinal,
                            key[0],
                            key[1],
                        )
                    )
    placeholders = ", ".join("?" for _ in turn_columns)
    conn.executemany(
        f"INSERT INTO turns ({', '.join(turn_columns)}) VALUES ({placeholders})", turn_rows
    )
    conn.executemany(
        "INSERT OR IGNORE INTO blocks (block_id, content_hash, hash_algorithm, kind, role,"
        " payload_json, block_metadata_json, first_seen_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        list(blocks.values()),
    )
    conn.executemany(
        "INSERT INTO turn_block_membership (conv_id, session_id, turn_id, phase,"
        " snapshot_created_at_ms, ordinal, block_id, content_hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        membership,
    )


def _snapshot_table_rows(convs: Sequence[ConversationSpec]) -> list[tuple[Any, ...]]:
    return [
        (
            conv.conv_id,
            conv.session_id,
            turn.turn_id,
            snap.phase,
            snap.created_at_ms,
            turn_yaml(turn, snap),
        )
        for conv, turn, snap in iter_snapshots(convs)
    ]


# --------------------------------------------------------------------------------------
# Connection handling
# --------------------------------------------------------------------------------------

_SIDE_SUFFIXES = ("-wal", "-shm", "-journal")


def _side(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _require_new(path: Path) -> Path:
    path = Path(path)
    if path.exists() or any(_side(path, s).exists() for s in _SIDE_SUFFIXES):
        raise FileExistsError(f"{path} already exists")
    return path


def _open(path: Path, *, wal: bool = False, foreign_keys: bool = True) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA journal_mode={'WAL' if wal else 'DELETE'}")
    conn.execute("PRAGMA synchronous=OFF")  # fixtures: no fsync (not stored in the file)
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
    return conn


def _close(conn: sqlite3.Connection, path: Path) -> None:
    """Checkpoint, switch to rollback journaling, close, and check nothing is left beside."""
    try:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() == "wal":
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()
    leftovers = [str(_side(path, s)) for s in _SIDE_SUFFIXES if _side(path, s).exists()]
    if leftovers:
        raise RuntimeError(f"builder left files behind: {leftovers}")


def _open_existing(path: Path) -> sqlite3.Connection:
    if not Path(path).is_file():
        raise FileNotFoundError(path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


# --------------------------------------------------------------------------------------
# Era builders
# --------------------------------------------------------------------------------------


def build_era0(path: Path, convs: Sequence[ConversationSpec]) -> Path:
    """Era 0: one snapshot table ``turns`` keyed by ``run_id`` (holding the session id)."""
    path = _require_new(path)
    conn = _open(path)
    conn.execute("BEGIN")
    conn.execute(ERA0_TURNS_SQL)
    for stmt in ERA0_INDEXES:
        conn.execute(stmt)
    conn.executemany(
        "INSERT INTO turns (conv_id, run_id, turn_id, phase, created_at_ms, payload)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        _snapshot_table_rows(convs),
    )
    conn.execute("COMMIT")
    _close(conn, path)
    return path


def build_era1(path: Path, convs: Sequence[ConversationSpec]) -> Path:
    """Era 1: one snapshot table ``turns`` keyed by ``session_id``, YAML payloads."""
    path = _require_new(path)
    conn = _open(path)
    conn.execute("BEGIN")
    conn.execute(ERA1_TURNS_SQL)
    for stmt in ERA1_INDEXES:
        conn.execute(stmt)
    conn.executemany(
        "INSERT INTO turns (conv_id, session_id, turn_id, phase, created_at_ms, payload)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        _snapshot_table_rows(convs),
    )
    conn.execute("COMMIT")
    _close(conn, path)
    return path


def build_era2(path: Path, convs: Sequence[ConversationSpec], *, variant: str = "full") -> Path:
    """Era 2: normalised turns/blocks/turn_block_membership without runtime columns.

    ``variant`` reproduces older era-2 files: "full", "no_updated_at", "no_metadata_json",
    "no_data_json", "created_at_ms" (old ``created_at_ms`` instead of ``turn_created_at_ms``)
    and "zero_updated_at" (``updated_at_ms`` is 0 on every row).
    """
    _turn_columns(variant, runtime=False)  # validate before touching the disk
    path = _require_new(path)
    conn = _open(path)
    conn.execute("BEGIN")
    cols = _create_normalised_schema(conn, variant)
    _write_normalised(conn, convs, cols, zero_updated_at=variant == "zero_updated_at")
    _create_indexes(conn, cols, _ERA2_INDEXES)
    conn.execute("COMMIT")
    _close(conn, path)
    return path


def _build_gp26_into(path: Path, convs: Sequence[ConversationSpec]) -> sqlite3.Connection:
    conn = _open(path, wal=True)
    conn.execute("BEGIN")
    cols = _create_normalised_schema(conn, "full", runtime=True)
    _write_normalised(conn, convs, cols)
    _create_indexes(conn, cols, _ERA2_INDEXES + _GP26_INDEXES)
    conn.execute("COMMIT")
    return conn


def build_gp26(path: Path, convs: Sequence[ConversationSpec], *, keep_wal: bool = False) -> Path:
    """Era 3 (GP-26): era-2 "full" tables plus ``runtime_key``/``inference_id`` columns.

    The columns hold ``TurnSpec.runtime_key_column``/``inference_id_column`` verbatim. Written
    in WAL mode like pinocchio. With ``keep_wal=True`` the main file holds every conversation
    but the last one, whose rows sit only in ``<path>-wal`` (and ``<path>-shm``) as committed
    but not checkpointed frames; the main file's header stays in WAL mode.
    """
    path = _require_new(path)
    if not keep_wal:
        conn = _build_gp26_into(path, convs)
        _close(conn, path)
        return path

    convs = tuple(convs)
    if not convs:
        raise ValueError("keep_wal needs at least one conversation to leave in the WAL")
    head, tail = convs[:-1], convs[-1:]
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".gp26-wal-") as tmp:
        work = Path(tmp) / path.name
        conn = _build_gp26_into(work, head)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()  # journal_mode stays WAL in the file header

        writer = sqlite3.connect(work, isolation_level=None)
        try:
            writer.execute("PRAGMA journal_mode=WAL")
            writer.execute("PRAGMA wal_autocheckpoint=0")
            writer.execute("PRAGMA synchronous=OFF")
            writer.execute("PRAGMA foreign_keys=ON")
            writer.execute("BEGIN")
            cols = [r[1] for r in writer.execute("PRAGMA table_info(turns)")]
            _write_normalised(writer, tail, cols)
            writer.execute("COMMIT")
            # Copy while the writer still holds the files open, so nothing is checkpointed.
            shutil.copyfile(work, path)
            shutil.copyfile(_side(work, "-wal"), _side(path, "-wal"))
            if _side(work, "-shm").exists():
                shutil.copyfile(_side(work, "-shm"), _side(path, "-shm"))
        finally:
            writer.close()
    return path


def build_geppetto(path: Path, convs: Sequence[ConversationSpec]) -> Path:
    """geppetto's JS provider store: flat ``geppetto_turns``, one row per (turn, phase).

    The primary key has no timestamp, so only the latest snapshot of each phase survives.
    """
    path = _require_new(path)
    conn = _open(path)
    conn.execute("BEGIN")
    conn.execute(
        """CREATE TABLE geppetto_turns (
  conv_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  turn_id TEXT NOT NULL,
  phase TEXT NOT NULL,
  runtime_key TEXT NOT NULL DEFAULT '',
  inference_id TEXT NOT NULL DEFAULT '',
  created_at_ms INTEGER NOT NULL,
  payload TEXT NOT NULL,
  PRIMARY KEY (conv_id, session_id, turn_id, phase)
)"""
    )
    rows = [
        (
            conv.conv_id,
            conv.session_id,
            turn.turn_id,
            snap.phase,
            turn.runtime_key_column,
            turn.inference_id_column,
            snap.created_at_ms,
            turn_yaml(turn, snap),
        )
        for conv, turn, snap in iter_snapshots(convs)
    ]
    rows.sort(key=lambda r: r[6])  # stable: later snapshots replace earlier ones
    conn.executemany(
        "INSERT OR REPLACE INTO geppetto_turns (conv_id, session_id, turn_id, phase,"
        " runtime_key, inference_id, created_at_ms, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.execute("COMMIT")
    _close(conn, path)
    return path


def _go_d39acba_alters(conn: sqlite3.Connection) -> None:
    """The ALTERs pinocchio's Go store (d39acba) applies to a legacy snapshot ``turns`` table."""
    conn.execute("ALTER TABLE turns ADD COLUMN turn_created_at_ms INTEGER NOT NULL DEFAULT 0")
    conn.execute("UPDATE turns SET turn_created_at_ms = created_at_ms")
    conn.execute("ALTER TABLE turns ADD COLUMN turn_metadata_json TEXT NOT NULL DEFAULT '{}'")
    conn.execute("ALTER TABLE turns ADD COLUMN turn_data_json TEXT NOT NULL DEFAULT '{}'")
    conn.execute("ALTER TABLE turns ADD COLUMN updated_at_ms INTEGER NOT NULL DEFAULT 0")
    conn.execute(
        "UPDATE turns SET updated_at_ms = CASE WHEN updated_at_ms > 0 THEN updated_at_ms"
        " WHEN turn_created_at_ms > 0 THEN turn_created_at_ms ELSE 0 END"
    )
    conn.execute("ALTER TABLE turns ADD COLUMN runtime_key TEXT NOT NULL DEFAULT ''")
    conn.execute("ALTER TABLE turns ADD COLUMN inference_id TEXT NOT NULL DEFAULT ''")


def build_go_hybrid_era1(path: Path, convs: Sequence[ConversationSpec]) -> Path:
    """An era-1 file after pinocchio d39acba opened it: new columns on the legacy table,
    empty normalised tables, era-2/3 indexes (the era-1 ``turns_by_session`` is kept)."""
    build_era1(path, convs)
    conn = _open_existing(path)
    conn.execute("BEGIN")
    conn.execute(BLOCKS_SQL)
    conn.execute(MEMBERSHIP_SQL)
    _go_d39acba_alters(conn)
    for stmt in (
        "CREATE INDEX IF NOT EXISTS turns_by_conv_session"
        " ON turns(conv_id, session_id, updated_at_ms DESC)",
        "CREATE INDEX IF NOT EXISTS turns_by_session ON turns(session_id, updated_at_ms DESC)",
        "CREATE INDEX IF NOT EXISTS blocks_by_kind_role ON blocks(kind, role)",
        "CREATE INDEX IF NOT EXISTS turn_block_membership_by_turn_phase ON turn_block_membership"
        "(conv_id, session_id, turn_id, phase, snapshot_created_at_ms DESC, ordinal)",
        "CREATE INDEX IF NOT EXISTS turn_block_membership_by_block"
        " ON turn_block_membership(block_id, content_hash)",
        "CREATE INDEX IF NOT EXISTS turns_by_conv_runtime_updated"
        " ON turns(conv_id, runtime_key, updated_at_ms DESC)",
        "CREATE INDEX IF NOT EXISTS turns_by_conv_inference_updated"
        " ON turns(conv_id, inference_id, updated_at_ms DESC)",
    ):
        conn.execute(stmt)
    conn.execute("COMMIT")
    _close(conn, path)
    return path


def build_go_hybrid_era0(path: Path, convs: Sequence[ConversationSpec]) -> Path:
    """An era-0 file after pinocchio d39acba tried to open it: ALTERs and the normalised
    tables committed, no new index (the first one fails: there is no ``session_id``)."""
    build_era0(path, convs)
    conn = _open_existing(path)
    conn.execute("BEGIN")
    conn.execute(BLOCKS_SQL)
    conn.execute(MEMBERSHIP_SQL)
    _go_d39acba_alters(conn)
    conn.execute("COMMIT")
    _close(conn, path)
    return path


LEGACY_TABLE = "turn_snapshots_legacy"


def build_half_normalized(
    path: Path, convs: Sequence[ConversationSpec], *, normalized_convs: int
) -> Path:
    """A crash mid-normalisation: ``turn_snapshots_legacy`` (the renamed era-1 table, every
    snapshot of every conversation, its indexes renamed with a ``turn_snapshots_legacy_``
    prefix) plus era-2 "full" tables holding only the first ``normalized_convs`` convs."""
    convs = tuple(convs)
    if not 0 <= normalized_convs <= len(convs):
        raise ValueError(f"normalized_convs must be within 0..{len(convs)}")
    build_era1(path, convs)
    conn = _open_existing(path)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("BEGIN")
    conn.execute(f"ALTER TABLE turns RENAME TO {LEGACY_TABLE}")
    for stmt in ERA1_INDEXES:
        name = stmt.split()[2]
        conn.execute(f"DROP INDEX {name}")
        conn.execute(
            stmt.replace(f"INDEX {name} ON turns", f"INDEX {LEGACY_TABLE}_{name} ON {LEGACY_TABLE}")
        )
    cols = _create_normalised_schema(conn, "full")
    _write_normalised(conn, convs[:normalized_convs], cols)
    _create_indexes(conn, cols, _ERA2_INDEXES)
    conn.execute("COMMIT")
    _close(conn, path)
    return path


def build_timeline(path: Path, rows: Sequence[tuple[str, str, str, int]]) -> Path:
    """pinocchio's timeline store; rows are (conv_id, session_id, runtime_key, last_activity_ms).

    If ``path`` exists (e.g. a turns db) the tables are added to it.
    """
    path = Path(path)
    existed = path.exists()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        if not existed:
            conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
        conn.execute(
            """CREATE TABLE IF NOT EXISTS timeline_conversations (
  conv_id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL DEFAULT '',
  runtime_key TEXT NOT NULL DEFAULT '',
  created_at_ms INTEGER NOT NULL DEFAULT 0,
  last_activity_ms INTEGER NOT NULL DEFAULT 0,
  last_seen_version INTEGER NOT NULL DEFAULT 0,
  has_timeline INTEGER NOT NULL DEFAULT 1,
  status TEXT NOT NULL DEFAULT '',
  last_error TEXT NOT NULL DEFAULT ''
)"""
        )
        conn.execute(
            "CREATE TABLE IF NOT EXISTS timeline_entities"
            " (conv_id TEXT, entity_id TEXT, kind TEXT, payload TEXT)"
        )
        conn.execute("CREATE TABLE IF NOT EXISTS timeline_versions (conv_id TEXT, version INTEGER)")
        for conv_id, session_id, runtime_key, last_activity_ms in rows:
            conn.execute(
                "INSERT OR REPLACE INTO timeline_conversations (conv_id, session_id, runtime_key,"
                " created_at_ms, last_activity_ms, last_seen_version, has_timeline, status)"
                " VALUES (?, ?, ?, ?, ?, 1, 1, 'idle')",
                (conv_id, session_id, runtime_key, last_activity_ms, last_activity_ms),
            )
            conn.execute(
                "INSERT INTO timeline_entities VALUES (?, ?, 'message', ?)",
                (conv_id, f"{conv_id}-msg-1", _json({"text": "hello"})),
            )
            conn.execute("INSERT INTO timeline_versions VALUES (?, 1)", (conv_id,))
        conn.execute("COMMIT")
    finally:
        conn.close()
    return path


def build_not_turns_sqlite(path: Path) -> Path:
    """A valid SQLite file with an unrelated ``notes`` table."""
    path = _require_new(path)
    conn = _open(path)
    conn.execute("BEGIN")
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.executemany(
        "INSERT INTO notes (body) VALUES (?)", [("buy milk",), ("call bob",), ("ship it",)]
    )
    conn.execute("COMMIT")
    _close(conn, path)
    return path


def build_not_sqlite(path: Path) -> Path:
    """A text file that is not a database."""
    path = _require_new(path)
    path.write_text("this is not a database\n" * 100, encoding="utf-8")
    return path


def build_empty_file(path: Path) -> Path:
    """A 0-byte file."""
    path = _require_new(path)
    path.write_bytes(b"")
    return path


