"""Build real SQLite turns databases of every schema era from one scenario description.

Everything here uses only the standard library and PyYAML; nothing is imported from
``tui`` so the fixtures stay an independent description of what the Go writers leave on
disk (see ``/work/shared/docs/turns-db.md``).

A scenario is a tuple of :class:`ConversationSpec`. Every builder takes a path that must
not exist yet (except :func:`build_timeline`), writes the file, closes its connections and
leaves no ``-wal``/``-shm``/``-journal`` file behind (except ``build_gp26(keep_wal=True)``,
whose whole point is to leave a ``-wal``).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

# --------------------------------------------------------------------------------------
# Scenario spec
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockSpec:
    kind: str  # user, llm_text, tool_call, tool_use, system, reasoning, other
    role: str = ""
    payload: Mapping[str, Any] = field(
        default_factory=dict
    )  # {"text": "hi"} / {"id","name","args"}
    metadata: Mapping[str, Any] = field(default_factory=dict)
    id: str = ""  # empty -> builders of normalised eras use "<turn_id>#<ordinal>"


@dataclass(frozen=True)
class SnapshotSpec:
    phase: str  # pre_inference, post_inference, post_tools, final
    created_at_ms: int
    blocks: tuple[BlockSpec, ...]
    metadata: Mapping[str, Any] | None = None  # turn metadata at this snapshot; None -> turn's


@dataclass(frozen=True)
class TurnSpec:
    turn_id: str
    snapshots: tuple[SnapshotSpec, ...]
    metadata: Mapping[str, Any] = field(default_factory=dict)  # e.g. "geppetto.runtime@v1"
    data: Mapping[str, Any] = field(default_factory=dict)
    runtime_key_column: str = ""  # only used by build_gp26 / build_geppetto
    inference_id_column: str = ""  # idem for inference_id


@dataclass(frozen=True)
class ConversationSpec:
    conv_id: str
    session_id: str
    turns: tuple[TurnSpec, ...]


# --------------------------------------------------------------------------------------
# Scenario helpers (pure)
# --------------------------------------------------------------------------------------

HASH_ALGORITHM = "sha256-canonical-json-v1"


def _plain(value: Any) -> Any:
    """Mappings -> dict, tuples/lists -> list, recursively (for YAML/JSON dumping)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _mapping_default(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _json(value: Any) -> str:
    """Compact, key-sorted JSON as stored in the *_json columns."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=_mapping_default,
    )


def _html_escape_json(text: str) -> str:
    """Go's encoding/json escapes these; in JSON text they can only occur inside strings."""
    if not any(ch in text for ch in "<>&\u2028\u2029"):
        return text
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _go_json(value: Any) -> str:
    """Like Go's encoding/json.Marshal: sorted map keys, compact, HTML characters escaped."""
    return _html_escape_json(_json(value))


def _hash_from_json(kind: str, role: str, payload_json: str, metadata_json: str) -> str:
    kind_json = _go_json(kind.strip())
    role_json = _go_json(role.strip())
    material = (
        f'{{"kind":{kind_json},"role":{role_json},'
        f'"payload":{_html_escape_json(payload_json)},'
        f'"metadata":{_html_escape_json(metadata_json)}}}'
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def block_content_hash(
    kind: str, role: str, payload: Mapping[str, Any], metadata: Mapping[str, Any]
) -> str:
    """Lowercase hex SHA-256 over Go's canonical block material {kind, role, payload, metadata}
    (``json.Marshal`` of that struct: fields in that order, map keys sorted, compact)."""
    return _hash_from_json(kind, role, _json(payload or {}), _json(metadata or {}))


def block_id_for(turn_id: str, ordinal: int, block: BlockSpec) -> str:
    """The block_id a normalised era stores: the block's id, else "<turn_id>#<ordinal>"."""
    return block.id.strip() or f"{turn_id.strip()}#{ordinal}"


def snapshot_metadata(turn: TurnSpec, snap: SnapshotSpec) -> Mapping[str, Any]:
    """Turn metadata as of one snapshot."""
    return turn.metadata if snap.metadata is None else snap.metadata


def latest_snapshot(turn: TurnSpec) -> SnapshotSpec:
    """The turn's latest snapshot by created_at_ms (the last listed one on ties)."""
    best = turn.snapshots[0]
    for snap in turn.snapshots[1:]:
        if snap.created_at_ms >= best.created_at_ms:
            best = snap
    return best


def iter_snapshots(
    convs: Sequence[ConversationSpec],
) -> Iterator[tuple[ConversationSpec, TurnSpec, SnapshotSpec]]:
    for conv in convs:
        for turn in conv.turns:
            for snap in turn.snapshots:
                yield conv, turn, snap


def turn_document(turn: TurnSpec, snap: SnapshotSpec) -> dict[str, Any]:
    """The mapping serialised as YAML for a turn at one snapshot (empty keys omitted)."""
    blocks: list[dict[str, Any]] = []
    for block in snap.blocks:
        doc: dict[str, Any] = {}
        if block.id:
            doc["id"] = block.id
        doc["kind"] = block.kind
        if block.role:
            doc["role"] = block.role
        if block.payload:
            doc["payload"] = _plain(block.payload)
        if block.metadata:
            doc["metadata"] = _plain(block.metadata)
        blocks.append(doc)
    out: dict[str, Any] = {"id": turn.turn_id, "blocks": blocks}
    metadata = snapshot_metadata(turn, snap)
    if metadata:
        out["metadata"] = _plain(metadata)
    if turn.data:
        out["data"] = _plain(turn.data)
    return out


def turn_yaml(turn: TurnSpec, snap: SnapshotSpec) -> str:
    """YAML payload of a turn at one snapshot (legacy ``payload`` column / geppetto_turns)."""
    # libyaml's emitter when available: same text as yaml.safe_dump, much faster.
    return yaml.dump(
        turn_document(turn, snap), Dumper=_YAML_DUMPER, sort_keys=False, allow_unicode=True
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


def build_truncated(path: Path, convs: Sequence[ConversationSpec]) -> Path:
    """A GP-26 file cut to 60% of its size (a damaged copy)."""
    build_gp26(path, convs)
    conn = sqlite3.connect(path)
    try:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    finally:
        conn.close()
    if pages <= 8:
        raise ValueError(f"scenario too small to truncate meaningfully ({pages} pages)")
    size = path.stat().st_size
    os.truncate(path, int(size * 0.6))
    return path


def add_future_schema(path: Path) -> Path:
    """Add what a newer writer might: a ``turn_annotations`` table (2 rows) and a
    ``future_col`` column on ``turns`` (any era with a ``turns`` table)."""
    conn = _open_existing(path)
    try:
        conn.execute("BEGIN")
        ids = conn.execute("SELECT DISTINCT conv_id, turn_id FROM turns LIMIT 2").fetchall()
        while len(ids) < 2:
            ids.append(("conv-none", f"turn-none-{len(ids)}"))
        conn.execute("ALTER TABLE turns ADD COLUMN future_col TEXT NOT NULL DEFAULT 'kept'")
        conn.execute("CREATE TABLE turn_annotations (conv_id TEXT, turn_id TEXT, note TEXT)")
        conn.executemany(
            "INSERT INTO turn_annotations VALUES (?, ?, ?)",
            [(c, t, f"note {i}") for i, (c, t) in enumerate(ids, 1)],
        )
        conn.execute("COMMIT")
    finally:
        conn.close()
    return path


# --------------------------------------------------------------------------------------
# Standard scenario
# --------------------------------------------------------------------------------------

T0 = 1_771_900_000_000  # 2026-02-24 02:26:40 UTC

_FINGERPRINTS = {"inventory": "fp-1", "planner": "fp-2", "research": "fp-3"}


def runtime_attribution(runtime_key: str) -> dict[str, Any]:
    """The canonical ``geppetto.runtime@v1`` map (era 4)."""
    return {
        "runtime_key": runtime_key,
        "profile.slug": runtime_key,
        "profile.registry": "default",
        "profile.version": 1,
        "runtime_fingerprint": _FINGERPRINTS.get(runtime_key, f"fp-{runtime_key}"),
    }


def _user(bid: str, text: str) -> BlockSpec:
    return BlockSpec(kind="user", role="user", payload={"text": text}, id=bid)


def _llm(bid: str, text: str) -> BlockSpec:
    return BlockSpec(kind="llm_text", role="assistant", payload={"text": text}, id=bid)


def _system(bid: str, text: str) -> BlockSpec:
    return BlockSpec(kind="system", role="system", payload={"text": text}, id=bid)


def _tool_call(bid: str, call_id: str, name: str, args: Mapping[str, Any]) -> BlockSpec:
    return BlockSpec(
        kind="tool_call", payload={"id": call_id, "name": name, "args": dict(args)}, id=bid
    )


def _tool_use(bid: str, call_id: str, result: str) -> BlockSpec:
    return BlockSpec(kind="tool_use", payload={"id": call_id, "result": result}, id=bid)


def _canonical_metadata(n: int, runtime: str, inference_id: str, session: str) -> dict[str, Any]:
    return {
        "geppetto.runtime@v1": runtime_attribution(runtime),
        "geppetto.inference_id@v1": inference_id,
        "geppetto.session_id@v1": session,
        "geppetto.provider@v1": "openai",
        "geppetto.model@v1": "gpt-4o" if runtime == "planner" else "gpt-4o-mini",
        "geppetto.usage@v1": {"input_tokens": 100 * n + 20, "output_tokens": 10 * n + 5},
        "geppetto.stop_reason@v1": "stop",
    }


def _pre_metadata(full: Mapping[str, Any]) -> dict[str, Any]:
    """What a pre_inference snapshot knows: attribution, not yet usage/model/stop reason."""
    keep = ("geppetto.runtime@v1", "geppetto.inference_id@v1", "geppetto.session_id@v1")
    return {k: full[k] for k in keep if k in full}


def _conv_switch() -> ConversationSpec:
    conv_id, session = "conv-switch", "sess-a"
    runtimes = ["inventory", "inventory", "planner", "planner", "inventory"]
    exchanges = [
        ("Hi, what can you do?", "I can check stock levels and plan restocks."),
        ("How many A-1 and B-2 are in stock?", "There are 3 A-1 in stock and no B-2."),
        ("Switch to planning: plan the B-2 restock.", "Plan: order 10 units of B-2 on Monday."),
        ("Add a reminder for that.", "Reminder added for Monday 9:00."),
        ("Back to inventory: how many A-1 now?", "Still 3 A-1 in stock."),
    ]
    history: list[BlockSpec] = [_system("switch-sys", "You are a helpful warehouse assistant.")]
    turns: list[TurnSpec] = []
    for n, (runtime, (question, answer)) in enumerate(zip(runtimes, exchanges, strict=True), 1):
        start = T0 + (n - 1) * 120_000
        full = _canonical_metadata(n, runtime, f"inf-{n}", session)
        pre = _pre_metadata(full)
        history.append(_user(f"switch-u{n}", question))
        snaps: list[SnapshotSpec] = [SnapshotSpec("pre_inference", start, tuple(history), pre)]
        data: dict[str, Any] = {}
        if n == 2:
            data = {"geppetto.tool_config@v1": {"enabled": True, "max_iterations": 3}}
            loop: list[tuple[str, int, list[BlockSpec]]] = [
                (
                    "post_inference",
                    1_500,
                    [
                        BlockSpec(
                            kind="reasoning",
                            payload={"text": "thinking..."},
                            metadata={"geppetto.reasoning_tokens@v1": 42},
                            id="switch-r2",
                        ),
                        _tool_call("switch-call-1", "call-1", "lookup_sku", {"sku": "A-1"}),
                    ],
                ),
                ("post_tools", 1_900, [_tool_use("switch-tool-1", "call-1", "3 in stock")]),
                (
                    "post_inference",
                    3_200,
                    [_tool_call("switch-call-2", "call-2", "lookup_sku", {"sku": "B-2"})],
                ),
                ("post_tools", 3_600, [_tool_use("switch-tool-2", "call-2", "0 in stock")]),
                ("post_inference", 5_100, [_llm(f"switch-a{n}", answer)]),
            ]
            for phase, offset, new_blocks in loop:
                history.extend(new_blocks)
                snaps.append(SnapshotSpec(phase, start + offset, tuple(history)))
            snaps.append(SnapshotSpec("final", start + 5_250, tuple(history)))
        else:
            history.append(_llm(f"switch-a{n}", answer))
            snaps.append(SnapshotSpec("post_inference", start + 1_800, tuple(history)))
            snaps.append(SnapshotSpec("final", start + 1_950, tuple(history)))
        turns.append(
            TurnSpec(
                turn_id=f"turn-switch-{n}",
                snapshots=tuple(snaps),
                metadata=full,
                data=data,
                runtime_key_column=runtime,
                inference_id_column=f"inf-{n}",
            )
        )
    return ConversationSpec(conv_id, session, tuple(turns))


def _conv_legacy_keys() -> ConversationSpec:
    """Old metadata shapes; blocks without ids (old writer); last turn crashed."""
    conv_id, session = "conv-legacy-keys", "sess-b"
    metadatas: list[dict[str, Any]] = [
        {
            "geppetto.runtime@v1": "  planner ",
            "geppetto.inference_id@v1": "inf-b1",
            "geppetto.model@v1": "gpt-4o",
        },
        {"runtime": {"slug": "planner"}, "geppetto.inference_id@v1": "inf-b2"},
        {"geppetto.model@v1": "gpt-4o", "geppetto.provider@v1": "openai"},
        {"runtime_key": "inventory", "inference_id": 42},
    ]
    exchanges = [
        ("Draft a plan for Q2 stock.", "Q2 plan: keep 20 units of every SKU."),
        ("Shorten it.", "Keep 20 of each."),
        ("Who wrote this?", "You did, with my help."),
        ("Check A-1 stock please.", None),
    ]
    history: list[BlockSpec] = [
        BlockSpec(kind="system", role="system", payload={"text": "You are a planning assistant."})
    ]
    turns: list[TurnSpec] = []
    for n, (md, (question, answer)) in enumerate(zip(metadatas, exchanges, strict=True), 1):
        start = T0 + 30_000 + (n - 1) * 90_000
        history.append(BlockSpec(kind="user", role="user", payload={"text": question}))
        snaps = [SnapshotSpec("pre_inference", start, tuple(history))]
        if answer is not None:
            history.append(BlockSpec(kind="llm_text", role="assistant", payload={"text": answer}))
            snaps.append(SnapshotSpec("post_inference", start + 2_100, tuple(history)))
            snaps.append(SnapshotSpec("final", start + 2_300, tuple(history)))
        turns.append(TurnSpec(turn_id=f"turn-legacy-{n}", snapshots=tuple(snaps), metadata=md))
    return ConversationSpec(conv_id, session, tuple(turns))


def _conv_single() -> ConversationSpec:
    conv_id, session = "conv-single", "sess-a"
    start = T0 + 600_000
    full = _canonical_metadata(1, "inventory", "inf-s1", session)
    full["geppetto.stop_reason@v1"] = "end_turn"
    b_sys = _system("single-sys", "You are a helpful warehouse assistant.")
    b_user = _user("single-u1", "Is C-3 discontinued?")
    b_call = _tool_call("single-call-9", "call-9", "lookup_sku", {"sku": "C-3"})
    b_tool = _tool_use("single-tool-9", "call-9", "discontinued")
    b_llm = _llm("single-a1", "Yes, C-3 is discontinued.")
    snaps = (
        SnapshotSpec("pre_inference", start, (b_sys, b_user), _pre_metadata(full)),
        SnapshotSpec("post_inference", start + 1_200, (b_sys, b_user, b_call)),
        SnapshotSpec("post_tools", start + 2_400, (b_sys, b_user, b_call, b_tool)),
        SnapshotSpec("final", start + 3_000, (b_sys, b_user, b_call, b_tool, b_llm)),
    )
    turn = TurnSpec(
        turn_id="turn-single-1",
        snapshots=snaps,
        metadata=full,
        runtime_key_column="inventory",
        inference_id_column="inf-s1",
    )
    return ConversationSpec(conv_id, session, (turn,))


def standard_scenario() -> tuple[ConversationSpec, ...]:
    """Three conversations: conv-switch, conv-legacy-keys, conv-single (in that order).

    Newest-first by last activity: conv-single, conv-switch, conv-legacy-keys.
    """
    return (_conv_switch(), _conv_legacy_keys(), _conv_single())


# (conv_id, turn_id) -> (runtime_key, inference_id) after the Go backfill rules.
STANDARD_EXPECTED_ATTRIBUTION: Mapping[tuple[str, str], tuple[str, str]] = {
    ("conv-switch", "turn-switch-1"): ("inventory", "inf-1"),
    ("conv-switch", "turn-switch-2"): ("inventory", "inf-2"),
    ("conv-switch", "turn-switch-3"): ("planner", "inf-3"),
    ("conv-switch", "turn-switch-4"): ("planner", "inf-4"),
    ("conv-switch", "turn-switch-5"): ("inventory", "inf-5"),
    ("conv-legacy-keys", "turn-legacy-1"): ("planner", "inf-b1"),
    ("conv-legacy-keys", "turn-legacy-2"): ("planner", "inf-b2"),
    ("conv-legacy-keys", "turn-legacy-3"): ("", ""),
    ("conv-legacy-keys", "turn-legacy-4"): ("inventory", "42"),
    ("conv-single", "turn-single-1"): ("inventory", "inf-s1"),
}


def last_activity_ms(conv: ConversationSpec) -> int:
    return max(s.created_at_ms for _, _, s in iter_snapshots((conv,)))


def standard_timeline_rows() -> tuple[tuple[str, str, str, int], ...]:
    """Timeline rows for the standard scenario. The CURRENT runtime of conv-switch is
    "planner" (the user switched after the last turn) while its last turn ran on
    "inventory": never present one as the other."""
    convs = {c.conv_id: c for c in standard_scenario()}
    current = {
        "conv-switch": "planner",
        "conv-legacy-keys": "inventory",
        "conv-single": "inventory",
    }
    return tuple(
        (cid, convs[cid].session_id, current[cid], last_activity_ms(convs[cid])) for cid in current
    )


# --------------------------------------------------------------------------------------
# Bulk scenario (benchmarks)
# --------------------------------------------------------------------------------------

BULK_RUNTIMES = ("inventory", "planner", "research")
BULK_PHASES = ("pre_inference", "post_inference", "final")


@dataclass(frozen=True)
class _BulkTurn:
    turn_id: str
    runtime: str
    inference_id: str
    metadata: dict[str, Any]
    pre_metadata: dict[str, Any]
    snapshots: tuple[tuple[str, int, tuple[int, ...]], ...]  # (phase, ms, block indexes)


@dataclass(frozen=True)
class _BulkConv:
    conv_id: str
    session_id: str
    blocks: tuple[BlockSpec, ...]
    turns: tuple[_BulkTurn, ...]


def _bulk_plan(
    n_convs: int, turns_per_conv: int, blocks_per_snapshot: int, seed: int
) -> Iterator[_BulkConv]:
    """Deterministic plan shared by bulk_scenario and build_era2_fast.

    Each turn has 3 snapshots (pre_inference, post_inference, final) of exactly
    ``blocks_per_snapshot`` blocks: the system block plus the latest blocks of the history
    (padded at the start with older "context" messages), so blocks are shared across
    snapshots and turns like real accumulated turns.
    """
    if n_convs < 0 or turns_per_conv < 1 or blocks_per_snapshot < 1:
        raise ValueError("need n_convs >= 0, turns_per_conv >= 1, blocks_per_snapshot >= 1")
    rng = random.Random(seed)
    window = blocks_per_snapshot - 1
    clock = T0 - 30 * 86_400_000
    for c in range(n_convs):
        conv_id = f"bulk-conv-{c:06d}"
        session_id = f"bulk-sess-{c // 4:05d}"
        blocks: list[BlockSpec] = [
            BlockSpec(
                kind="system",
                role="system",
                payload={"text": f"You are assistant #{c}."},
                id=f"{conv_id}-sys",
            )
        ]
        history: list[int] = []
        for k in range(window):  # older context so every window is full
            is_user = k % 2 == 0
            blocks.append(
                BlockSpec(
                    kind="user" if is_user else "llm_text",
                    role="user" if is_user else "assistant",
                    payload={"text": f"context {k} of {conv_id}"},
                    id=f"{conv_id}-ctx-{k}",
                )
            )
            history.append(len(blocks) - 1)
        runtime_index = c % len(BULK_RUNTIMES)
        clock += rng.randint(1_000, 600_000)
        start = clock
        turns: list[_BulkTurn] = []
        for t in range(1, turns_per_conv + 1):
            if t > 1 and rng.random() < 0.15:
                runtime_index = (runtime_index + 1) % len(BULK_RUNTIMES)
            runtime = BULK_RUNTIMES[runtime_index]
            turn_id = f"{conv_id}-t{t:04d}"
            inference_id = f"{conv_id}-inf-{t}"
            blocks.append(
                BlockSpec(
                    kind="user",
                    role="user",
                    payload={"text": f"question {t}: {rng.randint(0, 10**9)}"},
                    id=f"{turn_id}-u",
                )
            )
            history.append(len(blocks) - 1)
            pre_blocks = (0, *history[len(history) - window :]) if window else (0,)
            blocks.append(
                BlockSpec(
                    kind="llm_text",
                    role="assistant",
                    payload={"text": f"answer {t}: {rng.randint(0, 10**9)}"},
                    id=f"{turn_id}-a",
                )
            )
            history.append(len(blocks) - 1)
            post_blocks = (0, *history[len(history) - window :]) if window else (0,)
            t_pre = start
            t_post = t_pre + rng.randint(300, 5_000)
            t_final = t_post + rng.randint(1, 200)
            metadata = {
                "geppetto.runtime@v1": runtime_attribution(runtime),
                "geppetto.inference_id@v1": inference_id,
                "geppetto.provider@v1": "openai",
                "geppetto.model@v1": "gpt-4o-mini",
                "geppetto.usage@v1": {
                    "input_tokens": rng.randint(50, 5_000),
                    "output_tokens": rng.randint(5, 800),
                },
                "geppetto.stop_reason@v1": "stop",
            }
            turns.append(
                _BulkTurn(
                    turn_id=turn_id,
                    runtime=runtime,
                    inference_id=inference_id,
                    metadata=metadata,
                    pre_metadata=_pre_metadata(metadata),
                    snapshots=(
                        ("pre_inference", t_pre, pre_blocks),
                        ("post_inference", t_post, post_blocks),
                        ("final", t_final, post_blocks),
                    ),
                )
            )
            start = t_final + rng.randint(1_000, 120_000)
        clock = start
        yield _BulkConv(conv_id, session_id, tuple(blocks), tuple(turns))


def bulk_membership_rows(n_convs: int, turns_per_conv: int, blocks_per_snapshot: int) -> int:
    """Membership rows the bulk scenario yields (3 snapshots per turn)."""
    return n_convs * turns_per_conv * len(BULK_PHASES) * blocks_per_snapshot


def bulk_scenario(
    n_convs: int, turns_per_conv: int, blocks_per_snapshot: int, seed: int = 0
) -> tuple[ConversationSpec, ...]:
    """Generated deterministic scenario; runtimes cycle over BULK_RUNTIMES with switches."""
    out: list[ConversationSpec] = []
    for conv in _bulk_plan(n_convs, turns_per_conv, blocks_per_snapshot, seed):
        turns = tuple(
            TurnSpec(
                turn_id=t.turn_id,
                snapshots=tuple(
                    SnapshotSpec(
                        phase,
                        ms,
                        tuple(conv.blocks[i] for i in idx),
                        t.pre_metadata if phase == "pre_inference" else None,
                    )
                    for phase, ms, idx in t.snapshots
                ),
                metadata=t.metadata,
                runtime_key_column=t.runtime,
                inference_id_column=t.inference_id,
            )
            for t in conv.turns
        )
        out.append(ConversationSpec(conv.conv_id, conv.session_id, turns))
    return tuple(out)


def build_era2_fast(
    path: Path, n_convs: int, turns_per_conv: int, blocks_per_snapshot: int, seed: int = 0
) -> Path:
    """Write ``bulk_scenario(...)`` as an era-2 "full" file quickly (no YAML, hashes computed
    once per block, one transaction, indexes built after the data). Same content as
    ``build_era2(path, bulk_scenario(...))``."""
    path = _require_new(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("BEGIN")
        cols = _create_normalised_schema(conn, "full")
        turn_sql = f"INSERT INTO turns ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"
        block_sql = (
            "INSERT OR IGNORE INTO blocks (block_id, content_hash, hash_algorithm, kind, role,"
            " payload_json, block_metadata_json, first_seen_at_ms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        member_sql = (
            "INSERT INTO turn_block_membership (conv_id, session_id, turn_id, phase,"
            " snapshot_created_at_ms, ordinal, block_id, content_hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        plans = list(_bulk_plan(n_convs, turns_per_conv, blocks_per_snapshot, seed))
        # Block rows: JSON and hash once per block; first_seen from the snapshots.
        block_rows: list[list[tuple[Any, ...]]] = []
        turn_rows: list[tuple[Any, ...]] = []
        for conv in plans:
            rows = [_block_row(b.id, b, 0) for b in conv.blocks]
            first_seen: list[int | None] = [None] * len(rows)
            for t in conv.turns:
                times = [ms for _, ms, _ in t.snapshots]
                row = {
                    "conv_id": conv.conv_id,
                    "session_id": conv.session_id,
                    "turn_id": t.turn_id,
                    "turn_created_at_ms": min(times),
                    "turn_metadata_json": _json(t.metadata),
                    "turn_data_json": "{}",
                    "updated_at_ms": max(times),
                }
                turn_rows.append(tuple(row[c] for c in cols))
                for _, ms, idx in t.snapshots:
                    for bi in idx:
                        seen = first_seen[bi]
                        if seen is None or ms < seen:
                            first_seen[bi] = ms
            block_rows.append(rows)
            conn.executemany(
                block_sql,
                [(*r[:7], s) for r, s in zip(rows, first_seen, strict=True) if s is not None],
            )
        conn.executemany(turn_sql, turn_rows)

        def members() -> Iterator[tuple[Any, ...]]:
            for conv, rows in zip(plans, block_rows, strict=True):
                cid, sid = conv.conv_id, conv.session_id
                for t in conv.turns:
                    tid = t.turn_id
                    for phase, ms, idx in t.snapshots:
                        for ordinal, bi in enumerate(idx):
                            brow = rows[bi]
                            yield (cid, sid, tid, phase, ms, ordinal, brow[0], brow[1])

        conn.executemany(member_sql, members())
        _create_indexes(conn, cols, _ERA2_INDEXES)
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()
    return path
