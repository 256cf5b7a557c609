"""The built-in demo database: a deterministic pre-GP-26 (era 2) turns file.

`turns-tui` without a path writes this file into a temporary folder and opens it, so the
real migration and backfill run on it. It has six conversations showing what the
debugger is for: runtime switches (inventory → planner → inventory), a turn whose
runtime is unknown, a crashed turn (pre_inference only), a tool loop (repeated
post_inference / post_tools snapshots), tool calls with a result and an error, reasoning,
Markdown answers, a very large tool result, control characters in user text, and old
shapes of the ``geppetto.runtime@v1`` metadata. One conversation also has a row in a
``timeline_conversations`` table stored in the same file: its current runtime
(``planner``) differs from the runtime of its latest turn (``inventory``).

No textual import; only the standard library and `tui.store.gojson` (for Go's JSON and
block hashes, so the file looks exactly like one pinocchio wrote).
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui.store.gojson import canonical_block_hash, go_json_marshal

__all__ = ["DEMO_FILE_NAME", "build_demo_database", "demo_database", "demo_id"]

DEMO_FILE_NAME = "turns-demo.sqlite"
T0 = 1_771_923_600_000  # 2026-02-24 09:00:00 UTC
MINUTE = 60_000
_NAMESPACE = uuid.UUID("6f1c1a52-3c4e-4f0e-9a57-1d2b7a9c0e11")

ERA2_SCHEMA = (
    """CREATE TABLE turns (
  conv_id TEXT NOT NULL, session_id TEXT NOT NULL, turn_id TEXT NOT NULL,
  turn_created_at_ms INTEGER NOT NULL,
  turn_metadata_json TEXT NOT NULL DEFAULT '{}',
  turn_data_json TEXT NOT NULL DEFAULT '{}',
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (conv_id, session_id, turn_id))""",
    """CREATE TABLE blocks (
  block_id TEXT NOT NULL, content_hash TEXT NOT NULL,
  hash_algorithm TEXT NOT NULL DEFAULT 'sha256-canonical-json-v1',
  kind TEXT NOT NULL, role TEXT NOT NULL DEFAULT '',
  payload_json TEXT NOT NULL DEFAULT '{}',
  block_metadata_json TEXT NOT NULL DEFAULT '{}',
  first_seen_at_ms INTEGER NOT NULL,
  PRIMARY KEY (block_id, content_hash))""",
    """CREATE TABLE turn_block_membership (
  conv_id TEXT NOT NULL, session_id TEXT NOT NULL, turn_id TEXT NOT NULL,
  phase TEXT NOT NULL, snapshot_created_at_ms INTEGER NOT NULL,
  ordinal INTEGER NOT NULL, block_id TEXT NOT NULL, content_hash TEXT NOT NULL,
  PRIMARY KEY (conv_id, session_id, turn_id, phase, snapshot_created_at_ms, ordinal),
  FOREIGN KEY (conv_id, session_id, turn_id)
    REFERENCES turns(conv_id, session_id, turn_id) ON DELETE CASCADE,
  FOREIGN KEY (block_id, content_hash) REFERENCES blocks(block_id, content_hash))""",
    "CREATE INDEX turns_by_conv_session ON turns(conv_id, session_id, updated_at_ms DESC)",
    "CREATE INDEX turns_by_session ON turns(session_id, updated_at_ms DESC)",
    "CREATE INDEX blocks_by_kind_role ON blocks(kind, role)",
    "CREATE INDEX turn_block_membership_by_turn_phase ON turn_block_membership"
    "(conv_id, session_id, turn_id, phase, snapshot_created_at_ms DESC, ordinal)",
    "CREATE INDEX turn_block_membership_by_block ON turn_block_membership(block_id, content_hash)",
)

TIMELINE_SCHEMA = (
    """CREATE TABLE timeline_conversations (
  conv_id TEXT PRIMARY KEY, session_id TEXT NOT NULL DEFAULT '',
  runtime_key TEXT NOT NULL DEFAULT '', created_at_ms INTEGER NOT NULL DEFAULT 0,
  last_activity_ms INTEGER NOT NULL DEFAULT 0, last_seen_version INTEGER NOT NULL DEFAULT 0,
  has_timeline INTEGER NOT NULL DEFAULT 1, status TEXT NOT NULL DEFAULT '',
  last_error TEXT NOT NULL DEFAULT '')""",
    "CREATE TABLE timeline_entities (conv_id TEXT NOT NULL, entity_id TEXT NOT NULL, "
    "kind TEXT NOT NULL DEFAULT '', payload_json TEXT NOT NULL DEFAULT '{}', "
    "PRIMARY KEY (conv_id, entity_id))",
    "CREATE TABLE timeline_versions (conv_id TEXT NOT NULL, version INTEGER NOT NULL, "
    "created_at_ms INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (conv_id, version))",
)


def demo_id(name: str) -> str:
    """The fixed UUID the demo uses for a named conversation, session, turn or block."""
    return str(uuid.uuid5(_NAMESPACE, name))


# ---------------------------------------------------------------------------------------
# Scenario description
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    name: str
    kind: str
    role: str
    payload: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Turn:
    name: str
    metadata: dict[str, Any]
    snapshots: list[tuple[str, int, tuple[_Block, ...]]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Conv:
    name: str
    session: str
    history: list[_Block] = field(default_factory=list)
    turns: list[_Turn] = field(default_factory=list)

    def block(
        self,
        kind: str,
        role: str,
        payload: dict[str, Any],
        metadata: dict[str, Any] | None = None,
    ) -> _Block:
        b = _Block(f"{self.name}/b{len(self.history)}", kind, role, payload, metadata or {})
        self.history.append(b)
        return b

    def snap(self, turn: _Turn, phase: str, at_ms: int) -> None:
        turn.snapshots.append((phase, at_ms, tuple(self.history)))


_FINGERPRINTS = {
    "inventory": "sha256:7c1e2a90d4",
    "planner": "sha256:2b9f41c6e8",
    "support": "sha256:0d4a6e11b3",
    "research": "sha256:95aa03f7c2",
}
_MODELS = {
    "inventory": ("openai", "gpt-4o-mini"),
    "planner": ("anthropic", "claude-3-7-sonnet"),
    "support": ("openai", "gpt-4o"),
    "research": ("openai", "o3-mini"),
}


def _canonical(runtime: str) -> dict[str, Any]:
    return {
        "runtime_key": runtime,
        "profile.slug": runtime,
        "profile.registry": "default",
        "profile.version": 3,
        "runtime_fingerprint": _FINGERPRINTS[runtime],
    }


def _metadata(
    conv: _Conv,
    n: int,
    runtime_value: Any,
    runtime: str,
    *,
    usage: tuple[int, int] | None = (0, 0),
    stop: str | None = "stop",
) -> dict[str, Any]:
    provider, model = _MODELS[runtime]
    meta: dict[str, Any] = {}
    if runtime_value is not None:
        meta["geppetto.runtime@v1"] = runtime_value
    meta["geppetto.inference_id@v1"] = demo_id(f"{conv.name}/inference/{n}")
    meta["geppetto.session_id@v1"] = demo_id(conv.session)
    meta["geppetto.provider@v1"] = provider
    meta["geppetto.model@v1"] = model
    if usage is not None:
        meta["geppetto.usage@v1"] = {
            "input_tokens": 850 + 137 * n + usage[0],
            "output_tokens": 60 + 23 * n + usage[1],
        }
    if stop is not None:
        meta["geppetto.stop_reason@v1"] = stop
    return meta


def _user(conv: _Conv, text: str) -> _Block:
    return conv.block("user", "user", {"text": text})


def _answer(conv: _Conv, text: str) -> _Block:
    return conv.block("llm_text", "assistant", {"text": text})


def _reasoning(conv: _Conv, text: str, tokens: int) -> _Block:
    return conv.block("reasoning", "", {"text": text}, {"geppetto.reasoning_tokens@v1": tokens})


def _tool_call(conv: _Conv, call: str, name: str, args: dict[str, Any]) -> _Block:
    return conv.block("tool_call", "", {"id": call, "name": name, "args": args})


def _tool_result(conv: _Conv, call: str, result: Any) -> _Block:
    return conv.block("tool_use", "", {"id": call, "result": result})


def _tool_error(conv: _Conv, call: str, error: str) -> _Block:
    return conv.block("tool_use", "", {"id": call, "error": error})


PLAN_MARKDOWN = """## B-2 restock plan

Stock of **B-2** is at zero, and A-1 is running low.

1. Order **10 units** of B-2 from *Acme Parts* on Monday.
2. Move 2 units of A-1 to the front shelf.
3. Re-check both SKUs on Wednesday.

```python
reorder("B-2", qty=10, supplier="acme")
remind("re-check A-1 and B-2", on="wednesday")
```
"""


def _warehouse(start: int) -> _Conv:
    """inventory → planner → inventory, a tool loop with an error, a timeline pointer."""
    c = _Conv("warehouse", "warehouse-session")
    c.block("system", "system", {"text": "You are a warehouse assistant. Be brief."})

    t = _Turn("warehouse/turn-1", _metadata(c, 1, _canonical("inventory"), "inventory"))
    _user(c, "Hi! What can you do?")
    c.snap(t, "pre_inference", start)
    _answer(
        c,
        "I can **check stock levels**, look up SKUs and hand over to the planner for restocking.",
    )
    c.snap(t, "post_inference", start + 1_840)
    c.snap(t, "final", start + 1_912)
    c.turns.append(t)

    s = start + 2 * MINUTE
    t = _Turn(
        "warehouse/turn-2",
        _metadata(c, 2, _canonical("inventory"), "inventory", usage=(2400, 40)),
        data={"geppetto.tool_config@v1": {"enabled": True, "max_iterations": 5}},
    )
    _user(c, "How many A-1 and B-2 do we have in stock?")
    c.snap(t, "pre_inference", s)
    _reasoning(c, "The user asks for two SKUs; look them up one at a time.", 58)
    _tool_call(c, "call_a1", "lookup_sku", {"sku": "A-1", "warehouse": "north", "fresh": True})
    c.snap(t, "post_inference", s + 1_204)
    _tool_result(c, "call_a1", {"sku": "A-1", "on_hand": 3, "reserved": 1})
    c.snap(t, "post_tools", s + 1_530)
    _tool_call(c, "call_b2", "lookup_sku", {"sku": "B-2", "warehouse": "north", "fresh": True})
    c.snap(t, "post_inference", s + 2_871)
    _tool_error(c, "call_b2", "warehouse API timeout after 5s (GET /v2/sku/B-2)")
    c.snap(t, "post_tools", s + 8_040)
    _answer(
        c,
        "There are **3 × A-1** on hand (1 reserved). The B-2 lookup timed out; "
        "the last count was zero.",
    )
    c.snap(t, "post_inference", s + 9_455)
    c.snap(t, "final", s + 9_530)
    c.turns.append(t)

    s = start + 5 * MINUTE
    t = _Turn("warehouse/turn-3", _metadata(c, 3, _canonical("planner"), "planner"))
    _user(c, "Switch to planning: draft the B-2 restock plan.")
    c.snap(t, "pre_inference", s)
    _answer(c, PLAN_MARKDOWN)
    c.snap(t, "post_inference", s + 4_310)
    c.snap(t, "final", s + 4_402)
    c.turns.append(t)

    s = start + 7 * MINUTE
    t = _Turn(
        "warehouse/turn-4",
        _metadata(c, 4, _canonical("planner"), "planner", usage=(900, 10)),
        data={"geppetto.tool_config@v1": {"enabled": True, "max_iterations": 5}},
    )
    _user(c, "Add a reminder for Monday 9:00.")
    c.snap(t, "pre_inference", s)
    _tool_call(c, "call_rem", "create_reminder", {"at": "2026-03-02T09:00:00", "text": "B-2"})
    c.snap(t, "post_inference", s + 1_377)
    _tool_result(c, "call_rem", "reminder rem-118 created")
    c.snap(t, "post_tools", s + 1_610)
    _answer(c, "Done: reminder **rem-118** for Monday 09:00.")
    c.snap(t, "post_inference", s + 2_902)
    c.snap(t, "final", s + 2_950)
    c.turns.append(t)

    s = start + 10 * MINUTE
    t = _Turn("warehouse/turn-5", _metadata(c, 5, _canonical("inventory"), "inventory"))
    _user(c, "Back to stock: how many A-1 now?")
    c.snap(t, "pre_inference", s)
    _answer(c, "Still **3 × A-1** on hand.")
    c.snap(t, "post_inference", s + 1_120)
    c.snap(t, "final", s + 1_188)
    c.turns.append(t)
    return c


def _support(start: int) -> _Conv:
    """Old runtime shapes, a turn with no runtime metadata, and a crashed last turn."""
    c = _Conv("support", "support-session")
    c.block("system", "system", {"text": "You are a support agent for Acme Parts."})

    t = _Turn("support/turn-1", _metadata(c, 1, "support", "support"))
    _user(c, "My order #5521 has not arrived.")
    c.snap(t, "pre_inference", start)
    _answer(c, "Sorry about that! Order #5521 shipped on Friday; it is in transit.")
    c.snap(t, "post_inference", start + 2_210)
    c.snap(t, "final", start + 2_260)
    c.turns.append(t)

    s = start + 3 * MINUTE
    meta = _metadata(c, 2, None, "support")
    t = _Turn("support/turn-2", meta)
    _user(c, "Can you give me the tracking number?")
    c.snap(t, "pre_inference", s)
    _answer(c, "The tracking number is ZX-4411-09.")
    c.snap(t, "post_inference", s + 1_630)
    c.snap(t, "final", s + 1_700)
    c.turns.append(t)

    s = start + 6 * MINUTE
    t = _Turn("support/turn-3", _metadata(c, 3, {"slug": "support"}, "support"))
    _user(c, "Thanks. Can I change the delivery address?")
    c.snap(t, "pre_inference", s)
    _answer(c, "Yes: reply with the new address and I will update the courier.")
    c.snap(t, "post_inference", s + 1_980)
    c.snap(t, "final", s + 2_050)
    c.turns.append(t)

    s = start + 9 * MINUTE
    t = _Turn(
        "support/turn-4",
        _metadata(c, 4, _canonical("support"), "support", usage=None, stop=None),
    )
    _user(c, "New address: 12 Harbour Road, Leith.")
    c.snap(t, "pre_inference", s)  # the process crashed during inference
    c.turns.append(t)
    return c


def _big_log() -> str:
    lines = []
    for i in range(420):
        ms = i * 137
        lines.append(
            f"2026-02-24T08:21:{(ms // 1000) % 60:02d}.{ms % 1000:03d}Z INFO "
            f"worker-{i % 7} processed batch {i:04d}: {40 + i % 13} rows, checksum "
            f"{(i * 2654435761) % 2**32:08x}"
        )
    return "\n".join(lines)


def _research(start: int) -> _Conv:
    """Reasoning, and a tool result too large to show at once (press e to expand)."""
    c = _Conv("research", "research-session")
    c.block("system", "system", {"text": "You analyse service logs."})
    t = _Turn(
        "research/turn-1",
        _metadata(c, 1, _canonical("research"), "research", usage=(9000, 300)),
        data={"geppetto.tool_config@v1": {"enabled": True}},
    )
    _user(c, "Why did the nightly import slow down?")
    c.snap(t, "pre_inference", start)
    _reasoning(c, "Fetch the import worker log first, then compare batch sizes.", 211)
    _tool_call(c, "call_log", "fetch_log", {"service": "importer", "since": "08:21"})
    c.snap(t, "post_inference", start + 3_020)
    _tool_result(c, "call_log", _big_log())
    c.snap(t, "post_tools", start + 3_900)
    _answer(
        c,
        "The import did not slow down per batch; **worker-3** retried 60 batches.\n\n"
        "- batch sizes are stable (40–52 rows)\n- the retries explain the extra 8 minutes",
    )
    c.snap(t, "post_inference", start + 11_400)
    c.snap(t, "final", start + 11_470)
    c.turns.append(t)

    s = start + 4 * MINUTE
    t = _Turn("research/turn-2", _metadata(c, 2, _canonical("research"), "research"))
    _user(c, "Summarise that in one line.")
    c.snap(t, "pre_inference", s)
    _answer(c, "worker-3 retried 60 batches; nothing else changed.")
    c.snap(t, "post_inference", s + 1_400)
    c.snap(t, "final", s + 1_460)
    c.turns.append(t)
    return c


def _escapes(start: int) -> _Conv:
    """Hostile text: terminal escapes, a one-byte CSI and a bidi override stay visible."""
    c = _Conv("escapes", "escapes-session")
    t = _Turn("escapes/turn-1", _metadata(c, 1, _canonical("inventory"), "inventory"))
    _user(
        c,
        "Paste from my terminal: \x1b[31mERROR\x1b[0m \x9b2J and a file "
        "name \u202etxt.exe with a [bold]markup[/bold] look-alike.",
    )
    c.snap(t, "pre_inference", start)
    _answer(c, "The escape codes are shown as text, not interpreted.")
    c.snap(t, "post_inference", start + 900)
    c.snap(t, "final", start + 950)
    c.turns.append(t)
    return c


def _legacy(start: int) -> _Conv:
    """Legacy writer: bare `runtime` / `inference_id` keys instead of geppetto.*@v1."""
    c = _Conv("legacy", "legacy-session")
    c.block("system", "system", {"text": "You are a stock checker."})
    for n in (1, 2):
        s = start + (n - 1) * 2 * MINUTE
        meta = {
            "runtime": "inventory",
            "inference_id": demo_id(f"legacy/inference/{n}"),
            "geppetto.model@v1": "gpt-4o-mini",
        }
        t = _Turn(f"legacy/turn-{n}", meta)
        _user(c, f"Count C-{n}.")
        c.snap(t, "pre_inference", s)
        _answer(c, f"There are {n * 4} × C-{n}.")
        c.snap(t, "post_inference", s + 1_000 + 77 * n)
        c.snap(t, "final", s + 1_050 + 77 * n)
        c.turns.append(t)
    return c


def _planner_solo(start: int) -> _Conv:
    """A planner-only conversation: no switch."""
    c = _Conv("planning", "planning-session")
    for n, (q, a) in enumerate(
        [
            ("Plan next week's stock count.", "Count aisles 1–4 on Tuesday, 5–8 on Thursday."),
            ("Who does it?", "Sam on Tuesday, Alex on Thursday."),
        ],
        1,
    ):
        s = start + (n - 1) * 3 * MINUTE
        t = _Turn(f"planning/turn-{n}", _metadata(c, n, _canonical("planner"), "planner"))
        _user(c, q)
        c.snap(t, "pre_inference", s)
        _answer(c, a)
        c.snap(t, "post_inference", s + 2_500)
        c.snap(t, "final", s + 2_580)
        c.turns.append(t)
    return c


def _scenario() -> list[_Conv]:
    return [
        _warehouse(T0),
        _support(T0 - 25 * MINUTE),
        _research(T0 - 45 * MINUTE),
        _escapes(T0 - 60 * MINUTE),
        _legacy(T0 - 95 * MINUTE),
        _planner_solo(T0 - 130 * MINUTE),
    ]


# ---------------------------------------------------------------------------------------
# Writer
# ---------------------------------------------------------------------------------------


def _write(conn: sqlite3.Connection, convs: list[_Conv]) -> None:
    for conv in convs:
        conv_id, session_id = demo_id(conv.name), demo_id(conv.session)
        for turn in conv.turns:
            times = [at for _, at, _ in turn.snapshots]
            turn_id = demo_id(turn.name)
            conn.execute(
                "INSERT INTO turns (conv_id, session_id, turn_id, turn_created_at_ms, "
                "turn_metadata_json, turn_data_json, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    conv_id,
                    session_id,
                    turn_id,
                    min(times),
                    go_json_marshal(turn.metadata),
                    go_json_marshal(turn.data),
                    max(times),
                ),
            )
            for phase, at, blocks in turn.snapshots:
                for ordinal, block in enumerate(blocks):
                    block_id = demo_id(block.name)
                    digest = canonical_block_hash(
                        block.kind, block.role, block.payload, block.metadata
                    )
                    conn.execute(
                        "INSERT OR IGNORE INTO blocks (block_id, content_hash, kind, role, "
                        "payload_json, block_metadata_json, first_seen_at_ms) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (
                            block_id,
                            digest,
                            block.kind,
                            block.role,
                            go_json_marshal(block.payload),
                            go_json_marshal(block.metadata),
                            at,
                        ),
                    )
                    conn.execute(
                        "INSERT INTO turn_block_membership (conv_id, session_id, turn_id, "
                        "phase, snapshot_created_at_ms, ordinal, block_id, content_hash) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (conv_id, session_id, turn_id, phase, at, ordinal, block_id, digest),
                    )


def _write_timeline(conn: sqlite3.Connection, conv: _Conv) -> None:
    """The warehouse conversation's current runtime: the user picked planner after turn 5."""
    conv_id = demo_id(conv.name)
    last = max(at for t in conv.turns for _, at, _ in t.snapshots)
    first = min(at for t in conv.turns for _, at, _ in t.snapshots)
    conn.execute(
        "INSERT INTO timeline_conversations (conv_id, session_id, runtime_key, created_at_ms, "
        "last_activity_ms, last_seen_version, has_timeline, status, last_error) "
        "VALUES (?, ?, 'planner', ?, ?, 7, 1, 'idle', '')",
        (conv_id, demo_id(conv.session), first, last + 20_000),
    )
    conn.execute(
        "INSERT INTO timeline_entities (conv_id, entity_id, kind, payload_json) "
        "VALUES (?, 'runtime-switch-1', 'runtime_switch', ?)",
        (conv_id, go_json_marshal({"from": "inventory", "to": "planner"})),
    )
    conn.execute(
        "INSERT INTO timeline_versions (conv_id, version, created_at_ms) VALUES (?, 7, ?)",
        (conv_id, last + 20_000),
    )


def build_demo_database(path: Path) -> Path:
    """Write the demo database to `path` (which must not exist) and return the path."""
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} already exists")
    convs = _scenario()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("PRAGMA synchronous=OFF")  # a throwaway file: no need to wait for the disk
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("BEGIN")
        for stmt in ERA2_SCHEMA + TIMELINE_SCHEMA:
            conn.execute(stmt)
        _write(conn, convs)
        _write_timeline(conn, convs[0])
        conn.execute("COMMIT")
    finally:
        conn.close()
    return path


def demo_database() -> Path:
    """Build the demo database in a fresh private folder (removed at exit, or by the next
    start after a kill) and return its path."""
    from tui.store import cleanup

    folder = Path(cleanup.new_copy_folder())
    return build_demo_database(folder / DEMO_FILE_NAME)
