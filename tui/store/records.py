"""Plain frozen dataclasses the store returns: turns, snapshots, blocks, conversations.

Kept apart from `tui.store.models` so the headless `migrate` command does not build them.
Facts the domain rules need (malformed metadata, where a runtime key came from, which
values the read-only overlay derived in memory) are decided here, when a row is read.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.store.attribution import NOTHING, Attribution

# Columns the read-only overlay can fill in memory (never written to the file).
DERIVED_RUNTIME = "runtime_key"
DERIVED_INFERENCE = "inference_id"
DERIVED_UPDATED = "updated_at_ms"


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
    runtime_key: str  # as stored (or as the overlay derives it, see `derived`)
    inference_id: str
    turn_created_at_ms: int
    updated_at_ms: int
    metadata_json: str
    snapshots: tuple[PhaseSnapshot, ...] = ()
    metadata_malformed: bool = False  # Go's decoder rejects the metadata JSON
    runtime_from: Attribution = NOTHING  # what the metadata rules give, and from where
    inference_from: Attribution = NOTHING
    derived: frozenset[str] = frozenset()  # columns the read-only overlay filled in memory

    @property
    def last_snapshot_ms(self) -> int:
        """Time of the newest snapshot (0 when the turn has none)."""
        return max((s.snapshot_created_at_ms for s in self.snapshots), default=0)


@dataclass(frozen=True)
class TimelineEntry:
    """One row of the pinocchio timeline store (`timeline_conversations`)."""

    conv_id: str
    runtime_key: str  # the conversation's *current* runtime pointer
    session_id: str
    last_activity_ms: int
    status: str = ""
    last_error: str = ""


@dataclass(frozen=True)
class ConversationSummary:
    """One conversation as listed: ids, counts and last activity."""

    conv_id: str
    session_id: str  # session of the latest turn (or the timeline store's)
    turn_count: int
    last_activity_ms: int  # newest snapshot time (the timeline store's when it has no turns)
    latest_runtime_key: str  # runtime of the latest turn that has one
    timeline_runtime_key: str | None = None  # current runtime from the timeline store
    runtime_keys: tuple[str, ...] = ()  # per-turn runtime keys in turn order
    sessions: tuple[str, ...] = ()  # every session of the conversation, oldest first
    inference_ids: tuple[str, ...] = ()  # non-empty per-turn inference ids in turn order
    in_file: bool = True  # False: known only to the timeline store, no turns in this file
    status: str = ""  # timeline store's status, where set
    last_error: str = ""  # timeline store's last_error, where set


@dataclass(frozen=True)
class Block:
    """One block of a snapshot, in ordinal order."""

    ordinal: int
    block_id: str
    kind: str
    role: str
    payload_json: str
    metadata_json: str
    content_hash: str = ""


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
