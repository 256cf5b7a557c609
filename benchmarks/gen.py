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
