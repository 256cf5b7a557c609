"""Find benchmark: id look-ups, text search and the app's loop while it searches.

Targets (issue 9, "Find"): an id look-up under 50 ms on the medium file; a text search
over every block within 2x of a bare ``SELECT count(*) FROM blocks WHERE payload_json
LIKE ...`` measured in the same run; the app's event loop never stalled 50 ms or more
while a search runs. Also, for information, the database check (`tui.check.gather`).

    .venv/bin/python benchmarks/bench_find.py                 # 5 runs
    .venv/bin/python benchmarks/bench_find.py --quick         # 3 runs, 1 app run
    .venv/bin/python benchmarks/bench_find.py --json out.json
    .venv/bin/python benchmarks/bench_find.py --large         # id look-ups on the ~4 GiB file

It reuses the cached medium file of `bench.py` (`bench.dataset(200, 30, long_blocks=180)`)
and works on two copies in `bench-data/work/`: one migrated once (untimed) and one left
pre-GP-26, opened read-only (the in-memory overlay). See benchmarks/find.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench  # noqa: E402  (only definitions run on import; nothing is generated)

RARE, COMMON, ABSENT = "agent", "warehouse", "zqxjvk"
ID_TARGET_MS = 50.0
TEXT_TARGET_RATIO = 2.0
LAG_TARGET_MS = 50.0
CHILD_MARK = "@@BENCH-FIND-RESULT@@"


# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------


class Row:
    """One measured figure beside its same-run baseline; ratio per run."""

    def __init__(self, label: str, target: str = "", limit: float | None = None) -> None:
        self.label = label
        self.values: list[float] = []
        self.base: list[float] = []
        self.ratios: list[float] = []
        self.target = target
        self.limit = limit  # ratio <= limit when there is a baseline, else median < limit
        self.note = ""

    def add(self, value: float, base: float | None = None) -> None:
        self.values.append(value)
        if base is not None:
            self.base.append(base)
            self.ratios.append(value / base if base > 0 else float("inf"))

    @property
    def judged(self) -> list[float]:
        return self.ratios if self.ratios and self.target.startswith("<=") else self.values

    @property
    def ok(self) -> bool | None:
        if self.limit is None or not self.values:
            return None
        med = statistics.median(self.judged)
        return med <= self.limit if self.target.startswith("<=") else med < self.limit

    def to_json(self) -> dict[str, Any]:
        def stats(xs: list[float]) -> dict[str, Any] | None:
            if not xs:
                return None
            return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "values": xs}

        return {
            "label": self.label,
            "value_ms": stats(self.values),
            "baseline_ms": stats(self.base),
            "ratio": stats(self.ratios),
            "target": self.target or None,
            "pass": self.ok,
            "note": self.note or None,
        }


def _ms(v: float) -> str:
    return f"{v:,.1f} ms" if v < 100 else f"{v:,.0f} ms"


def _spread(xs: list[float], fmt: Callable[[float], str]) -> str:
    if not xs:
        return "-"
    return f"{fmt(statistics.median(xs))} ({fmt(min(xs))}-{fmt(max(xs))})"


def print_rows(rows: list[Row]) -> None:
    print("| measure | median (min-max) | baseline, same run | ratio per run | target |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        ratio = _spread(r.ratios, lambda x: f"{x:.2f}x")
        target = r.target or "-"
        if r.ok is not None:
            target += " ✓" if r.ok else " ✗"
        print(
            f"| {r.label} | {_spread(r.values, _ms)} | {_spread(r.base, _ms)} | {ratio} | "
            f"{target} |"
        )
    for r in rows:
        if r.note:
            print(f"- {r.label}: {r.note}")


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------


def prepare() -> tuple[Path, Path, dict[str, Any]]:
    """The migrated copy and the pre-GP-26 copy (both untimed)."""
    from tui.store.opener import open_database

    src, meta = bench.dataset(200, 30, long_blocks=180)
    print(bench.describe(meta))
    migrated = bench.fresh_copy(src, "find-migrated")
    opened = open_database(str(migrated))
    print(f"migrated copy: {opened.mode} ({opened.schema_before} -> {opened.schema_after})")
    original = bench.fresh_copy(src, "find-original")
    return migrated, original, meta


def prepare_large() -> tuple[Path, Path, dict[str, Any]]:
    """Copies of the ~4 GiB file of `bench.py --scale large` (generated when missing): one
    migrated (untimed), one left pre-GP-26 (opened read-only)."""
    import large

    from tui.store.opener import open_database

    src, _timeline, meta = large.large_dataset(1000, 28)
    print("  " + large.describe(meta))
    migrated = large.copy_large(src, "find-migrated")
    opened = open_database(str(migrated))
    print(f"migrated copy: {opened.mode} ({opened.schema_before} -> {opened.schema_after})")
    original = large.copy_large(src, "find-original")
    return migrated, original, meta


def pick_ids(path: Path) -> dict[str, str]:
    """An exact conversation id, inference id, a turn-id prefix and a runtime key."""
    c = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        n = c.execute("SELECT count(*) FROM turns").fetchone()[0]
        conv, turn, inf = c.execute(
            "SELECT conv_id, turn_id, inference_id FROM turns ORDER BY rowid LIMIT 1 OFFSET ?",
            (n // 2,),
        ).fetchone()
        prefix = turn[:8]
        runtime = c.execute(
            "SELECT runtime_key FROM turns WHERE runtime_key != '' GROUP BY runtime_key "
            "ORDER BY count(*) LIMIT 1"
        ).fetchone()[0]
    finally:
        c.close()
    return {"conv_id": conv, "inference_id": inf, "turn_prefix": prefix, "runtime_key": runtime}


META_INF = "json_extract(turn_metadata_json, '$.\"geppetto.inference_id@v1\"')"
META_RK = "json_extract(turn_metadata_json, '$.\"geppetto.runtime@v1\".runtime_key')"


def id_baseline_sql(kind: str, migrated: bool) -> str:
    """The bare SQL that finds the same turns (indexed where the file has an index)."""
    cols = "SELECT conv_id, session_id, turn_id FROM turns WHERE "
    if kind == "conv_id":
        return cols + "conv_id = ?"
    if kind == "turn_prefix":
        return cols + "turn_id LIKE ? || '%'"
    if kind == "inference_id":
        return cols + ("inference_id = ?" if migrated else f"{META_INF} = ?")
    return cols + ("runtime_key = ?" if migrated else f"{META_RK} = ?")


def gc_timed(fn: Callable[[], Any]) -> float:
    return bench.timed(fn)[0]


async def atimed(fn: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = await fn()
    return (time.perf_counter() - t) * 1000.0, out


# --------------------------------------------------------------------------------------
# a. id look-ups
# --------------------------------------------------------------------------------------


async def bench_ids(path: Path, read_only: bool, ids: dict[str, str], runs: int) -> list[Row]:
    """`find_ids` as the app calls it (the first `FIND_LIMIT` matches, judged) and as the
    CLI does (every match, for reference), each beside the bare SQL of the same turns."""
    from tui.app import FIND_LIMIT
    from tui.store.sqlite_store import SqliteStore

    mode = "read-only pre-GP-26" if read_only else "migrated"
    store = SqliteStore(str(path), read_only=read_only)
    await store.open()
    raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows: list[Row] = []
    try:
        for kind, q in ids.items():
            every = id_baseline_sql(kind, not read_only)
            first = every + f" ORDER BY conv_id, turn_created_at_ms, turn_id LIMIT {FIND_LIMIT}"
            for limit, sql in ((FIND_LIMIT, first), (None, every)):
                if limit is None:
                    label = f"`find_ids` {kind}, every match as the CLI lists them ({mode})"
                    row = Row(label)
                else:
                    label = f"`find_ids` {kind}, the app's first {FIND_LIMIT:,} ({mode})"
                    row = Row(label, f"< {ID_TARGET_MS:.0f} ms", ID_TARGET_MS)
                found = await store.find_ids(q, limit)  # warm both sides (untimed)
                expected = raw.execute(sql, (q,)).fetchall()
                for n in range(runs):
                    ms_base = 0.0
                    if n % 2:
                        ms_base = gc_timed(lambda sql=sql, q=q: raw.execute(sql, (q,)).fetchall())
                    ms, found = await atimed(lambda q=q, lim=limit: store.find_ids(q, lim))
                    if not n % 2:
                        ms_base = gc_timed(lambda sql=sql, q=q: raw.execute(sql, (q,)).fetchall())
                    row.add(ms, ms_base)
                row.note = f"{len(found):,} turns (bare SQL: {len(expected):,})"
                same = {(t.conv_id, t.session_id, t.turn_id) for t in found} == {
                    tuple(r) for r in expected
                }
                if kind != "turn_prefix" and not same:
                    row.note += " MISMATCH"
                    row.limit = -1.0  # fail
                rows.append(row)
    finally:
        raw.close()
        await store.close()
    return rows


async def bench_first_find(path: Path, read_only: bool, q: str, runs: int) -> Row:
    """The first `find_ids` of a freshly opened store (the read-only overlay builds its
    sorted derived ids then), as the app calls it; the open is not timed."""
    from tui.app import FIND_LIMIT
    from tui.store.sqlite_store import SqliteStore

    mode = "read-only pre-GP-26" if read_only else "migrated"
    row = Row(f"`find_ids` runtime_key, the first find after opening ({mode})")
    for _ in range(runs):
        store = SqliteStore(str(path), read_only=read_only)
        await store.open()
        try:
            ms, found = await atimed(lambda s=store: s.find_ids(q, FIND_LIMIT))
        finally:
            await store.close()
        row.add(ms)
    row.note = f"{len(found):,} turns"
    return row


def bench_ids_proc(path: Path, read_only: bool, ids: dict[str, str], runs: int) -> list[Row]:
    mode = "read-only" if read_only else "migrated"
    rows = []
    for kind in ("conv_id", "inference_id"):
        args = [bench.TURNS_TUI, "find", str(path), ids[kind], "--field", "id", "--json"]
        if read_only:
            args.append("--read-only")
        row = Row(f"`turns-tui find --field id` {kind}, whole process ({mode})")
        for _ in range(runs):
            ms, proc = bench.run_proc(args)
            row.add(ms)
        row.note = f"{len(json.loads(proc.stdout)['matches'])} matches"
        rows.append(row)
    return rows


# --------------------------------------------------------------------------------------
# b. text search
# --------------------------------------------------------------------------------------

COUNT_SQL = "SELECT count(*) FROM blocks WHERE payload_json LIKE ?"
LOCATE_SQL = (
    "SELECT count(*), max(m.snapshot_created_at_ms) FROM blocks b "
    "CROSS JOIN turn_block_membership m "
    "ON m.block_id = b.block_id AND m.content_hash = b.content_hash "
    "WHERE b.payload_json LIKE ?"
)


async def bench_text(path: Path, read_only: bool, runs: int) -> tuple[list[Row], dict[str, Any]]:
    from tui.commands.find import search
    from tui.store.sqlite_store import SqliteStore

    mode = "read-only" if read_only else "migrated"
    store = SqliteStore(str(path), read_only=read_only)
    await store.open()
    raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows: list[Row] = []
    info: dict[str, Any] = {}
    try:
        for label, word in (("rare", RARE), ("common", COMMON), ("absent", ABSENT)):
            like = (f"%{word}%",)

            def bare(like: tuple[str, ...] = like) -> Any:
                return raw.execute(COUNT_SQL, like).fetchone()

            def locate(like: tuple[str, ...] = like) -> Any:
                return raw.execute(LOCATE_SQL, like).fetchone()

            target = f"<= {TEXT_TARGET_RATIO:.1f}x"
            r_text = Row(f"`find_text` {label} word ({mode})", target, TEXT_TARGET_RATIO)
            r_search = Row(f"`find.search(..., 'text')` {label} word ({mode})")
            r_locate = Row(
                f"`find_text` {label} word vs bare LIKE + the hits' membership rows ({mode})"
            )
            # warm both sides equally (untimed)
            hits = await store.find_text(word)
            found = await search(store, word, "text", None)
            candidates = bare()[0]
            membership = locate()[0]
            for n in range(runs):
                first_bare = n % 2 == 0
                if first_bare:
                    ms_bare = gc_timed(bare)
                    ms_loc = gc_timed(locate)
                ms_text, hits = await atimed(lambda w=word: store.find_text(w))
                ms_search, found = await atimed(lambda w=word: search(store, w, "text", None))
                if not first_bare:
                    ms_bare = gc_timed(bare)
                    ms_loc = gc_timed(locate)
                r_text.add(ms_text, ms_bare)
                r_search.add(ms_search, ms_bare)
                r_locate.add(ms_text, ms_loc)
            r_text.note = (
                f"{word!r}: {candidates:,} blocks match the LIKE, {len(hits):,} (block, "
                f"conversation) hits over {membership:,} membership rows"
            )
            r_search.note = f"{len(found.matches):,} matches"
            info[label] = {
                "word": word,
                "like_blocks": candidates,
                "hits": len(hits),
                "matches": len(found.matches),
                "membership_rows": membership,
            }
            rows += [r_text, r_search, r_locate]
    finally:
        raw.close()
        await store.close()
    return rows, info


# --------------------------------------------------------------------------------------
# c. check (information)
# --------------------------------------------------------------------------------------


async def bench_check(path: Path, runs: int) -> Row:
    from tui.check import gather
    from tui.store.sqlite_store import SqliteStore

    row = Row("`tui.check.gather` (database check, migrated)")
    store = SqliteStore(str(path))
    await store.open()
    try:
        for _ in range(runs):
            ms, report = await atimed(lambda: gather(store, lambda done, total: None))
            row.add(ms)
        row.note = f"{sum(report.counts.values()):,} anomalies"
    finally:
        await store.close()
    return row


# --------------------------------------------------------------------------------------
# d. the app's loop while it searches (child process)
# --------------------------------------------------------------------------------------


async def app_find(path: str, word: str) -> dict[str, Any]:
    """Open the app, ctrl+f, type `word`, enter; probe the loop until the search is done."""
    from tui.app import make_app

    out: dict[str, Any] = {}
    probe = bench.LagProbe()
    app = make_app(path)
    async with app.run_test(size=(160, 48)) as pilot:

        def timeline_ready() -> bool:
            tl = bench._query(app, "#timeline")
            return tl is not None and bench._count(tl) > 0

        if not await bench._until(pilot, timeline_ready, 60.0):
            raise RuntimeError("#timeline never got rows within 60 s")
        await bench._settle(app, pilot)
        bench._send_key(app, "ctrl+f")

        def find_shown() -> bool:
            return type(app.screen).__name__ == "FindScreen" and app.screen.is_attached

        if not await bench._until(pilot, find_shown, 10.0):
            raise RuntimeError("ctrl+f did not show the find screen")
        await pilot.pause()
        for ch in word:
            bench._send_key(app, ch)

        def typed() -> bool:
            return str(app.screen.query_one("#find-input").value) == word

        if not await bench._until(pilot, typed, 10.0):
            raise RuntimeError("the find input did not get the word")
        await pilot.pause()
        screen = app.screen
        probe.start()
        t = time.perf_counter()
        bench._send_key(app, "enter")

        def started() -> bool:
            return screen.generation > 0

        def done() -> bool:  # the search ended and every match is a row of the table
            return started() and not screen.running and screen.rows_shown

        if not await bench._until(pilot, done, 120.0):
            raise RuntimeError("the search did not finish within 120 s")
        out["search_ms"] = (time.perf_counter() - t) * 1000
        await pilot.pause()  # the paint of the last rows, still probed
        out["lag"] = await probe.stop()
        out["matches"] = len(screen.matches)
        out["rows"] = screen.query_one("#find-results").row_count
        await bench._settle(app, pilot)
    return out


def app_child(spec: dict[str, Any]) -> None:
    try:
        out = asyncio.run(app_find(spec["path"], spec["word"]))
        out["ok"] = True
    except BaseException as exc:
        out = {"ok": False, "error": bench._describe_exc(exc), "tb": traceback.format_exc()}
    sys.stdout.write("\n" + CHILD_MARK + json.dumps(out) + "\n")
    sys.stdout.flush()


def run_child(spec: dict[str, Any]) -> dict[str, Any]:
    import subprocess

    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--app-child", json.dumps(spec)],
        capture_output=True,
        timeout=300,
        check=False,
        cwd=str(bench.ROOT),
    )
    for line in reversed(proc.stdout.decode(errors="replace").splitlines()):
        if line.startswith(CHILD_MARK):
            out: dict[str, Any] = json.loads(line[len(CHILD_MARK) :])
            if not out["ok"]:
                raise RuntimeError(f"{out['error']}\n{out['tb']}")
            return out
    raise RuntimeError(f"app child exited {proc.returncode}: {proc.stderr.decode()[-2000:]}")


def bench_app(path: Path, runs: int) -> tuple[list[Row], list[dict[str, Any]]]:
    rows, details = [], []
    for label, word in (("common", COMMON), ("rare", RARE)):
        lag = Row(
            f"app loop lag while a text search for a {label} word runs (max gap)",
            f"< {LAG_TARGET_MS:.0f} ms",
            LAG_TARGET_MS,
        )
        took = Row(f"app: `enter` until the {label}-word search is done (rows shown)")
        for _ in range(runs):
            out = run_child({"path": str(path), "word": word})
            lag.add(out["lag"]["max_gap_ms"])
            took.add(out["search_ms"])
            details.append({"word": word, **out})
        lag.note = (
            f"{out['matches']:,} matches listed; 5 largest gaps of the last run: "
            + ", ".join(
                f"{g['gap_ms']:.0f} ms at {g['at_ms']:.0f} ms" for g in out["lag"]["top_gaps"]
            )
        )
        rows += [lag, took]
    return rows, details


# --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=None, help="runs per figure (default 5)")
    p.add_argument("--quick", action="store_true", help="3 runs, 1 app run per word")
    p.add_argument("--app-runs", type=int, default=None, help="app processes per word")
    p.add_argument("--no-app", action="store_true", help="skip the app's loop-lag figure")
    p.add_argument("--json", metavar="PATH", help="also write every figure as JSON")
    p.add_argument(
        "--large",
        action="store_true",
        help="only the id look-ups, on the ~4 GiB file of bench.py --scale large",
    )
    p.add_argument("--app-child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.app_child:
        app_child(json.loads(args.app_child))
        return 0
    runs = args.runs or (3 if args.quick else 5)
    app_runs = args.app_runs or (1 if args.quick else min(runs, 3))
    machine = bench.machine_info()
    print(f"nproc {machine.get('nproc')}, load {os.getloadavg()}")
    t0 = time.perf_counter()
    migrated, original, meta = prepare_large() if args.large else prepare()
    rows: list[Row] = []
    info: dict[str, Any] = {"runs": runs, "app_runs": app_runs, "machine": machine}
    info["file"] = "large" if args.large else "medium"
    try:
        ids = pick_ids(migrated)
        info["ids"] = ids
        rows += asyncio.run(bench_ids(migrated, False, ids, runs))
        rows += asyncio.run(bench_ids(original, True, ids, runs))
        for path, read_only in ((migrated, False), (original, True)):
            rows.append(asyncio.run(bench_first_find(path, read_only, ids["runtime_key"], runs)))
        if args.large:
            return _report(rows, info, machine, t0, args.json)
        rows += bench_ids_proc(migrated, False, ids, runs)
        rows += bench_ids_proc(original, True, ids, runs)
        text_rows, info["text"] = asyncio.run(bench_text(migrated, False, runs))
        rows += text_rows
        ro_rows, info["text_read_only"] = asyncio.run(bench_text(original, True, runs))
        rows += [r for r in ro_rows if r.label.startswith("`find_text`") and "vs" not in r.label]
        rows.append(asyncio.run(bench_check(migrated, runs)))
        if not args.no_app:
            app_rows, info["app_runs_detail"] = bench_app(migrated, app_runs)
            rows += app_rows
    finally:
        bench.remove(migrated)
        bench.remove(original)
    return _report(rows, info, machine, t0, args.json)


def _report(
    rows: list[Row], info: dict[str, Any], machine: dict[str, Any], t0: float, json_path: str | None
) -> int:
    """Print the table (and write the JSON); 1 when a target fails."""
    runs, app_runs = info["runs"], info["app_runs"]
    info["loadavg_at_end"] = os.getloadavg()
    info["seconds"] = time.perf_counter() - t0
    print()
    print_rows(rows)
    print(
        f"\n(runs {runs}, app runs {app_runs}; nproc {machine.get('nproc')}, "
        f"Python {machine.get('python')}, SQLite {machine.get('sqlite')}, load "
        f"{machine.get('loadavg_at_start')} -> {info['loadavg_at_end']}; "
        f"{info['seconds']:.0f} s)"
    )
    failed = [r.label for r in rows if r.ok is False]
    if json_path:
        doc = {"figures": [r.to_json() for r in rows], "info": info, "failed": failed}
        Path(json_path).write_text(json.dumps(doc, indent=1, default=str))
    if failed:
        print("\nFAILED targets:\n" + "\n".join(f"  - {f}" for f in failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
