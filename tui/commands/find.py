"""`turns-tui find PATH QUERY [--field id|text|any] [--json]`: any id or text, anywhere.

Ids (conversation, session, turn, inference, runtime key) match exactly or by prefix,
case-insensitively, exact matches first; text matches case-insensitively inside block
payloads (SQLite's LIKE folds ASCII letters only). Every excerpt is made safe to print.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from tui.cli import _write_stdout
from tui.commands._store import parser, run
from tui.find import (
    FIELD_ANY,
    FIELD_ID,
    FIELD_TEXT,
    FIELDS,
    Match,
    find_json,
    id_matches,
    render_text,
    text_matches,
)
from tui.store.base import Store
from tui.store.models import Opened

DEFAULT_LIMIT = 500


@dataclass(frozen=True)
class Found:
    matches: tuple[Match, ...]
    truncated: bool


async def search(store: Store, query: str, field: str, limit: int | None) -> Found:
    """Id matches, then text matches, at most `limit` of them."""
    matches: list[Match] = []
    if field in (FIELD_ID, FIELD_ANY):
        matches.extend(id_matches(query, await store.find_ids(query)))
    if field in (FIELD_TEXT, FIELD_ANY) and (limit is None or len(matches) <= limit):
        matches.extend(text_matches(query, await store.find_text(query)))
    truncated = limit is not None and len(matches) > limit
    return Found(tuple(matches[:limit] if limit is not None else matches), truncated)


def main(argv: Sequence[str]) -> int:
    p = parser("turns-tui find", "Find ids and text anywhere in a turns database.")
    p.add_argument("query")
    p.add_argument("--field", choices=FIELDS, default=FIELD_ANY, help="what to search (any)")
    p.add_argument(
        "--limit",
        type=int,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"print at most N matches (default {DEFAULT_LIMIT}; 0: all)",
    )
    p.add_argument("--json", action="store_true", help="print the matches as JSON")
    args = p.parse_args(argv)
    limit = args.limit if args.limit > 0 else None

    async def work(_opened: Opened, store: Store) -> Found:
        return await search(store, args.query, args.field, limit)

    result = run(args, work)
    if isinstance(result, int):
        return result
    if args.json:
        doc = find_json(args.query, result.matches, result.truncated)
        return _write_stdout(json.dumps(doc, ensure_ascii=True) + "\n")
    return _write_stdout(render_text(args.query, result.matches, result.truncated))
