"""The turns-tui JSON export (schema ``turns-tui-export-v1``): the dump plus every block.

Shape::

    {"schema": "turns-tui-export-v1",
     "database": <the dump's database object>,
     "conversation": <the dump's conversation object>, where each turn also has
        "metadata", "data": the turn row's JSON (see "JSON values" below),
        and each of its "phases" also has "blocks" (and "raw_payload" for YAML stores):
        [{"ordinal", "block_id", "content_hash", "kind", "role",
          "payload", "payload_format", "metadata", "metadata_format"}, ...]}

JSON values: a stored JSON text (block payload or metadata, turn metadata or data) is
exported parsed when a fixed serialiser gives the stored text back byte for byte, and its
``*_format`` field names that serialiser:

* ``"go-json"``: Go's ``json.Marshal`` (compact, keys sorted bytewise, ``<`` ``>`` ``&``
  U+2028 U+2029 escaped, floats Go-style): what pinocchio writes;
* ``"compact-json"``: compact JSON with the keys in the exported order, non-ASCII kept,
  as Python's ``json.dumps(v, separators=(",", ":"), ensure_ascii=False)`` writes it;
* ``"text"``: neither reproduces the stored bytes (not JSON, duplicate keys, other spacing
  or number spelling, ...): the stored text is kept as a string.

So nothing is lost: the stored bytes can always be rebuilt from the export. Keys of the
document are in a fixed order; the output is UTF-8, two-space indented.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tui.export import SCHEMA, ExportSource, TurnExport
from tui.store import gojson
from tui.store.records import Block, SnapshotDetail

__all__ = ["export_json", "export_json_object", "json_value"]

FORMAT_GO = "go-json"
FORMAT_COMPACT = "compact-json"
FORMAT_TEXT = "text"


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def json_value(stored: str) -> tuple[Any, str]:
    """(value, format) for a stored JSON text: parsed when it round-trips, else the text."""
    try:
        value = json.loads(stored)
    except (ValueError, RecursionError):
        return stored, FORMAT_TEXT
    for fmt, serialise in ((FORMAT_GO, gojson.go_json_marshal), (FORMAT_COMPACT, _compact)):
        try:
            if serialise(value) == stored:
                return value, fmt
        except (ValueError, TypeError, RecursionError):
            pass
    return stored, FORMAT_TEXT


class _Values:
    """`json_value` with a cache: accumulated snapshots repeat the same blocks."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[Any, str]] = {}

    def __call__(self, stored: str) -> tuple[Any, str]:
        hit = self._cache.get(stored)
        if hit is None:
            hit = self._cache[stored] = json_value(stored)
        return hit


def _block_json(block: Block, values: _Values) -> dict[str, Any]:
    payload, payload_format = values(block.payload_json)
    metadata, metadata_format = values(block.metadata_json)
    return {
        "ordinal": block.ordinal,
        "block_id": block.block_id,
        "content_hash": block.content_hash,
        "kind": block.kind,
        "role": block.role,
        "payload": payload,
        "payload_format": payload_format,
        "metadata": metadata,
        "metadata_format": metadata_format,
    }


def _latest_detail(te: TurnExport) -> SnapshotDetail | None:
    for snap in reversed(te.turn.snapshots):
        detail = te.detail(snap)
        if detail is not None:
            return detail
    return None


def _turn_extra(te: TurnExport, values: _Values) -> dict[str, Any]:
    t = te.turn
    metadata, metadata_format = values(t.metadata_json)
    latest = _latest_detail(te)
    data: Any = None
    data_format: str | None = None
    if latest is not None:
        data, data_format = values(latest.turn_data_json)
    return {
        "metadata": metadata,
        "metadata_format": metadata_format,
        "data": data,
        "data_format": data_format,
    }


def export_json_object(src: ExportSource) -> dict[str, Any]:
    """The export as a plain object (key order is the document's order)."""
    values = _Values()
    conv = json.loads(json.dumps(src.conversation_json))  # a private copy to extend
    if len(conv["turns"]) != len(src.turns):
        raise RuntimeError("the conversation changed while it was exported")
    for turn_json, te in zip(conv["turns"], src.turns, strict=True):
        turn_json.update(_turn_extra(te, values))
        for phase_json, snap in zip(turn_json["phases"], te.turn.snapshots, strict=True):
            detail = te.detail(snap)
            if detail is None:
                phase_json["blocks"] = None  # the store did not return this snapshot
                continue
            phase_json["blocks"] = [_block_json(b, values) for b in detail.blocks]
            if detail.raw_payload is not None:
                phase_json["raw_payload"] = detail.raw_payload
    return {"schema": SCHEMA, "database": src.dump["database"], "conversation": conv}


_SURROGATE = re.compile("[\ud800-\udfff]")


def export_json(src: ExportSource) -> str:
    """The export as text: two-space indent, UTF-8 (lone surrogates escaped), newline."""
    text = json.dumps(export_json_object(src), indent=2, ensure_ascii=False, allow_nan=False)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"
