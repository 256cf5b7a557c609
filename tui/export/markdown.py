"""A Markdown report of one conversation, to paste into an issue or a message.

Layout: a header (database, conversation, sessions, current runtime and where it comes
from), the runtime switches, a table of turns, then one section per turn showing its
``final`` snapshot (the latest ``final`` when there are several; the latest snapshot of
any phase when it has none). Snapshots accumulate, so a turn's section shows only the
blocks that are new since the previous turn's shown snapshot (same block id, kind, role,
payload and metadata, counted as a multiset) and says how many were carried over.

Content rules:

* text (user, assistant, system, tool arguments and results, reasoning) is verbatim inside
  fenced code blocks whose backtick fence is longer than any backtick run inside; only
  control and bidirectional characters are replaced by visible escapes (``␛``,
  ``<U+202E>``), so the report is safe to print in a terminal;
* each piece of content longer than :data:`CUT_CHARS` (4,000) characters is cut there,
  followed by a note of how many characters were cut;
* times are UTC; the same database gives the same bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from tui.domain import ANOMALY_LABELS, RuntimeSource, TurnView
from tui.export import ExportSource, TurnExport, choose_latest, format_utc_ms
from tui.formatting import safe_text
from tui.store.records import Block

__all__ = ["CUT_CHARS", "export_markdown", "fence", "inline_code"]

CUT_CHARS = 4_000  # characters of one piece of content shown before it is cut

_SOURCE_WORDS = {
    RuntimeSource.TIMELINE.value: "from the timeline store",
    RuntimeSource.LATEST_TURN.value: "derived from the latest turn (no timeline store entry)",
    RuntimeSource.NONE.value: "unknown (no turn has a runtime key)",
}
_MODE_WORDS = {
    "none": "read as it was, nothing to migrate",
    "in_place": "migrated in place",
    "overlay": "read-only: values derived in memory, nothing written",
    "copy": "read-only: a private migrated copy, removed after",
}

_BACKTICKS = re.compile("`+")


def _longest_run(text: str) -> int:
    return max((len(m.group()) for m in _BACKTICKS.finditer(text)), default=0)


def _clean(text: str) -> str:
    return safe_text(text, multiline=True)


def _one_line(text: str) -> str:
    return safe_text(text)


def inline_code(text: str) -> str:
    """`text` as one inline code span (safe, one line, any backticks inside)."""
    body = _one_line(text)
    if body == "":
        return "(empty)"
    ticks = "`" * (_longest_run(body) + 1)
    pad = " " if body.startswith("`") or body.endswith("`") or body.startswith(" ") else ""
    return f"{ticks}{pad}{body}{pad}{ticks}"


def _cell(text: str) -> str:
    """A table cell: inline code with pipes escaped (GFM splits cells on `|` even in code)."""
    return inline_code(text).replace("|", "\\|")


def _cut(text: str) -> tuple[str, str | None]:
    if len(text) <= CUT_CHARS:
        return text, None
    cut = len(text) - CUT_CHARS
    return text[:CUT_CHARS], f"*({cut:,} of {len(text):,} characters cut)*"


def fence(text: str, info: str = "text") -> list[str]:
    """Lines of a fenced code block holding `text` (cut at CUT_CHARS, note after)."""
    body, note = _cut(_clean(text))
    ticks = "`" * max(3, _longest_run(body) + 1)
    lines = [f"{ticks}{info}", *body.split("\n"), ticks]
    if note is not None:
        lines.append(note)
    return lines


def _parse(raw: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _text_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


# The role each kind usually has; another role is shown.
_ROLE = {"user": "user", "llm_text": "assistant", "system": "system"}
_LABEL = {"llm_text": "assistant", "other": "other block"}


def _block_lines(block: Block) -> list[str]:
    payload = _parse(block.payload_json)
    p: dict[str, Any] = payload if isinstance(payload, dict) else {}
    kind = block.kind
    shown_role = block.role and block.role != _ROLE.get(kind, "")
    role = f", role {inline_code(block.role)}" if shown_role else ""
    label = _LABEL.get(kind, kind) or "(no kind)"
    head = f"**{label}**{role} · block {inline_code(block.block_id)}"
    if not isinstance(payload, dict):
        return [f"{head} (payload is not a JSON object)", "", *fence(block.payload_json)]
    if kind in ("user", "llm_text", "system"):
        text = p.get("text")
        out = [head, ""]
        if isinstance(text, str):
            out += fence(text)
        else:
            out += fence(_pretty(p), "json")
        images = p.get("images")
        if images:
            count = len(images) if isinstance(images, list) else 1
            out += ["", f"*({count} image{'s' if count != 1 else ''} not shown)*"]
        return out
    if kind == "tool_call":
        name = p.get("name")
        call = f"**tool call** {inline_code(_text_of(name) if name is not None else '(no name)')}"
        if p.get("id") is not None:
            call += f" · id {inline_code(_text_of(p['id']))}"
        out = [f"{call} · block {inline_code(block.block_id)}", ""]
        out += fence(_pretty(p.get("args")), "json")
        return out
    if kind == "tool_use":
        use = "**tool result**"
        if p.get("id") is not None:
            use += f" · id {inline_code(_text_of(p['id']))}"
        out = [f"{use} · block {inline_code(block.block_id)}", ""]
        result = p.get("result")
        out += fence(_text_of(result) if result is not None else "")
        error = p.get("error")
        if error not in (None, ""):
            out += ["", "error:", "", *fence(_text_of(error))]
        return out
    if kind == "reasoning":
        out = [head, ""]
        summary = p.get("summary")
        text = p.get("text")
        if summary not in (None, "", []):
            if isinstance(summary, list):
                parts = [s.get("text") if isinstance(s, dict) else s for s in summary]
                out += fence("\n\n".join(_text_of(s) for s in parts if s is not None))
            else:
                out += fence(_text_of(summary))
        elif isinstance(text, str) and text.strip():
            out += fence(text)
        else:
            out += ["*(no reasoning summary)*"]
        encrypted = p.get("encrypted_content")
        if encrypted:
            size = len(_text_of(encrypted))
            out += ["", f"*(encrypted reasoning, {size:,} characters, not shown)*"]
        return out
    return [head, "", *fence(_pretty(p), "json")]


def _identity(block: Block) -> tuple[str, str, str, str, str]:
    return (block.block_id, block.kind, block.role, block.payload_json, block.metadata_json)


def _new_blocks(previous: Sequence[Block], current: Sequence[Block]) -> list[Block]:
    seen: dict[tuple[str, str, str, str, str], int] = {}
    for b in previous:
        seen[_identity(b)] = seen.get(_identity(b), 0) + 1
    out: list[Block] = []
    for b in current:
        key = _identity(b)
        if seen.get(key, 0) > 0:
            seen[key] -= 1
        else:
            out.append(b)
    return out


def _runtime(key: str) -> str:
    return inline_code(key) if key.strip() else "*unknown*"


def _anomalies(tv: TurnView) -> str:
    return ", ".join(tv.anomalies) if tv.anomalies else "—"


def _header(src: ExportSource) -> list[str]:
    view = src.view
    opened = src.opened
    db = src.dump["database"]
    current = view.current
    lines = [
        f"# Conversation {inline_code(view.conv_id)}",
        "",
        f"- **Database:** {inline_code(src.source_path)} "
        f"(schema {db['schema_before']}"
        + (f" → {db['schema_after']}" if db["schema_after"] != db["schema_before"] else "")
        + f"; {_MODE_WORDS.get(opened.mode.value, opened.mode.value)})",
    ]
    if db.get("timeline_db"):
        lines.append(f"- **Timeline store:** {inline_code(str(db['timeline_db']))}")
    lines.append(f"- **Conversation:** {inline_code(view.conv_id)}")
    sessions = ", ".join(f"{i} {inline_code(s)}" for i, s in enumerate(view.sessions, 1)) or "—"
    lines.append(f"- **Sessions ({len(view.sessions)}):** {sessions}")
    lines.append(
        f"- **Current runtime:** {_runtime(current.key)} "
        f"({_SOURCE_WORDS.get(current.source.value, current.source.value)})"
    )
    if view.status or view.last_error:
        status = _one_line(view.status) or "—"
        error = f"; last error: {inline_code(view.last_error)}" if view.last_error else ""
        lines.append(f"- **Status:** {status}{error}")
    lines.append(
        f"- **Turns:** {len(view.turns)}; runtime switches: {view.switch_count}; "
        f"anomalies: {view.anomaly_count}"
    )
    for notice in opened.notice_texts:
        lines.append(f"- **Notice:** {_one_line(notice)}")
    return lines


def _switches(src: ExportSource) -> list[str]:
    lines = ["", "## Runtime switches", ""]
    switched = [tv for tv in src.view.turns if tv.runtime_switch]
    if not switched:
        lines.append("No runtime switch between turns.")
        return lines
    for tv in switched:
        lines.append(
            f"- {_runtime(tv.previous_runtime_key or '')} → {_runtime(tv.turn.runtime_key)} "
            f"at turn {tv.number} ({inline_code(tv.turn.turn_id)})"
        )
    return lines


def _table(src: ExportSource) -> list[str]:
    lines = [
        "",
        "## Turns",
        "",
        "| # | time (UTC) | session | turn | runtime | inference id | phases | anomalies |",
        "|---:|---|---|---|---|---|---|---|",
    ]
    for tv in src.view.turns:
        t = tv.turn
        phases = ", ".join(s.phase for s in t.snapshots) or "—"
        runtime = _cell(t.runtime_key) if t.runtime_key.strip() else "*unknown*"
        if tv.runtime_switch:
            runtime += " (switch)"
        inference = _cell(t.inference_id) if t.inference_id else "—"
        lines.append(
            f"| {tv.number} | {format_utc_ms(t.turn_created_at_ms)} | {tv.session_number} "
            f"| {_cell(t.turn_id)} | {runtime} | {inference} "
            f"| {_one_line(phases).replace('|', chr(92) + '|')} | {_anomalies(tv)} |"
        )
    return lines


def _turn_section(te: TurnExport, previous: Sequence[Block]) -> tuple[list[str], Sequence[Block]]:
    tv = te.view
    t = tv.turn
    lines = [
        "",
        f"## Turn {tv.number} · {inline_code(t.turn_id)} · {_runtime(t.runtime_key)}",
        "",
    ]
    facts = [
        f"session {inline_code(t.session_id)}",
        f"inference id {inline_code(t.inference_id) if t.inference_id else '—'}",
    ]
    if tv.new_session:
        facts.append(f"new session (session {tv.session_number})")
    if tv.runtime_switch:
        facts.append(f"runtime switch from {_runtime(tv.previous_runtime_key or '')}")
    lines.append("- " + "; ".join(facts))
    for a in tv.anomalies:
        lines.append(f"- anomaly: {a} ({ANOMALY_LABELS.get(a, a)})")
    snap = choose_latest(t.snapshots)
    detail = te.detail(snap) if snap is not None else None
    if snap is None or detail is None:
        lines += ["", "*(no snapshot to show)*"]
        return lines, previous
    kind = "final" if snap.phase == "final" else f"latest ({snap.phase}; no final)"
    new = _new_blocks(previous, detail.blocks)
    carried = len(detail.blocks) - len(new)
    lines.append(
        f"- shown: {kind} snapshot at {format_utc_ms(snap.snapshot_created_at_ms, millis=True)}"
        f", {len(detail.blocks)} block{'s' if len(detail.blocks) != 1 else ''}"
        + (f" ({carried} carried over from earlier turns, not repeated)" if carried else "")
    )
    if not new:
        lines += ["", "*(no new blocks)*"]
    for block in new:
        lines += ["", *_block_lines(block)]
    return lines, detail.blocks


def export_markdown(src: ExportSource) -> str:
    """The Markdown report (deterministic text ending in one newline)."""
    lines = _header(src) + _switches(src) + _table(src)
    previous: Sequence[Block] = ()
    for te in src.turns:
        section, previous = _turn_section(te, previous)
        lines += section
    return "\n".join(lines) + "\n"
