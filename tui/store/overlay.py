"""The read-only overlay: the GP-26 backfill computed in memory, never written.

For files of eras 2-4 opened read-only, and for geppetto's `geppetto_turns` table (which
belongs to another tool and is never written), the values the migration would write are
derived here by the same rules (`tui.store.migrate.backfill_values`) and applied to rows
as they are read. Same answers as an in-place migration; zero bytes written.
"""

from __future__ import annotations

import bisect
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from tui.store import gojson, schema
from tui.store.migrate import REASON_MALFORMED, REASON_NO_KEY, backfill_values
from tui.store.models import MigrationReport
from tui.store.records import DERIVED_INFERENCE, DERIVED_RUNTIME, DERIVED_UPDATED

TurnKey = tuple[str, str, str]  # (conv_id, session_id, turn_id)
RowKey = tuple[str, str, str, str]  # geppetto_turns: (conv_id, session_id, turn_id, phase)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else ("" if value is None else str(value))


@dataclass(frozen=True)
class Overlay:
    """Derived values by row key; rows not listed read as stored."""

    turns: Mapping[TurnKey, tuple[str, str]] = field(default_factory=dict)
    geppetto: Mapping[RowKey, tuple[str, str]] = field(default_factory=dict)
    repair_now_ms: int | None = None  # set: updated_at_ms <= 0 reads as created, else this

    @property
    def active(self) -> bool:
        """Whether anything is derived in memory."""
        return bool(self.turns or self.geppetto or self.repair_now_ms is not None)

    def turns_with_prefix(self, needle: str) -> list[TurnKey]:
        """Turns whose derived runtime key or inference id, lower-cased, starts with
        `needle` (itself lower-cased): a bisect into the sorted values, not a scan."""
        values, keys = self._by_lowered_value
        out: list[TurnKey] = []
        i = bisect.bisect_left(values, needle)
        while i < len(values) and values[i].startswith(needle):
            out.extend(keys[values[i]])
            i += 1
        return list(dict.fromkeys(out))

    @cached_property
    def _by_lowered_value(self) -> tuple[list[str], dict[str, list[TurnKey]]]:
        by_value: dict[str, list[TurnKey]] = {}
        for key, (rk, inf) in self.turns.items():
            by_value.setdefault(rk.lower(), []).append(key)
            by_value.setdefault(inf.lower(), []).append(key)
        return sorted(by_value), by_value

    def turn_values(
        self, key: TurnKey, runtime_key: str, inference_id: str, created_ms: int, updated_ms: int
    ) -> tuple[str, str, int, frozenset[str]]:
        """(runtime_key, inference_id, updated_at_ms, derived columns) of a `turns` row."""
        derived: set[str] = set()
        found = self.turns.get(key)
        if found is not None:
            rk, inf = found
            if rk != runtime_key:
                derived.add(DERIVED_RUNTIME)
            if inf != inference_id:
                derived.add(DERIVED_INFERENCE)
            runtime_key, inference_id = rk, inf
        if self.repair_now_ms is not None and updated_ms <= 0:
            updated_ms = created_ms if created_ms > 0 else self.repair_now_ms
            derived.add(DERIVED_UPDATED)
        return runtime_key, inference_id, updated_ms, frozenset(derived)

    def geppetto_values(
        self, key: RowKey, runtime_key: str, inference_id: str
    ) -> tuple[str, str, frozenset[str]]:
        """(runtime_key, inference_id, derived columns) of a `geppetto_turns` row."""
        found = self.geppetto.get(key)
        if found is None:
            return runtime_key, inference_id, frozenset()
        derived = set()
        if found[0] != runtime_key:
            derived.add(DERIVED_RUNTIME)
        if found[1] != inference_id:
            derived.add(DERIVED_INFERENCE)
        return found[0], found[1], frozenset(derived)


NO_OVERLAY = Overlay()


@dataclass
class BackfillTally:
    """Counts of one in-memory backfill (what the migration's report would say)."""

    runtime: int = 0
    inference: int = 0
    no_key: int = 0
    malformed: int = 0
    repaired: int = 0


def _column(cols: frozenset[str], name: str, fallback: str) -> str:
    return name if name in cols else fallback


def derive_turns(
    rows: Iterable[tuple[TurnKey, str, str, str | bytes | None]], tally: BackfillTally
) -> dict[TurnKey, tuple[str, str]]:
    """Go's backfill of the rows it selects (an exactly empty runtime_key or inference_id):
    the new values of the rows it would change, by key. Counts into `tally`."""
    out: dict[TurnKey, tuple[str, str]] = {}
    for key, rk0, inf0, meta_json in rows:
        if rk0 != "" and inf0 != "":
            continue  # not selected by the Go backfill
        decoded = gojson.decode_metadata(meta_json)
        if decoded is None:
            tally.malformed += 1
            continue
        rk1, inf1 = backfill_values(rk0, inf0, decoded)
        if not rk1.strip():
            tally.no_key += 1
        if rk1 != rk0 or inf1 != inf0:
            out[key] = (rk1, inf1)
            tally.runtime += rk0 == "" and rk1 != ""
            tally.inference += inf0 == "" and inf1 != ""
    return out


def tally_report(tally: BackfillTally, steps: Sequence[str]) -> MigrationReport:
    """The report of an in-memory backfill: nothing applied, what it derived and why
    turns stay unknown."""
    reasons = tuple(
        (reason, n)
        for reason, n in ((REASON_NO_KEY, tally.no_key), (REASON_MALFORMED, tally.malformed))
        if n
    )
    return MigrationReport(
        applied=False,
        steps=tuple(steps),
        backfilled_runtime_key=tally.runtime,
        backfilled_inference_id=tally.inference,
        unknown_runtime_turns=tally.no_key + tally.malformed,
        malformed_metadata_rows=tally.malformed,
        unknown_runtime_reasons=reasons,
    )


def _turn_overlay(conn: sqlite3.Connection, tally: BackfillTally) -> dict[TurnKey, tuple[str, str]]:
    cols = schema.table_columns(conn, "turns")
    rk = _column(cols, "runtime_key", "''")
    inf = _column(cols, "inference_id", "''")
    meta = _column(cols, "turn_metadata_json", "'{}'")
    rows = conn.execute(
        f"SELECT conv_id, session_id, turn_id, {rk}, {inf}, {meta} FROM turns "
        f"WHERE {rk} = '' OR {inf} = ''"
    ).fetchall()
    out = derive_turns(
        (
            ((_text(conv), _text(sess), _text(turn)), _text(rk0), _text(inf0), meta_json)
            for conv, sess, turn, rk0, inf0, meta_json in rows
        ),
        tally,
    )
    blank = conn.execute(
        f"SELECT COUNT(*) FROM turns WHERE {rk} <> '' AND {inf} <> '' AND TRIM({rk}) = ''"
    ).fetchone()[0]
    tally.no_key += int(blank)
    if "updated_at_ms" in cols:
        tally.repaired = int(
            conn.execute(
                "SELECT COUNT(*) FROM turns WHERE NOT COALESCE(updated_at_ms, 0) > 0"
            ).fetchone()[0]
        )
    else:
        tally.repaired = int(conn.execute("SELECT COUNT(*) FROM turns").fetchone()[0])
    return out


def geppetto_metadata(payload: str) -> dict[str, Any] | None:
    """Turn metadata of a geppetto YAML payload as Go's JSON decoder would see it."""
    from tui.store.payload import PayloadError, parse_turn_yaml  # only YAML tables need it

    try:
        turn = parse_turn_yaml(payload)
        return gojson.decode_metadata(gojson.go_json_marshal(turn.metadata))
    except (PayloadError, ValueError, TypeError):
        return None


def _geppetto_overlay(
    conn: sqlite3.Connection, tally: BackfillTally
) -> dict[RowKey, tuple[str, str]]:
    out: dict[RowKey, tuple[str, str]] = {}
    rows = conn.execute(
        "SELECT conv_id, session_id, turn_id, phase, runtime_key, inference_id, payload "
        "FROM geppetto_turns WHERE runtime_key = '' OR inference_id = '' OR TRIM(runtime_key) = ''"
    ).fetchall()
    for conv, sess, turn, phase, rk0, inf0, payload in rows:
        rk0, inf0 = _text(rk0), _text(inf0)
        meta = geppetto_metadata(_text(payload))
        if meta is None:
            tally.malformed += 1
            continue
        if rk0 != "" and inf0 != "":  # selected only to count a blank key as unknown
            tally.no_key += 1
            continue
        rk1, inf1 = backfill_values(rk0, inf0, meta)
        if not rk1.strip():
            tally.no_key += 1
        if rk1 != rk0 or inf1 != inf0:
            out[(_text(conv), _text(sess), _text(turn), _text(phase))] = (rk1, inf1)
            tally.runtime += rk0 == "" and rk1 != ""
            tally.inference += inf0 == "" and inf1 != ""
    return out


def compute_overlay(
    conn: sqlite3.Connection, *, turns: bool, geppetto: bool, now_ms: int
) -> tuple[Overlay, MigrationReport]:
    """Derive the backfill of `turns` and/or `geppetto_turns` in memory (reads only)."""
    tally = BackfillTally()
    turn_values = _turn_overlay(conn, tally) if turns else {}
    gep_values = _geppetto_overlay(conn, tally) if geppetto else {}
    steps: list[str] = []
    if turns and tally.repaired:
        steps.append(f"repair updated_at_ms on {tally.repaired} turns (in memory)")
    if turn_values:
        steps.append(f"backfill runtime_key/inference_id on {len(turn_values)} turns (in memory)")
    if gep_values:
        steps.append(
            f"backfill runtime_key/inference_id on {len(gep_values)} geppetto_turns rows "
            "(in memory)"
        )
    overlay = Overlay(turn_values, gep_values, now_ms if turns and tally.repaired else None)
    return overlay, tally_report(tally, steps)
