"""Scenarios for the export tests, written with the era builders of `tests.builders`.

Like `tests.builders`, nothing here imports `tui`: the scenarios describe what a writer
leaves on disk, independently of the code under test.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.builders import T0, BlockSpec, ConversationSpec, SnapshotSpec, TurnSpec

# ---------------------------------------------------------------------------------------
# Block helpers
# ---------------------------------------------------------------------------------------


def user(bid: str, text: Any, role: str = "user") -> BlockSpec:
    return BlockSpec(kind="user", role=role, payload={"text": text}, id=bid)


def llm(bid: str, text: Any, **extra: Any) -> BlockSpec:
    return BlockSpec(kind="llm_text", role="assistant", payload={"text": text, **extra}, id=bid)


def system(bid: str, text: str) -> BlockSpec:
    return BlockSpec(kind="system", role="system", payload={"text": text}, id=bid)


def reasoning(bid: str, text: str = "", **extra: Any) -> BlockSpec:
    payload: dict[str, Any] = dict(extra)
    if text:
        payload["text"] = text
    return BlockSpec(kind="reasoning", payload=payload, id=bid)


def call(bid: str, call_id: str | None, name: str | None, args: Any) -> BlockSpec:
    payload: dict[str, Any] = {"args": args}
    if call_id is not None:
        payload["id"] = call_id
    if name is not None:
        payload["name"] = name
    return BlockSpec(kind="tool_call", payload=payload, id=bid)


def use(bid: str, call_id: str, result: Any = None, error: str | None = None) -> BlockSpec:
    payload: dict[str, Any] = {"id": call_id}
    if result is not None:
        payload["result"] = result
    if error is not None:
        payload["error"] = error
    return BlockSpec(kind="tool_use", payload=payload, id=bid)


def other(bid: str, payload: Mapping[str, Any]) -> BlockSpec:
    return BlockSpec(kind="other", payload=payload, id=bid)


def meta(runtime: str, inference_id: str) -> dict[str, Any]:
    return {
        "geppetto.runtime@v1": {"runtime_key": runtime, "profile.slug": runtime},
        "geppetto.inference_id@v1": inference_id,
    }


def turn(
    turn_id: str,
    runtime: str,
    snapshots: tuple[SnapshotSpec, ...],
    *,
    inference_id: str = "",
    metadata: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
) -> TurnSpec:
    return TurnSpec(
        turn_id=turn_id,
        snapshots=snapshots,
        metadata=metadata if metadata is not None else {},
        data=data or {},
        runtime_key_column=runtime,
        inference_id_column=inference_id,
    )


# ---------------------------------------------------------------------------------------
# The report scenario (golden files of every format)
# ---------------------------------------------------------------------------------------

REPORT_CONV = "conv-report"
LONG_LOG = "".join(f"line {i:04d}: ok\n" for i in range(400))  # 5,600 characters
ESC = "\x1b"


def report_scenario() -> tuple[ConversationSpec, ...]:
    """One conversation over two sessions: research for three turns (the third crashed
    before its answer), then the user switches to coder at turn 4 in a new session.

    Content meant to stress a report: backtick runs, HTML characters, non-ASCII, an ESC
    sequence and a bidi override, a reasoning summary and encrypted reasoning, a long tool
    result (cut), a tool call that never got its result, an `other` block.
    """
    s1, s2 = "sess-1", "sess-2"
    sys_b = system("r-sys", "You are a careful build engineer.")
    u1 = user("r-u1", "Why does `make test` fail? It prints ```FAIL``` and <exit 2> & stops.")
    r1 = reasoning(
        "r-r1",
        summary=[{"type": "summary_text", "text": "Look at the Makefile first."}],
        encrypted_content="gAAAAB" + "x" * 40,
    )
    c1 = call("r-c1", "call-1", "run_shell", {"cmd": "make test", "timeout": 30})
    t1 = use("r-t1", "call-1", "FAIL: test_parse <expected 1> & got 2")
    a1 = llm("r-a1", f"The naïve parser fails ✓.\n{ESC}[31mred{ESC}[0m and \u202eevil\u202c.")
    u2 = user("r-u2", "Show me the whole log.")
    c2 = call("r-c2", "call-2", "read_file", {"path": "build.log"})
    t2 = use("r-t2", "call-2", LONG_LOG)
    a2 = llm("r-a2", "The log is long; every line says ok.")
    u3 = user("r-u3", "Then what is wrong?")
    u4 = user("r-u4", "Fix it, please.")
    c4 = call("r-c4", "call-4", "apply_patch", {"patch": "--- a\n+++ b\n"})
    o4 = other("r-o4", {"note": "checkpoint", "n": 3})
    a4 = llm("r-a4", "Patched:\n```python\nx = 1\n```\nand ````four```` ticks.")
    u5 = user("r-u5", "Thanks!")
    a5 = llm("r-a5", "You are welcome.")

    def at(n: int) -> int:
        return T0 + n * 60_000

    h1 = (sys_b, u1)
    h1b = (*h1, r1, c1)
    h1c = (*h1b, t1)
    h1d = (*h1c, a1)
    research = (
        turn(
            "turn-r1",
            "research",
            (
                SnapshotSpec("pre_inference", at(0), h1),
                SnapshotSpec("post_inference", at(0) + 1_000, h1b),
                SnapshotSpec("post_tools", at(0) + 2_000, h1c),
                SnapshotSpec("final", at(0) + 3_000, h1d),
            ),
            inference_id="inf-r1",
            metadata=meta("research", "inf-r1"),
            data={"geppetto.tool_config@v1": {"enabled": True}},
        ),
        turn(
            "turn-r2",
            "research",
            (
                SnapshotSpec("pre_inference", at(1), (*h1d, u2)),
                SnapshotSpec("final", at(1) + 2_000, (*h1d, u2, c2, t2, a2)),
            ),
            inference_id="inf-r2",
            metadata=meta("research", "inf-r2"),
        ),
        turn(
            "turn-r3",
            "research",
            (SnapshotSpec("pre_inference", at(2), (*h1d, u2, c2, t2, a2, u3)),),
            inference_id="inf-r3",
            metadata=meta("research", "inf-r3"),
        ),
    )
    h4 = (sys_b, u4, c4, o4, a4)
    coder = (
        turn(
            "turn-c4",
            "coder",
            (
                SnapshotSpec("pre_inference", at(3), (sys_b, u4)),
                SnapshotSpec("final", at(3) + 1_500, h4),
            ),
            inference_id="inf-c4",
            metadata=meta("coder", "inf-c4"),
        ),
        turn(
            "turn-c5",
            "coder",
            (SnapshotSpec("final", at(4), (*h4, u5, a5)),),
            inference_id="inf-c5",
            metadata=meta("coder", "inf-c5"),
        ),
    )
    return (ConversationSpec(REPORT_CONV, s1, research), ConversationSpec(REPORT_CONV, s2, coder))


def report_timeline_rows() -> tuple[tuple[str, str, str, int], ...]:
    return ((REPORT_CONV, "sess-2", "coder", T0 + 4 * 60_000),)


# ---------------------------------------------------------------------------------------
# minitrace rule scenarios: one small conversation per rule group
# ---------------------------------------------------------------------------------------

BIG_E_ACUTE = "a" * 10_239 + "é" + "tail"  # the 2-byte é straddles the 10,240-byte cut
BIG_EURO = "b" * 10_238 + "€" + "x"  # 2 of the euro sign's 3 bytes fall before the cut
EXACT_LIMIT = "c" * 10_240  # exactly the limit: not cut
LONG_TITLE = "  " + "x" * 76 + "é" + "y" * 10  # 88 bytes after trimming; cut at 77 bytes


def _one(
    conv_id: str,
    blocks: tuple[BlockSpec, ...],
    runtime: str = "gpt-4o",
    start: int = T0,
) -> ConversationSpec:
    return ConversationSpec(
        conv_id,
        "sess-m",
        (turn(f"{conv_id}-t1", runtime, (SnapshotSpec("final", start, blocks),)),),
    )


def minitrace_scenario() -> tuple[ConversationSpec, ...]:
    """Conversations named after the rules they exercise (see test_export_minitrace)."""
    convs: list[ConversationSpec] = []

    # Every block kind, roles ignored, reasoning before and after text, non-text payloads.
    kinds_pre = (system("k-sys", "sys prompt"), user("k-u", "hi"))
    kinds_final = (
        *kinds_pre,
        reasoning("k-r1", "plan first"),
        reasoning("k-r-blank", "   "),
        reasoning("k-r2", "then act"),
        call("k-c", "c1", "lookup", {"sku": "A-1", "n": 2}),
        use("k-t", "c1", "ok"),
        llm("k-a", "done"),
        other("k-o", {"x": 1}),
        user("k-u2", 7, role="assistant"),
        llm("k-a2", "  ", extra="<&>"),
        reasoning("k-r3", "late thought"),
    )
    convs.append(
        ConversationSpec(
            "mt-kinds",
            "sess-m",
            (
                turn(
                    "mt-kinds-t1",
                    "gpt-4o",
                    (
                        SnapshotSpec("pre_inference", T0, kinds_pre),
                        SnapshotSpec("final", T0 + 1_000, kinds_final),
                    ),
                ),
            ),
        )
    )

    # Tool calls: with a result (string and non-string), with an error, without a result,
    # without id or name, an orphan tool_use; then a delta with calls but no entry.
    tools1 = (
        user("tl-u", "search it"),
        call("tl-ca", "a", "search", {"q": "x"}),
        call("tl-cb", "b", None, {}),
        call("tl-cc", "c", "fail", None),
        call("tl-cd", None, "anon", {"k": [1, 2.5, True, None]}),
        use("tl-ta", "a", {"hits": [1, 2], "html": "<b>"}),
        use("tl-tz", "zzz", "lost"),
        use("tl-tc", "c", error="boom"),
        llm("tl-a", "found it"),
    )
    tools2 = (*tools1, call("tl-ce", "e", "again", {"q": "y"}), use("tl-te", "e", "fine"))
    convs.append(
        ConversationSpec(
            "mt-tools",
            "sess-m",
            (
                turn("mt-tools-t1", "gpt-4o", (SnapshotSpec("final", T0, tools1),)),
                turn(
                    "mt-tools-t2",
                    "gpt-4o",
                    (
                        SnapshotSpec("post_inference", T0 + 10_000, (*tools1, tools2[-2])),
                        SnapshotSpec("post_tools", T0 + 11_000, tools2),
                    ),
                ),
            ),
        )
    )

    # Reasoning with no assistant in its delta is dropped, not carried to the next turn.
    r1 = (user("rs-u1", "q1"), reasoning("rs-r1", "lonely"))
    r2 = (*r1, user("rs-u2", "q2"), llm("rs-a2", "a2"))
    convs.append(
        ConversationSpec(
            "mt-reasoning",
            "sess-m",
            (
                turn("mt-reasoning-t1", "gpt-4o", (SnapshotSpec("final", T0, r1),)),
                turn("mt-reasoning-t2", "gpt-4o", (SnapshotSpec("final", T0 + 5_000, r2),)),
            ),
        )
    )

    # Byte-level truncation of results and of the title.
    convs.append(
        _one(
            "mt-big",
            (
                user("bg-u", LONG_TITLE),
                call("bg-c1", "e", "dump", {}),
                use("bg-t1", "e", BIG_E_ACUTE),
                call("bg-c2", "u", "dump", {}),
                use("bg-t2", "u", BIG_EURO),
                call("bg-c3", "x", "dump", {}),
                use("bg-t3", "x", EXACT_LIMIT),
                llm("bg-a", "big"),
            ),
        )
    )

    # Runtime keys: a known one, then whitespace only, then empty (unknown).
    convs.append(
        ConversationSpec(
            "mt-blank-runtime",
            "sess-m",
            (
                turn("br-t1", "gpt-4o", (SnapshotSpec("final", T0, (user("br-u1", "one"),)),)),
                turn(  # an inference id, so the open's backfill does not select (trim) it
                    "br-t2",
                    "   ",
                    (SnapshotSpec("final", T0 + 1_000, (user("br-u1", "one"), llm("br-a", "x"))),),
                    inference_id="inf-br2",
                ),
                turn(
                    "br-t3",
                    "",
                    (
                        SnapshotSpec(
                            "final",
                            T0 + 2_000,
                            (user("br-u1", "one"), llm("br-a", "x"), user("br-u3", "three")),
                        ),
                    ),
                ),
            ),
        )
    )

    # Phase choice: no final (post_tools beats a later pre_inference), only pre_inference,
    # only an unknown phase; and turn order on equal creation times (turn_id breaks ties).
    p_post = (user("ph-u1", "first"), llm("ph-a1", "post tools answer"))
    convs.append(
        ConversationSpec(
            "mt-nofinal",
            "sess-m",
            (
                turn(
                    "ph-t1",
                    "cerebras-llama",
                    (
                        SnapshotSpec("pre_inference", T0, (user("ph-u1", "first"),)),
                        SnapshotSpec("post_inference", T0 + 100, (user("ph-u1", "first"),)),
                        SnapshotSpec("post_tools", T0 + 200, p_post),
                        SnapshotSpec("pre_inference", T0 + 300, (user("ph-u1", "retry"),)),
                    ),
                ),
                turn(
                    "ph-t3",
                    "cerebras-llama",
                    (
                        SnapshotSpec("pre_inference", T0 + 1_000, (*p_post, user("ph-u3", "A"))),
                        SnapshotSpec("pre_inference", T0 + 1_500, (*p_post, user("ph-u3", "B"))),
                    ),
                ),
                turn(
                    "ph-t2",
                    "cerebras-llama",
                    (
                        SnapshotSpec("checkpoint", T0 + 1_000, (*p_post, user("ph-u2", "C1"))),
                        SnapshotSpec("checkpoint", T0 + 1_200, (*p_post, user("ph-u2", "C2"))),
                    ),
                ),
            ),
        )
    )

    # Delta: an edited system prompt reappears; a repeated block counts twice; removed
    # blocks are ignored.
    d1 = (system("d-sys", "v1"), user("d-u1", "one"), llm("d-a1", "uno"))
    d2 = (system("d-sys", "v2"), user("d-u1", "one"), llm("d-a1", "uno"), user("d-u2", "two"))
    d3 = (system("d-sys", "v2"), user("d-u2", "two"), user("d-u2", "two"), llm("d-a3", "tres"))
    convs.append(
        ConversationSpec(
            "mt-delta",
            "sess-m",
            (
                turn("d-t1", "gpt-4o", (SnapshotSpec("final", T0, d1),)),
                turn("d-t2", "gpt-4o", (SnapshotSpec("final", T0 + 1_000, d2),)),
                turn("d-t3", "gpt-4o", (SnapshotSpec("final", T0 + 2_000, d3),)),
            ),
        )
    )

    # Quality A: more than 5 entries and more than 10 tool calls.
    qa: list[BlockSpec] = []
    for i in range(3):
        qa += [user(f"qa-u{i}", f"q{i}"), llm(f"qa-a{i}", f"a{i}")]
    for i in range(11):
        qa += [call(f"qa-c{i}", f"q{i}", "t", {}), use(f"qa-t{i}", f"q{i}", "r")]
    convs.append(_one("mt-quality", tuple(qa)))

    # A turn created at time 0: no timestamp, no timing.
    convs.append(_one("mt-zero-time", (user("z-u", "when?"),), start=0))
    return tuple(convs)
