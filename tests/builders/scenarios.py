"""The standard scenario: three conversations covering switches, legacy keys and unknowns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.builders.specs import (
    BlockSpec,
    ConversationSpec,
    SnapshotSpec,
    TurnSpec,
    iter_snapshots,
)

# --------------------------------------------------------------------------------------
# Standard scenario
# --------------------------------------------------------------------------------------

T0 = 1_771_900_000_000  # 2026-02-24 02:26:40 UTC

_FINGERPRINTS = {"inventory": "fp-1", "planner": "fp-2", "research": "fp-3"}


def runtime_attribution(runtime_key: str) -> dict[str, Any]:
    """The canonical ``geppetto.runtime@v1`` map (era 4)."""
    return {
        "runtime_key": runtime_key,
        "profile.slug": runtime_key,
        "profile.registry": "default",
        "profile.version": 1,
        "runtime_fingerprint": _FINGERPRINTS.get(runtime_key, f"fp-{runtime_key}"),
    }


def _user(bid: str, text: str) -> BlockSpec:
    return BlockSpec(kind="user", role="user", payload={"text": text}, id=bid)


def _llm(bid: str, text: str) -> BlockSpec:
    return BlockSpec(kind="llm_text", role="assistant", payload={"text": text}, id=bid)


def _system(bid: str, text: str) -> BlockSpec:
    return BlockSpec(kind="system", role="system", payload={"text": text}, id=bid)


def _tool_call(bid: str, call_id: str, name: str, args: Mapping[str, Any]) -> BlockSpec:
    return BlockSpec(
        kind="tool_call", payload={"id": call_id, "name": name, "args": dict(args)}, id=bid
    )


def _tool_use(bid: str, call_id: str, result: str) -> BlockSpec:
    return BlockSpec(kind="tool_use", payload={"id": call_id, "result": result}, id=bid)


def _canonical_metadata(n: int, runtime: str, inference_id: str, session: str) -> dict[str, Any]:
    return {
        "geppetto.runtime@v1": runtime_attribution(runtime),
        "geppetto.inference_id@v1": inference_id,
        "geppetto.session_id@v1": session,
        "geppetto.provider@v1": "openai",
        "geppetto.model@v1": "gpt-4o" if runtime == "planner" else "gpt-4o-mini",
        "geppetto.usage@v1": {"input_tokens": 100 * n + 20, "output_tokens": 10 * n + 5},
        "geppetto.stop_reason@v1": "stop",
    }


def _pre_metadata(full: Mapping[str, Any]) -> dict[str, Any]:
    """What a pre_inference snapshot knows: attribution, not yet usage/model/stop reason."""
    keep = ("geppetto.runtime@v1", "geppetto.inference_id@v1", "geppetto.session_id@v1")
    return {k: full[k] for k in keep if k in full}


def _conv_switch() -> ConversationSpec:
    conv_id, session = "conv-switch", "sess-a"
    runtimes = ["inventory", "inventory", "planner", "planner", "inventory"]
    exchanges = [
        ("Hi, what can you do?", "I can check stock levels and plan restocks."),
        ("How many A-1 and B-2 are in stock?", "There are 3 A-1 in stock and no B-2."),
        ("Switch to planning: plan the B-2 restock.", "Plan: order 10 units of B-2 on Monday."),
        ("Add a reminder for that.", "Reminder added for Monday 9:00."),
        ("Back to inventory: how many A-1 now?", "Still 3 A-1 in stock."),
    ]
    history: list[BlockSpec] = [_system("switch-sys", "You are a helpful warehouse assistant.")]
    turns: list[TurnSpec] = []
    for n, (runtime, (question, answer)) in enumerate(zip(runtimes, exchanges, strict=True), 1):
        start = T0 + (n - 1) * 120_000
        full = _canonical_metadata(n, runtime, f"inf-{n}", session)
        pre = _pre_metadata(full)
        history.append(_user(f"switch-u{n}", question))
        snaps: list[SnapshotSpec] = [SnapshotSpec("pre_inference", start, tuple(history), pre)]
        data: dict[str, Any] = {}
        if n == 2:
            data = {"geppetto.tool_config@v1": {"enabled": True, "max_iterations": 3}}
            loop: list[tuple[str, int, list[BlockSpec]]] = [
                (
                    "post_inference",
                    1_500,
                    [
                        BlockSpec(
                            kind="reasoning",
                            payload={"text": "thinking..."},
                            metadata={"geppetto.reasoning_tokens@v1": 42},
                            id="switch-r2",
                        ),
                        _tool_call("switch-call-1", "call-1", "lookup_sku", {"sku": "A-1"}),
                    ],
                ),
                ("post_tools", 1_900, [_tool_use("switch-tool-1", "call-1", "3 in stock")]),
                (
                    "post_inference",
                    3_200,
                    [_tool_call("switch-call-2", "call-2", "lookup_sku", {"sku": "B-2"})],
                ),
                ("post_tools", 3_600, [_tool_use("switch-tool-2", "call-2", "0 in stock")]),
                ("post_inference", 5_100, [_llm(f"switch-a{n}", answer)]),
            ]
            for phase, offset, new_blocks in loop:
                history.extend(new_blocks)
                snaps.append(SnapshotSpec(phase, start + offset, tuple(history)))
            snaps.append(SnapshotSpec("final", start + 5_250, tuple(history)))
        else:
            history.append(_llm(f"switch-a{n}", answer))
            snaps.append(SnapshotSpec("post_inference", start + 1_800, tuple(history)))
            snaps.append(SnapshotSpec("final", start + 1_950, tuple(history)))
        turns.append(
            TurnSpec(
                turn_id=f"turn-switch-{n}",
                snapshots=tuple(snaps),
                metadata=full,
                data=data,
                runtime_key_column=runtime,
                inference_id_column=f"inf-{n}",
            )
        )
    return ConversationSpec(conv_id, session, tuple(turns))


def _conv_legacy_keys() -> ConversationSpec:
    """Old metadata shapes; blocks without ids (old writer); last turn crashed."""
    conv_id, session = "conv-legacy-keys", "sess-b"
    metadatas: list[dict[str, Any]] = [
        {
            "geppetto.runtime@v1": "  planner ",
            "geppetto.inference_id@v1": "inf-b1",
            "geppetto.model@v1": "gpt-4o",
        },
        {"runtime": {"slug": "planner"}, "geppetto.inference_id@v1": "inf-b2"},
        {"geppetto.model@v1": "gpt-4o", "geppetto.provider@v1": "openai"},
        {"runtime_key": "inventory", "inference_id": 42},
    ]
    exchanges = [
        ("Draft a plan for Q2 stock.", "Q2 plan: keep 20 units of every SKU."),
        ("Shorten it.", "Keep 20 of each."),
        ("Who wrote this?", "You did, with my help."),
        ("Check A-1 stock please.", None),
    ]
    history: list[BlockSpec] = [
        BlockSpec(kind="system", role="system", payload={"text": "You are a planning assistant."})
    ]
    turns: list[TurnSpec] = []
    for n, (md, (question, answer)) in enumerate(zip(metadatas, exchanges, strict=True), 1):
        start = T0 + 30_000 + (n - 1) * 90_000
        history.append(BlockSpec(kind="user", role="user", payload={"text": question}))
        snaps = [SnapshotSpec("pre_inference", start, tuple(history))]
        if answer is not None:
            history.append(BlockSpec(kind="llm_text", role="assistant", payload={"text": answer}))
            snaps.append(SnapshotSpec("post_inference", start + 2_100, tuple(history)))
            snaps.append(SnapshotSpec("final", start + 2_300, tuple(history)))
        turns.append(TurnSpec(turn_id=f"turn-legacy-{n}", snapshots=tuple(snaps), metadata=md))
    return ConversationSpec(conv_id, session, tuple(turns))


def _conv_single() -> ConversationSpec:
    conv_id, session = "conv-single", "sess-a"
    start = T0 + 600_000
    full = _canonical_metadata(1, "inventory", "inf-s1", session)
    full["geppetto.stop_reason@v1"] = "end_turn"
    b_sys = _system("single-sys", "You are a helpful warehouse assistant.")
    b_user = _user("single-u1", "Is C-3 discontinued?")
    b_call = _tool_call("single-call-9", "call-9", "lookup_sku", {"sku": "C-3"})
    b_tool = _tool_use("single-tool-9", "call-9", "discontinued")
    b_llm = _llm("single-a1", "Yes, C-3 is discontinued.")
    snaps = (
        SnapshotSpec("pre_inference", start, (b_sys, b_user), _pre_metadata(full)),
        SnapshotSpec("post_inference", start + 1_200, (b_sys, b_user, b_call)),
        SnapshotSpec("post_tools", start + 2_400, (b_sys, b_user, b_call, b_tool)),
        SnapshotSpec("final", start + 3_000, (b_sys, b_user, b_call, b_tool, b_llm)),
    )
    turn = TurnSpec(
        turn_id="turn-single-1",
        snapshots=snaps,
        metadata=full,
        runtime_key_column="inventory",
        inference_id_column="inf-s1",
    )
    return ConversationSpec(conv_id, session, (turn,))


def standard_scenario() -> tuple[ConversationSpec, ...]:
    """Three conversations: conv-switch, conv-legacy-keys, conv-single (in that order).

    Newest-first by last activity: conv-single, conv-switch, conv-legacy-keys.
    """
    return (_conv_switch(), _conv_legacy_keys(), _conv_single())


# (conv_id, turn_id) -> (runtime_key, inference_id) after the Go backfill rules.
STANDARD_EXPECTED_ATTRIBUTION: Mapping[tuple[str, str], tuple[str, str]] = {
    ("conv-switch", "turn-switch-1"): ("inventory", "inf-1"),
    ("conv-switch", "turn-switch-2"): ("inventory", "inf-2"),
    ("conv-switch", "turn-switch-3"): ("planner", "inf-3"),
    ("conv-switch", "turn-switch-4"): ("planner", "inf-4"),
    ("conv-switch", "turn-switch-5"): ("inventory", "inf-5"),
    ("conv-legacy-keys", "turn-legacy-1"): ("planner", "inf-b1"),
    ("conv-legacy-keys", "turn-legacy-2"): ("planner", "inf-b2"),
    ("conv-legacy-keys", "turn-legacy-3"): ("", ""),
    ("conv-legacy-keys", "turn-legacy-4"): ("inventory", "42"),
    ("conv-single", "turn-single-1"): ("inventory", "inf-s1"),
}


def last_activity_ms(conv: ConversationSpec) -> int:
    return max(s.created_at_ms for _, _, s in iter_snapshots((conv,)))


def standard_timeline_rows() -> tuple[tuple[str, str, str, int], ...]:
    """Timeline rows for the standard scenario. The CURRENT runtime of conv-switch is
    "planner" (the user switched after the last turn) while its last turn ran on
    "inventory": never present one as the other."""
    convs = {c.conv_id: c for c in standard_scenario()}
    current = {
        "conv-switch": "planner",
        "conv-legacy-keys": "inventory",
        "conv-single": "inventory",
    }
    return tuple(
        (cid, convs[cid].session_id, current[cid], last_activity_ms(convs[cid])) for cid in current
    )


