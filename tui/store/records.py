"""Plain frozen dataclasses the readers return: turns, snapshots, blocks, conversations.

Kept apart from `tui.store.models` so the headless `migrate` command does not build them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PhaseSnapshot:
    """One snapshot of a turn: a phase at a time, with its block count."""

    phase: str
    snapshot_created_at_ms: int
    block_count: int


@dataclass(frozen=True)
class TurnRecord:
    """One turn row with its snapshots in time order."""

    conv_id: str
    session_id: str
    turn_id: str
    runtime_key: str
    inference_id: str
    turn_created_at_ms: int
    updated_at_ms: int
    metadata_json: str
    snapshots: tuple[PhaseSnapshot, ...] = ()


@dataclass(frozen=True)
class ConversationSummary:
    """One conversation as listed: ids, counts and last activity."""

    conv_id: str
    session_id: str
    turn_count: int
    last_activity_ms: int
    latest_runtime_key: str  # runtime of the latest turn that has one
    timeline_runtime_key: str | None = None  # current runtime from the timeline store
    runtime_keys: tuple[str, ...] = ()  # per-turn runtime keys in turn order


@dataclass(frozen=True)
class Block:
    """One block of a snapshot, in ordinal order."""

    ordinal: int
    block_id: str
    kind: str
    role: str
    payload_json: str
    metadata_json: str


@dataclass(frozen=True)
class SnapshotDetail:
    """Blocks and turn metadata of one snapshot."""

    conv_id: str
    session_id: str
    turn_id: str
    phase: str
    snapshot_created_at_ms: int
    blocks: tuple[Block, ...]
    turn_metadata_json: str
    turn_data_json: str
    raw_payload: str | None = None  # original YAML where the store keeps it (geppetto_turns)
