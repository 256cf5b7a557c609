"""Domain rules of the GP-26 semantics: turn order, runtime switches, current runtime.

Pure functions over the data layer's frozen dataclasses; no IO, no textual.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from tui.store.records import ConversationSummary, TimelineEntry, TurnRecord

PHASES: tuple[str, ...] = ("pre_inference", "post_inference", "post_tools", "final")

UNKNOWN_RUNTIME = "unknown_runtime"
NO_FINAL = "no_final_snapshot"
DUPLICATE_INFERENCE = "duplicate_inference_id"
MALFORMED_METADATA = "malformed_metadata"

ANOMALY_LABELS: dict[str, str] = {
    UNKNOWN_RUNTIME: "runtime unknown (no runtime key stored or in metadata)",
    NO_FINAL: "no final snapshot (crashed or still running)",
    DUPLICATE_INFERENCE: "inference id shared with another turn",
    MALFORMED_METADATA: "turn metadata is not valid JSON",
}


class RuntimeSource(StrEnum):
    """Where the conversation's current runtime key comes from."""

    TIMELINE = "timeline"
    LATEST_TURN = "latest_turn"
    NONE = "none"


@dataclass(frozen=True)
class CurrentRuntime:
    """The conversation's current runtime pointer (not the history of its turns)."""

    key: str
    source: RuntimeSource


@dataclass(frozen=True)
class TurnView:
    """One turn in conversation order with its switch flag and anomalies."""

    number: int
    turn: TurnRecord
    runtime_switch: bool
    previous_runtime_key: str | None
    anomalies: tuple[str, ...]
    session_number: int = 1  # 1-based index of the turn's session in the conversation
    new_session: bool = False  # the first turn of a resumed session (not the first session)

    @property
    def unknown_runtime(self) -> bool:
        """True when no runtime produced this turn as far as the database knows."""
        return is_unknown(self.turn.runtime_key)


@dataclass(frozen=True)
class ConversationView:
    """A conversation's turns in order, with its current runtime."""

    conv_id: str
    session_id: str
    current: CurrentRuntime
    turns: tuple[TurnView, ...]
    sessions: tuple[str, ...] = ()  # every session, in order of its first turn
    in_file: bool = True  # False: only the timeline store knows this conversation
    status: str = ""  # timeline store's status, where set
    last_error: str = ""  # timeline store's last_error, where set

    @property
    def switch_count(self) -> int:
        """Number of runtime switches between turns."""
        return sum(1 for t in self.turns if t.runtime_switch)

    @property
    def anomaly_count(self) -> int:
        """Number of anomalies over all turns."""
        return sum(len(t.anomalies) for t in self.turns)

    @property
    def switch_indexes(self) -> tuple[int, ...]:
        """Row indexes (0-based, in turn order) of the turns where the runtime switched."""
        return tuple(i for i, t in enumerate(self.turns) if t.runtime_switch)


def is_unknown(runtime_key: str) -> bool:
    """An empty (or blank) runtime key means unknown."""
    return runtime_key.strip() == ""


def _first_snapshot_ms(turn: TurnRecord) -> int:
    if not turn.snapshots:
        return 2**63 - 1
    return min(s.snapshot_created_at_ms for s in turn.snapshots)


def order_turns(turns: Iterable[TurnRecord]) -> list[TurnRecord]:
    """Turn order: turn_created_at_ms, then earliest snapshot time, then turn_id."""
    return sorted(turns, key=lambda t: (t.turn_created_at_ms, _first_snapshot_ms(t), t.turn_id))


def switch_flags(runtime_keys: Sequence[str]) -> list[tuple[bool, str | None]]:
    """For each key in order: (is a switch, nearest earlier non-empty key).

    A switch is a non-empty key that differs from the nearest earlier non-empty key.
    An empty key is unknown, never a switch.
    """
    out: list[tuple[bool, str | None]] = []
    previous: str | None = None
    for key in runtime_keys:
        known = not is_unknown(key)
        out.append((known and previous is not None and key != previous, previous))
        if known:
            previous = key
    return out


def count_switches(runtime_keys: Sequence[str]) -> int:
    """Number of runtime switches in a sequence of per-turn keys."""
    return sum(1 for switch, _ in switch_flags(runtime_keys) if switch)


def latest_known_index(ordered_runtime_keys: Sequence[str]) -> int | None:
    """Index of the latest turn whose runtime key is known (None: no turn has one)."""
    for i in range(len(ordered_runtime_keys) - 1, -1, -1):
        if not is_unknown(ordered_runtime_keys[i]):
            return i
    return None


def current_runtime(
    ordered_runtime_keys: Sequence[str], timeline_key: str | None
) -> CurrentRuntime:
    """Timeline store's key when non-empty; else the latest turn's key; else none."""
    if timeline_key is not None and not is_unknown(timeline_key):
        return CurrentRuntime(timeline_key, RuntimeSource.TIMELINE)
    latest = latest_known_index(ordered_runtime_keys)
    if latest is not None:
        return CurrentRuntime(ordered_runtime_keys[latest], RuntimeSource.LATEST_TURN)
    return CurrentRuntime("", RuntimeSource.NONE)


def turn_anomalies(turn: TurnRecord, shared_inference_ids: set[str]) -> tuple[str, ...]:
    """Anomalies of one turn: unknown runtime, no final, shared inference id, bad metadata."""
    found: list[str] = []
    if is_unknown(turn.runtime_key):
        found.append(UNKNOWN_RUNTIME)
    if not any(s.phase == "final" for s in turn.snapshots):
        found.append(NO_FINAL)
    if turn.inference_id and turn.inference_id in shared_inference_ids:
        found.append(DUPLICATE_INFERENCE)
    if turn.metadata_malformed:
        found.append(MALFORMED_METADATA)
    return tuple(found)


def session_order(turns: Sequence[TurnRecord]) -> tuple[str, ...]:
    """Sessions of ordered turns, each once, in order of its first turn."""
    return tuple(dict.fromkeys(t.session_id for t in turns))


def build_conversation(
    conv_id: str, turns: Iterable[TurnRecord], timeline: TimelineEntry | None = None
) -> ConversationView:
    """Order a conversation's turns and evaluate switches, anomalies and current runtime."""
    ordered = order_turns(turns)
    counts = Counter(t.inference_id for t in ordered if t.inference_id)
    shared = {inf for inf, n in counts.items() if n > 1}
    flags = switch_flags([t.runtime_key for t in ordered])
    sessions = session_order(ordered)
    number = {s: i + 1 for i, s in enumerate(sessions)}
    views: list[TurnView] = []
    previous_session: str | None = None
    for i, (t, (switch, prev)) in enumerate(zip(ordered, flags, strict=True)):
        views.append(
            TurnView(
                i + 1,
                t,
                switch,
                prev,
                turn_anomalies(t, shared),
                session_number=number[t.session_id],
                new_session=previous_session is not None and t.session_id != previous_session,
            )
        )
        previous_session = t.session_id
    if ordered:
        session = ordered[-1].session_id
    else:
        session = timeline.session_id if timeline is not None else ""
    if not sessions and session:
        sessions = (session,)
    return ConversationView(
        conv_id=conv_id,
        session_id=session,
        current=current_runtime(
            [t.runtime_key for t in ordered], timeline.runtime_key if timeline else None
        ),
        turns=tuple(views),
        sessions=sessions,
        in_file=bool(ordered),
        status=timeline.status if timeline else "",
        last_error=timeline.last_error if timeline else "",
    )


def summary_current_runtime(summary: ConversationSummary) -> CurrentRuntime:
    """Current runtime of a listed conversation (same rule as `build_conversation`)."""
    return current_runtime(summary.runtime_keys, summary.timeline_runtime_key)


def matches_filter(summary: ConversationSummary, needle: str) -> bool:
    """Case-insensitive match on conversation id, session id, a runtime key or a turn's
    inference id."""
    n = needle.strip().lower()
    if not n:
        return True
    current = summary_current_runtime(summary).key
    haystack = (
        summary.conv_id,
        summary.session_id,
        current,
        *summary.runtime_keys,
        *summary.inference_ids,
    )
    return any(n in h.lower() for h in haystack)
