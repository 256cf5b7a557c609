"""The diff of two snapshots as sections of the detail's `SnapshotView`.

`tui.diff` computes what changed (blocks as multisets of (block_id, content_hash), turn
metadata and data keys, difflib line diffs with the system prompt first); this module
only lays that out with Rich text: a heading with the one-line summary, the blocks
added, removed and changed in ordinal order, each text diff line coloured by its
prefix, then the metadata and data keys that changed. Every database value goes through
`safe_text`; nothing is markup. (No textual-diff-view: it is AGPL.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text

from tui.diff import (
    BlockRef,
    KeyDiff,
    Side,
    SnapshotDiff,
    block_text,
    switch_summary,
    value_text,
)
from tui.formatting import safe_text
from tui.store.records import Block, SnapshotDetail
from tui.widgets.block_text import format_timestamp_ms
from tui.widgets.blocks import Part
from tui.widgets.snapshot_view import Section

VALUE_LIMIT = 80
EXCERPT_LIMIT = 60


def _side(label: str, side: Side | None) -> Text:
    text = Text(f"{label:<5}", style="dim")
    if side is None:
        text.append("(nothing before)", style="dim italic")
        return text
    text.append(safe_text(side.turn_id, 40), style="bold")
    text.append(f" {safe_text(side.phase, 20)} ")
    text.append(format_timestamp_ms(side.snapshot_created_at_ms), style="dim")
    text.append(" · runtime ", style="dim")
    text.append(safe_text(side.runtime_key, 24) or "unknown")
    return text


def _excerpt(block: Block | None) -> str:
    if block is None:
        return ""
    text = block_text(block).strip()
    first = text.split("\n", 1)[0]
    if first in ("{", "["):  # pretty-printed JSON (tool calls, results): its members say more
        first = " ".join(text.split())
    return safe_text(first, EXCERPT_LIMIT)


def _block_line(mark: str, ref: BlockRef, block: Block | None) -> Text:
    where = f"#{ref.ordinal}"
    if ref.from_ordinal is not None and ref.from_ordinal != ref.ordinal:
        where = f"#{ref.from_ordinal}→#{ref.ordinal}"
    text = Text(f"{mark} {where} ")
    text.append(safe_text(ref.kind or "?", 24), style="bold")
    if ref.role:
        text.append(f"/{safe_text(ref.role, 24)}")
    text.append(f"  {safe_text(ref.block_id, 40)}", style="dim")
    excerpt = _excerpt(block)
    if excerpt:
        text.append(f"  {excerpt}")
    return text


def block_lines(d: SnapshotDiff, old: SnapshotDetail | None, new: SnapshotDetail) -> list[Part]:
    """Blocks added, removed and changed, in ordinal order (removed ones at their old
    ordinal), one line each."""
    new_by = {(b.ordinal, b.content_hash): b for b in new.blocks}
    old_by = {(b.ordinal, b.content_hash): b for b in old.blocks} if old is not None else {}
    rows: list[tuple[int, int, Part]] = []
    for ref in d.added:
        line = _block_line("+", ref, new_by.get((ref.ordinal, ref.content_hash)))
        rows.append((ref.ordinal, 1, Part(line, "diff-added")))
    for ref in d.removed:
        line = _block_line("-", ref, old_by.get((ref.ordinal, ref.content_hash)))
        rows.append((ref.ordinal, 0, Part(line, "diff-removed")))
    for ref in d.changed:
        line = _block_line("~", ref, new_by.get((ref.ordinal, ref.content_hash)))
        rows.append((ref.ordinal, 1, Part(line, "diff-hunk")))
    rows.sort(key=lambda r: (r[0], r[1]))
    return [part for _, _, part in rows]


def _diff_style(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "diff-title"
    if line.startswith("@@"):
        return "diff-hunk"
    if line.startswith("+"):
        return "diff-added"
    if line.startswith("-"):
        return "diff-removed"
    return ""


def unified_parts(unified: str) -> list[Part]:
    """The lines of a unified diff, consecutive lines of one kind in one part."""
    parts: list[Part] = []
    run: list[str] = []
    style = None
    for line in unified.split("\n"):
        s = _diff_style(line)
        if style is not None and s != style:
            parts.append(Part(safe_text("\n".join(run), multiline=True), style))
            run = []
        style = s
        run.append(line)
    if run and style is not None:
        parts.append(Part(safe_text("\n".join(run), multiline=True), style))
    return parts


def _value(value: Any) -> str:
    return safe_text(value_text(value), VALUE_LIMIT)


def key_parts(title: str, d: KeyDiff) -> list[Part]:
    """The keys of one JSON object that changed (old → new), appeared or went."""
    head = Text(title, style="bold")
    if d.empty:
        head.append("  no changes", style="dim")
    parts = [Part(head)]
    if d.from_malformed or d.to_malformed:
        side = "earlier" if d.from_malformed else "shown"
        parts.append(Part(f"  (the {side} snapshot's JSON does not decode)", "note"))
    for key, old, new in d.changed:
        line = Text(f"~ {safe_text(key, 60)}: ")
        line.append(_value(old), style="strike")
        line.append(" → ")
        line.append(_value(new), style="bold")
        parts.append(Part(line, "diff-hunk"))
    parts.extend(Part(f"+ {safe_text(k, 60)}", "diff-added") for k in d.added)
    parts.extend(Part(f"- {safe_text(k, 60)}", "diff-removed") for k in d.removed)
    return parts


def diff_sections(
    d: SnapshotDiff, label: str, old: SnapshotDetail | None, new: SnapshotDetail
) -> list[Section]:
    """The sections of the diff view: heading and summary, blocks, text diffs (system
    prompt first), turn metadata and data keys."""
    head = Text("diff against ", style="bold")
    head.append(label, style="bold")
    summary = Text("summary ", style="dim")
    summary.append(safe_text(switch_summary(d), 400))
    counts = Text(
        f"blocks: {len(d.added)} added, {len(d.removed)} removed, {len(d.changed)} changed",
        style="bold",
    )
    sections = [
        Section(
            "diff-head",
            [
                Part(head),
                Part(_side("from", d.from_side)),
                Part(_side("to", d.to_side)),
                Part(summary),
            ],
            bar="diff",
            gap=1,
        ),
        Section("diff-blocks", [Part(counts), *block_lines(d, old, new)], bar="diff", gap=1),
    ]
    for i, t in enumerate(d.text_diffs):
        what = "system prompt" if t.kind == "system" else f"block {safe_text(t.block_id, 40)}"
        title = Text(f"text diff · {what}", style="bold")
        title.append(f"  +{t.added_lines} −{t.removed_lines}", style="dim")
        sections.append(
            Section(
                f"diff-text:{i}", [Part(title), *unified_parts(t.unified_diff)], bar="diff", gap=1
            )
        )
    if not d.text_diffs:
        sections.append(
            Section("diff-text:none", [Part("no text changed", "note")], bar="diff", gap=1)
        )
    sections.append(
        Section("diff-metadata", key_parts("turn metadata", d.metadata), bar="diff", gap=1)
    )
    sections.append(Section("diff-data", key_parts("turn data", d.data), bar="diff", gap=1))
    return sections


def nothing_to_compare(reason: str) -> Sequence[Section]:
    return [Section("diff-none", [Part(Text(reason, style="dim italic"))], gap=1)]
