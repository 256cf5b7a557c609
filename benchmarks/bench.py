"""Performance benchmark of turns-tui on a medium pre-GP-26 (era 2) pinocchio database.

Run from the repository root:

    .venv/bin/python benchmarks/bench.py [--runs N] [--convs 200] [--turns 30]
                                         [--quick] [--json out.json]

See benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import hashlib
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT / "bench-data"
WORK = DATA / "work"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import gen  # noqa: E402

TURNS_TUI = str(Path(sys.executable).with_name("turns-tui"))
APP_MARK = "@@BENCH-APP-RESULT@@"
T_START = time.perf_counter()

# --------------------------------------------------------------------------------------
# The pure-SQL lower bound: exactly the GP-26 schema change plus a one-statement backfill.
# The same source runs in a `python -c` subprocess and in-process (exec).
# --------------------------------------------------------------------------------------

PURE_SQL = r"""
import sqlite3, sys
def pure_sql_migrate(path):
    c = sqlite3.connect(path, isolation_level=None)
    try:
        c.execute("BEGIN IMMEDIATE")
        c.execute("ALTER TABLE turns ADD COLUMN runtime_key TEXT NOT NULL DEFAULT ''")
        c.execute("ALTER TABLE turns ADD COLUMN inference_id TEXT NOT NULL DEFAULT ''")
        c.execute(
            "UPDATE turns SET runtime_key = COALESCE(json_extract(turn_metadata_json, "
            "'$.\"geppetto.runtime@v1\".runtime_key'), ''), inference_id = COALESCE("
            "json_extract(turn_metadata_json, '$.\"geppetto.inference_id@v1\"'), '')"
        )
        c.execute("CREATE INDEX IF NOT EXISTS turns_by_conv_runtime_updated "
                  "ON turns(conv_id, runtime_key, updated_at_ms DESC)")
        c.execute("CREATE INDEX IF NOT EXISTS turns_by_conv_inference_updated "
                  "ON turns(conv_id, inference_id, updated_at_ms DESC)")
        c.execute("COMMIT")
    finally:
        c.close()
if __name__ == "__main__" and len(sys.argv) > 1:
    pure_sql_migrate(sys.argv[1])
"""
_ns: dict[str, Any] = {"__name__": "pure_sql"}
exec(compile(PURE_SQL, "<pure_sql>", "exec"), _ns)
pure_sql_migrate: Callable[[str], None] = _ns["pure_sql_migrate"]


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


@dataclasses.dataclass
class Metric:
    key: str
    label: str
    unit: str  # "ms", "x", "MB", "s", "" (info)
    values: list[float]
    target: str = ""
    limit: float | None = None  # pass when median <= limit
    ok: bool | None = None
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    def judge(self) -> None:
        if self.limit is not None and self.values:
            self.ok = self.median <= self.limit

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "unit": self.unit,
            "median": self.median if self.values else None,
            "min": min(self.values) if self.values else None,
            "max": max(self.values) if self.values else None,
            "n": len(self.values),
            "values": self.values,
            "target": self.target or None,
            "pass": self.ok,
            "note": self.note or None,
        }


class Results:
    def __init__(self) -> None:
        self.metrics: dict[str, Metric] = {}
        self.info: dict[str, Any] = {}
        self.skipped: dict[str, str] = {}

    def add(
        self,
        key: str,
        label: str,
        unit: str,
        values: list[float],
        target: str = "",
        limit: float | None = None,
        note: str = "",
    ) -> Metric:
        m = Metric(key, label, unit, list(values), target, limit, note=note)
        m.judge()
        self.metrics[key] = m
        return m

    def add_ratio(
        self,
        key: str,
        label: str,
        num: list[float],
        den: list[float],
        target: str = "",
        limit: float | None = None,
        note: str = "",
    ) -> Metric:
        """The per-run ratios num / den (both sides measured in the same run)."""
        ratios = [x / y for x, y in zip(num, den, strict=True)]
        return self.add(key, label, "x", ratios, target, limit, note)

    def check(self, key: str, label: str, ok: bool, note: str = "") -> None:
        m = Metric(key, label, "", [], "must hold", None, ok, note)
        self.metrics[key] = m


def _fmt(v: float | None, unit: str) -> str:
    if v is None or v != v:
        return "-"
    if unit == "ms":
        return f"{v:,.1f} ms" if v < 100 else f"{v:,.0f} ms"
    if unit == "x":
        return f"{v:.2f}x"
    if unit == "MB":
        return f"{v:,.1f} MB"
    if unit == "s":
        return f"{v:,.2f} s"
    return f"{v:g}"


def print_table(res: Results) -> None:
    rows = [("metric", "median", "min", "max", "n", "target", "result")]
    for m in res.metrics.values():
        if m.values:
            med, lo, hi = (_fmt(x, m.unit) for x in (m.median, min(m.values), max(m.values)))
        else:
            med = lo = hi = "-"
        status = "" if m.ok is None else ("PASS" if m.ok else "FAIL")
        if not m.values and m.ok is not None:
            med = "yes" if m.ok else "NO"
        rows.append(
            (m.label, med, lo, hi, str(len(m.values)) if m.values else "", m.target, status)
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    sep = "-+-".join("-" * w for w in widths)
    for i, r in enumerate(rows):
        cells = [r[0].ljust(widths[0])] + [
            c.rjust(w) if 1 <= j <= 4 else c.ljust(w)
            for j, (c, w) in enumerate(zip(r, widths, strict=True))
            if j > 0
        ]
        print(" | ".join(cells).rstrip())
        if i == 0:
            print(sep)
    notes = [(m.label, m.note) for m in res.metrics.values() if m.note]
    for label, note in notes:
        print(f"  * {label}: {note}")
    for part, why in res.skipped.items():
        print(f"  ! skipped {part}: {why}")


# The summary table of benchmarks/README.md: (measure, figure, same-run baseline, ratio).
SUMMARY: tuple[tuple[str, str, str | None, str | None], ...] = (
    (
        "`turns-tui migrate` (whole process) vs pure-SQL bound",
        "a_migrate_proc",
        "c_puresql_proc",
        "d_ratio_proc",
    ),
    (
        "open + migrate + backfill, in process vs pure-SQL bound",
        "b_migrate_inproc",
        "c_puresql_inproc",
        "d_ratio_inproc",
    ),
    ("dump of one conversation (open + read + JSON, in process)", "e_dump_open", None, None),
    ("re-open of a migrated file, in process (no-op)", "f_noop_inproc", None, None),
    (
        "`dump --read-only` of the pre-GP-26 file vs in-place `dump` of the migrated copy "
        "(whole process, whole file)",
        "i_dump_ro",
        "i_dump_ip",
        "i_ratio",
    ),
    (
        "app first timeline, read-only (overlay) vs in place on the migrated copy",
        "j_first_ro",
        "j_first_migrated",
        "j_ratio_migrated",
    ),
    (
        "app first timeline, read-only (overlay) vs in place migrating a fresh copy",
        "j_first_ro",
        "j_first_migrate",
        "j_ratio_migrate",
    ),
    ("app: start to first painted timeline, migration included", "g_first_timeline", None, None),
    ("app: select another conversation until its timeline is painted", "g_select", None, None),
    ("app: peak memory (medium db)", "g_rss", None, None),
    (
        "loop lag: app opens the medium db until first timeline painted (max gap)",
        "h_lag_open",
        None,
        None,
    ),
    (
        "loop lag: app opens the turn detail of the ~180-block turn (max gap)",
        "h_lag_detail",
        None,
        None,
    ),
    ("open turn detail (~180 blocks) until blocks shown", "h_detail_time", None, None),
    (
        "`dump` of a migrated era 1 file while a writer holds `BEGIN IMMEDIATE` vs no writer "
        "(whole process)",
        "k_held_proc",
        "k_free_proc",
        "k_ratio_proc",
    ),
    ("same, in process (`dump_store`)", "k_held_inproc", "k_free_inproc", "k_ratio_inproc"),
)


def print_summary(res: Results) -> None:
    """The README table: measure | median | baseline | ratio | target (markdown)."""
    print("| measure | median | baseline (same run) | ratio | target |")
    print("| --- | --- | --- | --- | --- |")
    for label, key, base_key, ratio_key in SUMMARY:
        m = res.metrics.get(key)
        if m is None or not m.values:
            continue
        med = _fmt(m.median, m.unit)
        if key.startswith("h_lag"):
            med += f" (max {_fmt(max(m.values), m.unit)})"
        base = res.metrics.get(base_key) if base_key else None
        ratio = res.metrics.get(ratio_key) if ratio_key else None
        target_m = ratio if ratio is not None and ratio.target else m
        target = target_m.target or "-"
        if target_m.ok is not None:
            target += " ✓" if target_m.ok else " ✗"
        if key.startswith("k_held"):
            chk = res.metrics.get("k_no_wait")
            target = "no lock wait" + ("" if chk is None else (" ✓" if chk.ok else " ✗"))
        print(
            f"| {label} | {med} | "
            f"{_fmt(base.median, base.unit) if base and base.values else '-'} | "
            f"{_fmt(ratio.median, ratio.unit) if ratio and ratio.values else '-'} | {target} |"
        )
    checks = [m for m in res.metrics.values() if not m.values and m.ok is not None]
    if checks:
        print()
        for m in checks:
            print(f"- {m.label}: {'yes' if m.ok else 'NO'}")
    n = res.info.get("params", {})
    mach = res.info.get("machine", {})
    print(
        f"\n(runs {n.get('runs')}, app runs {n.get('app_runs')}; nproc {mach.get('nproc')}, "
        f"Python {mach.get('python')}, SQLite {mach.get('sqlite')}, "
        f"load {mach.get('loadavg_at_start')} -> {mach.get('loadavg_at_end')})"
    )


# --------------------------------------------------------------------------------------
# Data set (cached)
# --------------------------------------------------------------------------------------


def dataset(
    convs: int, turns: int, seed: int = 26, tag: str = "era2", long_blocks: int = 0
) -> tuple[Path, dict[str, Any]]:
    """The cached era 2 (or, with tag "era1", era 1) file for these parameters; generated
    when missing or stale. `long_blocks` adds one conversation whose last turn holds about
    that many blocks (era 2 only)."""
    DATA.mkdir(exist_ok=True)
    suffix = f"-L{long_blocks}" if long_blocks else ""
    path = DATA / f"{tag}-{convs}x{turns}-s{seed}{suffix}.sqlite"
    meta_path = path.with_suffix(".json")
    want: dict[str, Any] = {
        "gen_version": gen.GEN_VERSION,
        "convs": convs,
        "turns": turns,
        "seed": seed,
    }
    if long_blocks:
        want["long_blocks"] = long_blocks
    wal = Path(str(path) + "-wal")
    if wal.exists() and wal.stat().st_size == 0:
        # An empty WAL (left by a reader that did not close) holds nothing: drop it.
        wal.unlink()
        Path(str(path) + "-shm").unlink(missing_ok=True)
    if path.exists() and meta_path.exists():
        with contextlib.suppress(ValueError, OSError):
            meta = json.loads(meta_path.read_text())
            if (
                meta.get("params") == want
                and meta.get("stats", {}).get("bytes") == path.stat().st_size
                and not Path(str(path) + "-wal").exists()
            ):
                meta["cached"] = True
                return path, meta
    if tag == "era1":
        stats = gen.generate_era1(str(path), convs, turns, seed)
    else:
        stats = gen.generate_era2(str(path), convs, turns, seed, long_blocks)
    meta = {"params": want, "stats": dataclasses.asdict(stats)}
    meta_path.write_text(json.dumps(meta, indent=1))
    meta["cached"] = False
    return path, meta


def describe(meta: dict[str, Any]) -> str:
    s = meta["stats"]
    how = "cached" if meta.get("cached") else f"generated in {s['seconds']:.1f} s"
    return (
        f"{Path(s['path']).name}: {s['conversations']:,} conversations, {s['turns']:,} turns, "
        f"{s['blocks']:,} blocks, {s['membership']:,} membership rows, "
        f"{s['turns_without_runtime']:,} turns without runtime metadata, "
        f"{s['runtime_switches']:,} runtime switches; {s['bytes'] / 1e6:,.1f} MB ({how})"
    )


_copy_seq = 0


def fresh_copy(src: Path, name: str = "copy") -> Path:
    """A private copy of `src`, flushed to disk so that later fsyncs do not pay for it."""
    global _copy_seq
    WORK.mkdir(parents=True, exist_ok=True)
    _copy_seq += 1
    dst = WORK / f"{name}-{os.getpid()}-{_copy_seq}.sqlite"
    remove(dst)
    shutil.copyfile(src, dst)
    fd = os.open(dst, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return dst


def remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(str(path) + suffix)


def sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()  # not timed: start every in-process figure from the same heap state
    t = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t) * 1000.0, out


def run_proc(args: list[str]) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    t = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, check=False)
    ms = (time.perf_counter() - t) * 1000.0
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} exited {proc.returncode}: {proc.stderr.decode(errors='replace')}"
        )
    return ms, proc


def turns_table(path: Path) -> list[tuple[Any, ...]]:
    c = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return c.execute(
            "SELECT conv_id, session_id, turn_id, runtime_key, inference_id FROM turns "
            "ORDER BY conv_id, session_id, turn_id"
        ).fetchall()
    finally:
        c.close()


# --------------------------------------------------------------------------------------
# a-f: migration and dump
# --------------------------------------------------------------------------------------


def bench_migration(src: Path, runs: int, res: Results) -> Path:
    """a, b, c, d; returns a migrated copy (by `turns-tui migrate`) for e and f."""
    from tui.store.opener import open_database

    a_ms: list[float] = []
    b_ms: list[float] = []
    c_ms: list[float] = []
    ci_ms: list[float] = []
    migrated: Path | None = None
    for i in range(runs):
        # a. whole process
        copy = fresh_copy(src, "a")
        ms, proc = run_proc([TURNS_TUI, "migrate", str(copy)])
        a_ms.append(ms)
        if i == 0:
            res.info["migrate_output"] = proc.stdout.decode()
            migrated = copy
        else:
            remove(copy)
        # b. in-process open_database
        copy = fresh_copy(src, "b")
        ms, opened = timed(lambda p=copy: open_database(str(p)))
        b_ms.append(ms)
        if i == 0:
            res.info["in_process_report"] = {
                "schema_before": str(opened.schema_before),
                "schema_after": str(opened.schema_after),
                "steps": list(opened.report.steps),
                "backfilled_runtime_key": opened.report.backfilled_runtime_key,
                "backfilled_inference_id": opened.report.backfilled_inference_id,
                "unknown_runtime_turns": opened.report.unknown_runtime_turns,
            }
        remove(copy)
        # c. pure SQL, whole process
        copy = fresh_copy(src, "c")
        ms, _ = run_proc([sys.executable, "-c", PURE_SQL, str(copy)])
        c_ms.append(ms)
        if i == 0 and migrated is not None:
            same = turns_table(migrated) == turns_table(copy)
            res.check(
                "equivalence",
                "turns-tui migrate == pure SQL (runtime_key, inference_id per turn)",
                same,
                "" if same else "the two migrations disagree on some rows",
            )
        remove(copy)
        # c'. pure SQL in-process
        copy = fresh_copy(src, "ci")
        ms, _ = timed(lambda p=copy: pure_sql_migrate(str(p)))
        ci_ms.append(ms)
        remove(copy)
    res.add("a_migrate_proc", "a. turns-tui migrate (whole process)", "ms", a_ms)
    res.add("b_migrate_inproc", "b. open_database() in-process (migrate+backfill)", "ms", b_ms)
    res.add("c_puresql_proc", "c. pure-SQL bound, python -c subprocess", "ms", c_ms)
    res.add("c_puresql_inproc", "c. pure-SQL bound, in-process", "ms", ci_ms)
    res.add_ratio(
        "d_ratio_proc",
        "d. ratio a / c (whole process)",
        a_ms,
        c_ms,
        "<= 2.0",
        2.0,
        note="per-run ratios (a and c of the same run)",
    )
    res.add_ratio(
        "d_ratio_inproc",
        "d. ratio b / c (in-process)",
        b_ms,
        ci_ms,
    )
    assert migrated is not None
    return migrated


def pick_conversation(path: Path, exclude: str = "") -> tuple[str, int]:
    """The conversation with the most membership rows (the worst case for a dump), but
    `exclude` (the long agent conversation, kept apart so e stays comparable)."""
    c = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        conv, n = c.execute(
            "SELECT conv_id, COUNT(*) AS n FROM turn_block_membership WHERE conv_id != ? "
            "GROUP BY conv_id ORDER BY n DESC, conv_id LIMIT 1",
            (exclude,),
        ).fetchone()
    finally:
        c.close()
    return str(conv), int(n)


def bench_dump(migrated: Path, runs: int, res: Results, exclude: str = "") -> None:
    """e. dump one conversation of an already migrated file."""
    from tui.dump import build_dump
    from tui.store.sqlite_store import SqliteStore

    conv, rows = pick_conversation(migrated, exclude)
    res.info["dump_conversation"] = {"conv_id": conv, "membership_rows": rows}
    only: list[float] = []
    full: list[float] = []
    proc_ms: list[float] = []

    async def one() -> tuple[float, float, dict[str, Any]]:
        # A fresh store (and so a fresh reader) every time, as the CLI does.
        t0 = time.perf_counter()
        store = SqliteStore(str(migrated))
        opened = await store.open()
        t1 = time.perf_counter()
        try:
            out = await build_dump(opened, store, conv)
            t2 = time.perf_counter()
        finally:
            await store.close()
        t3 = time.perf_counter()
        return (t2 - t1) * 1000, (t3 - t0) * 1000, out

    for i in range(max(runs, 5)):
        gc.collect()
        dump_only, dump_full, out = asyncio.run(one())
        only.append(dump_only)
        full.append(dump_full)
        if i == 0:
            turns = len(out["conversations"][0]["turns"]) if out["conversations"] else 0
            res.info["dump_turns"] = turns
    for i in range(runs):
        ms, proc = run_proc([TURNS_TUI, "dump", str(migrated), "--conv", conv])
        proc_ms.append(ms)
        if i == 0:
            doc = json.loads(proc.stdout)
            res.info["dump_proc_bytes"] = len(proc.stdout)
            res.info["dump_proc_turns"] = len(doc["conversations"][0]["turns"])
    res.add("e_dump_only", "e. build_dump(conv) only, in-process", "ms", only, "< 50 ms", 50.0)
    res.add(
        "e_dump_open",
        "e. SqliteStore open+build_dump+close, in-process",
        "ms",
        full,
        "< 50 ms",
        50.0,
    )
    res.add("e_dump_proc", "e. turns-tui dump --conv (whole process)", "ms", proc_ms)


def bench_noop(migrated: Path, runs: int, res: Results) -> None:
    """f. second open of a migrated file: nothing may be written."""
    from tui.store.opener import open_database

    before = sha256(migrated)
    proc_ms: list[float] = []
    inproc_ms: list[float] = []
    modes: set[str] = set()
    for _ in range(runs):
        ms, proc = run_proc([TURNS_TUI, "migrate", str(migrated)])
        proc_ms.append(ms)
        res.info["noop_output"] = proc.stdout.decode()
        ms, opened = timed(lambda: open_database(str(migrated)))
        inproc_ms.append(ms)
        modes.add(opened.mode)
    after = sha256(migrated)
    res.add("f_noop_proc", "f. turns-tui migrate on migrated file (process)", "ms", proc_ms)
    res.add("f_noop_inproc", "f. open_database() on migrated file, in-process", "ms", inproc_ms)
    res.check(
        "f_unchanged",
        "f. migrated file bytes unchanged (sha256) by re-open",
        before == after and modes == {"none"},
        f"sha256 {before[:16]}... -> {after[:16]}...; modes seen: {sorted(modes)}",
    )


# --------------------------------------------------------------------------------------
# g: the Textual app (runs in a child process so its RSS is its own)
# --------------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """Peak RSS of this process image in MB (VmHWM).

    Not `ru_maxrss`: Linux carries the pre-exec address space's high-water mark into
    `ru_maxrss` across execve, so a child forked from a big parent reports the parent's RSS.
    """
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _count(widget: Any) -> int:
    for attr in ("row_count", "option_count"):
        if hasattr(widget, attr):
            return int(getattr(widget, attr))
    return len(getattr(widget, "children", ()))


def _fingerprint(widget: Any) -> tuple[Any, ...]:
    n = _count(widget)
    parts: list[Any] = [n]
    rows = getattr(widget, "ordered_rows", None)
    if n and rows:
        parts.append(tuple(str(r.key.value) for r in rows))
    if n and hasattr(widget, "get_row_at"):
        for i in {0, n // 2, n - 1}:
            with contextlib.suppress(Exception):
                parts.append(tuple(str(c) for c in widget.get_row_at(i)))
    elif n and hasattr(widget, "get_option_at_index"):
        for i in {0, n - 1}:
            with contextlib.suppress(Exception):
                o = widget.get_option_at_index(i)
                parts.append((o.id, str(o.prompt)))
    return tuple(parts)


_found: dict[str, tuple[Any, Any]] = {}


def _query(app: Any, selector: str) -> Any:
    """`selector` on the current screen, cached per screen (polling runs every 1 ms)."""
    screen = app.screen
    hit = _found.get(selector)
    if hit is not None and hit[0] is screen and hit[1].is_attached:
        return hit[1]
    for root in (screen, app):
        with contextlib.suppress(Exception):
            widget = root.query_one(selector)
            _found[selector] = (screen, widget)
            return widget
    return None


async def _until(pilot: Any, cond: Callable[[], bool], timeout: float) -> bool:  # noqa: ASYNC109
    """Poll `cond` every ~1 ms on the app's own event loop.

    `pilot.pause()` / `pilot.press()` are not used for timing: each calls Textual's
    `wait_for_idle`, which sleeps at least 20 ms (SLEEP_GRANULARITY) and keeps sleeping
    while the process is busy, so they cannot resolve a 50 ms target.
    """
    deadline = time.perf_counter() + timeout
    app = getattr(pilot, "app", None)
    while not cond():
        if time.perf_counter() > deadline:
            return False
        error = getattr(app, "_exception", None)
        if error is not None:  # the app crashed: run_test re-raises it on exit
            raise RuntimeError(f"the app raised {_describe_exc(error)}")
        await asyncio.sleep(0.001)
    return True


def _send_key(app: Any, key: str) -> None:
    """Deliver one key exactly as the headless driver does, without pilot's idle waits."""
    from textual import events

    char = key if len(key) == 1 else None
    event = events.Key(key, char)
    event.set_sender(app)
    app.post_message(event)


def _conv_at_cursor(convs: Any) -> str | None:
    with contextlib.suppress(Exception):
        from textual.coordinate import Coordinate

        return str(convs.coordinate_to_cell_key(Coordinate(convs.cursor_row, 0)).row_key.value)
    return None


def _shown_conv(app: Any) -> str | None:
    """The conversation the main screen says its timeline shows (app-specific, optional)."""
    view = getattr(app.screen, "view", None)
    return getattr(view, "conv_id", None)


async def _select_next(
    app: Any,
    pilot: Any,
    via_pilot: bool,
    timeout: float = 5.0,  # noqa: ASYNC109
) -> float | None:
    timeline = _query(app, "#timeline")
    convs = _query(app, "#conversations")
    before = _fingerprint(timeline)
    # "down", or "up" once the cursor sits on the last row (small data sets).
    key = "down"
    with contextlib.suppress(Exception):
        if convs.cursor_row >= _count(convs) - 1:
            key = "up"
    t = time.perf_counter()
    if via_pilot:
        await pilot.press(key)
    else:
        _send_key(app, key)

    def changed() -> bool:
        tl = _query(app, "#timeline")
        if tl is None or _count(tl) == 0 or _fingerprint(tl) == before:
            return False
        target = _conv_at_cursor(convs)
        shown = _shown_conv(app)
        return target is None or shown is None or shown == target

    if via_pilot:
        deadline = time.perf_counter() + timeout
        while not changed():
            if time.perf_counter() > deadline:
                return None
            await pilot.pause()
    elif not await _until(pilot, changed, timeout):
        return None
    return (time.perf_counter() - t) * 1000


async def goto_last_turn(
    app: Any,
    pilot: Any,
    conv_id: str,
    timeout: float = 60.0,  # noqa: ASYNC109
) -> None:
    """Select `conv_id` in #conversations and its last turn in #timeline (not timed)."""
    convs = _query(app, "#conversations")

    def listed() -> bool:
        shown = [s.conv_id for s in getattr(convs, "shown", ())]
        return conv_id in shown and _count(convs) > shown.index(conv_id)

    if not await _until(pilot, listed, timeout):
        raise RuntimeError(f"conversation {conv_id} is not listed")
    convs.focus()
    convs.move_cursor(row=[s.conv_id for s in convs.shown].index(conv_id), animate=False)

    def shown() -> bool:
        tl = _query(app, "#timeline")
        return _shown_conv(app) == conv_id and tl is not None and _count(tl) > 0

    if not await _until(pilot, shown, timeout):
        raise RuntimeError(f"the timeline never showed {conv_id}")
    timeline = _query(app, "#timeline")
    timeline.focus()
    timeline.move_cursor(row=_count(timeline) - 1, animate=False)  # the last turn
    await _settle(app, pilot)
    await pilot.pause()


async def _settle(app: Any, pilot: Any) -> None:
    """Let in-flight workers finish and their messages land before run_test tears down."""
    with contextlib.suppress(Exception):
        await app.workers.wait_for_complete()
    await pilot.pause()


def _describe_exc(exc: BaseException) -> str:
    """The exception and its innermost project frame (file:line in function)."""
    where = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if "/tui/" in frame.filename:
            where = f" at {Path(frame.filename).name}:{frame.lineno} in {frame.name}"
    return f"{type(exc).__name__}: {exc}{where}"


async def app_medium(path: str, selections: int, pilot_selections: int) -> dict[str, Any]:
    t_imp = time.perf_counter()
    from tui.app import make_app

    out: dict[str, Any] = {"import_ms": (time.perf_counter() - t_imp) * 1000}
    t0 = time.perf_counter()
    app = make_app(path)
    measured = False
    try:
        async with app.run_test(size=(160, 48)) as pilot:

            def timeline_ready() -> bool:
                tl = _query(app, "#timeline")
                return tl is not None and _count(tl) > 0

            if not await _until(pilot, timeline_ready, 30.0):
                raise RuntimeError("#timeline never got rows within 30 s")
            out["first_timeline_ms"] = (time.perf_counter() - t0) * 1000
            convs = _query(app, "#conversations")
            if convs is None:
                raise RuntimeError("no #conversations widget on the main screen")
            out["conversation_rows"] = _count(convs)
            out["timeline_rows"] = _count(_query(app, "#timeline"))
            convs.focus()
            await pilot.pause()
            notes: list[str] = []
            for via_pilot, key, count in (
                (False, "select_ms", selections),
                (True, "select_pilot_ms", pilot_selections),
            ):
                times: list[float] = []
                for _ in range(count):
                    ms = await _select_next(app, pilot, via_pilot)
                    if ms is None:
                        notes.append("a cursor move did not change #timeline within 5 s")
                        break
                    times.append(ms)
                    await pilot.pause()  # settle (not timed)
                out[key] = times
            out["notes"] = notes
            measured = True
            await _settle(app, pilot)
    except Exception as exc:
        if not measured:
            raise
        # The figures were taken; an error while the app shuts down is reported apart.
        out["teardown_error"] = _describe_exc(exc)
    out["rss_mb"] = peak_rss_mb()
    return out


async def app_big(
    path: str, needle: str, expected_total: int, expected_match: int, lag: bool = False
) -> dict[str, Any]:
    """With `lag`, the loop-lag probe runs from the `/` key until the list is filtered
    (`out["filter_lag"]`)."""
    from tui.app import make_app

    out: dict[str, Any] = {}
    probe = LagProbe()
    t0 = time.perf_counter()
    app = make_app(path)
    measured = False
    try:
        async with app.run_test(size=(160, 48)) as pilot:

            def first_rows() -> bool:
                w = _query(app, "#conversations")
                return w is not None and _count(w) > 0

            def full() -> bool:
                w = _query(app, "#conversations")
                return w is not None and _count(w) >= expected_total

            await _until(pilot, first_rows, 60.0)
            out["first_rows_ms"] = (time.perf_counter() - t0) * 1000
            ok = await _until(pilot, full, 60.0)
            out["fill_ms"] = (time.perf_counter() - t0) * 1000
            w = _query(app, "#conversations")
            out["rows_after_fill"] = _count(w) if w is not None else None
            if not ok:
                raise RuntimeError(
                    f"#conversations reached {out['rows_after_fill']} of {expected_total} rows"
                )
            await pilot.pause()
            if lag:
                probe.start()
            t = time.perf_counter()
            _send_key(app, "slash")

            def filter_focused() -> bool:
                f = _query(app, "#filter")
                return f is None or app.focused is f

            if not await _until(pilot, filter_focused, 5.0):
                raise RuntimeError("'/' did not focus #filter within 5 s")
            out["filter_focus_ms"] = (time.perf_counter() - t) * 1000
            for key in needle:
                _send_key(app, key)

            def filtered() -> bool:
                w = _query(app, "#conversations")
                f = _query(app, "#filter")
                typed = f is None or getattr(f, "value", needle) == needle
                return w is not None and typed and _count(w) == expected_match

            ok = await _until(pilot, filtered, 20.0)
            out["filter_ms"] = (time.perf_counter() - t) * 1000
            if lag:
                out["filter_lag"] = await probe.stop()
            w = _query(app, "#conversations")
            out["rows_after_filter"] = _count(w) if w is not None else None
            if not ok:
                f = _query(app, "#filter")
                raise RuntimeError(
                    f"after '/{needle}' #conversations shows {out['rows_after_filter']} rows, "
                    f"expected {expected_match} (tui.domain.matches_filter); "
                    f"#filter value {getattr(f, 'value', None)!r}"
                )
            measured = True
            await _settle(app, pilot)
    except Exception as exc:
        if not measured:
            raise
        # The figures were taken; an error while the app shuts down is reported apart.
        out["teardown_error"] = _describe_exc(exc)
    out["rss_mb"] = peak_rss_mb()
    return out


class LagProbe:
    """The longest event-loop stall: a task sleeps 1 ms in a loop and keeps the largest gap
    between two wake-ups (so an idle loop reads ~1.1 ms, a 40 ms stall ~41 ms)."""

    def __init__(self) -> None:
        self.gaps: list[tuple[float, float]] = []  # (gap ms, at ms since start), largest kept
        self.wakeups = 0
        self._task: asyncio.Task[None] | None = None
        self._t0 = 0.0
        self._last = 0.0

    def _note(self, now: float) -> None:
        gap = (now - self._last) * 1000
        at = (self._last - self._t0) * 1000
        self.gaps.append((gap, at))
        if len(self.gaps) > 64:
            self.gaps.sort(reverse=True)
            del self.gaps[5:]
        self._last = now

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(0.001)
            self.wakeups += 1
            self._note(time.perf_counter())

    def start(self) -> None:
        self.gaps = []
        self.wakeups = 0
        self._t0 = self._last = time.perf_counter()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> dict[str, Any]:
        """Stop; the gap still open when stopped counts too."""
        now = time.perf_counter()
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._note(now)
        self.gaps.sort(reverse=True)
        top = self.gaps[:5]
        return {
            "max_gap_ms": top[0][0] if top else 0.0,
            "top_gaps": [{"gap_ms": round(g, 2), "at_ms": round(a, 1)} for g, a in top],
            "wakeups": self.wakeups,
            "window_ms": (now - self._t0) * 1000,
        }


def _is_detail(screen: Any) -> bool:
    return type(screen).__name__ == "TurnDetailScreen"


async def app_lag(path: str, long_conv: str, long_blocks: int) -> dict[str, Any]:
    """h. Loop lag while (i) the app opens `path` and paints its first timeline and (ii) it
    opens the turn detail of the last turn of `long_conv` (~`long_blocks` blocks)."""
    from tui.app import make_app
    from tui.widgets.detail_sections import MAX_BLOCKS

    out: dict[str, Any] = {}
    probe = LagProbe()
    app = make_app(path)
    measured = False
    try:
        t0 = time.perf_counter()
        probe.start()
        async with app.run_test(size=(160, 48)) as pilot:

            def timeline_ready() -> bool:
                tl = _query(app, "#timeline")
                return tl is not None and _count(tl) > 0

            if not await _until(pilot, timeline_ready, 60.0):
                raise RuntimeError("#timeline never got rows within 60 s")
            out["first_timeline_ms"] = (time.perf_counter() - t0) * 1000
            await pilot.pause()  # the paint of that first frame, still probed
            out["open"] = await probe.stop()
            opened = getattr(app, "opened", None)
            out["open_mode"] = str(getattr(opened, "mode", "?"))

            # Go to the long conversation (listed last) without timing it.
            await goto_last_turn(app, pilot, long_conv, timeout=30.0)

            def detail_shown() -> bool:
                screen = app.screen
                if not _is_detail(screen):
                    return False
                detail = getattr(screen, "detail", None)
                if detail is None or not getattr(screen, "loaded", False):
                    return False
                # the blocks are sections of one virtualised view (#detail-scroll)
                sections = getattr(screen.view, "sections", ())
                blocks = sum(1 for s in sections if getattr(s, "block", None) is not None)
                return bool(sections) and blocks >= min(len(detail.blocks), MAX_BLOCKS)

            probe.start()
            t = time.perf_counter()
            _send_key(app, "enter")
            if not await _until(pilot, detail_shown, 30.0):
                raise RuntimeError("the turn detail never showed its blocks within 30 s")
            out["detail_ms"] = (time.perf_counter() - t) * 1000
            await pilot.pause()  # layout and paint of the blocks, still probed
            out["detail"] = await probe.stop()
            out["detail_blocks"] = len(app.screen.detail.blocks)
            measured = True
            await _settle(app, pilot)
    except Exception as exc:
        if not measured:
            raise
        out["teardown_error"] = _describe_exc(exc)
    out["rss_mb"] = peak_rss_mb()
    return out


async def app_first(path: str, read_only: bool) -> dict[str, Any]:
    """j. Time from make_app to a timeline with rows, read-only or in place."""
    from tui.app import make_app

    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    app = make_app(path, read_only=read_only)
    measured = False
    try:
        async with app.run_test(size=(160, 48)) as pilot:

            def timeline_ready() -> bool:
                tl = _query(app, "#timeline")
                return tl is not None and _count(tl) > 0

            if not await _until(pilot, timeline_ready, 60.0):
                raise RuntimeError("#timeline never got rows within 60 s")
            out["first_timeline_ms"] = (time.perf_counter() - t0) * 1000
            opened = getattr(app, "opened", None)
            out["open_mode"] = str(getattr(opened, "mode", "?"))
            out["read_only"] = bool(getattr(opened, "read_only", False))
            measured = True
            await _settle(app, pilot)
    except Exception as exc:
        if not measured:
            raise
        out["teardown_error"] = _describe_exc(exc)
    out["rss_mb"] = peak_rss_mb()
    return out


def app_child(spec: dict[str, Any]) -> None:
    """Entry point of the child process (`bench.py --app-child JSON`)."""
    try:
        if spec["kind"] == "medium":
            out = asyncio.run(
                app_medium(spec["path"], spec["selections"], spec["pilot_selections"])
            )
        elif spec["kind"] == "lag":
            out = asyncio.run(app_lag(spec["path"], spec["long_conv"], spec["long_blocks"]))
        elif spec["kind"] == "first":
            out = asyncio.run(app_first(spec["path"], spec["read_only"]))
        else:
            out = asyncio.run(app_big(spec["path"], spec["needle"], spec["total"], spec["match"]))
        out["ok"] = True
    except BaseException as exc:  # report everything, the parent prints it
        out = {
            "ok": False,
            "error": _describe_exc(exc),
            "traceback": traceback.format_exc(limit=40),
            "rss_mb": peak_rss_mb(),
        }
    sys.stdout.write("\n" + APP_MARK + json.dumps(out) + "\n")
    sys.stdout.flush()


class AppError(RuntimeError):
    """The app child failed; the message is one line, the traceback is kept apart."""

    def __init__(self, message: str, tb: str) -> None:
        super().__init__(message)
        self.tb = tb


def _child(
    spec: dict[str, Any], timeout: float = 180.0, script: Path | None = None
) -> dict[str, Any]:
    """Run `script` (default: this file) `--app-child SPEC` and return its result."""
    script = script or Path(__file__).resolve()
    proc = subprocess.run(
        [sys.executable, str(script), "--app-child", json.dumps(spec)],
        capture_output=True,
        timeout=timeout,
        check=False,
        cwd=str(ROOT),
    )
    text = proc.stdout.decode(errors="replace")
    for line in reversed(text.splitlines()):
        if line.startswith(APP_MARK):
            out: dict[str, Any] = json.loads(line[len(APP_MARK) :])
            if not out.get("ok"):
                raise AppError(out.get("error", "?"), out.get("traceback", ""))
            return out
    raise RuntimeError(
        f"app child exited {proc.returncode} without a result: "
        f"{proc.stderr.decode(errors='replace')[-2000:]}"
    )


def pick_needle(summaries: list[Any]) -> tuple[str, int]:
    """A 3-letter needle (letters a-f, so it only hits hex ids) matching 0.5-20% of rows."""
    from tui.domain import matches_filter

    total = len(summaries)
    letters = "abcdef"
    best: tuple[str, int] | None = None
    for a in letters:
        for b in letters:
            for c in letters:
                needle = a + b + c
                n = sum(1 for s in summaries if matches_filter(s, needle))
                if 0.005 * total <= n <= 0.2 * total:
                    return needle, n
                if best is None or n > best[1]:
                    best = (needle, n)
    assert best is not None
    return best


def bench_app(src: Path, big_convs: int, runs: int, pilot_selections: int, res: Results) -> None:
    """g. time to first timeline, selection latency, RSS; 10k-conversation list and filter."""
    try:
        import tui.app as app_mod
    except Exception as exc:  # noqa: BLE001
        res.skipped["g (app)"] = f"cannot import tui.app: {type(exc).__name__}: {exc}"
        return
    if not hasattr(app_mod, "make_app"):
        res.skipped["g (app)"] = "tui.app has no make_app"
        return
    first: list[float] = []
    sel: list[float] = []
    sel_pilot: list[float] = []
    rss: list[float] = []
    teardown: list[str] = []
    notes: list[str] = []
    try:
        for _ in range(runs):
            copy = fresh_copy(src, "g")
            try:
                out = _child(
                    {
                        "kind": "medium",
                        "path": str(copy),
                        "selections": 10,
                        "pilot_selections": pilot_selections,
                    }
                )
            finally:
                remove(copy)
            first.append(out["first_timeline_ms"])
            sel.extend(out["select_ms"])
            sel_pilot.extend(out["select_pilot_ms"])
            rss.append(out["rss_mb"])
            notes.extend(out.get("notes", []))
            if out.get("teardown_error"):
                teardown.append(out["teardown_error"])
            res.info["app_medium_last"] = {
                k: v for k, v in out.items() if not k.startswith("select")
            }
        res.add(
            "g_first_timeline",
            "g. make_app+run_test -> #timeline has rows (incl. migration)",
            "ms",
            first,
            "< 1.5 s",
            1500.0,
        )
        res.add(
            "g_select",
            "g. select next conversation -> #timeline updated",
            "ms",
            sel,
            "< 50 ms",
            50.0,
            note="; ".join(sorted(set(notes)))
            if notes
            else f"{len(sel)} selections pooled; key posted directly, 1 ms polling",
        )
        res.add(
            "g_select_pilot",
            "g. same via pilot.press + pilot.pause (harness floor)",
            "ms",
            sel_pilot,
            note="pilot.press/pause call wait_for_idle: >= 20-40 ms of harness sleep each",
        )
        res.add("g_rss", "g. app process peak RSS (medium db)", "MB", rss, "< 150 MB", 150.0)
    except Exception as exc:  # noqa: BLE001
        res.skipped["g (app, medium db)"] = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, AppError):
            res.info.setdefault("app_tracebacks", {})["g (app, medium db)"] = exc.tb
    # The big conversation list.
    try:
        from tui.store.sqlite_store import SqliteStore

        big_src, meta = dataset(big_convs, 3, tag="era2")
        res.info["big_dataset"] = describe(meta)
        print("  " + describe(meta), flush=True)
        base = fresh_copy(big_src, "big-gp26")

        async def listed() -> list[Any]:
            store = SqliteStore(str(base))  # migrate once: the list is measured on GP-26
            try:
                await store.open()
                return await store.conversations()
            finally:
                await store.close()

        summaries = asyncio.run(listed())
        needle, match = pick_needle(summaries)
        res.info["big_filter_needle"] = {"needle": needle, "expected_rows": match}
        first_rows: list[float] = []
        fill: list[float] = []
        filt: list[float] = []
        big_rss: list[float] = []
        try:
            for _ in range(runs):
                copy = fresh_copy(base, "big")
                try:
                    out = _child(
                        {
                            "kind": "big",
                            "path": str(copy),
                            "needle": needle,
                            "total": len(summaries),
                            "match": match,
                        }
                    )
                finally:
                    remove(copy)
                if out.get("teardown_error"):
                    teardown.append(out["teardown_error"])
                first_rows.append(out["first_rows_ms"])
                fill.append(out["fill_ms"])
                filt.append(out["filter_ms"])
                big_rss.append(out["rss_mb"])
        finally:
            remove(base)
        n = f"{len(summaries):,}"
        res.add("g_big_first", f"g. {n} conversations: first rows listed", "ms", first_rows)
        res.add("g_big_fill", f"g. {n} conversations: list filled (all rows)", "ms", fill)
        res.add(
            "g_big_filter",
            f"g. {n} conversations: '/' + '{needle}' -> list updated",
            "ms",
            filt,
            note=f"expected {match} rows (tui.domain.matches_filter)",
        )
        res.add("g_big_rss", f"g. app process peak RSS ({n} conversations)", "MB", big_rss)
    except Exception as exc:  # noqa: BLE001
        res.skipped["g (app, big list)"] = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, AppError):
            res.info.setdefault("app_tracebacks", {})["g (app, big list)"] = exc.tb
    if teardown:
        counts: dict[str, int] = {}
        for text in teardown:
            counts[text] = counts.get(text, 0) + 1
        res.info["app_teardown_errors"] = counts
        res.check(
            "g_teardown",
            "g. app shuts down without an exception",
            False,
            "; ".join(f"{n}x {text}" for text, n in counts.items()),
        )


# --------------------------------------------------------------------------------------
# h-k: loop lag, read-only (overlay) against in place, re-open under a writer's lock
# --------------------------------------------------------------------------------------


def _app_available(res: Results, part: str) -> bool:
    try:
        import tui.app as app_mod
    except Exception as exc:  # noqa: BLE001
        res.skipped[part] = f"cannot import tui.app: {type(exc).__name__}: {exc}"
        return False
    if not hasattr(app_mod, "make_app"):
        res.skipped[part] = "tui.app has no make_app"
        return False
    return True


def bench_lag(src: Path, meta: dict[str, Any], runs: int, res: Results) -> None:
    """h. Longest event-loop stall while the app opens the medium file (fresh pre-GP-26
    copy, so migration included) and while it opens the ~180-block turn detail."""
    part = "h (loop lag)"
    if not _app_available(res, part):
        return
    long_conv = meta["stats"].get("long_conv_id", "")
    long_blocks = int(meta["stats"].get("long_turn_blocks", 0))
    if not long_conv:
        res.skipped[part] = "the medium data set has no long conversation"
        return
    open_lag: list[float] = []
    detail_lag: list[float] = []
    detail_ms: list[float] = []
    tops: list[Any] = []
    blocks_seen: set[int] = set()
    teardown: list[str] = []
    try:
        for _ in range(runs):
            copy = fresh_copy(src, "h")
            try:
                out = _child(
                    {
                        "kind": "lag",
                        "path": str(copy),
                        "long_conv": long_conv,
                        "long_blocks": long_blocks,
                    }
                )
            finally:
                remove(copy)
            open_lag.append(out["open"]["max_gap_ms"])
            detail_lag.append(out["detail"]["max_gap_ms"])
            detail_ms.append(out["detail_ms"])
            blocks_seen.add(out["detail_blocks"])
            tops.append({"open": out["open"], "detail": out["detail"], "mode": out["open_mode"]})
            if out.get("teardown_error"):
                teardown.append(out["teardown_error"])
    except Exception as exc:  # noqa: BLE001
        res.skipped[part] = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, AppError):
            res.info.setdefault("app_tracebacks", {})[part] = exc.tb
        return
    res.info["lag_runs"] = tops
    res.add(
        "h_lag_open",
        "h. loop lag: open medium db -> first timeline painted (max gap)",
        "ms",
        open_lag,
        "< 50 ms",
        50.0,
        note="largest gap between 1 ms sleeps of a probe task on the app's loop, per run; "
        "fresh pre-GP-26 copy (migration in place included)",
    )
    res.add(
        "h_lag_detail",
        f"h. loop lag: open turn detail ({'/'.join(map(str, sorted(blocks_seen)))} blocks)",
        "ms",
        detail_lag,
        "< 50 ms",
        50.0,
        note="Enter on the last turn of the long conversation until its blocks are shown "
        "and the app is idle (painted)",
    )
    res.add(
        "h_detail_time",
        "h. open turn detail -> blocks shown",
        "ms",
        detail_ms,
    )
    if teardown:
        res.info.setdefault("lag_teardown_errors", teardown)


def _dump_proc(path: Path, read_only: bool) -> tuple[float, dict[str, Any], str]:
    args = [sys.executable, "-m", "tui", "dump", str(path)]
    if read_only:
        args.append("--read-only")
    ms, proc = run_proc(args)
    return ms, json.loads(proc.stdout), proc.stderr.decode(errors="replace")


def _strip(value: Any, drop: frozenset[str] = frozenset({"derived_in_memory"})) -> Any:
    """`value` without the keys in `drop`, at any depth."""
    if isinstance(value, dict):
        return {k: _strip(v, drop) for k, v in value.items() if k not in drop}
    if isinstance(value, list):
        return [_strip(v, drop) for v in value]
    return value


def bench_readonly_dump(src: Path, migrated: Path, runs: int, res: Results) -> Path:
    """i. `python -m tui dump PATH --read-only` of the pre-GP-26 file (in-memory overlay)
    against the in-place `dump` of the migrated copy of the same data; returns the
    read-only copy (reused by j, removed by the caller)."""
    ro = fresh_copy(src, "ro")
    before = sha256(ro)
    migrated_before = sha256(migrated)
    ro_ms: list[float] = []
    ip_ms: list[float] = []
    modes: set[str] = set()
    for i in range(runs):
        # Alternate the order so neither side always runs on a warmer cache.
        order = (True, False) if i % 2 == 0 else (False, True)
        docs: dict[bool, dict[str, Any]] = {}
        for read_only in order:
            ms, doc, _err = _dump_proc(ro if read_only else migrated, read_only)
            (ro_ms if read_only else ip_ms).append(ms)
            modes.add(f"{'read-only' if read_only else 'in place'}: {doc['database']['mode']}")
            docs[read_only] = doc
        if i == 0:
            # The overlay says its values are derived in memory; the migrated file stores
            # them: that flag is the one expected difference.
            same = _strip(docs[True]["conversations"]) == _strip(docs[False]["conversations"])
            res.info["readonly_dump_bytes"] = len(json.dumps(docs[True]))
            res.check(
                "i_same",
                "i. dump --read-only == in-place dump of the migrated copy (conversations)",
                same,
                "ignoring derived_in_memory"
                if same
                else "the overlay and the migrated file disagree (beyond derived_in_memory)",
            )
    after = sha256(ro)
    res.add("i_dump_ro", "i. python -m tui dump --read-only (pre-GP-26, process)", "ms", ro_ms)
    res.add("i_dump_ip", "i. python -m tui dump (migrated copy, process)", "ms", ip_ms)
    res.add_ratio(
        "i_ratio",
        "i. ratio read-only / in place (dump, whole file)",
        ro_ms,
        ip_ms,
        "<= 1.2",
        1.2,
        note="per-run ratios; whole file, every conversation",
    )
    res.check(
        "i_unchanged",
        "i. read-only dump wrote nothing, re-open of migrated file wrote nothing (sha256)",
        before == after and sha256(migrated) == migrated_before,
        f"modes seen: {sorted(modes)}",
    )
    return ro


def bench_readonly_app(src: Path, ro: Path, migrated: Path, runs: int, res: Results) -> None:
    """j. App first paint: read-only on the pre-GP-26 file (overlay) against in place on a
    fresh pre-GP-26 copy (migration included) and on the already migrated copy."""
    part = "j (app read-only)"
    if not _app_available(res, part):
        return
    ro_ms: list[float] = []
    mig_ms: list[float] = []
    done_ms: list[float] = []
    modes: set[str] = set()
    before = sha256(ro)
    try:
        for i in range(runs):
            kinds = ["ro", "migrate", "migrated"]
            kinds = kinds[i % 3 :] + kinds[: i % 3]  # rotate the order
            for kind in kinds:
                if kind == "migrate":
                    copy = fresh_copy(src, "j")
                    try:
                        out = _child({"kind": "first", "path": str(copy), "read_only": False})
                    finally:
                        remove(copy)
                    mig_ms.append(out["first_timeline_ms"])
                elif kind == "ro":
                    out = _child({"kind": "first", "path": str(ro), "read_only": True})
                    ro_ms.append(out["first_timeline_ms"])
                else:
                    out = _child({"kind": "first", "path": str(migrated), "read_only": False})
                    done_ms.append(out["first_timeline_ms"])
                modes.add(f"{kind}: {out['open_mode']}")
    except Exception as exc:  # noqa: BLE001
        res.skipped[part] = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, AppError):
            res.info.setdefault("app_tracebacks", {})[part] = exc.tb
        return
    res.add("j_first_ro", "j. app first timeline, --read-only (pre-GP-26, overlay)", "ms", ro_ms)
    res.add(
        "j_first_migrate", "j. app first timeline, in place (pre-GP-26: migrates)", "ms", mig_ms
    )
    res.add("j_first_migrated", "j. app first timeline, in place (already migrated)", "ms", done_ms)
    res.add_ratio(
        "j_ratio_migrated",
        "j. ratio read-only / in place (already migrated)",
        ro_ms,
        done_ms,
        "<= 1.2",
        1.2,
        note="per-run ratios; the same comparison as i, in the app",
    )
    res.add_ratio(
        "j_ratio_migrate",
        "j. ratio read-only / in place (migrating)",
        ro_ms,
        mig_ms,
    )
    res.check(
        "j_unchanged",
        "j. read-only app wrote nothing (sha256)",
        before == sha256(ro),
        f"modes seen: {sorted(modes)}",
    )


WRITER = r"""
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=0)
c.execute("BEGIN IMMEDIATE")
sys.stdout.write("locked\n")
sys.stdout.flush()
sys.stdin.read()  # hold the write lock until the parent closes our stdin
c.execute("ROLLBACK")
c.close()
"""


@contextlib.contextmanager
def writer_holding_lock(path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process inside `BEGIN IMMEDIATE` on `path` (pinocchio mid-save)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if line.strip() != "locked":
            err = proc.stderr.read() if proc.stderr else ""
            raise RuntimeError(f"the writer did not take the lock: {line!r} {err[-500:]}")
        yield proc
    finally:
        if proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def assert_locked(path: Path) -> None:
    """A second BEGIN IMMEDIATE must fail now: the writer really holds the write lock."""
    c = sqlite3.connect(str(path), isolation_level=None, timeout=0)
    try:
        try:
            c.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return
        c.execute("ROLLBACK")
    finally:
        c.close()
    raise RuntimeError("the writer process does not hold the write lock")


def bench_lock(convs: int, turns: int, runs: int, res: Results) -> None:
    """k. Re-open (dump) of a migrated era 1 file (turn_snapshots_legacy kept) while
    another process holds BEGIN IMMEDIATE on it, against the same without the writer."""
    from tui.dump import dump_store
    from tui.store.models import NoticeKind
    from tui.store.sqlite_store import SqliteStore

    era1_src, meta = dataset(convs, turns, tag="era1")
    res.info["era1_dataset"] = describe(meta)
    print("  " + describe(meta), flush=True)
    path = fresh_copy(era1_src, "era1")
    try:
        t = time.perf_counter()
        run_proc([TURNS_TUI, "migrate", str(path)])  # not timed: the file is migrated once
        res.info["era1_migrate_s"] = time.perf_counter() - t
        c = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master")}
            journal = c.execute("PRAGMA journal_mode").fetchone()[0]
        finally:
            c.close()
        res.info["era1_migrated"] = {"tables": sorted(tables), "journal_mode": journal}
        before = sha256(path)
        free_proc: list[float] = []
        held_proc: list[float] = []
        free_in: list[float] = []
        held_in: list[float] = []
        waits: list[float] = []
        notices: set[str] = set()
        modes: set[str] = set()

        async def in_process() -> tuple[float, Any]:
            store = SqliteStore(str(path))
            t0 = time.perf_counter()
            await dump_store(store)
            return (time.perf_counter() - t0) * 1000, store.opened

        def record(opened: Any) -> None:
            waits.append(opened.lock_wait_s)
            modes.add(str(opened.mode))
            notices.update(str(n.kind) for n in opened.notices if n.kind == NoticeKind.LOCK_WAIT)

        for i in range(runs):
            for held in (False, True) if i % 2 == 0 else (True, False):
                with contextlib.ExitStack() as stack:
                    if held:
                        stack.enter_context(writer_holding_lock(path))
                        assert_locked(path)
                    ms, doc, err = _dump_proc(path, read_only=False)
                    (held_proc if held else free_proc).append(ms)
                    if any("wait" in n.lower() for n in doc["database"]["notices"]):
                        notices.add("process: " + "; ".join(doc["database"]["notices"]))
                    gc.collect()
                    ms_in, opened = asyncio.run(in_process())
                    (held_in if held else free_in).append(ms_in)
                    record(opened)
        unchanged = sha256(path) == before
        timeout_ms = 5000.0
        res.add(
            "k_held_proc",
            "k. dump of migrated era 1 file, writer holds lock (process)",
            "ms",
            held_proc,
            "no wait (see check)",
        )
        res.add(
            "k_free_proc", "k. dump of migrated era 1 file, no writer (process)", "ms", free_proc
        )
        res.add_ratio(
            "k_ratio_proc",
            "k. ratio with writer / without (process)",
            held_proc,
            free_proc,
        )
        res.add("k_held_inproc", "k. dump_store, writer holds lock (in-process)", "ms", held_in)
        res.add("k_free_inproc", "k. dump_store, no writer (in-process)", "ms", free_in)
        res.add_ratio(
            "k_ratio_inproc",
            "k. ratio with writer / without (in-process)",
            held_in,
            free_in,
        )
        ok = (
            unchanged
            and not notices
            and max(waits, default=0.0) == 0.0
            and max(held_proc + held_in, default=0.0) < timeout_ms
        )
        res.check(
            "k_no_wait",
            "k. re-open under a writer's lock: succeeded, no lock wait, nothing written",
            ok,
            f"lock_wait_s max {max(waits, default=0.0):.3f}; lock-wait notices: "
            f"{sorted(notices) or 'none'}; modes {sorted(modes)}; bytes unchanged: {unchanged}",
        )
    finally:
        remove(path)


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }
    with contextlib.suppress(OSError):
        info["nproc"] = int(subprocess.check_output(["nproc"]).strip())
    with contextlib.suppress(OSError, ValueError):
        info["loadavg_at_start"] = os.getloadavg()
    with contextlib.suppress(Exception):
        import textual

        info["textual"] = textual.__version__
    return info


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--runs", type=int, default=None, help="runs per figure (default 5; 3 with --quick)"
    )
    p.add_argument("--convs", type=int, default=None, help="conversations (default 200)")
    p.add_argument("--turns", type=int, default=None, help="turns per conversation (default 30)")
    p.add_argument(
        "--big-convs",
        type=int,
        default=None,
        help="conversations of the big-list database (default 10000; 1000 with --quick)",
    )
    p.add_argument(
        "--app-runs",
        type=int,
        default=None,
        help="app processes per database in parts g, h, j (default --runs; 2 with --quick)",
    )
    p.add_argument(
        "--long-blocks",
        type=int,
        default=180,
        help="blocks of the last turn of the long conversation added to the medium db "
        "(part h; default 180)",
    )
    p.add_argument(
        "--era1",
        default=None,
        metavar="CxT",
        help="size of the era 1 file of part k (default 20x10; 10x5 with --quick)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="20 x 10 (+ the long conversation), 3 runs, 2 app runs: a smoke test",
    )
    p.add_argument(
        "--parts",
        default="abcdefghijk",
        help="which parts to run (a-d run together), e.g. --parts g or --parts hijk (default: all)",
    )
    p.add_argument(
        "--no-app", action="store_true", help="skip the app parts (g, h, j: the Textual app)"
    )
    p.add_argument("--json", metavar="PATH", help="write all figures as JSON")
    p.add_argument("--app-child", metavar="SPEC", help=argparse.SUPPRESS)
    p.add_argument(
        "--scale",
        choices=("medium", "large"),
        default="medium",
        help="medium (default): parts a-k on the medium db; large: the ~4 GiB file "
        "(benchmarks/large.py; its own defaults, see benchmarks/README.md)",
    )
    args = p.parse_args(argv)
    if args.scale == "large":
        return args  # large.main applies its own defaults
    if args.quick:
        args.runs = args.runs or 3
        args.convs = args.convs or 20
        args.turns = args.turns or 10
        args.big_convs = args.big_convs or 1000
        args.app_runs = args.app_runs or 2
        args.era1 = args.era1 or "10x5"
    args.era1 = args.era1 or "20x10"
    try:
        args.era1_convs, args.era1_turns = (int(x) for x in args.era1.lower().split("x"))
    except ValueError:
        p.error(f"--era1 wants CONVSxTURNS, got {args.era1!r}")
    args.runs = args.runs or 5
    args.app_runs = args.app_runs or args.runs
    args.convs = args.convs or 200
    args.turns = args.turns or 30
    args.big_convs = args.big_convs or 10000
    return args


@contextlib.contextmanager
def section(title: str) -> Iterator[None]:
    print(f"[{time.strftime('%H:%M:%S')}] {title} ...", flush=True)
    t = time.perf_counter()
    yield
    print(f"    done in {time.perf_counter() - t:.1f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.scale == "large":
        import large

        return large.main(args)
    if args.app_child:
        app_child(json.loads(args.app_child))
        return 0
    parts = set(args.parts.lower().replace("b", "a").replace("c", "a").replace("d", "a"))
    if args.no_app:
        parts -= {"g", "h", "j"}
    res = Results()
    res.info["machine"] = machine_info()
    res.info["params"] = {
        "runs": args.runs,
        "convs": args.convs,
        "turns": args.turns,
        "big_convs": args.big_convs,
        "app_runs": args.app_runs,
        "long_blocks": args.long_blocks,
        "era1": [args.era1_convs, args.era1_turns],
        "parts": args.parts,
        "quick": args.quick,
    }
    # An installed package has its bytecode compiled; a PYTHONDONTWRITEBYTECODE
    # environment (like this sandbox's) would otherwise recompile tui/ in every process.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "tui")], check=False)
    m = res.info["machine"]
    print(
        f"machine: nproc={m['nproc']} python={m['python']} sqlite={m['sqlite']} "
        f"textual={m.get('textual', '-')} load={m.get('loadavg_at_start')}"
    )
    with section(f"data set {args.convs} x {args.turns}"):
        src, meta = dataset(args.convs, args.turns, long_blocks=args.long_blocks)
    res.info["dataset"] = meta
    print("  " + describe(meta))
    if not meta.get("cached"):
        res.add(
            "gen_seconds",
            "generation of the era 2 data set",
            "s",
            [meta["stats"]["seconds"]],
            "< 30 s",
            30.0,
        )
    # Warm the page cache and the imports so run 1 is not special.
    with section("warm-up"):
        sha256(src)
        import tui.dump  # noqa: F401
        import tui.store.opener  # noqa: F401
        import tui.store.sqlite_store  # noqa: F401

        warm = fresh_copy(src, "warm")
        run_proc([TURNS_TUI, "migrate", str(warm)])
        if "a" in parts:
            remove(warm)
    try:
        migrated: Path | None = None
        if "a" in parts:
            with section(f"a-d: migration x {args.runs}"):
                migrated = bench_migration(src, args.runs, res)
        else:
            migrated = warm
        long_conv = meta["stats"].get("long_conv_id", "")
        if "e" in parts:
            with section("e: dump one conversation"):
                bench_dump(migrated, args.runs, res, exclude=long_conv)
        if "f" in parts:
            with section("f: re-open of a migrated file"):
                bench_noop(migrated, args.runs, res)
        ro: Path | None = None
        if "i" in parts:
            with section(f"i: dump --read-only against in place x {args.runs}"):
                ro = bench_readonly_dump(src, migrated, args.runs, res)
        if "j" in parts:
            with section(f"j: app first paint, read-only against in place x {args.app_runs}"):
                if ro is None:
                    ro = fresh_copy(src, "ro")
                bench_readonly_app(src, ro, migrated, args.app_runs, res)
        if ro is not None:
            remove(ro)
        remove(migrated)
        if "g" not in parts:
            res.skipped["g (app)"] = "--no-app" if args.no_app else "not in --parts"
        else:
            with section("g: the Textual app"):
                bench_app(src, args.big_convs, args.app_runs, 3 if args.quick else 10, res)
        if "h" in parts:
            with section(f"h: event-loop lag x {args.app_runs}"):
                bench_lag(src, meta, args.app_runs, res)
        if "k" in parts:
            with section(
                f"k: re-open of a migrated era 1 file under a writer's lock x {args.runs}"
            ):
                bench_lock(args.era1_convs, args.era1_turns, args.runs, res)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    with contextlib.suppress(OSError, ValueError):
        res.info["machine"]["loadavg_at_end"] = os.getloadavg()
    print()
    print_table(res)
    print()
    print_summary(res)
    if args.json:
        doc = {
            "info": res.info,
            "metrics": {k: m.to_json() for k, m in res.metrics.items()},
            "skipped": res.skipped,
        }
        Path(args.json).write_text(json.dumps(doc, indent=1, default=str))
        print(f"\nJSON written to {args.json}")
    print(f"total bench time {time.perf_counter() - T_START:.1f} s")
    failed = [m.label for m in res.metrics.values() if m.ok is False]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
