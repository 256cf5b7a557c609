"""Where a turn's runtime key and inference id come from, and where the sources disagree.

Pure functions over `TurnRecord` (no IO, no textual). A turn's column value is compared
with what the GP-26 backfill rules give for its metadata (`TurnRecord.runtime_from` /
`inference_from`) and with what pinocchio's newer (61eeed77) rules give:

- ``from`` is ``"metadata"`` when the value equals what the metadata rules give,
  ``"stored"`` when the column holds a value they do not give, ``"none"`` when empty;
- ``disagrees`` is true when the column and the metadata both hold a value and they
  differ (pinocchio keeps a non-empty column even when the metadata says otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tui.domain import CurrentRuntime, RuntimeSource, is_unknown, latest_known_index
from tui.store import gojson
from tui.store.attribution import Attribution
from tui.store.records import DERIVED_INFERENCE, DERIVED_RUNTIME, TurnRecord

FROM_METADATA = "metadata"
FROM_STORED = "stored"
FROM_NONE = "none"


@dataclass(frozen=True)
class ValueProvenance:
    """Where one column's value comes from."""

    column: str  # "runtime_key" | "inference_id"
    value: str  # as read (stored, or derived in memory by the read-only overlay)
    source: str  # FROM_METADATA | FROM_STORED | FROM_NONE
    metadata: Attribution  # what the backfill rules give, from which key and shape
    newer_rule_value: str  # what pinocchio 61eeed77's rule gives
    derived_in_memory: bool = False  # the read-only overlay filled the value (not on disk)

    @property
    def metadata_value(self) -> str:
        return self.metadata.value

    @property
    def disagrees(self) -> bool:
        """Column and metadata both hold a value, and they differ."""
        return bool(self.value) and bool(self.metadata.value) and self.value != self.metadata.value

    @property
    def newer_rule_differs(self) -> bool:
        return self.newer_rule_value != self.metadata.value

    def describe(self) -> str:
        """One line for the turn detail: `stored column (metadata says 'x')`, ..."""
        if self.source == FROM_NONE:
            where = "unknown: empty column"
            if self.metadata.value:
                where += f", metadata gives {self.metadata.value!r}"
        elif self.source == FROM_METADATA:
            where = f"from metadata: {self.metadata.describe()}"
            if self.derived_in_memory:
                where += " (derived in memory, not in the file)"
        else:
            where = "stored column"
            if self.metadata.value:
                where += f"; metadata says {self.metadata.value!r}"
            else:
                where += f"; metadata: {self.metadata.describe()}"
        if self.newer_rule_differs:
            newer = repr(self.newer_rule_value) if self.newer_rule_value else "nothing (empty)"
            where += f"; pinocchio's newer rule (61eeed77) would give {newer}"
        return where


@dataclass(frozen=True)
class TurnProvenance:
    """Both columns of one turn."""

    runtime_key: ValueProvenance
    inference_id: ValueProvenance

    @property
    def disagrees(self) -> bool:
        return self.runtime_key.disagrees or self.inference_id.disagrees


def _source(value: str, metadata_value: str) -> str:
    if value == "":
        return FROM_NONE
    return FROM_METADATA if value == metadata_value else FROM_STORED


def turn_provenance(turn: TurnRecord) -> TurnProvenance:
    """Provenance of `turn`'s runtime key and inference id."""
    decoded = gojson.decode_metadata(turn.metadata_json, float64=False)
    newer_rk = gojson.extract_runtime_key_v2(decoded) if decoded is not None else ""
    newer_inf = gojson.extract_inference_id_v2(decoded) if decoded is not None else ""
    return TurnProvenance(
        ValueProvenance(
            "runtime_key",
            turn.runtime_key,
            _source(turn.runtime_key, turn.runtime_from.value),
            turn.runtime_from,
            newer_rk,
            DERIVED_RUNTIME in turn.derived,
        ),
        ValueProvenance(
            "inference_id",
            turn.inference_id,
            _source(turn.inference_id, turn.inference_from.value),
            turn.inference_from,
            newer_inf,
            DERIVED_INFERENCE in turn.derived,
        ),
    )


def value_json(p: ValueProvenance) -> dict[str, Any]:
    """One column of the dump's `provenance` object."""
    return {
        "from": p.source,
        "metadata_value": p.metadata.value,
        "metadata_key": p.metadata.key,
        "metadata_shape": p.metadata.shape,
        "metadata_field": ".".join(p.metadata.field_path) or None,
        "newer_rule_value": p.newer_rule_value if p.newer_rule_differs else None,
        "disagrees": p.disagrees,
        "derived_in_memory": p.derived_in_memory,
    }


def provenance_json(p: TurnProvenance) -> dict[str, Any]:
    """The dump's `provenance` field of one turn."""
    return {"runtime_key": value_json(p.runtime_key), "inference_id": value_json(p.inference_id)}


@dataclass(frozen=True)
class CurrentProvenance:
    """The current runtime pointer: the timeline store's value against the latest turn's."""

    current: CurrentRuntime
    timeline_key: str | None  # None: no timeline-store row
    latest_turn_id: str | None  # the latest turn with a known runtime
    latest_turn_key: str

    @property
    def disagrees(self) -> bool:
        """The timeline store names a runtime other than the latest turn's (legitimate
        after a switch nobody has used yet, but worth saying)."""
        return (
            self.timeline_key is not None
            and not is_unknown(self.timeline_key)
            and not is_unknown(self.latest_turn_key)
            and self.timeline_key != self.latest_turn_key
        )


def current_provenance(
    ordered_turns: Sequence[TurnRecord], timeline_key: str | None, current: CurrentRuntime
) -> CurrentProvenance:
    """Provenance of a conversation's current runtime (turns in domain order;
    `timeline_key` None when the timeline store has no row for it)."""
    index = latest_known_index([t.runtime_key for t in ordered_turns])
    latest = ordered_turns[index] if index is not None else None
    return CurrentProvenance(
        current,
        timeline_key,
        latest.turn_id if latest is not None else None,
        latest.runtime_key if latest is not None else "",
    )


def current_json(p: CurrentProvenance) -> dict[str, Any]:
    """A conversation's current-runtime provenance as JSON."""
    return {
        "key": p.current.key,
        "source": p.current.source.value,
        "timeline_value": p.timeline_key,
        "latest_turn_id": p.latest_turn_id,
        "latest_turn_value": p.latest_turn_key,
        "derived": p.current.source == RuntimeSource.LATEST_TURN,
        "disagrees": p.disagrees,
    }
