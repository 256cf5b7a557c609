"""The headless JSON dump: a contract that tests and scripts rely on."""

from __future__ import annotations

import asyncio
from typing import Any

from tui.domain import ConversationView, RuntimeSource, build_conversation
from tui.provenance import current_json, current_provenance, provenance_json, turn_provenance
from tui.store.base import Store
from tui.store.investigate import TurnIds
from tui.store.models import MigrationReport, Opened


def migration_json(report: MigrationReport) -> dict[str, Any]:
    """The `migration` object of the dump."""
    return {
        "applied": report.applied,
        "steps": list(report.steps),
        "backfilled_runtime_key": report.backfilled_runtime_key,
        "backfilled_inference_id": report.backfilled_inference_id,
        "unknown_runtime_turns": report.unknown_runtime_turns,
        "malformed_metadata_rows": report.malformed_metadata_rows,
        "legacy_rows_unparsed": report.legacy_rows_unparsed,
    }


def conversation_json(view: ConversationView, only_turn: str | None = None) -> dict[str, Any]:
    """One conversation of the dump, turns in domain order (only `only_turn` when given)."""
    return {
        "conv_id": view.conv_id,
        "session_id": view.session_id,
        "sessions": list(view.sessions),
        "in_file": view.in_file,
        "current_runtime_key": view.current.key,
        "current_runtime_source": view.current.source.value,
        "current_runtime_provenance": current_json(
            current_provenance(
                [t.turn for t in view.turns],
                view.current.key if view.current.source == RuntimeSource.TIMELINE else None,
                view.current,
            )
        ),
        "turns": [
            {
                "turn_id": t.turn.turn_id,
                "runtime_key": t.turn.runtime_key,
                "inference_id": t.turn.inference_id,
                "turn_created_at_ms": t.turn.turn_created_at_ms,
                "updated_at_ms": t.turn.updated_at_ms,
                "runtime_switch": t.runtime_switch,
                "previous_runtime_key": t.previous_runtime_key,
                "phases": [
                    {
                        "phase": s.phase,
                        "snapshot_created_at_ms": s.snapshot_created_at_ms,
                        "block_count": s.block_count,
                    }
                    for s in t.turn.snapshots
                ],
                "anomalies": list(t.anomalies),
                "provenance": provenance_json(turn_provenance(t.turn)),
            }
            for t in view.turns
            if only_turn is None or t.turn.turn_id == only_turn
        ],
    }


async def load_views(store: Store, conv_id: str | None = None) -> list[ConversationView]:
    """Conversation views, newest activity first; one conversation when `conv_id` is given.

    Conversations only the timeline store knows come last, as on screen.
    """
    if conv_id is not None:
        records = await store.conversation(conv_id)
        if not records.turns and records.timeline is None:
            return []
        return [build_conversation(conv_id, records.turns, records.timeline)]
    views = []
    for summary in await store.conversations():
        records = await store.conversation(summary.conv_id)
        views.append(
            await asyncio.to_thread(
                build_conversation, summary.conv_id, records.turns, records.timeline
            )
        )
    return views


class UnknownConversationError(LookupError):
    """`dump --conv ID` named a conversation the store does not have."""


class InferenceLookupError(LookupError):
    """`dump --inference ID` matched no turn, or more than one; `str()` says which."""


async def resolve_inference(store: Store, inference_id: str, conv_id: str | None = None) -> TurnIds:
    """The one turn whose inference id is `inference_id`, else the one it is a prefix of.

    Raises InferenceLookupError when none matches or several do (a reused id included)."""
    hits = [
        h
        for h in await store.find_ids(inference_id)
        if h.inference_id.startswith(inference_id) and (conv_id is None or h.conv_id == conv_id)
    ]
    exact = [h for h in hits if h.inference_id == inference_id]
    chosen = exact or hits
    if len(chosen) == 1:
        return chosen[0]
    if not chosen:
        where = f" in conversation {conv_id!r}" if conv_id is not None else ""
        raise InferenceLookupError(f"no turn with inference id {inference_id!r}{where}")
    turns = ", ".join(f"{h.conv_id}/{h.turn_id}" for h in chosen[:5])
    more = f" and {len(chosen) - 5} more" if len(chosen) > 5 else ""
    kind = "is shared by" if exact else "is a prefix of the inference ids of"
    raise InferenceLookupError(
        f"inference id {inference_id!r} {kind} {len(chosen)} turns: {turns}{more}"
    )


async def build_dump(
    opened: Opened, store: Store, conv_id: str | None = None, inference_id: str | None = None
) -> dict[str, Any]:
    """The whole dump object for an opened store.

    With `inference_id`: only the conversation holding that turn, with only that turn, and
    an `inference` object naming it."""
    match: TurnIds | None = None
    if inference_id is not None:
        match = await resolve_inference(store, inference_id, conv_id)
        conv_id = match.conv_id
    views = await load_views(store, conv_id)
    if conv_id is not None and not views:
        raise UnknownConversationError(conv_id)
    extra: dict[str, Any] = {}
    if match is not None:
        extra["inference"] = {
            "query": inference_id,
            "inference_id": match.inference_id,
            "conv_id": match.conv_id,
            "session_id": match.session_id,
            "turn_id": match.turn_id,
        }
    return {
        "database": {
            "path": opened.path,
            "schema_before": opened.schema_before.value,
            "schema_after": opened.schema_after.value,
            "mode": opened.mode.value,
            "read_only": opened.read_only,
            "migration": migration_json(opened.report),
            "notices": list(opened.notice_texts),
            "timeline_db": opened.timeline_path
            if opened.timeline_path != opened.read_path
            else (opened.path if opened.timeline_path else None),
        },
        "conversations": [
            conversation_json(v, match.turn_id if match is not None else None) for v in views
        ],
        **extra,
    }


async def dump_store(store: Store, conv_id: str | None = None) -> dict[str, Any]:
    """Open `store`, build its dump, close it (leaving nothing behind)."""
    try:
        opened = await store.open()
        return await build_dump(opened, store, conv_id)
    finally:
        await store.close()


def dump_file(
    path: str,
    *,
    read_only: bool = False,
    timeline_db: str | None = None,
    conv_id: str | None = None,
) -> dict[str, Any]:
    """The dump of a SQLite file, synchronously (scripts, tests, benchmarks)."""
    from tui.store.sqlite_store import SqliteStore

    store = SqliteStore(path, read_only=read_only, timeline_db=timeline_db)
    return asyncio.run(dump_store(store, conv_id))
