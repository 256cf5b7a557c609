"""The database check: every anomaly of a turns file, as data (a linter for turns files).

Pure rules over facts the store read (conversation records, orphan membership rows,
early snapshots); no IO, no textual. `tui.commands.check` gathers the facts.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tui.domain import current_runtime, is_unknown, order_turns
from tui.formatting import safe_text
from tui.provenance import current_provenance, turn_provenance
from tui.store.base import ConversationRecords, Store
from tui.store.investigate import AnomalyFacts

UNKNOWN_RUNTIME = "unknown_runtime"
MISSING_FINAL = "missing_final"
REUSED_INFERENCE_ID = "reused_inference_id"
MALFORMED_METADATA = "malformed_metadata"
RUNTIME_DISAGREEMENT = "runtime_disagreement"
CURRENT_RUNTIME_DISAGREEMENT = "current_runtime_disagreement"
ORPHAN_MEMBERSHIP = "orphan_membership"
TIME_ORDER = "time_order"

KINDS: tuple[str, ...] = (
    UNKNOWN_RUNTIME,
    MISSING_FINAL,
    REUSED_INFERENCE_ID,
    MALFORMED_METADATA,
    RUNTIME_DISAGREEMENT,
    CURRENT_RUNTIME_DISAGREEMENT,
    ORPHAN_MEMBERSHIP,
    TIME_ORDER,
)

KIND_LABELS: dict[str, str] = {
    UNKNOWN_RUNTIME: "runtime unknown",
    MISSING_FINAL: "no final snapshot (crashed or in progress)",
    REUSED_INFERENCE_ID: "inference id used by more than one turn",
    MALFORMED_METADATA: "turn metadata is not valid JSON",
    RUNTIME_DISAGREEMENT: "stored value and metadata disagree",
    CURRENT_RUNTIME_DISAGREEMENT: "timeline store and latest turn disagree",
    ORPHAN_MEMBERSHIP: "snapshot rows without a turn row",
    TIME_ORDER: "snapshot older than its turn",
}


@dataclass(frozen=True)
class Anomaly:
    """One finding: its kind, where it is (turn_id None: the conversation), and why."""

    kind: str
    conv_id: str
    turn_id: str | None
    detail: str
    session_id: str = ""


@dataclass(frozen=True)
class CheckReport:
    """Every anomaly in file order (conversation, turn order, kind), with counts."""

    anomalies: tuple[Anomaly, ...]

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(a.kind for a in self.anomalies)
        return {k: found[k] for k in KINDS if found[k]}

    @property
    def clean(self) -> bool:
        return not self.anomalies


def _q(value: str) -> str:
    return repr(safe_text(value, 80))


def conversation_anomalies(
    records: ConversationRecords, reused: dict[str, list[tuple[str, str]]]
) -> list[Anomaly]:
    """Per-turn and current-runtime anomalies of one conversation.

    `reused` maps an inference id used by several turns to those turns (conv, turn)."""
    out: list[Anomaly] = []
    ordered = order_turns(records.turns)
    for t in ordered:

        def add(kind: str, detail: str, turn_id: str = t.turn_id, sess: str = t.session_id) -> None:
            out.append(Anomaly(kind, records.conv_id, turn_id, detail, sess))

        if is_unknown(t.runtime_key):
            why = safe_text(t.runtime_from.describe())
            add(UNKNOWN_RUNTIME, f"no runtime key stored or in metadata: {why}")
        if not any(s.phase == "final" for s in t.snapshots):
            phases = ", ".join(dict.fromkeys(s.phase for s in t.snapshots)) or "no snapshots"
            add(MISSING_FINAL, f"no final snapshot (phases: {safe_text(phases)})")
        if t.inference_id and t.inference_id in reused:
            others = [
                f"{c}/{x}" for c, x in reused[t.inference_id] if (c, x) != (t.conv_id, t.turn_id)
            ]
            shown = ", ".join(safe_text(o) for o in others[:3])
            more = f" and {len(others) - 3} more" if len(others) > 3 else ""
            add(REUSED_INFERENCE_ID, f"inference id {_q(t.inference_id)} also on {shown}{more}")
        if t.metadata_malformed:
            add(MALFORMED_METADATA, "turn_metadata_json does not decode (Go skips the row)")
        prov = turn_provenance(t)
        for p in (prov.runtime_key, prov.inference_id):
            if p.disagrees:
                add(
                    RUNTIME_DISAGREEMENT,
                    f"{p.column} stored {_q(p.value)} but metadata "
                    f"{safe_text(p.metadata.describe())} gives {_q(p.metadata.value)}",
                )
    if records.timeline is not None and ordered:
        current = current_runtime([t.runtime_key for t in ordered], records.timeline.runtime_key)
        cp = current_provenance(ordered, records.timeline.runtime_key, current)
        if cp.disagrees:
            out.append(
                Anomaly(
                    CURRENT_RUNTIME_DISAGREEMENT,
                    records.conv_id,
                    cp.latest_turn_id,
                    f"timeline store says {_q(cp.timeline_key or '')}, latest turn ran on "
                    f"{_q(cp.latest_turn_key)}",
                    records.timeline.session_id,
                )
            )
    return out


def reused_inference_ids(convs: Iterable[ConversationRecords]) -> dict[str, list[tuple[str, str]]]:
    """Inference ids held by more than one turn anywhere in the file, with their turns."""
    holders: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for records in convs:
        for t in records.turns:
            if t.inference_id:
                holders[t.inference_id].append((records.conv_id, t.turn_id))
    return {k: v for k, v in holders.items() if len(v) > 1}


def fact_anomalies(facts: AnomalyFacts) -> list[Anomaly]:
    """Orphan membership rows and early snapshots, as anomalies."""
    out: list[Anomaly] = []
    by_turn: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    for o in facts.orphan_snapshots:
        by_turn[(o.conv_id, o.session_id, o.turn_id)].append(o)
    for (conv, sess, turn), snaps in by_turn.items():
        rows = sum(o.rows for o in snaps)
        phases = ", ".join(f"{safe_text(o.phase)}@{o.snapshot_created_at_ms}" for o in snaps[:4])
        more = f" and {len(snaps) - 4} more" if len(snaps) > 4 else ""
        out.append(
            Anomaly(
                ORPHAN_MEMBERSHIP,
                conv,
                turn,
                f"{rows} membership row{'s' if rows != 1 else ''} in {len(snaps)} "
                f"snapshot{'s' if len(snaps) != 1 else ''} ({phases}{more}) without a turn row "
                f"(session {_q(sess)})",
                sess,
            )
        )
    early: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    for e in facts.early_snapshots:
        early[(e.conv_id, e.session_id, e.turn_id)].append(e)
    for (conv, sess, turn), snaps in early.items():
        first = min(snaps, key=lambda e: e.snapshot_created_at_ms)
        n = len(snaps)
        out.append(
            Anomaly(
                TIME_ORDER,
                conv,
                turn,
                f"{n} snapshot{'s' if n != 1 else ''} older than the turn's creation "
                f"({first.turn_created_at_ms}); the earliest, {safe_text(first.phase)} at "
                f"{first.snapshot_created_at_ms}, by "
                f"{first.turn_created_at_ms - first.snapshot_created_at_ms} ms",
                sess,
            )
        )
    return out


def check(convs: Sequence[ConversationRecords], facts: AnomalyFacts) -> CheckReport:
    """Every anomaly of the file: conversations in the given order, then orphans and early
    snapshots merged in by conversation."""
    reused = reused_inference_ids(convs)
    found: list[Anomaly] = []
    for records in convs:
        found.extend(conversation_anomalies(records, reused))
    extra = fact_anomalies(facts)
    order = {r.conv_id: i for i, r in enumerate(convs)}
    late = len(order)
    # Stable: per conversation, its turn anomalies first, then the SQL-only facts.
    merged = sorted(
        [(order.get(a.conv_id, late), 0, i, a) for i, a in enumerate(found)]
        + [(order.get(a.conv_id, late), 1, i, a) for i, a in enumerate(extra)],
        key=lambda x: (x[0], x[1], x[2]),
    )
    return CheckReport(tuple(a for *_, a in merged))


def report_json(report: CheckReport) -> dict[str, Any]:
    """The `turns-tui check --json` object."""
    return {
        "anomalies": [
            {"kind": a.kind, "conv_id": a.conv_id, "turn_id": a.turn_id, "detail": a.detail}
            for a in report.anomalies
        ],
        "counts": report.counts,
    }


def render_text(report: CheckReport) -> str:
    """The readable form of `turns-tui check`."""
    if report.clean:
        return "no anomalies\n"
    lines = []
    for a in report.anomalies:
        where = safe_text(a.conv_id) + (f"/{safe_text(a.turn_id)}" if a.turn_id else "")
        lines.append(f"{a.kind:<29} {where}: {a.detail}")
    total = len(report.anomalies)
    lines.append("")
    lines.append(f"{total} anomal{'y' if total == 1 else 'ies'}:")
    lines.extend(f"  {k}: {n}  ({KIND_LABELS[k]})" for k, n in report.counts.items())
    return "\n".join(lines) + "\n"


async def gather(
    store: Store, on_progress: Callable[[int, int], None] | None = None
) -> CheckReport:
    """Read every conversation of the file and the database-wide facts, then apply the
    rules (in a thread). `on_progress(done, total)` follows the conversations read."""
    summaries = [s for s in await store.conversations() if s.in_file]
    convs: list[ConversationRecords] = []
    for n, summary in enumerate(summaries, 1):
        convs.append(await store.conversation(summary.conv_id))
        if on_progress is not None:
            on_progress(n, len(summaries))
    facts = await store.anomaly_facts()
    return await asyncio.to_thread(check, convs, facts)
