"""A separate writer process that saves turns exactly like pinocchio's SQLite turn store.

Run as ``python tests/writer_process.py PATH [options]``. Only the standard library is used
and nothing is imported from ``tui``: this is an independent model of the Go writer.

What pinocchio does, and what this does:

* the connection is opened with WAL journaling, a 5 s busy timeout and foreign keys on;
* every snapshot (``pre_inference``, ``post_inference``, ``final``) of a turn is saved in its
  own transaction (a deferred ``BEGIN`` like Go's ``db.BeginTx``): upsert the ``turns`` row
  (MIN created, MAX updated, a non-empty runtime never overwritten by an empty one), upsert
  every block by (block_id, content_hash), replace the snapshot's membership rows;
* ``--mode gp26`` writes ``runtime_key`` / ``inference_id`` explicitly (a GP-26 writer);
  ``--mode era2`` is a pinocchio that predates GP-26: its statements name only the era-2
  columns, so it keeps working when a migration adds the runtime columns mid-run.

Every committed snapshot is appended to ``--log`` as one JSON line (flushed) so the parent
can follow progress. Any error is recorded, never retried silently; the process ends with
one JSON summary line on stdout and exit code 1 when any error happened.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sqlite3
import sys
import time
from typing import Any

PHASES = ("pre_inference", "post_inference", "final")
RUNTIMES = ("inventory", "planner", "research")


def canonical_hash(kind: str, role: str, payload: dict[str, Any], meta: dict[str, Any]) -> str:
    def js(v: Any) -> str:
        return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    material = (
        f'{{"kind":{js(kind)},"role":{js(role)},"payload":{js(payload)},"metadata":{js(meta)}}}'
    )
    return hashlib.sha256(material.encode()).hexdigest()


def connect(path: str) -> sqlite3.Connection:
    """Open like pinocchio: WAL, busy_timeout 5000, foreign keys on."""
    conn = sqlite3.connect(path, timeout=5.0, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


UPSERT_TURN_GP26 = """INSERT INTO turns (conv_id, session_id, turn_id, turn_created_at_ms,
    turn_metadata_json, turn_data_json, updated_at_ms, runtime_key, inference_id)
VALUES (?, ?, ?, ?, ?, '{}', ?, ?, ?)
ON CONFLICT(conv_id, session_id, turn_id) DO UPDATE SET
    turn_created_at_ms = MIN(turns.turn_created_at_ms, excluded.turn_created_at_ms),
    turn_metadata_json = excluded.turn_metadata_json,
    turn_data_json = excluded.turn_data_json,
    updated_at_ms = MAX(turns.updated_at_ms, excluded.updated_at_ms),
    runtime_key = CASE WHEN excluded.runtime_key <> '' THEN excluded.runtime_key
                       ELSE turns.runtime_key END,
    inference_id = CASE WHEN excluded.inference_id <> '' THEN excluded.inference_id
                        ELSE turns.inference_id END"""

UPSERT_TURN_ERA2 = """INSERT INTO turns (conv_id, session_id, turn_id, turn_created_at_ms,
    turn_metadata_json, turn_data_json, updated_at_ms)
VALUES (?, ?, ?, ?, ?, '{}', ?)
ON CONFLICT(conv_id, session_id, turn_id) DO UPDATE SET
    turn_created_at_ms = MIN(turns.turn_created_at_ms, excluded.turn_created_at_ms),
    turn_metadata_json = excluded.turn_metadata_json,
    turn_data_json = excluded.turn_data_json,
    updated_at_ms = MAX(turns.updated_at_ms, excluded.updated_at_ms)"""

UPSERT_BLOCK = """INSERT INTO blocks (block_id, content_hash, hash_algorithm, kind, role,
    payload_json, block_metadata_json, first_seen_at_ms)
VALUES (?, ?, 'sha256-canonical-json-v1', ?, ?, ?, '{}', ?)
ON CONFLICT(block_id, content_hash) DO NOTHING"""

DELETE_SNAPSHOT = """DELETE FROM turn_block_membership WHERE conv_id = ? AND session_id = ?
    AND turn_id = ? AND phase = ? AND snapshot_created_at_ms = ?"""

INSERT_MEMBER = """INSERT INTO turn_block_membership (conv_id, session_id, turn_id, phase,
    snapshot_created_at_ms, ordinal, block_id, content_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"""


class Writer:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.conn = connect(args.path)
        self.rng = random.Random(args.seed)
        self.log = open(args.log, "a", encoding="utf-8") if args.log else None  # noqa: SIM115
        self.turns_committed = 0
        self.snapshots_committed = 0
        self.committed: list[list[str]] = []  # [conv_id, turn_id] of fully committed turns
        self.errors: list[str] = []
        self.max_lock_wait_ms = 0.0
        self.max_tx_ms = 0.0
        self.max_commit_ms = 0.0
        self.tx_count = 0
        self.clock = int(time.time() * 1000)

    def emit(self, event: dict[str, Any]) -> None:
        if self.log is not None:
            self.log.write(json.dumps(event) + "\n")
            self.log.flush()

    def save_snapshot(
        self,
        conv: str,
        sess: str,
        turn: str,
        phase: str,
        created: int,
        metadata: dict[str, Any],
        runtime: str,
        inference: str,
        blocks: list[tuple[str, str, str, dict[str, Any]]],
        hold_ms: float,
    ) -> None:
        """One pinocchio Save: one transaction for one snapshot."""
        conn = self.conn
        meta_json = json.dumps(metadata, sort_keys=True, separators=(",", ":"))
        started = time.monotonic()
        conn.execute("BEGIN")
        try:
            # The first write statement takes the write lock: its duration is the lock wait.
            t0 = time.monotonic()
            if self.args.mode == "gp26":
                conn.execute(
                    UPSERT_TURN_GP26,
                    (conv, sess, turn, created, meta_json, created, runtime, inference),
                )
            else:
                conn.execute(UPSERT_TURN_ERA2, (conv, sess, turn, created, meta_json, created))
            waited = (time.monotonic() - t0) * 1000.0
            self.max_lock_wait_ms = max(self.max_lock_wait_ms, waited)
            rows = []
            for bid, kind, role, payload in blocks:
                h = canonical_hash(kind, role, payload, {})
                conn.execute(
                    UPSERT_BLOCK,
                    (bid, h, kind, role, json.dumps(payload, sort_keys=True), created),
                )
                rows.append((bid, h))
            conn.execute(DELETE_SNAPSHOT, (conv, sess, turn, phase, created))
            conn.executemany(
                INSERT_MEMBER,
                [(conv, sess, turn, phase, created, i, bid, h) for i, (bid, h) in enumerate(rows)],
            )
            if hold_ms > 0:
                self.emit({"event": "holding", "turn": turn, "phase": phase, "ms": hold_ms})
                time.sleep(hold_ms / 1000.0)
            t1 = time.monotonic()
            conn.execute("COMMIT")
            self.max_commit_ms = max(self.max_commit_ms, (time.monotonic() - t1) * 1000.0)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self.tx_count += 1
        self.max_tx_ms = max(self.max_tx_ms, (time.monotonic() - started) * 1000.0)
        self.snapshots_committed += 1

    def one_turn(self, conv: str, sess: str, n: int, history: list[Any]) -> None:
        args = self.args
        turn = f"{conv}-t{n:05d}"
        runtime = RUNTIMES[(n // 3) % len(RUNTIMES)]
        inference = f"{turn}-inf"
        metadata = {
            "geppetto.runtime@v1": {"runtime_key": runtime, "profile.slug": runtime},
            "geppetto.inference_id@v1": inference,
        }
        history.append((f"{turn}-u", "user", "user", {"text": f"question {n}"}))
        for phase in PHASES:
            if phase == "post_inference":
                history.append((f"{turn}-a", "llm_text", "assistant", {"text": f"answer {n}"}))
            self.clock = max(self.clock + 1, int(time.time() * 1000))
            hold = 0.0
            if args.hold_first_ms and self.tx_count == 0:
                hold = args.hold_first_ms
            elif args.hold_every and (self.tx_count + 1) % args.hold_every == 0:
                hold = args.hold_ms
            self.save_snapshot(
                conv,
                sess,
                turn,
                phase,
                self.clock,
                metadata,
                runtime,
                inference,
                history[-args.blocks :],
                hold,
            )
            self.emit({"event": "commit", "conv": conv, "turn": turn, "phase": phase})
            if args.pause_ms:
                time.sleep(self.rng.uniform(0, args.pause_ms) / 1000.0)
        self.turns_committed += 1
        self.committed.append([conv, turn])

    def run(self) -> None:
        args = self.args
        deadline = time.monotonic() + args.duration if args.duration else None
        convs = [f"{args.conv_prefix}-{c}" for c in range(args.convs)]
        histories: dict[str, list[Any]] = {
            c: [(f"{c}-sys", "system", "system", {"text": "You are live."})] for c in convs
        }
        self.emit({"event": "ready"})
        n = 0
        while True:
            if args.turns and self.turns_committed >= args.turns:
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
            if args.stop_file and os.path.exists(args.stop_file):
                break
            conv = convs[n % len(convs)]
            try:
                self.one_turn(conv, f"{conv}-sess", n, histories[conv])
            except sqlite3.Error as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")
                self.emit({"event": "error", "error": str(exc)})
                if len(self.errors) >= 20:
                    break
            n += 1

    def summary(self) -> dict[str, Any]:
        return {
            "event": "done",
            "mode": self.args.mode,
            "turns_committed": self.turns_committed,
            "snapshots_committed": self.snapshots_committed,
            "committed": self.committed,
            "errors": self.errors,
            "max_lock_wait_ms": round(self.max_lock_wait_ms, 1),
            "max_tx_ms": round(self.max_tx_ms, 1),
            "max_commit_ms": round(self.max_commit_ms, 1),
        }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("path")
    p.add_argument("--mode", choices=("gp26", "era2"), default="gp26")
    p.add_argument("--turns", type=int, default=0, help="stop after this many turns (0: no cap)")
    p.add_argument("--duration", type=float, default=0.0, help="stop after this many seconds")
    p.add_argument("--stop-file", default="", help="stop when this file exists")
    p.add_argument("--convs", type=int, default=2)
    p.add_argument("--conv-prefix", default="live")
    p.add_argument("--blocks", type=int, default=6, help="blocks per snapshot (latest ones)")
    p.add_argument("--pause-ms", type=float, default=5.0, help="random pause between saves")
    p.add_argument("--hold-first-ms", type=float, default=0.0, help="hold the first tx open")
    p.add_argument("--hold-every", type=int, default=0, help="hold every Nth transaction open")
    p.add_argument("--hold-ms", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log", default="")
    p.add_argument("--summary", default="", help="write the full JSON summary to this file")
    args = p.parse_args(argv)
    writer = Writer(args)
    try:
        writer.run()
    except KeyboardInterrupt:
        pass
    finally:
        try:
            writer.conn.close()
        except sqlite3.Error as exc:
            writer.errors.append(f"close: {exc}")
    summary = writer.summary()
    if args.summary:  # the full summary (every committed turn) can exceed a pipe's buffer
        with open(args.summary, "w", encoding="utf-8") as fh:
            json.dump(summary, fh)
    short = {k: v for k, v in summary.items() if k != "committed" or not args.summary}
    sys.stdout.write(json.dumps(short) + "\n")
    sys.stdout.flush()
    return 1 if writer.errors else 0


if __name__ == "__main__":
    sys.exit(main())
