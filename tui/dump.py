"""The headless JSON dump: a contract that tests and scripts rely on."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tui.domain import ConversationView, build_conversation
from tui.store.models import MigrationReport, OpenedDatabase
from tui.store.queries import Reader


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


def load_views(reader: Reader, conv_id: str | None = None) -> list[ConversationView]:
    """Conversation views, newest activity first; one conversation when `conv_id` is given."""
    if conv_id is not None:
        turns = reader.turns(conv_id)
        timeline = reader.timeline((conv_id,)).get(conv_id)
        if not turns and timeline is None:
            return []
        view = build_conversation(conv_id, turns, timeline[0] if timeline else None)
        if not turns and timeline is not None:
            view = replace(view, session_id=timeline[1])
        return [view]
    views = []
    for summary in reader.conversations():
        view = build_conversation(
            summary.conv_id, reader.turns(summary.conv_id), summary.timeline_runtime_key
        )
        if not view.turns:
            view = replace(view, session_id=summary.session_id)
        views.append(view)
    return views


def build_dump(
    opened: OpenedDatabase, reader: Reader, conv_id: str | None = None
) -> dict[str, Any]:
    """The whole dump object for an opened database."""
    return {
        "database": {
            "path": opened.path,
            "schema_before": opened.schema_before.value,
            "schema_after": opened.schema_after.value,
            "mode": opened.mode,
            "migration": migration_json(opened.report),
            "notices": list(opened.notices),
            "timeline_db": opened.timeline_path
            if opened.timeline_path != opened.read_path
            else (opened.path if opened.timeline_path else None),
        },
        "conversations": [conversation_json(v) for v in load_views(reader, conv_id)],
    }
