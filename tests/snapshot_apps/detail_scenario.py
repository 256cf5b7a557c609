"""A GP-26 turns file made to check that the turn detail shows the stored truth.

One conversation of four turns (timeline rows 0..3):

1. crosses midnight UTC (2026-02-23 23:59:58 -> 2026-02-24 00:00:00.500); runtime from a
   bare top-level ``runtime`` string; a user text with an HTML-like span and an llm_text
   of several indented lines with Markdown and angle brackets.
2. runtime from a ``geppetto.runtime@v1`` map holding ``slug``; two tool results, one a
   success written as ``{"error": "", "result": ...}``, one failed with ``"boom"``.
3. runtime_key stored as two spaces; the metadata says ``planner``.
4. runtime_key stored as three spaces; nothing about the runtime in the metadata.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests import builders as b

CONV_ID = "conv-trust"
SESSION_ID = "sess-trust"
MIDNIGHT = 1_771_891_200_000  # 2026-02-24 00:00:00 UTC
TURN1_MS = MIDNIGHT - 2_000  # 2026-02-23 23:59:58 UTC

USER_TEXT = "compare <stock-ledger> first"
LLM_TEXT = (
    "## Plan\n"
    "  1. compare <stock-ledger> first\n"
    "     then check <b>bold</b> & <br/> tags\n"
    "\n"
    "        indented code: x = a<b && c>d\n"
    "- keep **20 units** of `A-1`\n"
    "Done."
)
OK_RESULT: dict[str, Any] = {"id": "call-1", "error": "", "result": "3 in stock"}
FAILED_RESULT: dict[str, Any] = {"id": "call-2", "error": "boom", "result": ""}


def _turn(
    n: int,
    start: int,
    blocks: tuple[b.BlockSpec, ...],
    first: int,
    metadata: dict[str, Any],
    runtime_column: str,
    offsets: tuple[int, int] = (1_500, 2_500),
) -> b.TurnSpec:
    """A turn whose pre_inference holds blocks[:first], then post_inference and final."""
    snaps = (
        b.SnapshotSpec("pre_inference", start, blocks[:first]),
        b.SnapshotSpec("post_inference", start + offsets[0], blocks),
        b.SnapshotSpec("final", start + offsets[1], blocks),
    )
    return b.TurnSpec(
        turn_id=f"turn-trust-{n}",
        snapshots=snaps,
        metadata=metadata,
        data={"geppetto.tool_config@v1": {"enabled": n == 2}},
        runtime_key_column=runtime_column,
        inference_id_column=f"inf-{n}",
    )


def detail_scenario() -> tuple[b.ConversationSpec, ...]:
    system = b.BlockSpec("system", "system", {"text": "You are a stock assistant."}, id="t-sys")
    u1 = b.BlockSpec("user", "user", {"text": USER_TEXT}, id="t-u1")
    a1 = b.BlockSpec("llm_text", "assistant", {"text": LLM_TEXT}, id="t-a1")
    h1 = (system, u1, a1)
    u2 = b.BlockSpec("user", "user", {"text": "How many A-1 and B-2?"}, id="t-u2")
    c1 = b.BlockSpec(
        "tool_call", "", {"id": "call-1", "name": "lookup_sku", "args": {"sku": "A-1"}}, id="t-c1"
    )
    r1 = b.BlockSpec("tool_use", "", OK_RESULT, id="t-r1")
    c2 = b.BlockSpec(
        "tool_call", "", {"id": "call-2", "name": "lookup_sku", "args": {"sku": "B-2"}}, id="t-c2"
    )
    r2 = b.BlockSpec("tool_use", "", FAILED_RESULT, id="t-r2")
    a2 = b.BlockSpec("llm_text", "assistant", {"text": "A-1: 3 in stock; B-2 failed."}, id="t-a2")
    h2 = (*h1, u2, c1, r1, c2, r2, a2)
    u3 = b.BlockSpec("user", "user", {"text": "Plan the restock."}, id="t-u3")
    a3 = b.BlockSpec("llm_text", "assistant", {"text": "Order 10 B-2."}, id="t-a3")
    h3 = (*h2, u3, a3)
    u4 = b.BlockSpec("user", "user", {"text": "Thanks."}, id="t-u4")
    a4 = b.BlockSpec("llm_text", "assistant", {"text": "You are welcome."}, id="t-a4")
    h4 = (*h3, u4, a4)
    turns = (
        _turn(
            1,
            TURN1_MS,
            h1,
            2,
            {"runtime": "planner", "inference_id": "inf-1", "geppetto.model@v1": "gpt-4o"},
            "planner",
        ),
        _turn(
            2,
            MIDNIGHT + 60_000,
            h2,
            4,
            {
                "geppetto.runtime@v1": {"slug": "inventory", "registry": "default"},
                "geppetto.inference_id@v1": "inf-2",
            },
            "inventory",
        ),
        _turn(
            3,
            MIDNIGHT + 120_000,
            h3,
            len(h2) + 1,
            {"geppetto.runtime@v1": "planner", "geppetto.inference_id@v1": "inf-3"},
            "  ",
        ),
        _turn(4, MIDNIGHT + 180_000, h4, len(h3) + 1, {"geppetto.model@v1": "gpt-4o"}, "   "),
    )
    return (b.ConversationSpec(CONV_ID, SESSION_ID, turns),)


def build_detail_db(path: Path) -> Path:
    """The scenario as a GP-26 file (runtime_key and inference_id stored verbatim)."""
    return b.build_gp26(path, detail_scenario())
