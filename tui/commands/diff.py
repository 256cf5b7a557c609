"""`turns-tui diff PATH --conv C --turn T [--against previous|phase:NAME|turn:ID] [--json]`.

The "to" side is turn T's final snapshot (or its latest when it has none; `--phase`
picks another); `--against` picks the "from" side: the previous turn's final (or latest)
snapshot by default, a phase of the same turn, another turn, or `previous-runtime` (the
last turn of the runtime before a switch).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from tui.cli import _write_stdout
from tui.commands._store import LookupFailed, parser, run
from tui.diff import (
    SnapshotDiff,
    diff_json,
    diff_snapshots,
    final_or_latest,
    latest_of_phase,
    previous_runtime_turn,
    previous_turn,
    render_text,
)
from tui.store.base import Store
from tui.store.models import Opened
from tui.store.records import PhaseSnapshot, SnapshotDetail, TurnRecord


def resolve(kind: str, wanted: str, ids: Sequence[str]) -> str:
    """`wanted` when it is one of `ids`, else the one id it is a prefix of."""
    if wanted in ids:
        return wanted
    found = sorted({i for i in ids if i.startswith(wanted)})
    if len(found) == 1:
        return found[0]
    if not found:
        raise LookupFailed(f"no {kind} {wanted!r}")
    shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
    raise LookupFailed(f"{kind} {wanted!r} is ambiguous: {shown}")


async def _conversation(store: Store, conv: str) -> tuple[str, tuple[TurnRecord, ...]]:
    records = await store.conversation(conv)
    if records.turns:
        return conv, records.turns
    conv_id = resolve("conversation", conv, [c.conv_id for c in await store.conversations()])
    records = await store.conversation(conv_id)
    if not records.turns:
        raise LookupFailed(f"conversation {conv_id!r} has no turns in this file")
    return conv_id, records.turns


def _turn(turns: Sequence[TurnRecord], wanted: str) -> TurnRecord:
    turn_id = resolve("turn", wanted, [t.turn_id for t in turns])
    return next(t for t in turns if t.turn_id == turn_id)


def _phases(turn: TurnRecord) -> str:
    return ", ".join(dict.fromkeys(s.phase for s in turn.snapshots)) or "none"


async def _load(store: Store, turn: TurnRecord, snap: PhaseSnapshot) -> SnapshotDetail:
    detail = await store.snapshot(
        turn.conv_id, turn.session_id, turn.turn_id, snap.phase, snap.snapshot_created_at_ms
    )
    if detail is None:
        raise LookupFailed(f"snapshot {snap.phase}@{snap.snapshot_created_at_ms} not found")
    return detail


def _pick_from(
    against: str, turns: Sequence[TurnRecord], turn: TurnRecord, to_snap: PhaseSnapshot
) -> tuple[TurnRecord, PhaseSnapshot]:
    if against.startswith("phase:"):
        name = against[len("phase:") :]
        earlier = [
            s
            for s in turn.snapshots
            if s.phase == name and s.snapshot_created_at_ms <= to_snap.snapshot_created_at_ms
        ]
        snap = max(earlier, key=lambda s: s.snapshot_created_at_ms) if earlier else None
        snap = snap or latest_of_phase(turn, name)
        if snap is None:
            raise LookupFailed(
                f"turn {turn.turn_id!r} has no {name!r} snapshot (phases: {_phases(turn)})"
            )
        return turn, snap
    if against.startswith("turn:"):
        other = _turn(turns, against[len("turn:") :])
    elif against == "previous":
        found = previous_turn(turns, turn)
        if found is None:
            raise LookupFailed(
                f"turn {turn.turn_id!r} is the first turn: nothing before it "
                "(try --against phase:NAME)"
            )
        other = found
    elif against == "previous-runtime":
        found = previous_runtime_turn(turns, turn)
        if found is None:
            raise LookupFailed(f"no earlier turn of another runtime than {turn.runtime_key!r}")
        other = found
    else:
        raise LookupFailed(
            f"--against {against!r}: expected previous, previous-runtime, phase:NAME or turn:ID"
        )
    snap = final_or_latest(other)
    if snap is None:
        raise LookupFailed(f"turn {other.turn_id!r} has no snapshots")
    return other, snap


async def compute(store: Store, args: argparse.Namespace) -> SnapshotDiff:
    """The diff the command line asks for, read through `store`."""
    _, turns = await _conversation(store, args.conv)
    turn = _turn(turns, args.turn)
    to_snap = latest_of_phase(turn, args.phase) if args.phase else final_or_latest(turn)
    if to_snap is None:
        what = f"{args.phase!r} snapshot" if args.phase else "snapshot"
        raise LookupFailed(f"turn {turn.turn_id!r} has no {what} (phases: {_phases(turn)})")
    from_turn, from_snap = _pick_from(args.against, turns, turn, to_snap)
    new = await _load(store, turn, to_snap)
    old = await _load(store, from_turn, from_snap)
    return diff_snapshots(old, new, from_turn, turn)


def main(argv: Sequence[str]) -> int:
    p = parser("turns-tui diff", "What changed between two snapshots (blocks, metadata, text).")
    p.add_argument("--conv", required=True, metavar="CONV_ID", help="conversation (or prefix)")
    p.add_argument("--turn", required=True, metavar="TURN_ID", help="turn (or unique prefix)")
    p.add_argument(
        "--against",
        default="previous",
        metavar="WHAT",
        help="previous (default: the previous turn's final or latest snapshot), "
        "previous-runtime, phase:NAME (same turn) or turn:ID",
    )
    p.add_argument("--phase", metavar="NAME", help="the 'to' side's phase (default: final)")
    p.add_argument("--json", action="store_true", help="print the diff as JSON")
    args = p.parse_args(argv)

    async def work(_opened: Opened, store: Store) -> SnapshotDiff:
        return await compute(store, args)

    result = run(args, work)
    if isinstance(result, int):
        return result
    if args.json:
        return _write_stdout(json.dumps(diff_json(result), ensure_ascii=True) + "\n")
    return _write_stdout(render_text(result))
