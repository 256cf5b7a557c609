"""The sections of the turn detail's one view: snapshot header, blocks, marker, metadata, raw.

Builders only (no widget state): the screen decides the mode (rendered, exact, raw,
expanded) and hands the sections to its `SnapshotView`.
"""

from __future__ import annotations

from rich.text import Text

from tui.formatting import safe_text
from tui.store.records import SnapshotDetail, TurnRecord
from tui.widgets.block_text import format_timestamp_ms
from tui.widgets.blocks import BlockModel, Part, metadata_summary, raw_metadata
from tui.widgets.snapshot_view import Section

MAX_BLOCKS = 5_000  # a snapshot with more blocks shows its latest ones
MARKER = "── this turn ──"
FOUND = "◀ found"  # after the header of the block a find jumped to


def block_key(index: int) -> str:
    """The section key of the block at `index` of the snapshot."""
    return f"block:{index}"


def block_section(
    model: BlockModel, index: int, *, history: bool = False, marked: bool = False
) -> Section:
    """One block: its header line, then its body parts. `marked`: the block a find jumped
    to (its header says so and the view highlights it)."""
    failed = model.kind == "tool_use" and model.failed
    title = model.header()
    if marked:
        title.append("  ")
        title.append(FOUND, style="bold reverse")
    header = Part(title, "header-error" if failed else "header")
    bar = model.css_kind
    if model.kind == "tool_use":
        bar = "tool-use-error" if failed else "tool-use-ok"
    return Section(
        block_key(index),
        [header, *model.parts()],
        bar=bar,
        tone="error" if failed else "",
        history=history,
        gap=1,
        block=model,
        marked=marked,
    )


def note_section(key: str, text: Text | str, style: str = "note", gap: int = 1) -> Section:
    return Section(key, [Part(text, style)], gap=gap)


def snapshot_sections(
    detail: SnapshotDetail,
    first_new: int,
    *,
    exact: bool = False,
    expanded: bool = False,
    marked_ordinal: int | None = None,
) -> list[Section]:
    """The snapshot header, then every block (history dimmed, the marker before the
    turn's first block; the block of ordinal `marked_ordinal` marked)."""
    total = len(detail.blocks)
    first_new = min(first_new, total)
    header = Text(safe_text(detail.phase, 20), style="bold")
    header.append(
        f" · {format_timestamp_ms(detail.snapshot_created_at_ms)} · {total} blocks", style="dim"
    )
    if first_new:
        header.append(f" · {first_new} from earlier turns (scroll up)", style="dim")
    sections = [note_section("snapshot-header", header, style="")]
    start = max(total - MAX_BLOCKS, 0)
    if start:
        sections.append(
            note_section(
                "not-shown", Text(f"… {start:,} earlier blocks not shown", style="dim italic")
            )
        )
    for index in range(start, total):
        if index == first_new and first_new:
            sections.append(note_section("marker", Text(MARKER, style="bold"), style="marker"))
        model = BlockModel(detail.blocks[index], exact=exact, expanded=expanded)
        marked = marked_ordinal is not None and detail.blocks[index].ordinal == marked_ordinal
        sections.append(block_section(model, index, history=index < first_new, marked=marked))
    return sections


def empty_sections(text: str) -> list[Section]:
    return [note_section("empty", Text(text, style="dim italic"))]


def metadata_section(turn: TurnRecord) -> Section:
    """The turn metadata panel (runtime and inference id with their provenance, model,
    usage, stop reason, the runtime attribution)."""
    return Section("metadata", renderable=metadata_summary(turn), bar="panel", gap=1)


def raw_sections(turn: TurnRecord, detail: SnapshotDetail | None) -> list[Section]:
    """The raw view: turn metadata and data, then every block's payload and metadata."""
    if detail is None:
        parts = raw_metadata(turn.metadata_json, "{}")
    else:
        parts = raw_metadata(
            detail.turn_metadata_json, detail.turn_data_json, detail.blocks, detail.raw_payload
        )
    return [Section("raw", parts, bar="panel", gap=1)]
