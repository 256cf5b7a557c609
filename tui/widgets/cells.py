"""Rich `Text` cells for the conversation list and the phase timeline.

Pure functions (Rich only): every value from the database passes through
`tui.formatting.safe_text` and ends up in a `Text`, never in markup.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich.cells import cell_len, split_graphemes
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
from tui.formatting import ELLIPSIS, format_clock_ms, safe_text
from tui.store.records import PhaseSnapshot

_UUIDISH = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F-]{8,}$")

Density = Literal["wide", "medium", "narrow"]

TURN_ID_WIDTH: dict[Density, int] = {"wide": 14, "medium": 14, "narrow": 14}
RUNTIME_WIDTH = 40  # the most a runtime cell takes before it is elided with `…`

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
BLANK_MARK = "∅ "  # before a blank (spaces only) runtime key shown as ␠␠: unknown too
VISIBLE_SPACE = "␠"
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


def fit(text: str, width: int) -> str:
    """`text` cut to at most `width` terminal cells, the last one `…` when cut.

    Counts cells (CJK and emoji are two wide) and never splits a grapheme (an emoji with
    its variation selector or skin tone stays whole), so a cell never pushes a border.
    """
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    spans, _ = split_graphemes(text)
    used = end = 0
    for _start, stop, cells in spans:
        if used + cells > width - 1:
            break
        used += cells
        end = stop
    return text[:end] + ELLIPSIS


def fit_around(text: str, needle: str, width: int) -> str:
    """`text` cut to at most `width` cells with the first case-insensitive `needle` in
    view: cut at the end when the needle shows there, else at the start too (`…found…`),
    with about as much before the needle as after it. Graphemes stay whole, as in `fit`.
    """
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    folded = text.lower()
    at = folded.find(needle.lower()) if needle and len(folded) == len(text) else -1
    if at < 0 or cell_len(text[: at + len(needle)]) <= width - 1:
        return fit(text, width)
    before = max((width - 2 - cell_len(needle)) // 2, 0)
    spans, _ = split_graphemes(text)
    start = used = 0
    for begin, stop, cells in reversed(spans):
        if stop > at:
            continue
        if used + cells > before:
            break
        used += cells
        start = begin
    if start == 0:
        start = next(b for b, stop, _ in spans if stop > at)  # no room before the needle
    return ELLIPSIS + fit(text[start:], width - 1)


def fit_middle(text: str, width: int) -> str:
    """`text` cut in the middle to at most `width` cells (`conv-l…-keys`)."""
    if cell_len(text) <= width:
        return text
    if width < 5:
        return fit(text, width)
    spans, _ = split_graphemes(text)
    budget_tail = (width - 1) // 2
    budget_head = width - 1 - budget_tail
    head_end = used = 0
    for _start, stop, cells in spans:
        if used + cells > budget_head:
            break
        used += cells
        head_end = stop
    tail_start = len(text)
    used = 0
    for start, _stop, cells in reversed(spans):
        if used + cells > budget_tail or start < head_end:
            break
        used += cells
        tail_start = start
    return text[:head_end] + ELLIPSIS + text[tail_start:]


def safe_cell(value: str) -> str:
    """A database value made safe for a one-line cell (controls and bidi made visible)."""
    return safe_text(value)


def visible_key(key: str) -> str:
    """A runtime key with its leading / trailing spaces shown as `␠` (`␠␠` when blank)."""
    text = safe_cell(key)
    stripped = text.strip(" ")
    if stripped == text:
        return text
    if not stripped:
        return VISIBLE_SPACE * len(text)
    lead = len(text) - len(text.lstrip(" "))
    trail = len(text) - len(text.rstrip(" "))
    return VISIBLE_SPACE * lead + stripped + VISIBLE_SPACE * trail


def short_id_cells(value: str, width: int = 12) -> str:
    """The short form of an id in at most `width` cells: a UUID's first 8 characters, else
    a middle cut (`conv-l…-keys`)."""
    text = safe_cell(value)
    if _UUIDISH.match(text):
        return text[:8]
    return fit_middle(text, width)


def runtime_label(current: CurrentRuntime, width: int = 14) -> Text:
    """`planner ⟲tl`, `inventory ←turn` or `— none` for the conversation list."""
    if current.source == RuntimeSource.NONE:
        return Text(SOURCE_MARKS[RuntimeSource.NONE], style="dim italic", no_wrap=True)
    text = Text(fit(visible_key(current.key), width), style="bold", no_wrap=True)
    text.overflow = "ellipsis"
    text.append(" ")
    text.append(SOURCE_MARKS[current.source], style="dim")
    return text


def plain(value: str, limit: int | None = None, style: str | Style = "") -> Text:
    """A one-line safe `Text` of a database value (at most `limit` cells)."""
    text = safe_cell(value)
    if limit is not None:
        text = fit(text, limit)
    return Text(text, style=style, no_wrap=True, overflow="ellipsis")


def id_cell(value: str, width: int = 12) -> Text:
    """A short id (the first 8 characters of a UUID) as a safe `Text`."""
    return Text(short_id_cells(value, width), no_wrap=True, overflow="ellipsis")


def runtime_cell(view: TurnView, styles: TimelineStyles, width: int = 24) -> Text:
    """The per-turn runtime: `planner`, `inventory → planner` on a switch, `∅ unknown`,
    `∅ ␠␠` for a blank key (spaces only: unknown too, but shown as stored)."""
    key = view.turn.runtime_key
    if is_unknown(key):
        if key:
            return Text(
                fit(BLANK_MARK + visible_key(key), width),
                style=styles.unknown,
                no_wrap=True,
                overflow="ellipsis",
            )
        return Text(UNKNOWN_MARK, style=styles.unknown, no_wrap=True, overflow="ellipsis")
    if view.runtime_switch and view.previous_runtime_key is not None:
        after_full = visible_key(key)
        before_full = visible_key(view.previous_runtime_key)
        room = max(width - cell_len(SWITCH_ARROW), 8)
        # Give each side what it needs, up to half of the room; the rest to the other side.
        half = room // 2
        after_w = max(min(cell_len(after_full), room - min(cell_len(before_full), half)), 4)
        before_w = max(room - after_w, 4)
        before = fit(before_full, before_w) + SWITCH_ARROW
        after = fit(after_full, after_w)
        return Text(
            before + after,
            no_wrap=True,
            overflow="ellipsis",
            spans=[Span(len(before), len(before) + len(after), "bold")],
        )
    return Text(fit(visible_key(key), width), no_wrap=True, overflow="ellipsis")


def session_cell(view: TurnView) -> Text:
    """`s2`: the turn's session (bold on the first turn of a resumed session)."""
    mark = f"s{view.session_number}"
    if view.new_session:
        return Text(mark, style="bold", no_wrap=True)
    return Text(mark, style="dim", no_wrap=True)


def _day(ms: int) -> tuple[int, int, int] | None:
    try:
        t = time.localtime(ms / 1000)
    except (OverflowError, OSError, ValueError):
        return None
    return (t.tm_year, t.tm_mon, t.tm_mday)


def _date(ms: int) -> str:
    try:
        return time.strftime("%Y-%m-%d", time.localtime(ms / 1000))
    except (OverflowError, OSError, ValueError):
        return ""


def phase_time_ms(phase: str, snapshots: Sequence[PhaseSnapshot]) -> int | None:
    """Time shown for a phase: its first snapshot (None when the phase is absent)."""
    return min((s.snapshot_created_at_ms for s in snapshots if s.phase == phase), default=None)


def dated_phases(views: Sequence[TurnView]) -> list[frozenset[str]]:
    """Per turn, the phases whose time is shown with its date.

    A time carries its date when it is not on the same (local) day as the time shown
    before it, reading the timeline row by row, left to right; the first time of the
    timeline is always dated. So a conversation of one day shows one date, and every
    crossing of midnight (between turns or inside one) is dated.
    """
    out: list[frozenset[str]] = []
    previous: tuple[int, int, int] | None = None
    first = True
    for view in views:
        dated: set[str] = set()
        for phase in PHASES:
            ms = phase_time_ms(phase, view.turn.snapshots)
            if ms is None:
                continue
            day = _day(ms)
            if first or day != previous:
                dated.add(phase)
            first = False
            previous = day
        out.append(frozenset(dated))
    return out


def phase_cell(
    phase: str,
    snapshots: Sequence[PhaseSnapshot],
    styles: TimelineStyles,
    *,
    compact: bool,
    dated: bool = False,
) -> Text:
    """Presence of a phase: `✓ 09:00:01.840`, `✓×3 …` for repeats, `·` or `✗ missing`;
    `✓ 2026-02-24 09:00:01.840` when `dated` (see `dated_phases`)."""
    times = [s.snapshot_created_at_ms for s in snapshots if s.phase == phase]
    if not times:
        if phase == "final":
            return Text(MISSING_FINAL, style=styles.missing, no_wrap=True)
        return Text(ABSENT, style=styles.absent, no_wrap=True)
    mark = PRESENT if len(times) == 1 else f"{PRESENT}×{len(times)}"
    if compact:
        return Text(mark, no_wrap=True)
    first = min(times)
    when = format_clock_ms(first)
    if dated and _date(first):
        when = f"{_date(first)} {when}"
    plain = f"{mark} {when}"
    return Text(
        plain, no_wrap=True, overflow="ellipsis", spans=[Span(len(mark) + 1, len(plain), "dim")]
    )


def anomalies_cell(anomalies: Sequence[str], styles: TimelineStyles, *, compact: bool) -> Text:
    """The anomalies of a turn, short labels (a count when compact)."""
    if not anomalies:
        return Text("")
    if compact:
        return Text(f"⚠{len(anomalies)}", style=styles.anomaly, no_wrap=True)
    labels = [ANOMALY_SHORT.get(a, fit(safe_cell(a), 16)) for a in anomalies]
    return Text("⚠ " + ", ".join(labels), style=styles.anomaly, no_wrap=True, overflow="ellipsis")


def timeline_row(
    view: TurnView,
    styles: TimelineStyles,
    *,
    density: Density = "wide",
    sessions: bool = False,
    dated: frozenset[str] = frozenset(),
    widths: dict[str, int] | None = None,
) -> list[Text]:
    """All cells of one turn row; a switch row gets the switch style on every cell.

    ``wide`` has every column; ``medium`` drops the inference id and shows anomalies as a
    count; ``narrow`` also drops the phase times. ``sessions`` adds the session column
    (a resumed conversation); ``dated`` names the phases whose time carries its date;
    ``widths`` (column key: cells) sizes the turn and runtime cells.
    """
    turn = view.turn
    compact = density == "narrow"
    widths = widths or {}
    cells: list[Text] = [
        Text(f"{SWITCH_MARK if view.runtime_switch else ''}{view.number}", justify="right"),
    ]
    if sessions:
        cells.append(session_cell(view))
    cells.append(id_cell(turn.turn_id, widths.get("turn", TURN_ID_WIDTH[density])))
    cells.append(runtime_cell(view, styles, widths.get("runtime", RUNTIME_WIDTH)))
    if density == "wide":
        cells.append(
            id_cell(turn.inference_id, widths.get("inference", 9))
            if turn.inference_id
            else Text(ABSENT)
        )
    cells.extend(
        phase_cell(p, turn.snapshots, styles, compact=compact, dated=p in dated) for p in PHASES
    )
    cells.append(anomalies_cell(view.anomalies, styles, compact=density != "wide"))
    if view.runtime_switch:
        for cell in cells:
            cell.style = styles.switch
    return cells
