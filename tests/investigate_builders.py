"""Scenario files for the investigation commands (diff, provenance, check, find).

Built on ``tests.builders`` (standard library and PyYAML only; nothing from ``tui``), so
the facts stated here are an independent oracle: what each turn holds, which anomalies
the file has, where a text first appears.

One GP-26 file, two conversations:

``conv-inv`` (session ``sess-i``)
  1. research, gpt-4o
  2. research, a tool loop (post_inference, post_tools twice), inference id ``inf-i2``
  3. coder, o4-mini: the switch; the system block ``inv-sys`` changes text, the data's
     tool list changes
  4. coder, crashed: ``pre_inference`` only
  5. the ``runtime_key`` column says ``coder`` but the metadata says ``research``
``conv-reuse`` (session ``sess-j``)
  1. legacy metadata ``{"runtime": {"slug": "research"}}``; its turn row is dated after
     its first snapshot (time order)
  2. no runtime anywhere; reuses inference id ``inf-i2``
  3. metadata that Go's decoder rejects (``NaN``); the columns keep their values
plus membership rows of a turn ``turn-ghost`` that has no turn row.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tests import builders as b

T1 = b.T0 + 10_000_000
CONV = "conv-inv"
SESS = "sess-i"
CONV2 = "conv-reuse"
SESS2 = "sess-j"

SYS_RESEARCH = "You are a research assistant.\nCite sources.\nBe brief."
SYS_CODER = "You are a coding assistant.\nWrite tests first.\nBe brief.\nUse Python 3.11."
# difflib-independent count: research/Cite replaced by coding/Write, one line appended.
SYSTEM_PROMPT_PLUS = 3
SYSTEM_PROMPT_MINUS = 2

ZEBRA_TEXT = "Find papers about Zebrafish fin regeneration."
CONTROL_TEXT = "Print \x1b[31mred\x1b[0m warnings."

TOOLS_RESEARCH = {"tools": ["search"], "max_iterations": 3}
TOOLS_CODER = {"tools": ["run_tests", "search"], "max_iterations": 5}


def _meta(runtime: str, inference_id: str, model: str) -> dict[str, Any]:
    return {
        "geppetto.runtime@v1": b.runtime_attribution(runtime),
        "geppetto.inference_id@v1": inference_id,
        "geppetto.provider@v1": "openai",
        "geppetto.model@v1": model,
    }


def _user(bid: str, text: str) -> b.BlockSpec:
    return b.BlockSpec(kind="user", role="user", payload={"text": text}, id=bid)


def _llm(bid: str, text: str) -> b.BlockSpec:
    return b.BlockSpec(kind="llm_text", role="assistant", payload={"text": text}, id=bid)


def _sys(text: str) -> b.BlockSpec:
    return b.BlockSpec(kind="system", role="system", payload={"text": text}, id="inv-sys")


def _call(bid: str, call_id: str, query: str) -> b.BlockSpec:
    return b.BlockSpec(
        kind="tool_call", payload={"id": call_id, "name": "search", "args": {"q": query}}, id=bid
    )


def _tool(bid: str, call_id: str, result: str) -> b.BlockSpec:
    return b.BlockSpec(kind="tool_use", payload={"id": call_id, "result": result}, id=bid)


def _simple(
    turn_id: str,
    start: int,
    before: tuple[b.BlockSpec, ...],
    answer: b.BlockSpec | None,
    meta: dict[str, Any],
    data: dict[str, Any],
    runtime_col: str,
    inference_col: str,
) -> b.TurnSpec:
    snaps = [b.SnapshotSpec("pre_inference", start, before)]
    if answer is not None:
        after = (*before, answer)
        snaps.append(b.SnapshotSpec("post_inference", start + 1_000, after))
        snaps.append(b.SnapshotSpec("final", start + 1_100, after))
    return b.TurnSpec(turn_id, tuple(snaps), meta, data, runtime_col, inference_col)


def investigate_scenario() -> tuple[b.ConversationSpec, ...]:
    sys_r, sys_c = _sys(SYS_RESEARCH), _sys(SYS_CODER)
    u1, a1 = _user("inv-u1", "What is known about fin regrowth?"), _llm("inv-a1", "A lot.")
    u2 = _user("inv-u2", ZEBRA_TEXT)
    call1, tool1 = _call("inv-call-1", "c1", "zebrafish fin"), _tool("inv-tool-1", "c1", "3 papers")
    call2, tool2 = _call("inv-call-2", "c2", "blastema"), _tool("inv-tool-2", "c2", "2 papers")
    a2 = _llm("inv-a2", "Five papers found.")
    u3, a3 = _user("inv-u3", "Now write a parser for them."), _llm("inv-a3", "def parse(): ...")
    u4 = _user("inv-u4", "Add tests.")
    u5, a5 = _user("inv-u5", CONTROL_TEXT), _llm("inv-a5", "Done.")

    t1 = _simple(
        "turn-inv-1",
        T1,
        (sys_r, u1),
        a1,
        _meta("research", "inf-i1", "gpt-4o"),
        {"geppetto.tool_config@v1": TOOLS_RESEARCH},
        "research",
        "inf-i1",
    )
    s2 = T1 + 100_000
    h2 = (sys_r, u1, a1, u2)
    t2 = b.TurnSpec(
        "turn-inv-2",
        (
            b.SnapshotSpec("pre_inference", s2, h2),
            b.SnapshotSpec("post_inference", s2 + 1_000, (*h2, call1)),
            b.SnapshotSpec("post_tools", s2 + 1_500, (*h2, call1, tool1)),
            b.SnapshotSpec("post_inference", s2 + 2_000, (*h2, call1, tool1, call2)),
            b.SnapshotSpec("post_tools", s2 + 2_500, (*h2, call1, tool1, call2, tool2)),
            b.SnapshotSpec("post_inference", s2 + 3_000, (*h2, call1, tool1, call2, tool2, a2)),
            b.SnapshotSpec("final", s2 + 3_100, (*h2, call1, tool1, call2, tool2, a2)),
        ),
        _meta("research", "inf-i2", "gpt-4o"),
        {"geppetto.tool_config@v1": TOOLS_RESEARCH},
        "research",
        "inf-i2",
    )
    h3 = (sys_c, u1, a1, u2, call1, tool1, call2, tool2, a2, u3)
    t3 = _simple(
        "turn-inv-3",
        T1 + 200_000,
        h3,
        a3,
        _meta("coder", "inf-i3", "o4-mini"),
        {"geppetto.tool_config@v1": TOOLS_CODER},
        "coder",
        "inf-i3",
    )
    h4 = (*h3, a3, u4)
    t4 = _simple(
        "turn-inv-4",
        T1 + 300_000,
        h4,
        None,
        _meta("coder", "inf-i4", "o4-mini"),
        {"geppetto.tool_config@v1": TOOLS_CODER},
        "coder",
        "inf-i4",
    )
    t5 = _simple(
        "turn-inv-5",
        T1 + 400_000,
        (*h4, u5),
        a5,
        _meta("research", "inf-i5", "o4-mini"),
        {"geppetto.tool_config@v1": TOOLS_CODER},
        "coder",  # stored value the metadata does not give
        "inf-i5",
    )
    conv1 = b.ConversationSpec(CONV, SESS, (t1, t2, t3, t4, t5))

    r_sys = b.BlockSpec(kind="system", role="system", payload={"text": "Reuse."}, id="reuse-sys")
    ru1, ra1 = _user("reuse-u1", "hello"), _llm("reuse-a1", "hi")
    ru2, ra2 = _user("reuse-u2", "again"), _llm("reuse-a2", "hi again")
    ru3, ra3 = _user("reuse-u3", "last"), _llm("reuse-a3", "bye")
    s = T1 + 1_000_000
    r1 = _simple(
        "turn-reuse-1",
        s,
        (r_sys, ru1),
        ra1,
        {"runtime": {"slug": "research"}, "inference_id": "inf-r1"},
        {},
        "research",
        "inf-r1",
    )
    r2 = _simple(
        "turn-reuse-2",
        s + 100_000,
        (r_sys, ru1, ra1, ru2),
        ra2,
        {"geppetto.model@v1": "gpt-4o"},
        {},
        "",
        "inf-i2",  # the same inference id as conv-inv's turn 2
    )
    r3 = _simple(
        "turn-reuse-3",
        s + 200_000,
        (r_sys, ru1, ra1, ru2, ra2, ru3),
        ra3,
        {"geppetto.runtime@v1": "research", "geppetto.inference_id@v1": "inf-r3"},
        {},
        "research",
        "inf-r3",
    )
    conv2 = b.ConversationSpec(CONV2, SESS2, (r1, r2, r3))
    return conv1, conv2


GHOST_TURN = "turn-ghost"
GHOST_ROWS = 2
EARLY_TURN = "turn-reuse-1"
EARLY_BY_MS = 5_000
MALFORMED_TURN = "turn-reuse-3"
MALFORMED_JSON = '{"geppetto.runtime@v1": "research", "x": NaN}'


def damage(path: Path) -> Path:
    """What the builders' specs cannot say: orphan membership rows, a turn row dated after
    its first snapshot, metadata Go's decoder rejects."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("BEGIN")
        rows = conn.execute(
            "SELECT ordinal, block_id, content_hash FROM turn_block_membership "
            "WHERE turn_id = 'turn-inv-1' AND phase = 'final' ORDER BY ordinal"
        ).fetchall()
        assert len(rows) >= GHOST_ROWS
        conn.executemany(
            "INSERT INTO turn_block_membership VALUES (?, ?, ?, 'final', ?, ?, ?, ?)",
            [(CONV, SESS, GHOST_TURN, T1 + 50_000, o, bid, h) for o, bid, h in rows[:GHOST_ROWS]],
        )
        conn.execute(
            "UPDATE turns SET turn_created_at_ms = turn_created_at_ms + ? WHERE turn_id = ?",
            (EARLY_BY_MS, EARLY_TURN),
        )
        conn.execute(
            "UPDATE turns SET turn_metadata_json = ? WHERE turn_id = ?",
            (MALFORMED_JSON, MALFORMED_TURN),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()
    return path


def build_investigate(path: Path) -> Path:
    """The GP-26 file described above (damage included)."""
    return damage(b.build_gp26(path, investigate_scenario()))


def build_investigate_timeline(path: Path) -> Path:
    """A timeline store naming `research` as both conversations' current runtime: for
    conv-inv that disagrees with its latest turn (stored `coder`)."""
    rows = ((CONV, SESS, "research", T1 + 500_000), (CONV2, SESS2, "research", T1 + 1_300_000))
    return b.build_timeline(path, rows)


# (kind, conv_id, turn_id) of every anomaly `check` must find in build_investigate.
EXPECTED_ANOMALIES: frozenset[tuple[str, str, str]] = frozenset(
    {
        ("missing_final", CONV, "turn-inv-4"),
        ("runtime_disagreement", CONV, "turn-inv-5"),
        ("reused_inference_id", CONV, "turn-inv-2"),
        ("reused_inference_id", CONV2, "turn-reuse-2"),
        ("unknown_runtime", CONV2, "turn-reuse-2"),
        ("malformed_metadata", CONV2, MALFORMED_TURN),
        ("orphan_membership", CONV, GHOST_TURN),
        ("time_order", CONV2, EARLY_TURN),
    }
)
# With build_investigate_timeline as the timeline store, also:
EXPECTED_WITH_TIMELINE = EXPECTED_ANOMALIES | {("current_runtime_disagreement", CONV, "turn-inv-5")}

# Where the zebrafish text first appears: (conv, turn, phase, snapshot ms, block ordinal).
ZEBRA_FIRST = (CONV, "turn-inv-2", "pre_inference", T1 + 100_000, 3)
# The control-character text: block inv-u5, first in turn 5's pre_inference at ordinal 12.
CONTROL_FIRST = (CONV, "turn-inv-5", "pre_inference", T1 + 400_000, 12)


def build_clean(path: Path) -> Path:
    """A file with no anomaly at all (one complete, attributed turn)."""
    single = next(c for c in b.standard_scenario() if c.conv_id == "conv-single")
    return b.build_gp26(path, (single,))
