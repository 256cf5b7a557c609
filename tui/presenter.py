"""What the main screen says about the opened store: pure wording, unit-tested.

Every sentence is built from the open's result (`Opened`), never from matching words in
notices; one notice per fact, with correct plurals.
"""

from __future__ import annotations

from tui.formatting import safe_text
from tui.store.models import NoticeKind, Opened, OpenMode


def plural(n: int, one: str, many: str | None = None) -> str:
    """`1 turn`, `2 turns`, `1,234 turns`."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def title_text(label: str, opened: Opened) -> str:
    """`turns-tui  PATH · era` (`era0 → gp26` when it was migrated)."""
    if opened.mode == OpenMode.OVERLAY and opened.schema_before != opened.schema_after:
        era = f"{opened.schema_before.value}, read as {opened.schema_after.value}"
    elif opened.schema_before != opened.schema_after:
        era = f"{opened.schema_before.value} → {opened.schema_after.value}"
    else:
        era = opened.schema_after.value
    return f"{safe_text(label, 80)} · {era}"


def banner_text(opened: Opened) -> str | None:
    """The READ-ONLY banner, from the open's result only (None when the file is writable)."""
    if not opened.read_only:
        return None
    where = safe_text(opened.path, 80)
    if opened.mode == OpenMode.COPY:
        how = "legacy snapshots normalised in a private copy (removed on exit)"
    elif opened.mode == OpenMode.OVERLAY:
        how = "backfill derived in memory"
    else:
        how = "nothing to migrate"
    forced = any(n.kind == NoticeKind.READ_ONLY_FORCED for n in opened.notices)
    why = " (the file or its folder is not writable)" if forced else ""
    return f"READ-ONLY{why} · {where} is never written · {how}"


def _what_was_done(opened: Opened) -> list[str]:
    report = opened.report
    verb = "" if opened.mode == OpenMode.OVERLAY else "backfilled "
    did: list[str] = []
    if report.legacy_rows_normalized:
        did.append(f"normalised {plural(report.legacy_rows_normalized, 'legacy snapshot')}")
    turns_changed = max(report.backfilled_runtime_key, report.backfilled_inference_id)
    if turns_changed:
        parts = []
        if report.backfilled_runtime_key:
            parts.append(plural(report.backfilled_runtime_key, "runtime key"))
        if report.backfilled_inference_id:
            parts.append(plural(report.backfilled_inference_id, "inference id"))
        did.append(verb + " and ".join(parts))
    return did


def migration_notice(opened: Opened) -> str | None:
    """One line on what opening did to (or derived for) the file; None when nothing."""
    report = opened.report
    did = _what_was_done(opened)
    if opened.mode == OpenMode.IN_PLACE:
        lead = "migrated in place" if opened.schema_before != opened.schema_after else "updated"
        if not did:
            did = [f"{plural(len(report.steps), 'schema step')} applied"]
    elif opened.mode == OpenMode.COPY:
        lead = "migrated a private copy"
    elif opened.mode == OpenMode.OVERLAY:
        lead = "derived in memory, not written"
        if opened.schema_before.value == "geppetto-turns":
            lead = "geppetto_turns belongs to geppetto and is never written; derived in memory"
    else:
        did = []
        lead = ""
    if report.unknown_runtime_turns:
        did.append(f"{plural(report.unknown_runtime_turns, 'turn')} of unknown runtime")
    if report.malformed_metadata_rows:
        did.append(f"{plural(report.malformed_metadata_rows, 'row')} with malformed metadata")
    if report.legacy_rows_unparsed:
        did.append(f"{plural(report.legacy_rows_unparsed, 'legacy snapshot')} not parsed (kept)")
    if not did and not lead:
        return None
    if not lead:
        return ", ".join(did)
    return f"{lead}: " + ", ".join(did) if did else lead


def extra_notices(opened: Opened) -> list[str]:
    """Facts the banner and the migration line do not already say (one per fact)."""
    out: list[str] = []
    for n in opened.notices:
        if n.kind in (NoticeKind.EMPTY, NoticeKind.FUTURE_SCHEMA):
            out.append(n.text)
        elif n.kind == NoticeKind.LOCK_WAIT and opened.lock_wait_s > 0:
            out.append(f"waited {opened.lock_wait_s:.1f} s for another writer's lock")
        elif n.kind == NoticeKind.RAW_COPY:
            out.append(n.text)
    return out


def notice_text(opened: Opened) -> str | None:
    """The notice line under the title: migration, then other facts, ` · `-joined."""
    parts = [p for p in (migration_notice(opened), *extra_notices(opened)) if p]
    return " · ".join(parts) if parts else None


def conversations_count(in_file: int, only_timeline: int) -> str:
    """`6 conversations · 8 more only in the timeline store`."""
    text = plural(in_file, "conversation")
    if only_timeline:
        text += f" · {only_timeline:,} more only in the timeline store"
    return text
