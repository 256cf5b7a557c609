"""Generate realistic pre-GP-26 (era 2) pinocchio turns databases, fast.

Only the standard library is used and nothing is imported from ``tui``: the generated
file is an independent description of what pinocchio (mid Feb 2026) leaves on disk
(see ``/work/shared/docs/turns-db.md``, "Era 2").

Shape of a conversation (deterministic for a given seed):

* one ``system`` block shared by every turn;
* each turn adds a ``user`` block, then either a plain answer (``llm_text``, sometimes
  preceded by ``reasoning``) or a tool loop (``tool_call`` -> ``tool_use`` -> ``llm_text``);
* snapshots: ``pre_inference``, ``post_inference``, [``post_tools``, ``post_inference``],
  ``final`` -- every snapshot holds *all* blocks of the conversation so far (blocks
  accumulate), so the membership table grows quadratically with the turn count;
* blocks are de-duplicated by (block_id, content_hash) as pinocchio does;
* turn metadata carries ``geppetto.runtime@v1`` as the canonical map, ``geppetto.inference_id@v1``,
  session/trace ids, provider, model, usage and stop reason; about 5% of turns carry no
  runtime attribution at all; conversations switch between ``inventory``, ``planner`` and
  ``research`` now and then.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import time
import uuid
from dataclasses import dataclass
from typing import Any

GEN_VERSION = 4  # bump when the generated content changes (invalidates the cache)

RUNTIMES = ("inventory", "planner", "research")
MODELS = {
    "inventory": ("openai", "gpt-4o-mini"),
    "planner": ("anthropic", "claude-sonnet-4-5"),
    "research": ("openai", "gpt-4.1"),
}
TOOLS = ("search_inventory", "lookup_sku", "web_search", "calendar_lookup", "run_sql")
HASH_ALGORITHM = "sha256-canonical-json-v1"

# Probabilities (tuned so that 200 x 30 gives ~1.1 M membership rows).
P_TOOL_LOOP = 0.45
P_REASONING = 0.30
P_NO_RUNTIME = 0.05
P_SWITCH = 0.12
P_NO_FINAL = 0.01  # a crashed run leaves pre_inference/post_inference only

ERA2_DDL = (
    """CREATE TABLE turns (
  conv_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  turn_id TEXT NOT NULL,
  turn_created_at_ms INTEGER NOT NULL,
  turn_metadata_json TEXT NOT NULL DEFAULT '{}',
  turn_data_json TEXT NOT NULL DEFAULT '{}',
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (conv_id, session_id, turn_id)
)""",
    """CREATE TABLE blocks (
  block_id TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  hash_algorithm TEXT NOT NULL DEFAULT 'sha256-canonical-json-v1',
  kind TEXT NOT NULL,
  role TEXT NOT NULL DEFAULT '',
  payload_json TEXT NOT NULL DEFAULT '{}',
  block_metadata_json TEXT NOT NULL DEFAULT '{}',
  first_seen_at_ms INTEGER NOT NULL,
  PRIMARY KEY (block_id, content_hash)
)""",
    """CREATE TABLE turn_block_membership (
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
)""",
)

ERA2_INDEXES = (
    "CREATE INDEX IF NOT EXISTS turns_by_conv_session "
    "ON turns(conv_id, session_id, updated_at_ms DESC)",
    "CREATE INDEX IF NOT EXISTS turns_by_session ON turns(session_id, updated_at_ms DESC)",
    "CREATE INDEX IF NOT EXISTS blocks_by_kind_role ON blocks(kind, role)",
    "CREATE INDEX IF NOT EXISTS turn_block_membership_by_turn_phase "
    "ON turn_block_membership(conv_id, session_id, turn_id, phase, "
    "snapshot_created_at_ms DESC, ordinal)",
    "CREATE INDEX IF NOT EXISTS turn_block_membership_by_block "
    "ON turn_block_membership(block_id, content_hash)",
)

WORDS = (
    "inventory stock warehouse order shipment supplier forecast plan schedule research "
    "paper summary table query result customer price margin quarter region product "
    "restock delay backlog estimate compare analyse list total average report draft"
).split()


def _canon(value: Any) -> str:
    """Go-like canonical JSON: sorted keys, no spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass
class GenStats:
    """What was written."""

    path: str
    conversations: int
    turns: int
    blocks: int
    membership: int
    turns_without_runtime: int
    runtime_switches: int
    seconds: float
    bytes: int
    long_conv_id: str = ""  # the conversation whose last turn holds ~long_blocks blocks
    long_turn_blocks: int = 0  # blocks of that turn's final snapshot


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _sentence(rng: random.Random, lo: int, hi: int) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(lo, hi))).capitalize() + "."


class _Blocks:
    """Unique (block_id, content_hash) rows, hashed once."""

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []

    def add(
        self,
        rng: random.Random,
        kind: str,
        role: str,
        payload: dict[str, Any],
        seen_ms: int,
        metadata: dict[str, Any] | None = None,
    ) -> tuple[str, str]:
        bid = _uuid(rng)
        meta = metadata or {}
        payload_json = _canon(payload)
        meta_json = _canon(meta)
        digest = hashlib.sha256(
            _canon({"kind": kind, "role": role, "payload": payload, "metadata": meta}).encode()
        ).hexdigest()
        self.rows.append(
            (bid, digest, HASH_ALGORITHM, kind, role, payload_json, meta_json, seen_ms)
        )
        return bid, digest


def _turn_metadata(
    rng: random.Random,
    runtime: str | None,
    session_id: str,
    inference_id: str,
    fingerprints: dict[str, str],
) -> dict[str, Any]:
    provider, model = MODELS[runtime or "inventory"]
    inp = rng.randint(400, 24000)
    out = rng.randint(40, 1800)
    meta: dict[str, Any] = {
        "geppetto.inference_id@v1": inference_id,
        "geppetto.session_id@v1": session_id,
        "geppetto.trace_id@v1": _uuid(rng).replace("-", ""),
        "geppetto.provider@v1": provider,
        "geppetto.model@v1": model,
        "geppetto.stop_reason@v1": "stop",
        "geppetto.usage@v1": {
            "input_tokens": inp,
            "output_tokens": out,
            "cached_tokens": rng.randint(0, inp // 2),
        },
        "geppetto.inference_result@v1": {
            "provider": provider,
            "model": model,
            "stop_reason": "stop",
            "duration_ms": rng.randint(300, 9000),
        },
    }
    if runtime is not None:
        meta["geppetto.runtime@v1"] = {
            "runtime_key": runtime,
            "profile.slug": runtime,
            "profile.registry": "default",
            "profile.version": 1,
            "runtime_fingerprint": fingerprints[runtime],
        }
    return meta


@dataclass
class GenData:
    """Rows of a generated database, before they are written in one era or another."""

    turn_rows: list[tuple[Any, ...]]
    blocks: _Blocks
    members: list[tuple[Any, ...]]
    no_runtime: int
    switches: int
    long_conv_id: str = ""
    long_turn_blocks: int = 0


def _remove(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def _fingerprints() -> dict[str, str]:
    return {r: "sha256:" + hashlib.sha256(f"runtime:{r}:v1".encode()).hexdigest() for r in RUNTIMES}


def build_rows(convs: int, turns: int, seed: int = 26, long_blocks: int = 0) -> GenData:
    """The rows of `convs` x `turns` conversations (and, with `long_blocks`, one more
    conversation whose last turn holds about that many blocks)."""
    rng = random.Random(seed)
    fingerprints = _fingerprints()
    blocks = _Blocks()
    turn_rows: list[tuple[Any, ...]] = []
    members: list[tuple[Any, ...]] = []
    no_runtime = 0
    switches = 0
    base_ms = 1_771_000_000_000  # mid Feb 2026
    for c in range(convs):
        conv_id = _uuid(rng)
        session_id = _uuid(rng)
        t_ms = base_ms + c * 97_531 + rng.randint(0, 50_000)
        runtime = rng.choice(RUNTIMES)
        sys_block = blocks.add(
            rng,
            "system",
            "system",
            {"text": "You are a helpful assistant. " + _sentence(rng, 20, 60)},
            t_ms,
        )
        history: list[tuple[str, str]] = [sys_block]
        for _t in range(turns):
            turn_id = _uuid(rng)
            inference_id = _uuid(rng)
            if rng.random() < P_SWITCH:
                new = rng.choice([r for r in RUNTIMES if r != runtime])
                runtime = new
                switches += 1
            attributed: str | None = runtime
            if rng.random() < P_NO_RUNTIME:
                attributed = None
                no_runtime += 1
            t_ms += rng.randint(20_000, 180_000)
            snap_ms = t_ms
            snaps: list[tuple[str, int, list[tuple[str, str]]]] = []
            history.append(
                blocks.add(rng, "user", "user", {"text": _sentence(rng, 5, 40)}, snap_ms)
            )
            snaps.append(("pre_inference", snap_ms, list(history)))
            tool_loop = rng.random() < P_TOOL_LOOP
            if not tool_loop and rng.random() < P_REASONING:
                snap_ms += rng.randint(200, 2000)
                history.append(
                    blocks.add(
                        rng,
                        "reasoning",
                        "assistant",
                        {"summary": _sentence(rng, 10, 30), "item_id": "rs_" + _uuid(rng)[:18]},
                        snap_ms,
                    )
                )
            if tool_loop:
                call_id = "call_" + _uuid(rng).replace("-", "")[:24]
                name = rng.choice(TOOLS)
                snap_ms += rng.randint(500, 6000)
                history.append(
                    blocks.add(
                        rng,
                        "tool_call",
                        "assistant",
                        {
                            "id": call_id,
                            "name": name,
                            "args": {"query": _sentence(rng, 2, 6), "limit": rng.randint(5, 50)},
                        },
                        snap_ms,
                    )
                )
                snaps.append(("post_inference", snap_ms, list(history)))
                snap_ms += rng.randint(100, 3000)
                history.append(
                    blocks.add(
                        rng,
                        "tool_use",
                        "tool",
                        {
                            "id": call_id,
                            "result": _canon(
                                {"rows": rng.randint(0, 40), "note": _sentence(rng, 5, 25)}
                            ),
                        },
                        snap_ms,
                    )
                )
                snaps.append(("post_tools", snap_ms, list(history)))
            snap_ms += rng.randint(500, 8000)
            history.append(
                blocks.add(rng, "llm_text", "assistant", {"text": _sentence(rng, 20, 120)}, snap_ms)
            )
            snaps.append(("post_inference", snap_ms, list(history)))
            if rng.random() >= P_NO_FINAL:
                snap_ms += rng.randint(1, 40)
                snaps.append(("final", snap_ms, list(history)))
            meta = _turn_metadata(rng, attributed, session_id, inference_id, fingerprints)
            data: dict[str, Any] = {}
            if tool_loop:
                data = {"geppetto.tool_config@v1": {"enabled": True, "max_iterations": 5}}
            turn_rows.append(
                (conv_id, session_id, turn_id, t_ms, _canon(meta), _canon(data), snap_ms)
            )
            for phase, ms, snap_blocks in snaps:
                members.extend(
                    (conv_id, session_id, turn_id, phase, ms, i, bid, h)
                    for i, (bid, h) in enumerate(snap_blocks)
                )
            t_ms = snap_ms

    data = GenData(turn_rows, blocks, members, no_runtime, switches)
    if long_blocks:
        # A separate random stream, so the regular conversations are the same with or
        # without it (and the same as GEN_VERSION 3 wrote).
        _long_conversation(random.Random(seed * 1000 + 7), data, fingerprints, long_blocks, base_ms)
    return data


# Blocks one turn of the long conversation adds: user, 2 x (tool_call, tool_use), llm_text.
LONG_TOOL_ITERATIONS = 2
LONG_BLOCKS_PER_TURN = 2 + 2 * LONG_TOOL_ITERATIONS


def _long_conversation(
    rng: random.Random,
    data: GenData,
    fingerprints: dict[str, str],
    target_blocks: int,
    base_ms: int,
) -> None:
    """An agent-style conversation (two tool iterations per turn) whose last turn holds
    ~`target_blocks` blocks. Its activity is a day older than every other conversation's,
    so it is listed last and the figures of the regular conversations do not change."""
    blocks = data.blocks
    conv_id = _uuid(rng)
    session_id = _uuid(rng)
    runtime = "research"
    t_ms = base_ms - 86_400_000
    history: list[tuple[str, str]] = [
        blocks.add(
            rng,
            "system",
            "system",
            {"text": "You are a research agent. " + _sentence(rng, 20, 60)},
            t_ms,
        )
    ]
    n_turns = max(1, -(-(target_blocks - 1) // LONG_BLOCKS_PER_TURN))
    for _t in range(n_turns):
        turn_id = _uuid(rng)
        inference_id = _uuid(rng)
        t_ms += rng.randint(20_000, 120_000)
        snap_ms = t_ms
        history.append(blocks.add(rng, "user", "user", {"text": _sentence(rng, 5, 40)}, snap_ms))
        snaps: list[tuple[str, int, list[tuple[str, str]]]] = [
            ("pre_inference", snap_ms, list(history))
        ]
        for _i in range(LONG_TOOL_ITERATIONS):
            call_id = "call_" + _uuid(rng).replace("-", "")[:24]
            snap_ms += rng.randint(500, 6000)
            history.append(
                blocks.add(
                    rng,
                    "tool_call",
                    "assistant",
                    {
                        "id": call_id,
                        "name": rng.choice(TOOLS),
                        "args": {"query": _sentence(rng, 2, 6), "limit": rng.randint(5, 50)},
                    },
                    snap_ms,
                )
            )
            snaps.append(("post_inference", snap_ms, list(history)))
            snap_ms += rng.randint(100, 3000)
            history.append(
                blocks.add(
                    rng,
                    "tool_use",
                    "tool",
                    {
                        "id": call_id,
                        "result": _canon(
                            {"rows": rng.randint(0, 40), "note": _sentence(rng, 5, 25)}
                        ),
                    },
                    snap_ms,
                )
            )
            snaps.append(("post_tools", snap_ms, list(history)))
        snap_ms += rng.randint(500, 8000)
        history.append(
            blocks.add(rng, "llm_text", "assistant", {"text": _sentence(rng, 20, 120)}, snap_ms)
        )
        snaps.append(("post_inference", snap_ms, list(history)))
        snap_ms += rng.randint(1, 40)
        snaps.append(("final", snap_ms, list(history)))
        meta = _turn_metadata(rng, runtime, session_id, inference_id, fingerprints)
        tool_data = {"geppetto.tool_config@v1": {"enabled": True, "max_iterations": 5}}
        data.turn_rows.append(
            (conv_id, session_id, turn_id, t_ms, _canon(meta), _canon(tool_data), snap_ms)
        )
        for phase, ms, snap_blocks in snaps:
            data.members.extend(
                (conv_id, session_id, turn_id, phase, ms, i, bid, h)
                for i, (bid, h) in enumerate(snap_blocks)
            )
        t_ms = snap_ms
    data.long_conv_id = conv_id
    data.long_turn_blocks = len(history)


def _stats(path: str, data: GenData, convs: int, t0: float) -> GenStats:
    return GenStats(
        path=path,
        conversations=convs + (1 if data.long_conv_id else 0),
        turns=len(data.turn_rows),
        blocks=len(data.blocks.rows),
        membership=len(data.members),
        turns_without_runtime=data.no_runtime,
        runtime_switches=data.switches,
        seconds=time.perf_counter() - t0,
        bytes=os.path.getsize(path),
        long_conv_id=data.long_conv_id,
        long_turn_blocks=data.long_turn_blocks,
    )


def _finish_wal(path: str) -> None:
    wal = path + "-wal"
    if os.path.exists(wal) and os.path.getsize(wal) == 0:
        os.remove(wal)
    if not os.path.exists(wal) and os.path.exists(path + "-shm"):
        os.remove(path + "-shm")


def _connect_bulk(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1048576")
    conn.execute("PRAGMA temp_store=MEMORY")
    return conn


def generate_era2(
    path: str, convs: int, turns: int, seed: int = 26, long_blocks: int = 0
) -> GenStats:
    """Write an era 2 database at `path` (replaced if it exists).

    With `long_blocks`, one more conversation whose last turn holds about that many blocks
    (listed last: its activity is older than every other one's).
    """
    t0 = time.perf_counter()
    _remove(path)
    data = build_rows(convs, turns, seed, long_blocks)
    conn = _connect_bulk(path)
    try:
        conn.execute("BEGIN")
        for ddl in ERA2_DDL:
            conn.execute(ddl)
        conn.executemany("INSERT INTO turns VALUES (?,?,?,?,?,?,?)", data.turn_rows)
        conn.executemany("INSERT INTO blocks VALUES (?,?,?,?,?,?,?,?)", data.blocks.rows)
        conn.executemany("INSERT INTO turn_block_membership VALUES (?,?,?,?,?,?,?,?)", data.members)
        for ddl in ERA2_INDEXES:
            conn.execute(ddl)
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    _finish_wal(path)
    return _stats(path, data, convs, t0)


# --------------------------------------------------------------------------------------
# Era 1: one snapshot table keyed by session_id, every snapshot a whole turn as YAML
# --------------------------------------------------------------------------------------

ERA1_DDL = """CREATE TABLE turns (
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


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    # A JSON string (ASCII, escaped) is a valid YAML double-quoted scalar.
    return json.dumps(str(value), ensure_ascii=True)


def _yaml_lines(value: Any, indent: int, out: list[str]) -> None:
    """Block-style YAML of a mapping or a list (as Go's yaml.v3 writes a turn)."""
    pad = " " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            k = _yaml_scalar(str(key))
            if isinstance(item, (dict, list)) and item:
                out.append(f"{pad}{k}:")
                _yaml_lines(item, indent + (0 if isinstance(item, list) else 2), out)
            else:
                out.append(f"{pad}{k}: {_yaml_flow(item)}")
    else:
        for item in value:
            if isinstance(item, (dict, list)) and item:
                sub: list[str] = []
                _yaml_lines(item, indent + 2, sub)
                out.append(f"{pad}- {sub[0][indent + 2 :]}")
                out.extend(sub[1:])
            else:
                out.append(f"{pad}- {_yaml_flow(item)}")


def _yaml_flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _yaml_scalar(value)


def turn_yaml(doc: dict[str, Any]) -> str:
    out: list[str] = []
    _yaml_lines(doc, 0, out)
    return "\n".join(out) + "\n"


def generate_era1(path: str, convs: int, turns: int, seed: int = 26) -> GenStats:
    """Write an era 1 database at `path`: the same conversations as `generate_era2`, each
    snapshot one row of `turns` holding the whole turn as YAML (WAL, as pinocchio)."""
    t0 = time.perf_counter()
    _remove(path)
    data = build_rows(convs, turns, seed)
    by_key = {
        (r[0], r[1]): (r[3], r[4], json.loads(r[5]), json.loads(r[6])) for r in data.blocks.rows
    }
    turn_docs = {(r[0], r[1], r[2]): (json.loads(r[4]), json.loads(r[5])) for r in data.turn_rows}
    snaps: dict[tuple[str, str, str, str, int], list[tuple[str, str]]] = {}
    for conv_id, session_id, turn_id, phase, ms, _i, bid, h in data.members:
        snaps.setdefault((conv_id, session_id, turn_id, phase, ms), []).append((bid, h))
    rows: list[tuple[Any, ...]] = []
    for (conv_id, session_id, turn_id, phase, ms), members in snaps.items():
        meta, tdata = turn_docs[(conv_id, session_id, turn_id)]
        block_docs = []
        for bid, h in members:
            kind, role, payload, bmeta = by_key[(bid, h)]
            b: dict[str, Any] = {"id": bid, "kind": kind}
            if role:
                b["role"] = role
            if payload:
                b["payload"] = payload
            if bmeta:
                b["metadata"] = bmeta
            block_docs.append(b)
        doc: dict[str, Any] = {"id": turn_id, "blocks": block_docs, "metadata": meta}
        if tdata:
            doc["data"] = tdata
        rows.append((conv_id, session_id, turn_id, phase, ms, turn_yaml(doc)))
    conn = _connect_bulk(path)
    try:
        conn.execute("BEGIN")
        conn.execute(ERA1_DDL)
        for ddl in ERA1_INDEXES:
            conn.execute(ddl)
        conn.executemany("INSERT INTO turns VALUES (?,?,?,?,?,?)", rows)
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    _finish_wal(path)
    stats = _stats(path, data, convs, t0)
    stats.membership = len(data.members)
    return stats


# --------------------------------------------------------------------------------------
# Large: the scale issue's ~4 GiB era 2 file (1,000 agent conversations x 28 turns) and a
# timeline store for it. Written conversation by conversation (never all rows in memory).
# --------------------------------------------------------------------------------------

LARGE_GEN_VERSION = 1  # bump when what generate_large writes changes (invalidates the cache)

LARGE_TOOL_ITERATIONS = 2  # per turn: user, 2 x (tool_call, tool_use), llm_text [+ reasoning]
P_LARGE_REASONING = 0.5
LARGE_GAP_MS = 3 * 3_600_000  # between conversation starts: longer than one conversation
LARGE_BIG_BLOCK_BYTES = 5_000_000  # payload_json of the one big tool result
# Tool results: log-normal sizes (median ~3.4 KB, mean ~5 KB), clipped to 600 B - 90 KB.
LARGE_RESULT_MU = 8.13
LARGE_RESULT_SIGMA = 0.9
LARGE_RESULT_MAX = 90_000

WAREHOUSES = ("WH-01", "WH-02", "WH-07", "WH-12", "DC-NORTH", "DC-SOUTH")
TIMELINE_DDL = (
    """CREATE TABLE timeline_conversations (
  conv_id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL DEFAULT '',
  runtime_key TEXT NOT NULL DEFAULT '',
  created_at_ms INTEGER NOT NULL DEFAULT 0,
  last_activity_ms INTEGER NOT NULL DEFAULT 0,
  last_seen_version INTEGER NOT NULL DEFAULT 0,
  has_timeline INTEGER NOT NULL DEFAULT 1,
  status TEXT NOT NULL DEFAULT '',
  last_error TEXT NOT NULL DEFAULT ''
)""",
    "CREATE TABLE timeline_entities (conv_id TEXT, entity_id TEXT, kind TEXT, payload TEXT)",
    "CREATE TABLE timeline_versions (conv_id TEXT, version INTEGER)",
)


@dataclass
class LargeStats:
    """What generate_large wrote; ranks count from the newest conversation (rank 0, the
    first screen's selection)."""

    path: str
    timeline_path: str
    conversations: int
    turns: int
    blocks: int
    membership: int
    turns_without_runtime: int
    runtime_switches: int
    seconds: float
    bytes: int
    timeline_bytes: int
    payload_bytes: int  # sum of blocks.payload_json lengths
    max_turn_blocks: int  # blocks of the largest final snapshot of all
    mean_last_turn_blocks: float  # mean over conversations of their last turn's blocks
    newest_conv_id: str = ""
    largest_conv_id: str = ""  # the largest last turn (the big-block conversation aside)
    largest_conv_rank: int = 0
    largest_turn_id: str = ""
    largest_turn_blocks: int = 0
    big_conv_id: str = ""  # the conversation whose last turn holds the 5 MB block
    big_conv_rank: int = 0
    big_turn_id: str = ""
    big_turn_blocks: int = 0
    big_block_id: str = ""
    big_block_bytes: int = 0


class _TextPools:
    """Realistic tool output, cut from pools built once (generating ~1 GB of fresh random
    words would take minutes): inventory rows as JSON, search results as text."""

    def __init__(self, rng: random.Random, rows: int = 24_000, paragraphs: int = 6_000) -> None:
        self.rows = [self._row(rng, i) for i in range(rows)]
        self.paragraphs = [self._paragraph(rng) for _ in range(paragraphs)]

    @staticmethod
    def _row(rng: random.Random, i: int) -> str:
        return _canon(
            {
                "sku": f"SKU-{rng.randint(0, 999_999):06d}",
                "name": " ".join(rng.choices(WORDS, k=rng.randint(2, 5))),
                "qty": rng.randint(0, 5000),
                "warehouse": rng.choice(WAREHOUSES),
                "price": round(rng.uniform(0.5, 900.0), 2),
                "updated": f"2026-02-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:"
                f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z",
                "note": _sentence(rng, 3, 12) if i % 3 == 0 else "",
            }
        )

    @staticmethod
    def _paragraph(rng: random.Random) -> str:
        title = _sentence(rng, 3, 8).rstrip(".")
        host = rng.choice(("docs", "wiki", "news", "research", "forum"))
        body = " ".join(_sentence(rng, 8, 30) for _ in range(rng.randint(2, 6)))
        return f"## {title}\nhttps://{host}.example.com/{_uuid(rng)[:8]}\n{body}\n"

    def result(self, rng: random.Random, tool: str, size: int) -> str:
        """A tool result of about `size` characters."""
        if tool == "web_search":
            pool, sep, per = self.paragraphs, "\n", 420
        else:
            pool, sep, per = self.rows, ",", 150
        k = max(1, size // per)
        start = rng.randrange(len(pool))
        picked = pool[start : start + k]
        while len(picked) < k:
            picked += pool[: k - len(picked)]
        if tool == "web_search":
            return f"{k} results\n\n" + sep.join(picked)
        return '{"rows":[' + sep.join(picked) + f'],"total":{k},"truncated":false}}'


def _answer(rng: random.Random) -> str:
    """An assistant answer: a few paragraphs, sometimes a list (markdown, as LLMs write)."""
    out = [" ".join(_sentence(rng, 8, 30) for _ in range(rng.randint(1, 4)))]
    if rng.random() < 0.4:
        out.append("\n".join(f"- {_sentence(rng, 4, 14)}" for _ in range(rng.randint(2, 6))))
    if rng.random() < 0.5:
        out.append(" ".join(_sentence(rng, 8, 30) for _ in range(rng.randint(1, 3))))
    return "\n\n".join(out)


def _write_timeline(path: str, rows: list[tuple[str, str, str, int, int, int]]) -> None:
    """pinocchio's timeline store: (conv_id, session_id, runtime_key, created_at_ms,
    last_activity_ms, turns) per conversation; one message entity per turn."""
    _remove(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
        for ddl in TIMELINE_DDL:
            conn.execute(ddl)
        conn.executemany(
            "INSERT INTO timeline_conversations VALUES (?,?,?,?,?,?,1,'idle','')",
            [(c, s, rk, created, last, n) for c, s, rk, created, last, n in rows],
        )
        conn.executemany(
            "INSERT INTO timeline_entities VALUES (?,?,'message',?)",
            [
                (c, f"{c}-msg-{i}", _canon({"role": "assistant", "turn": i}))
                for c, _s, _rk, _cr, _la, n in rows
                for i in range(1, n + 1)
            ],
        )
        conn.executemany(
            "INSERT INTO timeline_versions VALUES (?,?)", [(r[0], r[5]) for r in rows]
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


def generate_large(
    path: str,
    timeline_path: str,
    convs: int = 1000,
    turns: int = 28,
    seed: int = 26,
    on_progress: Any = None,
    big_block_bytes: int = LARGE_BIG_BLOCK_BYTES,
) -> LargeStats:
    """Write the large era 2 file at `path` and its timeline store at `timeline_path`.

    Every conversation is an agent loop: per turn a ``user`` block, sometimes a
    ``reasoning`` block, two tool iterations (``tool_call``, ``tool_use``) and an
    ``llm_text`` answer, so blocks accumulate to ~180 in turn 28. Snapshots per turn:
    ``pre_inference``, then per tool iteration ``post_inference`` and ``post_tools``, then
    ``post_inference`` and ``final``. ``pre_inference`` and ``final`` list all blocks of the
    conversation so far (as pinocchio does); the in-turn snapshots list the blocks of this
    turn only, which keeps membership at ~6 M rows for 1,000 x 28 (all seven full would be
    ~18 M). The conversation at rank ``convs // 2`` (newest first) has a ~5 MB tool result
    (``payload_json`` of ``big_block_bytes``) in its last turn.

    Written in one transaction, conversations in ``conv_id`` order and membership rows in
    primary-key order (so the primary-key index is appended to), with the journal off; the
    file is switched to WAL (as pinocchio leaves it) once written. `on_progress(done,
    total, elapsed_s, db_bytes, stage)` is called after every batch of conversations.
    """
    t0 = time.perf_counter()
    _remove(path)
    rng = random.Random(seed * 7919 + 28)
    fingerprints = _fingerprints()
    pools = _TextPools(random.Random(seed * 31 + 1))
    base_ms = 1_768_000_000_000  # early Jan 2026: 1,000 conversations 3 h apart end in May
    # conversation index c starts at base + c * gap, so rank (newest first) = convs - 1 - c
    ids = [(_uuid(rng), _uuid(rng), rng.getrandbits(64)) for _ in range(convs)]
    big_index = convs - 1 - convs // 2 if big_block_bytes else -1
    order = sorted(range(convs), key=lambda c: ids[c][0])

    conn = sqlite3.connect(path, isolation_level=None)
    n_turns = n_blocks = n_members = no_runtime = switches = payload_bytes = 0
    max_blocks = 0
    last_blocks: list[int] = []
    largest: tuple[int, int, str, str] = (-1, 0, "", "")  # (blocks, -rank, conv, turn)
    big: dict[str, Any] = {}
    timeline_rows: list[tuple[str, str, str, int, int, int]] = []
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-131072")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("BEGIN")
        for ddl in ERA2_DDL:
            conn.execute(ddl)
        turn_rows: list[tuple[Any, ...]] = []
        block_rows: list[tuple[Any, ...]] = []
        members: list[tuple[Any, ...]] = []

        def flush() -> None:
            conn.executemany("INSERT INTO turns VALUES (?,?,?,?,?,?,?)", turn_rows)
            conn.executemany("INSERT INTO blocks VALUES (?,?,?,?,?,?,?,?)", block_rows)
            conn.executemany("INSERT INTO turn_block_membership VALUES (?,?,?,?,?,?,?,?)", members)
            turn_rows.clear()
            block_rows.clear()
            members.clear()

        for done, c in enumerate(order, 1):
            conv_id, session_id, conv_seed = ids[c]
            crng = random.Random(conv_seed)
            blocks = _Blocks()
            t_ms = base_ms + c * LARGE_GAP_MS + crng.randint(0, 600_000)
            created_ms = t_ms
            runtime = crng.choice(RUNTIMES)
            history: list[tuple[str, str]] = [
                blocks.add(
                    crng,
                    "system",
                    "system",
                    {"text": "You are an autonomous agent. " + _sentence(crng, 40, 120)},
                    t_ms,
                )
            ]
            conv_members: list[tuple[Any, ...]] = []
            turn_id = ""
            for t in range(turns):
                last = t == turns - 1
                turn_id = _uuid(crng)
                inference_id = _uuid(crng)
                if crng.random() < P_SWITCH:
                    runtime = crng.choice([r for r in RUNTIMES if r != runtime])
                    switches += 1
                attributed: str | None = runtime
                if crng.random() < P_NO_RUNTIME:
                    attributed = None
                    no_runtime += 1
                t_ms += crng.randint(20_000, 180_000)
                snap_ms = t_ms
                turn_start = len(history)
                history.append(
                    blocks.add(crng, "user", "user", {"text": _sentence(crng, 5, 60)}, snap_ms)
                )
                snaps: list[tuple[str, int, list[tuple[str, str]]]] = [
                    ("pre_inference", snap_ms, list(history))
                ]
                if crng.random() < P_LARGE_REASONING:
                    snap_ms += crng.randint(200, 2000)
                    history.append(
                        blocks.add(
                            crng,
                            "reasoning",
                            "assistant",
                            {
                                "summary": _sentence(crng, 10, 40),
                                "item_id": "rs_" + _uuid(crng)[:18],
                            },
                            snap_ms,
                        )
                    )
                for i in range(LARGE_TOOL_ITERATIONS):
                    call_id = "call_" + _uuid(crng).replace("-", "")[:24]
                    name = crng.choice(TOOLS)
                    snap_ms += crng.randint(500, 6000)
                    history.append(
                        blocks.add(
                            crng,
                            "tool_call",
                            "assistant",
                            {
                                "id": call_id,
                                "name": name,
                                "args": {
                                    "query": _sentence(crng, 2, 8),
                                    "limit": crng.randint(5, 50),
                                },
                            },
                            snap_ms,
                        )
                    )
                    snaps.append(("post_inference", snap_ms, history[turn_start:]))
                    snap_ms += crng.randint(100, 3000)
                    if c == big_index and last and i == 0:
                        result = pools.result(crng, "lookup_sku", big_block_bytes)
                        payload = {"id": call_id, "result": result}
                        over = len(_canon(payload)) - big_block_bytes
                        if over > 0:  # escaping made it longer: trim to the size asked
                            payload["result"] = result[: len(result) - over * 10 // 11 - 1]
                    else:
                        size = int(crng.lognormvariate(LARGE_RESULT_MU, LARGE_RESULT_SIGMA))
                        size = min(max(size, 600), LARGE_RESULT_MAX)
                        payload = {"id": call_id, "result": pools.result(crng, name, size)}
                    history.append(blocks.add(crng, "tool_use", "tool", payload, snap_ms))
                    if c == big_index and last and i == 0:
                        big = {"block_id": history[-1][0], "bytes": len(blocks.rows[-1][5])}
                    snaps.append(("post_tools", snap_ms, history[turn_start:]))
                snap_ms += crng.randint(500, 8000)
                history.append(
                    blocks.add(crng, "llm_text", "assistant", {"text": _answer(crng)}, snap_ms)
                )
                snaps.append(("post_inference", snap_ms, history[turn_start:]))
                if last or crng.random() >= P_NO_FINAL:
                    snap_ms += crng.randint(1, 40)
                    snaps.append(("final", snap_ms, list(history)))
                max_blocks = max(max_blocks, len(history))
                meta = _turn_metadata(crng, attributed, session_id, inference_id, fingerprints)
                tool_data = {"geppetto.tool_config@v1": {"enabled": True, "max_iterations": 5}}
                turn_rows.append(
                    (conv_id, session_id, turn_id, t_ms, _canon(meta), _canon(tool_data), snap_ms)
                )
                for phase, ms, snap_blocks in snaps:
                    conv_members.extend(
                        (conv_id, session_id, turn_id, phase, ms, i, bid, h)
                        for i, (bid, h) in enumerate(snap_blocks)
                    )
                t_ms = snap_ms
            rank = convs - 1 - c
            last_blocks.append(len(history))
            if c == big_index:
                big.update(conv_id=conv_id, rank=rank, turn_id=turn_id, blocks=len(history))
            elif (len(history), -rank) > largest[:2]:
                largest = (len(history), -rank, conv_id, turn_id)
            conv_members.sort(key=lambda r: (r[2], r[3], r[4], r[5]))  # primary-key order
            members.extend(conv_members)
            block_rows.extend(blocks.rows)
            turn_rows.sort(key=lambda r: (r[0], r[1], r[2]))
            n_turns += turns
            n_blocks += len(blocks.rows)
            n_members += len(conv_members)
            payload_bytes += sum(len(r[5]) for r in blocks.rows)
            timeline_rows.append((conv_id, session_id, runtime, created_ms, t_ms, turns))
            if done % 10 == 0 or done == convs:
                flush()
                if on_progress is not None:
                    on_progress(
                        done, convs, time.perf_counter() - t0, os.path.getsize(path), "rows"
                    )
        for ddl in ERA2_INDEXES:
            if on_progress is not None:
                name = ddl.split(" ON ")[0].split()[-1]
                on_progress(convs, convs, time.perf_counter() - t0, os.path.getsize(path), name)
            conn.execute(ddl)
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode=WAL")  # as pinocchio leaves its file
    finally:
        conn.close()
    _finish_wal(path)
    newest = ids[convs - 1][0] if convs else ""
    _write_timeline(timeline_path, timeline_rows)
    return LargeStats(
        path=path,
        timeline_path=timeline_path,
        conversations=convs,
        turns=n_turns,
        blocks=n_blocks,
        membership=n_members,
        turns_without_runtime=no_runtime,
        runtime_switches=switches,
        seconds=time.perf_counter() - t0,
        bytes=os.path.getsize(path),
        timeline_bytes=os.path.getsize(timeline_path),
        payload_bytes=payload_bytes,
        max_turn_blocks=max_blocks,
        mean_last_turn_blocks=sum(last_blocks) / len(last_blocks) if last_blocks else 0.0,
        newest_conv_id=newest,
        largest_conv_id=largest[2],
        largest_conv_rank=-largest[1] if largest[2] else 0,
        largest_turn_id=largest[3],
        largest_turn_blocks=max(largest[0], 0),
        big_conv_id=big.get("conv_id", ""),
        big_conv_rank=big.get("rank", 0),
        big_turn_id=big.get("turn_id", ""),
        big_turn_blocks=big.get("blocks", 0),
        big_block_id=big.get("block_id", ""),
        big_block_bytes=big.get("bytes", 0),
    )
