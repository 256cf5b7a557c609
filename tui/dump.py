"""The headless JSON dump: a contract that tests and scripts rely on."""

from __future__ import annotations

import asyncio
from typing import Any

from tui.domain import ConversationView, build_conversation
from tui.store.base import Store
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


def conversation_json(view: ConversationView) -> dict[str, Any]:
    """One conversation of the dump, turns in domain order."""
    return {
        "conv_id": view.conv_id,
        "session_id": view.session_id,
        "sessions": list(view.sessions),
        "in_file": view.in_file,
        "current_runtime_key": view.current.key,
        "current_runtime_source": view.current.source.value,
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
            }
            for t in view.turns
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


async def build_dump(opened: Opened, store: Store, conv_id: str | None = None) -> dict[str, Any]:
    """The whole dump object for an opened store."""
    views = await load_views(store, conv_id)
    if conv_id is not None and not views:
        raise UnknownConversationError(conv_id)
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
        "conversations": [conversation_json(v) for v in views],
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
