"""Find any id or text in a turns database: the rules over the store's candidates.

Pure (no IO, no textual): `tui.store.investigate` reads candidate turns and blocks, this
module decides what matches, in which field, and the excerpt to show (made safe with
`tui.formatting.safe_text`). Ids match exactly or by prefix, case-insensitively (exact
matches first); text matches case-insensitively inside the decoded block payload.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from tui.formatting import safe_text
from tui.store.investigate import ID_FIELDS, TextHit, TurnIds

FIELD_ID = "id"
FIELD_TEXT = "text"
FIELD_ANY = "any"
FIELDS = (FIELD_ID, FIELD_TEXT, FIELD_ANY)

EXCERPT_WIDTH = 80


@dataclass(frozen=True)
class Match:
    """One place the query was found; turn_id None: a conversation or session match."""

    conv_id: str
    session_id: str
    turn_id: str | None
    phase: str | None
    snapshot_created_at_ms: int | None
    field: str  # conv_id | session_id | turn_id | inference_id | runtime_key | text
    block_ordinal: int | None
    excerpt: str
    exact: bool = False


def id_matches(query: str, turns: Sequence[TurnIds]) -> list[Match]:
    """Matches of `query` among turns' ids: one per conversation (conv_id), per
    (conversation, session) (session_id), per turn (turn, inference, runtime key).

    Exact matches come before prefix matches; then field order, then turn order."""
    needle = query.strip().lower()
    if not needle:
        return []
    out: list[tuple[int, int, int, Match]] = []
    seen: set[tuple[str, ...]] = set()
    # Latest turn of each conversation / session, for their jump target.
    latest: dict[tuple[str, ...], TurnIds] = {}
    for t in turns:
        for group in ((t.conv_id,), (t.conv_id, t.session_id)):
            cur = latest.get(group)
            if cur is None or (t.turn_created_at_ms, t.turn_id) >= (
                cur.turn_created_at_ms,
                cur.turn_id,
            ):
                latest[group] = t
    for n, t in enumerate(turns):
        for rank, field in enumerate(ID_FIELDS):
            value: str = getattr(t, field)
            if not value.lower().startswith(needle):
                continue
            exact = value.lower() == needle
            if field == "conv_id":
                key: tuple[str, ...] = (field, t.conv_id)
                target = latest[(t.conv_id,)]
            elif field == "session_id":
                key = (field, t.conv_id, t.session_id)
                target = latest[(t.conv_id, t.session_id)]
            else:
                key = (field, t.conv_id, t.session_id, t.turn_id)
                target = t
            if key in seen:
                continue
            seen.add(key)
            turn_level = field not in ("conv_id", "session_id")
            out.append(
                (
                    0 if exact else 1,
                    rank,
                    n,
                    Match(
                        t.conv_id,
                        target.session_id,
                        t.turn_id if turn_level else None,
                        target.phase or None if turn_level else None,
                        target.snapshot_created_at_ms or None if turn_level else None,
                        field,
                        None,
                        safe_text(value, EXCERPT_WIDTH),
                        exact,
                    ),
                )
            )
    out.sort(key=lambda x: x[:3])
    return [m for *_, m in out]


def _strings(value: Any) -> Iterator[str]:
    """Every string value inside decoded JSON, in document order (iteratively)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            yield v
        elif isinstance(v, dict):
            stack.extend(reversed(list(v.values())))
        elif isinstance(v, list):
            stack.extend(reversed(v))


def excerpt(text: str, query: str, width: int = EXCERPT_WIDTH) -> str | None:
    """A one-line window of `text` around the first case-insensitive `query`, made safe;
    None when `text` does not hold it."""
    at = text.lower().find(query.lower())
    if at < 0:
        return None
    context = max((width - len(query)) // 2, 8)
    start = max(at - context, 0)
    end = min(at + len(query) + context, len(text))
    window = text[start:end]
    head = "…" if start > 0 else ""
    tail = "…" if end < len(text) else ""
    return head + safe_text(window) + tail


def text_matches(query: str, hits: Sequence[TextHit]) -> list[Match]:
    """Candidate blocks whose decoded payload really holds `query` (a LIKE over JSON also
    matches key names and escapes), with an excerpt of the first string holding it."""
    if not query:
        return []
    out: list[Match] = []
    for h in hits:
        try:
            payload: Any = json.loads(h.payload_json)
        except (ValueError, RecursionError):
            payload = h.payload_json
        found = next((e for s in _strings(payload) if (e := excerpt(s, query)) is not None), None)
        if found is None:
            continue
        out.append(
            Match(
                h.conv_id,
                h.session_id,
                h.turn_id,
                h.phase,
                h.snapshot_created_at_ms,
                "text",
                h.block_ordinal,
                found,
            )
        )
    return out


def match_json(m: Match) -> dict[str, Any]:
    return {
        "conv_id": m.conv_id,
        "session_id": m.session_id,
        "turn_id": m.turn_id,
        "phase": m.phase,
        "snapshot_created_at_ms": m.snapshot_created_at_ms,
        "field": m.field,
        "block_ordinal": m.block_ordinal,
        "excerpt": m.excerpt,
    }


def find_json(query: str, matches: Sequence[Match], truncated: bool = False) -> dict[str, Any]:
    """The `turns-tui find --json` object."""
    return {
        "query": query,
        "matches": [match_json(m) for m in matches],
        "truncated": truncated,
    }


def render_text(query: str, matches: Sequence[Match], truncated: bool = False) -> str:
    """The readable form of `turns-tui find`."""
    if not matches:
        return f"no match for {safe_text(query)!r}\n"
    lines = []
    for m in matches:
        where = safe_text(m.conv_id)
        if m.turn_id is not None:
            where += f"/{safe_text(m.turn_id)}"
        if m.phase:
            where += f" {safe_text(m.phase)}@{m.snapshot_created_at_ms}"
        if m.block_ordinal is not None:
            where += f" block #{m.block_ordinal}"
        lines.append(f"{m.field:<12} {where}: {m.excerpt}")
    lines.append(f"{len(matches)} match{'es' if len(matches) != 1 else ''}")
    if truncated:
        lines[-1] += " (more not shown; raise --limit)"
    return "\n".join(lines) + "\n"
