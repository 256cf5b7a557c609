"""The bulk scenario of the benchmarks (thousands of turns, written fast)."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.builders.eras import (
    _ERA2_INDEXES,
    _block_row,
    _create_indexes,
    _create_normalised_schema,
    _require_new,
)
from tests.builders.scenarios import (
    T0,
    _pre_metadata,
    runtime_attribution,
)
from tests.builders.specs import (
    BlockSpec,
    ConversationSpec,
    SnapshotSpec,
    TurnSpec,
    _json,
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
