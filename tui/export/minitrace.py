"""pinocchio's minitrace document (``ExportTurnsMinitrace``), field for field, from any store.

The rules are those of pinocchio's converter (``pkg/chatapp/export/minitrace.go``, f7768197)
as recorded in ``/work/shared/docs/export.md``; this is an independent reimplementation:

* one snapshot per turn: the latest ``final``, else ``post_tools``, ``post_inference``,
  ``pre_inference``, else the turn's latest snapshot (ties on time: phase-name order);
* turns in ``(turn_created_at_ms, session_id, turn_id)`` order, across sessions;
* each turn contributes its *delta*: blocks whose (kind, role, id, payload, metadata)
  fingerprint is not in the previous turn's chosen snapshot, counted as a multiset;
* payload/metadata JSON is decoded as Go decodes into ``map[string]any`` (numbers as
  float64, ``null`` as a nil map, anything invalid as ``{}``);
* Go's ``json.MarshalIndent(v, "", "  ")`` formatting plus a newline.

Only ``provenance.converted_at``, ``provenance.converter_version`` and the annotations'
timestamps come from the caller (a clock and a version string, so tests are exact).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tui import __version__
from tui.export import ExportSource, NoSnapshotsError, civil_from_ms, format_rfc3339_ms
from tui.store import gojson
from tui.store.records import Block, PhaseSnapshot

__all__ = [
    "CONVERTER_VERSION",
    "SCHEMA_VERSION",
    "TRUNCATE_LIMIT",
    "MinitraceBlock",
    "MinitraceSnapshot",
    "build_minitrace",
    "choose_snapshot",
    "export_minitrace",
    "go_marshal_indent",
    "parse_json_map",
    "render_minitrace",
]

SCHEMA_VERSION = "minitrace-v0.2.0"
SOURCE_FORMAT = "pinocchio-turns-sqlite-v1"
CONVERTER_VERSION = f"turns-tui-{__version__}"
TRUNCATE_LIMIT = 10 * 1024  # bytes of a tool result kept
PHASE_PREFERENCE = ("final", "post_tools", "post_inference", "pre_inference")

# Go's time.Duration is int64 nanoseconds; Time.Sub saturates at its maximum.
_MAX_DURATION_NS = 2**63 - 1

Payload = dict[str, Any] | None  # None stands for Go's nil map (the stored JSON was `null`)


@dataclass(frozen=True)
class MinitraceBlock:
    """One block as pinocchio reads it (payload and metadata decoded Go's way)."""

    id: str
    kind: str
    role: str
    payload: Payload
    metadata: Payload


@dataclass(frozen=True)
class MinitraceSnapshot:
    """The one snapshot of a turn the converter uses, with the turn row's fields."""

    session_id: str
    turn_id: str
    turn_created_at_ms: int
    runtime_key: str
    phase: str
    blocks: tuple[MinitraceBlock, ...]


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------


def choose_snapshot(snapshots: Iterable[PhaseSnapshot]) -> PhaseSnapshot | None:
    """pinocchio's choice of a turn's snapshot (only snapshots holding blocks count)."""
    snaps = sorted(
        (s for s in snapshots if s.block_count > 0),
        key=lambda s: (s.snapshot_created_at_ms, s.phase),
    )
    for phase in PHASE_PREFERENCE:
        best: PhaseSnapshot | None = None
        for s in snaps:
            if s.phase == phase and (
                best is None or s.snapshot_created_at_ms > best.snapshot_created_at_ms
            ):
                best = s
        if best is not None:
            return best
    if not snaps:
        return None
    chosen = snaps[0]
    for s in snaps[1:]:
        if s.snapshot_created_at_ms > chosen.snapshot_created_at_ms:
            chosen = s
    return chosen


def parse_json_map(raw: str) -> Payload:
    """Go ``parseJSONMap``: ``{}`` for blank or invalid text, ``None`` (nil map) for ``null``."""
    if gojson.go_trim_space(raw) == "":
        return {}
    if raw.strip(" \t\n\r") == "null":
        return None  # json.Unmarshal sets the map to nil
    value = gojson.decode_metadata(raw)  # numbers as float64, exactly Go's acceptance rules
    return {} if value is None else value


def minitrace_block(block: Block) -> MinitraceBlock:
    """A stored block as the converter reads it."""
    return MinitraceBlock(
        id=block.block_id,
        kind=block.kind,
        role=block.role,
        payload=parse_json_map(block.payload_json),
        metadata=parse_json_map(block.metadata_json),
    )


def snapshots_from_source(src: ExportSource) -> list[MinitraceSnapshot]:
    """The chosen snapshot of every turn, in pinocchio's turn order."""
    out: list[MinitraceSnapshot] = []
    for te in src.turns:
        t = te.turn
        pick = choose_snapshot(t.snapshots)
        detail = te.detail(pick) if pick is not None else None
        if pick is None or detail is None:
            continue
        out.append(
            MinitraceSnapshot(
                session_id=t.session_id,
                turn_id=t.turn_id,
                turn_created_at_ms=t.turn_created_at_ms,
                runtime_key=t.runtime_key,
                phase=pick.phase,
                blocks=tuple(minitrace_block(b) for b in detail.blocks),
            )
        )
    # Go compares strings bytewise; Python's code-point order is the same for UTF-8.
    out.sort(key=lambda s: (s.turn_created_at_ms, s.session_id, s.turn_id))
    return out


# ---------------------------------------------------------------------------------------
# Go value helpers
# ---------------------------------------------------------------------------------------


def _marshal(value: Any) -> str:
    return gojson.go_json_marshal(value)


def _payload_json(payload: Payload) -> str:
    """``json.Marshal`` of a ``map[string]any`` (a nil map is ``null``)."""
    return "null" if payload is None else _marshal(payload)


def _get(payload: Payload, key: str) -> Any:
    return None if payload is None else payload.get(key)


def _blank(s: str) -> bool:
    return gojson.go_trim_space(s) == ""


def _string_value(value: Any) -> str:
    """Go ``stringValue``: a string as is, nil as "", anything else ``fmt.Sprint``."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return gojson.go_sprint(value)


def _stringify_any(value: Any) -> str:
    """Go ``stringifyAny`` of an interface value: nil "", string as is, else compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return _marshal(value)


def _payload_text(payload: Payload) -> str:
    """Go ``stringifyMinitracePayload``: the ``text`` when not blank, else the payload's JSON."""
    text = _string_value(_get(payload, "text"))
    if not _blank(text):
        return text
    return _payload_json(payload)


def _first_non_empty(*values: str) -> str:
    for v in values:
        if not _blank(v):
            return v
    return ""


def _nil_if_empty(value: str) -> str | None:
    return None if _blank(value) else value


def _utf8(s: str) -> bytes:
    return s.encode("utf-8", "surrogatepass")


def _cut_bytes(raw: bytes, n: int) -> str:
    """The first `n` bytes as a str; a split character's bytes become lone surrogates, which
    ``go_json_marshal`` writes as one ``\\ufffd`` per byte, as Go writes invalid UTF-8."""
    return raw[:n].decode("utf-8", "surrogateescape")


def _truncate(value: str) -> tuple[str, int | None, str | None]:
    raw = _utf8(value)
    if len(raw) <= TRUNCATE_LIMIT:
        return value, None, None
    return _cut_bytes(raw, TRUNCATE_LIMIT), len(raw), hashlib.sha256(raw).hexdigest()


def _fingerprint(block: MinitraceBlock) -> str:
    return (
        f"{block.kind}|{block.role}|{block.id}|"
        f"{_payload_json(block.payload)}|{_payload_json(block.metadata)}"
    )


def minitrace_delta(
    previous: Sequence[MinitraceBlock], current: Sequence[MinitraceBlock]
) -> list[MinitraceBlock]:
    """Blocks of `current` not in `previous`, fingerprints counted as a multiset."""
    seen: dict[str, int] = {}
    for b in previous:
        fp = _fingerprint(b)
        seen[fp] = seen.get(fp, 0) + 1
    out: list[MinitraceBlock] = []
    for b in current:
        fp = _fingerprint(b)
        if seen.get(fp, 0) > 0:
            seen[fp] -= 1
            continue
        out.append(b)
    return out


_CLASSES: dict[str, tuple[str, str, str]] = {
    "llm_text": ("assistant", "model", ""),
    "system": ("system", "system", "system_prompt"),
    "user": ("user", "human", "user_input"),
}


def _annotation(
    ann_id: str,
    scope_type: str,
    target_id: str,
    title: str,
    detail: str,
    tags: list[str],
    timestamp: str,
) -> dict[str, Any]:
    return {
        "id": ann_id,
        "timestamp": timestamp,
        "annotator": "adapter",
        "scope": {"type": scope_type, "target_id": target_id},
        "content": {"category": "observation", "tags": tags, "title": title, "detail": detail},
        "taxonomy_mappings": {"minitrace": [], "mast": [], "toolemu": []},
        "classification": None,
    }


def _tool_calls(
    blocks: Sequence[MinitraceBlock], timestamp: str, emitting_turn: int, annotated_at: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    calls: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    pending: dict[str, int] = {}
    for block in blocks:
        if block.kind == "tool_call":
            call_id = _first_non_empty(
                _string_value(_get(block.payload, "id")), f"tool-call-{len(calls)}"
            )
            calls.append(
                {
                    "id": call_id,
                    "emitting_turn_index": emitting_turn if emitting_turn >= 0 else None,
                    "timestamp": _nil_if_empty(timestamp),
                    "tool_name": _first_non_empty(
                        _string_value(_get(block.payload, "name")), "unknown"
                    ),
                    "operation_type": "EXECUTE",
                    "input": {
                        "file_path": None,
                        "command": None,
                        "justification": None,
                        "arguments": _get(block.payload, "args"),
                    },
                    "output": {
                        "success": False,
                        "result": None,
                        "error": None,
                        "exit_code": None,
                        "duration_ms": None,
                        "truncated": False,
                        "full_bytes": None,
                        "full_hash": None,
                        "full_reference": None,
                        "redacted": None,
                        "content_origin": "local_exec",
                    },
                    "context": {
                        "position_in_session": None,
                        "tools_before": [],
                        "time_since_last_user": None,
                    },
                    "framework_metadata": {"pinocchio_kind": block.kind, "payload": block.payload},
                    "spawned_agent": None,
                }
            )
            pending[call_id] = len(calls) - 1
        elif block.kind == "tool_use":
            use_id = _string_value(_get(block.payload, "id"))
            idx = pending.get(use_id)
            if idx is None:
                annotations.append(
                    _annotation(
                        f"ann-tool-use-orphan-{len(annotations)}",
                        "session",
                        "session",
                        "Orphan tool_use block",
                        _payload_json(block.payload),
                        ["pinocchio", "tool_use", "orphan"],
                        annotated_at,
                    )
                )
                continue
            output: dict[str, Any] = calls[idx]["output"]
            error_text = _string_value(_get(block.payload, "error"))
            result, full_bytes, full_hash = _truncate(_stringify_any(_get(block.payload, "result")))
            output["success"] = _blank(error_text)
            output["result"] = result
            output["truncated"] = full_bytes is not None
            output["full_bytes"] = full_bytes
            output["full_hash"] = full_hash
            if not _blank(error_text):
                output["error"] = error_text
            del pending[use_id]
    # pinocchio walks its pending map in Go's random order; ours is first-call order.
    for call_id, idx in pending.items():
        calls[idx]["output"]["error"] = "no tool result received"
        annotations.append(
            _annotation(
                f"ann-tool-call-pending-{len(annotations)}",
                "tool_call",
                call_id,
                "Tool call never received result",
                call_id,
                ["pinocchio", "tool_call", "orphan"],
                annotated_at,
            )
        )
    return calls, annotations


def _title(entries: Sequence[dict[str, Any]]) -> str | None:
    for entry in entries:
        if entry["role"] != "user":
            continue
        text = gojson.go_trim_space(_string_value(entry["content"]))
        if text == "":
            continue
        raw = _utf8(text)
        if len(raw) > 80:
            return _cut_bytes(raw, 77) + "..."
        return text
    return None


def _provider_hint(model: str) -> str:
    m = gojson.go_trim_space(model).lower()
    if m.startswith("gpt-"):
        return "openai"
    if m.startswith("cerebras-"):
        return "cerebras"
    return "unknown"


def _timing(
    seconds: list[int],
) -> tuple[str | None, str | None, float | None, int | None, int | None]:
    """(started_at, ended_at, duration_seconds, hour_of_day, day_of_week) Go's way."""
    if not seconds:
        return None, None, None, None, None
    seconds = sorted(seconds)
    start, end = seconds[0], seconds[-1]
    diff_ns = (end - start) * 1_000_000_000
    if diff_ns > _MAX_DURATION_NS:
        diff_ns = _MAX_DURATION_NS
    sec, nsec = divmod(diff_ns, 1_000_000_000)
    duration = float(sec) + float(nsec) / 1e9  # Duration.Seconds()
    day, rem = divmod(start, 86_400)
    return (
        format_rfc3339_ms(start * 1000),
        format_rfc3339_ms(end * 1000),
        duration,
        rem // 3600,
        (day + 3) % 7,  # 1970-01-01 was a Thursday; Monday = 0
    )


def _parsable_seconds(ms: int) -> int | None:
    """Seconds of ``formatMillis(ms)`` when Go's ``time.Parse(RFC3339)`` reads it back."""
    if ms <= 0:
        return None
    if civil_from_ms(ms)[0] > 9999:  # Go formats the year in full; Parse wants 4 digits
        return None
    return ms // 1000


def build_minitrace(
    conv_id: str,
    source_path: str,
    snapshots: Sequence[MinitraceSnapshot],
    *,
    converted_at: str,
    annotated_at: str,
    converter_version: str = CONVERTER_VERSION,
) -> dict[str, Any]:
    """The minitrace session document (a plain dict; render it with `render_minitrace`)."""
    entries: list[dict[str, Any]] = []
    tool_calls: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    seconds: list[int] = []
    models_seen: list[str] = []
    previous: Sequence[MinitraceBlock] = ()
    for snap in snapshots:
        timestamp = (
            format_rfc3339_ms(snap.turn_created_at_ms) if snap.turn_created_at_ms > 0 else ""
        )
        parsed = _parsable_seconds(snap.turn_created_at_ms)
        if parsed is not None:
            seconds.append(parsed)
        if snap.runtime_key != "":
            models_seen.append(snap.runtime_key)
        delta = minitrace_delta(previous, snap.blocks)
        previous = snap.blocks
        reasoning: list[str] = []
        start_index = len(entries)
        for block in delta:
            text = _payload_text(block.payload)
            if block.kind == "reasoning":
                if not _blank(text):
                    reasoning.append(text)
                continue
            cls = _CLASSES.get(block.kind)
            if cls is None:
                continue
            role, source, channel = cls
            entry: dict[str, Any] = {
                "index": len(entries),
                "timestamp": _nil_if_empty(timestamp),
                "role": role,
                "source": _nil_if_empty(source),
                "model": _nil_if_empty(snap.runtime_key),
                "content_type": None,
                "input_channel": _nil_if_empty(channel),
                "content": text,
                "framework_metadata": {
                    "pinocchio_kind": block.kind,
                    "original_role": block.role,
                    "turn_id": snap.turn_id,
                    "phase": snap.phase,
                    "session_id": snap.session_id,
                },
                "tool_calls_in_turn": [],
                "thinking": None,
                "intent_markers": None,
                "streaming": {"was_streamed": False, "stream_log": None},
                "usage": None,
            }
            if reasoning and role == "assistant":
                entry["thinking"] = "\n\n".join(reasoning)
                reasoning = []
            entries.append(entry)
        emitting = len(entries) - 1 if len(entries) > start_index else -1
        calls, anns = _tool_calls(delta, timestamp, emitting, annotated_at)
        tool_calls.extend(calls)
        annotations.extend(anns)

    started_at, ended_at, duration, hour, weekday = _timing(seconds)
    model = models_seen[-1] if models_seen else ""
    quality = "B" if entries else "C"
    if len(entries) > 5 and len(tool_calls) > 10:
        quality = "A"
    tool_names = sorted(
        {n for n in (_string_value(c["tool_name"]) for c in tool_calls) if n != ""},
        key=_utf8,
    )
    return {
        "id": conv_id,
        "schema_version": SCHEMA_VERSION,
        "profile": "organic",
        "scenario_id": None,
        "quality": quality,
        "title": _title(entries),
        "summary": None,
        "classification": "internal",
        "provenance": {
            "source_format": SOURCE_FORMAT,
            "source_path": source_path,
            "converted_at": converted_at,
            "converter_version": converter_version,
            "original_session_id": conv_id,
        },
        "flags": {
            "for_research": False,
            "needs_cleaning": True,
            "contains_error": False,
            "contains_pii": "/home/" in source_path or "/Users/" in source_path,
            "category": [],
        },
        "environment": {
            "model": _nil_if_empty(model),
            "model_version": None,
            "temperature": None,
            "tools_enabled": tool_names,
            "system_prompt": None,
            "agent_framework": "pinocchio",
            "agent_version": None,
            "platform_type": "agent",
            "provider_hint": _provider_hint(model),
        },
        "operational_context": {
            "working_directory": None,
            "git_branch": None,
            "git_ref": None,
            "autonomy_level": None,
            "sandbox": None,
            "framework_config": None,
        },
        "timing": {
            "privacy_level": "full",
            "duration_seconds": duration,
            "active_duration_seconds": duration,
            "started_at": started_at,
            "ended_at": ended_at,
            "hour_of_day": hour,
            "day_of_week": weekday,
        },
        "condition": None,
        "coordination": {
            "project_id": None,
            "predecessor_session": None,
            "concurrent_sessions": None,
            "human_attention": "unknown",
        },
        "handover": {"received": None, "produced": None},
        "turns": entries,
        "tool_calls": tool_calls,
        "outcome": None,
        "annotations": annotations,
        "metrics": {
            "turn_count": len(entries),
            "tool_call_count": len(tool_calls),
            "read_count": 0,
            "modify_count": 0,
            "create_count": 0,
            "execute_count": len(tool_calls),
            "delegate_count": 0,
            "read_ratio": None,
            "time_to_first_action": None,
            "idle_ratio": None,
            "total_input_tokens": None,
            "total_output_tokens": None,
            "total_cache_read_tokens": None,
            "total_cache_creation_tokens": None,
            "total_reasoning_tokens": None,
            "total_tool_tokens": None,
            "session_cost": None,
            "subagent_count": 0,
            "subagent_tool_calls": 0,
            "duration_seconds": duration,
        },
    }


# ---------------------------------------------------------------------------------------
# Go's json.MarshalIndent
# ---------------------------------------------------------------------------------------

_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\],:]|[^{}\[\],:"]+', re.DOTALL)


def go_marshal_indent(value: Any, indent: str = "  ") -> str:
    """``json.MarshalIndent(value, "", indent)``: Go's ``json.Marshal`` (sorted keys, HTML
    escaping) re-indented as Go's ``json.Indent`` does (empty ``{}``/``[]`` stay compact)."""
    out: list[str] = []
    depth = 0
    need_indent = False
    for m in _TOKEN.finditer(gojson.go_json_marshal(value)):
        tok = m.group()
        if need_indent and tok != "]" and tok != "}":
            need_indent = False
            depth += 1
            out.append("\n" + indent * depth)
        if tok == "{" or tok == "[":
            need_indent = True
            out.append(tok)
        elif tok == ",":
            out.append(",\n" + indent * depth)
        elif tok == ":":
            out.append(": ")
        elif tok == "}" or tok == "]":
            if need_indent:
                need_indent = False
            else:
                depth -= 1
                out.append("\n" + indent * depth)
            out.append(tok)
        else:
            out.append(tok)
    return "".join(out)


def render_minitrace(doc: dict[str, Any]) -> str:
    """The bytes pinocchio's ``Render`` writes for the document (as text, ASCII-safe JSON)."""
    return go_marshal_indent(doc) + "\n"


def _rfc3339(now: _dt.datetime) -> str:
    if now.tzinfo is None:
        now = now.replace(tzinfo=_dt.UTC)
    return now.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def export_minitrace(
    src: ExportSource,
    *,
    now: _dt.datetime | None = None,
    converter_version: str = CONVERTER_VERSION,
) -> str:
    """The minitrace document of the source's conversation, rendered.

    `now` is the clock (``converted_at`` and the annotations' timestamps; default: now).
    Raises `NoSnapshotsError` when no turn has a snapshot with blocks (pinocchio: not found).
    """
    snapshots = snapshots_from_source(src)
    if not snapshots:
        raise NoSnapshotsError(src.view.conv_id)
    stamp = _rfc3339(now if now is not None else _dt.datetime.now(_dt.UTC))
    doc = build_minitrace(
        src.view.conv_id,
        src.source_path,
        snapshots,
        converted_at=stamp,
        annotated_at=stamp,
        converter_version=converter_version,
    )
    return render_minitrace(doc)
