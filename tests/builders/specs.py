"""Scenario specs (conversations, turns, snapshots, blocks) and pure helpers on them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
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


