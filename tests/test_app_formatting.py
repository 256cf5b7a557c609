"""Unit tests of the display helpers: safe text, short ids, times, timeline cells."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from rich.style import Style

from tests.snapshot_apps.support import pin_utc
from tui.domain import NO_FINAL, UNKNOWN_RUNTIME, TurnView
from tui.formatting import format_clock_ms, format_datetime_ms, safe_text, short_id
from tui.store.records import PhaseSnapshot, TurnRecord
from tui.widgets.cells import TimelineStyles, phase_cell, runtime_cell, timeline_row

STYLES = TimelineStyles(
    switch=Style(bold=True, bgcolor="yellow"),
    unknown=Style(dim=True, italic=True),
    missing=Style(color="red"),
    absent=Style(dim=True),
    anomaly=Style(color="yellow"),
)


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from pin_utc(monkeypatch)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain", "plain"),
        ("\x1b[31mred", "␛[31mred"),
        ("a\x00b\x07c", "a␀b␇c"),
        ("csi\x9b2J", "csi\\x9b2J"),
        ("bidi\u202eevil", "bidi<U+202E>evil"),
        ("isolate\u2066x\u2069", "isolate<U+2066>x<U+2069>"),
        ("del\x7f", "del␡"),
        ("zero\u200bwidth", "zero<U+200B>width"),
        ("line\nbreak\ttab", "line␊break␉tab"),
        ("[bold]not markup[/bold]", "[bold]not markup[/bold]"),
        ("ünïcödé 日本", "ünïcödé 日本"),
    ],
)
def test_safe_text_makes_controls_visible(raw: str, shown: str) -> None:
    assert safe_text(raw) == shown


def test_safe_text_multiline_keeps_newlines_and_tabs() -> None:
    assert safe_text("a\r\nb\tc\x1b", multiline=True) == "a\nb\tc␛"
    assert safe_text("a\rb", multiline=True) == "a␍b"


def test_safe_text_limit() -> None:
    assert safe_text("abcdef", 4) == "abc…"
    assert safe_text("abc", 3) == "abc"
    assert safe_text("\x1b\x1b\x1b", 2) == "␛…"
    assert safe_text("abc", 0) == ""


def test_short_id() -> None:
    assert short_id("b6b61921-2255-5cfb-b6f2-dd3fc8dff996") == "b6b61921"
    assert short_id("conv-switch") == "conv-switch"
    assert short_id("conv-legacy-keys", 12) == "conv-l…-keys"
    assert len(short_id("x" * 100, 12)) == 12
    assert short_id("id\x1b") == "id␛"


def test_times_are_absolute_in_the_local_zone() -> None:
    ms = 1_771_923_600_123  # 2026-02-24 09:00:00.123 UTC
    assert format_datetime_ms(ms) == "2026-02-24 09:00:00"
    assert format_clock_ms(ms) == "09:00:00.123"
    assert format_datetime_ms(0) == "—"


def test_times_follow_tz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    assert format_datetime_ms(1_771_923_600_000) == "2026-02-24 18:00:00"


def _view(
    runtime: str, phases: list[str], *, switch: bool = False, previous: str | None = None
) -> TurnView:
    snaps = tuple(PhaseSnapshot(p, 1_771_923_600_000 + i, 3) for i, p in enumerate(phases))
    turn = TurnRecord("c", "s", "t", runtime, "inf", 1, 2, "{}", snaps)
    anomalies = ((UNKNOWN_RUNTIME,) if not runtime else ()) + (
        (NO_FINAL,) if "final" not in phases else ()
    )
    return TurnView(1, turn, switch, previous, anomalies)


def test_runtime_cells() -> None:
    assert runtime_cell(_view("planner", ["final"]), STYLES).plain == "planner"
    switch = runtime_cell(_view("planner", ["final"], switch=True, previous="inventory"), STYLES)
    assert switch.plain == "inventory → planner"
    unknown = runtime_cell(_view("", ["final"]), STYLES)
    assert unknown.plain == "∅ unknown" and unknown.style == STYLES.unknown


def test_phase_cells_show_count_time_and_missing_final() -> None:
    snaps = _view("x", ["pre_inference", "post_inference", "post_tools", "post_inference"])
    cell = phase_cell("post_inference", snaps.turn.snapshots, STYLES, compact=False)
    assert cell.plain == "✓×2 09:00:00.001"
    assert phase_cell("post_inference", snaps.turn.snapshots, STYLES, compact=True).plain == "✓×2"
    missing = phase_cell("final", snaps.turn.snapshots, STYLES, compact=False)
    assert missing.plain == "✗ missing" and missing.style == STYLES.missing


def test_switch_row_styles_every_cell() -> None:
    row = timeline_row(_view("planner", ["final"], switch=True, previous="a"), STYLES)
    assert len(row) == 9
    assert all(cell.style == STYLES.switch for cell in row)
    assert row[0].plain == "⇄1"
    plain = timeline_row(_view("planner", ["final"]), STYLES, density="narrow")
    assert not any(cell.style == STYLES.switch for cell in plain)
    assert len(plain) == 8 and plain[3].plain == "·"  # no inference column, no times
    medium = timeline_row(_view("", ["pre_inference"]), STYLES, density="medium")
    assert len(medium) == 8 and medium[-1].plain == "⚠2"


def test_variation_selectors_are_shown_so_every_terminal_agrees_on_width() -> None:
    """Rich counts "⚠️" (with U+FE0F) as two cells, tmux draws one: the selector is made
    visible, the base character stays, and the width is the same for both."""
    from rich.cells import cell_len

    shown = safe_text("conv-⚠️-x")
    assert shown == "conv-⚠<U+FE0F>-x"
    assert cell_len(shown) == len(shown)  # every character one cell: no disagreement
    assert safe_text("a\ufe0eb") == "a<U+FE0E>b"
