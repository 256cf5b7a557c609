"""What changed between two snapshots: blocks, turn metadata and data, and block text.

Pure functions over the store's records (no IO, no textual; line diffs by the standard
library's `difflib`). Blocks compare as multisets of (block_id, content_hash): a block
whose id is on both sides with another hash is *changed*; the rest of the surplus of each
side is *added* or *removed*. The system prompt's text diff comes first.
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tui.domain import order_turns
from tui.formatting import safe_text
from tui.store import gojson
from tui.store.records import Block, PhaseSnapshot, SnapshotDetail, TurnRecord

MODEL_KEY = "geppetto.model@v1"
PROVIDER_KEY = "geppetto.provider@v1"
RUNTIME_KEY = "geppetto.runtime@v1"

_MISSING = object()


@dataclass(frozen=True)
class Side:
    """One side of a diff: which snapshot of which turn."""

    turn_id: str
    phase: str
    snapshot_created_at_ms: int
    runtime_key: str


@dataclass(frozen=True)
class BlockRef:
    """A block in a diff (for a changed block: the "to" side, and where it was before)."""

    ordinal: int
    block_id: str
    content_hash: str
    kind: str
    role: str
    from_ordinal: int | None = None
    from_content_hash: str | None = None


@dataclass(frozen=True)
class KeyDiff:
    """Top-level keys of a JSON object that changed, appeared or went."""

    changed: tuple[tuple[str, Any, Any], ...] = ()  # (key, old, new)
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    from_malformed: bool = False
    to_malformed: bool = False

    @property
    def empty(self) -> bool:
        return not (self.changed or self.added or self.removed)

    def value(self, key: str) -> tuple[Any, Any] | None:
        """(old, new) of a changed key, else None."""
        return next(((o, n) for k, o, n in self.changed if k == key), None)


@dataclass(frozen=True)
class TextDiff:
    """A unified line diff of one block's text (the system prompt: all system blocks)."""

    block_id: str
    kind: str
    unified_diff: str
    added_lines: int
    removed_lines: int


@dataclass(frozen=True)
class SnapshotDiff:
    """Everything that differs from one snapshot to another."""

    from_side: Side | None  # None: nothing before (every block is added)
    to_side: Side
    added: tuple[BlockRef, ...]
    removed: tuple[BlockRef, ...]
    changed: tuple[BlockRef, ...]
    metadata: KeyDiff
    data: KeyDiff
    text_diffs: tuple[TextDiff, ...]

    @property
    def system_prompt(self) -> TextDiff | None:
        return next((t for t in self.text_diffs if t.kind == "system"), None)

    @property
    def empty(self) -> bool:
        return not (
            self.added
            or self.removed
            or self.changed
            or self.text_diffs
            or not self.metadata.empty
            or not self.data.empty
        )


# --------------------------------------------------------------------------------------
# Picking the snapshots
# --------------------------------------------------------------------------------------


def final_or_latest(turn: TurnRecord) -> PhaseSnapshot | None:
    """The turn's latest `final` snapshot, else its latest snapshot (None: it has none)."""
    finals = [s for s in turn.snapshots if s.phase == "final"]
    pool = finals or list(turn.snapshots)
    return max(pool, key=lambda s: s.snapshot_created_at_ms) if pool else None


def latest_of_phase(turn: TurnRecord, phase: str) -> PhaseSnapshot | None:
    """The turn's latest snapshot of `phase`."""
    pool = [s for s in turn.snapshots if s.phase == phase]
    return max(pool, key=lambda s: s.snapshot_created_at_ms) if pool else None


def previous_phase(turn: TurnRecord, snap: PhaseSnapshot) -> PhaseSnapshot | None:
    """The snapshot of `turn` just before `snap` in time order (the previous phase)."""
    ordered = sorted(turn.snapshots, key=lambda s: (s.snapshot_created_at_ms, s.phase))
    earlier = [s for s in ordered if s.snapshot_created_at_ms < snap.snapshot_created_at_ms]
    return earlier[-1] if earlier else None


def previous_turn(turns: Sequence[TurnRecord], turn: TurnRecord) -> TurnRecord | None:
    """The turn before `turn` in conversation order."""
    ordered = order_turns(turns)
    index = next(i for i, t in enumerate(ordered) if t.turn_id == turn.turn_id)
    return ordered[index - 1] if index > 0 else None


def previous_runtime_turn(turns: Sequence[TurnRecord], turn: TurnRecord) -> TurnRecord | None:
    """The last turn before `turn` whose known runtime differs from `turn`'s (on a switch
    turn: the last turn of the previous runtime)."""
    ordered = order_turns(turns)
    index = next(i for i, t in enumerate(ordered) if t.turn_id == turn.turn_id)
    for t in reversed(ordered[:index]):
        if t.runtime_key.strip() and t.runtime_key != turn.runtime_key:
            return t
    return None


# --------------------------------------------------------------------------------------
# The diff
# --------------------------------------------------------------------------------------


def _ref(b: Block, before: Block | None = None) -> BlockRef:
    return BlockRef(
        b.ordinal,
        b.block_id,
        b.content_hash,
        b.kind,
        b.role,
        before.ordinal if before is not None else None,
        before.content_hash if before is not None else None,
    )


def diff_blocks(
    old: Sequence[Block], new: Sequence[Block]
) -> tuple[tuple[BlockRef, ...], tuple[BlockRef, ...], tuple[BlockRef, ...]]:
    """(added, removed, changed) between two block lists, as multisets of (id, hash).

    Added and changed are in the new side's order, removed in the old side's."""
    old_count = Counter((b.block_id, b.content_hash) for b in old)
    new_count = Counter((b.block_id, b.content_hash) for b in new)
    surplus_old = old_count - new_count
    surplus_new = new_count - old_count
    # Of duplicates, the last ones are the surplus (the earlier ones line up).
    old_extra: list[Block] = []
    for b in reversed(old):
        k = (b.block_id, b.content_hash)
        if surplus_old[k] > 0:
            surplus_old[k] -= 1
            old_extra.append(b)
    old_extra.reverse()
    new_extra: list[Block] = []
    for b in reversed(new):
        k = (b.block_id, b.content_hash)
        if surplus_new[k] > 0:
            surplus_new[k] -= 1
            new_extra.append(b)
    new_extra.reverse()
    added: list[BlockRef] = []
    changed: list[BlockRef] = []
    for b in new_extra:
        before = next((o for o in old_extra if o.block_id == b.block_id), None)
        if before is not None:
            old_extra.remove(before)
            changed.append(_ref(b, before))
        else:
            added.append(_ref(b))
    return tuple(added), tuple(_ref(b) for b in old_extra), tuple(changed)


def _decode(text: str) -> tuple[dict[str, Any], bool]:
    meta = gojson.decode_metadata(text, float64=False)
    return (meta, False) if meta is not None else ({}, True)


def diff_keys(old_json: str, new_json: str) -> KeyDiff:
    """Top-level keys of two JSON objects (Go's decoding) that changed, appeared or went."""
    old, old_bad = _decode(old_json)
    new, new_bad = _decode(new_json)
    changed = tuple(
        (k, old[k], new[k]) for k in sorted(old.keys() & new.keys()) if old[k] != new[k]
    )
    return KeyDiff(
        changed,
        tuple(sorted(new.keys() - old.keys())),
        tuple(sorted(old.keys() - new.keys())),
        old_bad,
        new_bad,
    )


def block_text(block: Block) -> str:
    """A block's text for a line diff: its `text`, else its payload as indented JSON."""
    payload = gojson.decode_metadata(block.payload_json, float64=False)
    if payload is None:
        return block.payload_json
    text = payload.get("text")
    if isinstance(text, str) and len(payload) == 1:
        return text
    return json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False)


def _is_system(block: Block) -> bool:
    return block.kind == "system" or (block.kind in ("", "other") and block.role == "system")


def _unified(a: str, b: str, from_name: str, to_name: str) -> tuple[str, int, int]:
    lines = list(
        difflib.unified_diff(
            a.splitlines(), b.splitlines(), fromfile=from_name, tofile=to_name, lineterm=""
        )
    )
    plus = sum(1 for ln in lines if ln.startswith("+") and not ln.startswith("+++"))
    minus = sum(1 for ln in lines if ln.startswith("-") and not ln.startswith("---"))
    return "\n".join(lines), plus, minus


def _side_name(side: Side | None) -> str:
    return f"{side.turn_id}/{side.phase}" if side is not None else "(nothing)"


def text_diffs(
    old: Sequence[Block],
    new: Sequence[Block],
    changed: Sequence[BlockRef],
    from_side: Side | None,
    to_side: Side,
) -> tuple[TextDiff, ...]:
    """Line diffs: the system prompt (all system blocks' text) first, then each changed
    non-system block in the new side's order."""
    out: list[TextDiff] = []
    fa, tb = _side_name(from_side), _side_name(to_side)
    old_sys = [b for b in old if _is_system(b)]
    new_sys = [b for b in new if _is_system(b)]
    a = "\n".join(block_text(b) for b in old_sys)
    b_ = "\n".join(block_text(b) for b in new_sys)
    if [(x.block_id, x.content_hash) for x in old_sys] != [
        (x.block_id, x.content_hash) for x in new_sys
    ] and a != b_:
        text, plus, minus = _unified(a, b_, fa, tb)
        anchor = (new_sys or old_sys)[0].block_id
        out.append(TextDiff(anchor, "system", text, plus, minus))
    by_old = {(b.ordinal, b.content_hash): b for b in old}
    by_new = {(b.ordinal, b.content_hash): b for b in new}
    for ref in changed:
        nb = by_new[(ref.ordinal, ref.content_hash)]
        if _is_system(nb):
            continue
        ob = by_old[(ref.from_ordinal or 0, ref.from_content_hash or "")]
        text, plus, minus = _unified(block_text(ob), block_text(nb), fa, tb)
        out.append(TextDiff(nb.block_id, nb.kind, text, plus, minus))
    return tuple(out)


def side_of(turn: TurnRecord, snap: SnapshotDetail) -> Side:
    return Side(turn.turn_id, snap.phase, snap.snapshot_created_at_ms, turn.runtime_key)


def diff_snapshots(
    old: SnapshotDetail | None,
    new: SnapshotDetail,
    old_turn: TurnRecord | None,
    new_turn: TurnRecord,
) -> SnapshotDiff:
    """The diff from `old` (None: nothing) to `new`.

    Turn metadata and data are the turn rows' (the normalised store keeps one per turn, so
    two phases of one turn never differ there)."""
    old_blocks = old.blocks if old is not None else ()
    from_side = side_of(old_turn, old) if old is not None and old_turn is not None else None
    to_side = side_of(new_turn, new)
    added, removed, changed = diff_blocks(old_blocks, new.blocks)
    return SnapshotDiff(
        from_side,
        to_side,
        added,
        removed,
        changed,
        diff_keys(old.turn_metadata_json if old is not None else "{}", new.turn_metadata_json),
        diff_keys(old.turn_data_json if old is not None else "{}", new.turn_data_json),
        text_diffs(old_blocks, new.blocks, changed, from_side, to_side),
    )


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------


def _side_json(side: Side | None) -> dict[str, Any] | None:
    if side is None:
        return None
    return {
        "turn_id": side.turn_id,
        "phase": side.phase,
        "snapshot_created_at_ms": side.snapshot_created_at_ms,
        "runtime_key": side.runtime_key,
    }


def _block_json(b: BlockRef, *, changed: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ordinal": b.ordinal,
        "block_id": b.block_id,
        "content_hash": b.content_hash,
        "kind": b.kind,
        "role": b.role,
    }
    if changed:
        out["from_ordinal"] = b.from_ordinal
        out["from_content_hash"] = b.from_content_hash
    return out


def _keys_json(d: KeyDiff) -> dict[str, Any]:
    return {
        "changed": {k: [o, n] for k, o, n in d.changed},
        "added": list(d.added),
        "removed": list(d.removed),
    }


def diff_json(d: SnapshotDiff) -> dict[str, Any]:
    """The `turns-tui diff --json` object."""
    return {
        "from": _side_json(d.from_side),
        "to": _side_json(d.to_side),
        "blocks": {
            "added": [_block_json(b) for b in d.added],
            "removed": [_block_json(b) for b in d.removed],
            "changed": [_block_json(b, changed=True) for b in d.changed],
        },
        "metadata": _keys_json(d.metadata),
        "data": _keys_json(d.data),
        "text_diff": [
            {"block_id": t.block_id, "kind": t.kind, "unified_diff": t.unified_diff}
            for t in d.text_diffs
        ],
    }


def value_text(value: Any) -> str:
    """A metadata or data value on one line: a string as it is, anything else as compact
    JSON in its stored key order with every character as stored (not Go's marshal, which
    writes `<`, `>` and `&` as `\\u003c`, `\\u003e`, `\\u0026`)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _short(value: Any, limit: int = 40) -> str:
    if value is _MISSING:
        return "—"
    return safe_text(value_text(value), limit)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def switch_summary(d: SnapshotDiff) -> str:
    """One line for a switch row of the timeline:
    ``research → coder · system prompt changed +12 −3 · model gpt-4o → o4-mini · 2 blocks added``.
    """
    parts: list[str] = []
    old_rt = d.from_side.runtime_key if d.from_side is not None else ""
    new_rt = d.to_side.runtime_key
    if old_rt != new_rt:
        parts.append(f"{safe_text(old_rt, 24) or '?'} → {safe_text(new_rt, 24) or '?'}")
    sp = d.system_prompt
    if sp is not None:
        parts.append(f"system prompt changed +{sp.added_lines} −{sp.removed_lines}")
    for key, label in ((MODEL_KEY, "model"), (PROVIDER_KEY, "provider")):
        change = d.metadata.value(key)
        if change is not None:
            parts.append(f"{label} {_short(change[0])} → {_short(change[1])}")
        elif key in d.metadata.added:
            parts.append(f"{label} set")
        elif key in d.metadata.removed:
            parts.append(f"{label} dropped")
    if d.data.changed or d.data.added or d.data.removed:
        n = len(d.data.changed) + len(d.data.added) + len(d.data.removed)
        parts.append(f"{_plural(n, 'data key')} changed")
    for refs, verb in ((d.added, "added"), (d.removed, "removed"), (d.changed, "changed")):
        if refs:
            parts.append(f"{_plural(len(refs), 'block')} {verb}")
    return " · ".join(parts) if parts else "no differences"


def _side_text(side: Side | None) -> str:
    if side is None:
        return "(nothing)"
    rt = safe_text(side.runtime_key) or "unknown runtime"
    return (
        f"{safe_text(side.turn_id)} {safe_text(side.phase)} @{side.snapshot_created_at_ms} ({rt})"
    )


def _block_line(mark: str, b: BlockRef) -> str:
    role = f"/{safe_text(b.role)}" if b.role else ""
    where = f"#{b.ordinal}"
    if b.from_ordinal is not None and b.from_ordinal != b.ordinal:
        where = f"#{b.from_ordinal}→#{b.ordinal}"
    return f"  {mark} {where} {safe_text(b.block_id)} {safe_text(b.kind)}{role}"


def _keys_text(title: str, d: KeyDiff) -> list[str]:
    lines = [f"{title}: {'no changes' if d.empty else ''}".rstrip()]
    if d.from_malformed or d.to_malformed:
        side = "from" if d.from_malformed else "to"
        lines.append(f"  (malformed JSON on the {side} side)")
    for k, o, n in d.changed:
        lines.append(f"  ~ {safe_text(k)}: {_short(o, 60)} → {_short(n, 60)}")
    lines.extend(f"  + {safe_text(k)}" for k in d.added)
    lines.extend(f"  - {safe_text(k)}" for k in d.removed)
    return lines


def render_text(d: SnapshotDiff) -> str:
    """The readable form of `turns-tui diff` (every database value made safe)."""
    lines = [
        f"from  {_side_text(d.from_side)}",
        f"to    {_side_text(d.to_side)}",
        f"summary: {switch_summary(d)}",
        f"blocks: {len(d.added)} added, {len(d.removed)} removed, {len(d.changed)} changed",
    ]
    lines.extend(_block_line("+", b) for b in d.added)
    lines.extend(_block_line("-", b) for b in d.removed)
    lines.extend(_block_line("~", b) for b in d.changed)
    lines.extend(_keys_text("metadata", d.metadata))
    lines.extend(_keys_text("data", d.data))
    for t in d.text_diffs:
        label = "system prompt" if t.kind == "system" else f"block {safe_text(t.block_id)}"
        lines.append(f"text diff, {label} (+{t.added_lines} −{t.removed_lines}):")
        lines.extend(f"  {safe_text(ln)}" for ln in t.unified_diff.splitlines())
    return "\n".join(lines) + "\n"
