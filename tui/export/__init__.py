"""Headless exports of one conversation: json, markdown and pinocchio's minitrace.

Every format is a pure function over an :class:`ExportSource`, which
:func:`load_export` reads through the `Store` seam (any era, read-only files, any store).
No textual import here or in the format modules.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tui.domain import ConversationView, TurnView, build_conversation
from tui.store.base import Store
from tui.store.models import Opened
from tui.store.records import PhaseSnapshot, SnapshotDetail, TurnRecord

__all__ = [
    "FORMATS",
    "SCHEMA",
    "ExportSource",
    "NoSnapshotsError",
    "TurnExport",
    "choose_latest",
    "civil_from_ms",
    "format_rfc3339_ms",
    "format_utc_ms",
    "load_export",
    "render_export",
]

#: Version of the turns-tui JSON export format (its "schema" field).
SCHEMA = "turns-tui-export-v1"
FORMATS = ("json", "markdown", "minitrace")


class NoSnapshotsError(LookupError):
    """The conversation has no snapshot with blocks (pinocchio's minitrace "not found")."""


@dataclass(frozen=True)
class TurnExport:
    """One turn in conversation order with the snapshots an export read.

    `details` holds one entry per item of ``view.turn.snapshots`` that was loaded (keyed by
    phase and time); a snapshot the store could not return is absent.
    """

    view: TurnView
    details: dict[tuple[str, int], SnapshotDetail]

    @property
    def turn(self) -> TurnRecord:
        return self.view.turn

    def detail(self, snap: PhaseSnapshot) -> SnapshotDetail | None:
        return self.details.get((snap.phase, snap.snapshot_created_at_ms))


@dataclass(frozen=True)
class ExportSource:
    """Everything an export needs about one conversation, read once."""

    opened: Opened
    source_path: str  # the path (or label) as the user gave it
    dump: dict[str, Any]  # the `dump` contract for this conversation (database + conversation)
    view: ConversationView
    turns: tuple[TurnExport, ...]

    @property
    def conversation_json(self) -> dict[str, Any]:
        conv: dict[str, Any] = self.dump["conversations"][0]
        return conv


def choose_latest(snapshots: Iterable[PhaseSnapshot]) -> PhaseSnapshot | None:
    """A turn's final snapshot (the latest one when there are several), else its latest."""
    snaps = list(snapshots)
    finals = [s for s in snaps if s.phase == "final"]
    pool = finals or snaps
    if not pool:
        return None
    best = pool[0]
    for s in pool[1:]:
        if s.snapshot_created_at_ms >= best.snapshot_created_at_ms:
            best = s
    return best


async def load_export(
    store: Store,
    opened: Opened,
    conv_id: str,
    *,
    source_path: str | None = None,
    which: str = "all",
) -> ExportSource:
    """Read one conversation and the snapshots a format needs from an opened store.

    `which`: ``"all"`` (every snapshot: json), ``"latest"`` (each turn's final or latest:
    markdown) or ``"minitrace"`` (pinocchio's phase preference). Raises
    `tui.dump.UnknownConversationError` for a conversation the store does not know.
    """
    from tui.dump import build_dump

    dump = await build_dump(opened, store, conv_id)
    records = await store.conversation(conv_id)
    view = build_conversation(conv_id, records.turns, records.timeline)
    turns: list[TurnExport] = []
    for tv in view.turns:
        t = tv.turn
        if which == "all":
            wanted: list[PhaseSnapshot] = list(t.snapshots)
        elif which == "latest":
            one = choose_latest(t.snapshots)
            wanted = [one] if one is not None else []
        elif which == "minitrace":
            from tui.export.minitrace import choose_snapshot

            pick = choose_snapshot(t.snapshots)
            wanted = [pick] if pick is not None else []
        else:
            raise ValueError(f"unknown snapshot selection {which!r}")
        details: dict[tuple[str, int], SnapshotDetail] = {}
        for snap in wanted:
            detail = await store.snapshot(
                conv_id, t.session_id, t.turn_id, snap.phase, snap.snapshot_created_at_ms
            )
            if detail is not None:
                details[(snap.phase, snap.snapshot_created_at_ms)] = detail
        turns.append(TurnExport(tv, details))
    return ExportSource(
        opened=opened,
        source_path=source_path if source_path is not None else opened.path,
        dump=dump,
        view=view,
        turns=tuple(turns),
    )


#: The snapshots each format reads (`load_export`'s `which`).
SNAPSHOTS_FOR = {"json": "all", "markdown": "latest", "minitrace": "minitrace"}


async def render_export(
    store: Store,
    opened: Opened,
    conv_id: str,
    fmt: str,
    *,
    source_path: str | None = None,
    now: _dt.datetime | None = None,
    converter_version: str | None = None,
) -> str:
    """Conversation `conv_id` of an opened store as the text of `fmt` (one of `FORMATS`):
    what `turns-tui export` writes and what the app's export (E) writes. The store stays
    open (the caller owns it). `now` is minitrace's clock (default: the current time)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    src = await load_export(
        store, opened, conv_id, source_path=source_path, which=SNAPSHOTS_FOR[fmt]
    )
    if fmt == "json":
        from tui.export.json_export import export_json

        return export_json(src)
    if fmt == "markdown":
        from tui.export.markdown import export_markdown

        return export_markdown(src)
    from tui.export.minitrace import CONVERTER_VERSION, export_minitrace

    return export_minitrace(src, now=now, converter_version=converter_version or CONVERTER_VERSION)


# ---------------------------------------------------------------------------------------
# Time: RFC 3339 UTC from epoch milliseconds, for any int64 (Go prints years past 9999)
# ---------------------------------------------------------------------------------------


def civil_from_ms(ms: int) -> tuple[int, int, int, int, int, int, int]:
    """(year, month, day, hour, minute, second, millisecond) in UTC; any year (Go's rules)."""
    seconds, milli = divmod(ms, 1000)
    days, rem = divmod(seconds, 86_400)
    hour, rem = divmod(rem, 3600)
    minute, second = divmod(rem, 60)
    # Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    year = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    if month <= 2:
        year += 1
    return year, month, day, hour, minute, second, milli


def format_rfc3339_ms(ms: int) -> str:
    """Go's ``time.UnixMilli(ms).UTC().Format(time.RFC3339)`` (seconds, ``Z``)."""
    y, mo, d, h, mi, s, _ = civil_from_ms(ms)
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z"


def format_utc_ms(ms: int, *, millis: bool = False) -> str:
    """``YYYY-MM-DD HH:MM:SS[.mmm] UTC`` for reports (deterministic: never the local zone)."""
    if ms <= 0:
        return "—"
    y, mo, d, h, mi, s, milli = civil_from_ms(ms)
    out = f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}"
    if millis:
        out += f".{milli:03d}"
    return out
