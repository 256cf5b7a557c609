"""Rich `Text` cells for the conversation list and the phase timeline.

Pure functions (Rich only): every value from the database passes through
`tui.formatting.safe_text` and ends up in a `Text`, never in markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich.style import Style
from rich.text import Span, Text

from tui.domain import (
    DUPLICATE_INFERENCE,
    MALFORMED_METADATA,
    NO_FINAL,
    PHASES,
    UNKNOWN_RUNTIME,
    CurrentRuntime,
    RuntimeSource,
    TurnView,
    is_unknown,
)
from tui.formatting import format_clock_ms, safe_text, short_id
from tui.store.records import PhaseSnapshot

Density = Literal["wide", "medium", "narrow"]

TURN_ID_WIDTH: dict[Density, int] = {"wide": 14, "medium": 14, "narrow": 8}

# Marks after a conversation's current runtime key: where the key comes from.
SOURCE_MARKS: dict[RuntimeSource, str] = {
    RuntimeSource.TIMELINE: "⟲tl",
    RuntimeSource.LATEST_TURN: "←turn",
    RuntimeSource.NONE: "— none",
}
SOURCE_WORDS: dict[RuntimeSource, str] = {
    RuntimeSource.TIMELINE: "from timeline store",
    RuntimeSource.LATEST_TURN: "derived from latest turn",
    RuntimeSource.NONE: "none: no turn has a runtime",
}
UNKNOWN_MARK = "∅ unknown"
SWITCH_ARROW = " → "
SWITCH_MARK = "⇄"
MISSING_FINAL = "✗ missing"
ABSENT = "·"
PRESENT = "✓"

ANOMALY_SHORT: dict[str, str] = {
    UNKNOWN_RUNTIME: "unknown rt",
    NO_FINAL: "no final",
    DUPLICATE_INFERENCE: "dup inf",
    MALFORMED_METADATA: "bad meta",
}

PHASE_HEADERS: dict[str, tuple[str, str]] = {
    # phase: (wide header, compact header)
    "pre_inference": ("pre_inference", "pre"),
    "post_inference": ("post_inference", "post"),
    "post_tools": ("post_tools", "tools"),
    "final": ("final", "final"),
}


@dataclass(frozen=True)
class TimelineStyles:
    """Rich styles the timeline takes from its component classes (so themes apply)."""

    switch: Style
    unknown: Style
    missing: Style
    absent: Style
    anomaly: Style


def runtime_label(current: CurrentRuntime, width: int = 14) -> Text:
    """`planner ⟲tl`, `inventory ←turn` or `— none` for the conversation list."""
    if current.source == RuntimeSource.NONE:
        return Text(SOURCE_MARKS[RuntimeSource.NONE], style="dim italic")
    text = Text(safe_text(current.key, width), style="bold")
    text.append(" ")
    text.append(SOURCE_MARKS[current.source], style="dim")
    return text


def plain(value: str, limit: int | None = None, style: str | Style = "") -> Text:
    """A one-line safe `Text` of a database value."""
    return Text(safe_text(value, limit), style=style, no_wrap=True, overflow="ellipsis")


def id_cell(value: str, width: int = 12) -> Text:
    """A short id (the first 8 characters of a UUID) as a safe `Text`."""
    return Text(short_id(value, width), no_wrap=True)


def runtime_cell(view: TurnView, styles: TimelineStyles, width: int = 24) -> Text:
    """The per-turn runtime: `planner`, `inventory → planner` on a switch, `∅ unknown`."""
    key = view.turn.runtime_key
    if is_unknown(key):
        return Text(UNKNOWN_MARK, style=styles.unknown, no_wrap=True)
    if view.runtime_switch and view.previous_runtime_key is not None:
        half = max((width - len(SWITCH_ARROW)) // 2, 4)
        before = safe_text(view.previous_runtime_key, half) + SWITCH_ARROW
        after = safe_text(key, half)
        return Text(
            before + after,
            no_wrap=True,
            spans=[Span(len(before), len(before) + len(after), "bold")],
        )
    return Text(safe_text(key, width), no_wrap=True)


def phase_cell(
    phase: str, snapshots: Sequence[PhaseSnapshot], styles: TimelineStyles, *, compact: bool
) -> Text:
    """Presence of a phase: `✓ 09:00:01.840`, `✓×3 …` for repeats, `·` or `✗ missing`."""
    times = [s.snapshot_created_at_ms for s in snapshots if s.phase == phase]
    if not times:
        if phase == "final":
            return Text(MISSING_FINAL, style=styles.missing, no_wrap=True)
        return Text(ABSENT, style=styles.absent, no_wrap=True)
    mark = PRESENT if len(times) == 1 else f"{PRESENT}×{len(times)}"
    if compact:
        return Text(mark, no_wrap=True)
    plain = f"{mark} {format_clock_ms(min(times))}"
    return Text(plain, no_wrap=True, spans=[Span(len(mark) + 1, len(plain), "dim")])


def anomalies_cell(anomalies: Sequence[str], styles: TimelineStyles, *, compact: bool) -> Text:
    """The anomalies of a turn, short labels (a count when compact)."""
    if not anomalies:
        return Text("")
    if compact:
        return Text(f"⚠{len(anomalies)}", style=styles.anomaly, no_wrap=True)
    labels = [ANOMALY_SHORT.get(a, safe_text(a, 16)) for a in anomalies]
    return Text("⚠ " + ", ".join(labels), style=styles.anomaly, no_wrap=True)


def timeline_row(
    view: TurnView, styles: TimelineStyles, *, density: Density = "wide"
) -> list[Text]:
    """All cells of one turn row; a switch row gets the switch style on every cell.

    ``wide`` has every column; ``medium`` drops the inference id and shows anomalies as a
    count; ``narrow`` also drops the phase times.
    """
    turn = view.turn
    compact = density == "narrow"
    cells: list[Text] = [
        Text(f"{SWITCH_MARK if view.runtime_switch else ''}{view.number}", justify="right"),
        id_cell(turn.turn_id, TURN_ID_WIDTH[density]),
        runtime_cell(view, styles, 22),
    ]
    if density == "wide":
        cells.append(id_cell(turn.inference_id, 9) if turn.inference_id else Text(ABSENT))
    cells.extend(phase_cell(p, turn.snapshots, styles, compact=compact) for p in PHASES)
    cells.append(anomalies_cell(view.anomalies, styles, compact=density != "wide"))
    if view.runtime_switch:
        for cell in cells:
            cell.style = styles.switch
    return cells
