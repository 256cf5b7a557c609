"""Speed of the MySQL team store against the same data in a SQLite file (issue 10).

Run from the repository root:

    .venv/bin/python benchmarks/bench_mysql.py [--runs N] [--quick] [--json out.json]

It starts its own throwaway MariaDB (`tests/mysql_server.py`'s `MariaDb`, in a temporary
folder, on a free loopback port; always stopped, by its pid), loads the medium benchmark
data into it (a migrated copy of `bench.py`'s era 2 file, so both stores hold the same
GP-26 rows; not timed) and times the same reads on an open `MySqlStore` and an open
`SqliteStore`, in the same run. See benchmarks/mysql.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import gc
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import bench  # noqa: E402  (cheap: the standard library and gen.py)

TURNS_TUI = bench.TURNS_TUI
DATABASE = "turns"
RATIO_TARGET = 3.0
CHILD_MARK = "@@BENCH-MYSQL-CHILD@@"


# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------


@dataclass
class Pair:
    """One read timed on both stores: per run a MySQL and a SQLite sample (ms)."""

    key: str
    label: str
    mysql: list[float] = field(default_factory=list)
    sqlite: list[float] = field(default_factory=list)
    target: float | None = None  # ratio limit (median of the per-run ratios)

    @property
    def ratios(self) -> list[float]:
        return [m / s for m, s in zip(self.mysql, self.sqlite, strict=True) if s > 0]

    @property
    def ok(self) -> bool | None:
        if self.target is None or not self.ratios:
            return None
        return statistics.median(self.ratios) <= self.target

    def to_json(self) -> dict[str, Any]:
        def stats(xs: list[float]) -> dict[str, Any]:
            if not xs:
                return {"median": None, "min": None, "max": None, "values": []}
            return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "values": xs}

        return {
            "label": self.label,
            "unit": "ms",
            "mysql": stats(self.mysql),
            "sqlite": stats(self.sqlite),
            "ratio": stats(self.ratios),
            "target": f"<= {self.target:g}x" if self.target is not None else None,
            "pass": self.ok,
        }


def _ms(v: float | None) -> str:
    if v is None or v != v:
        return "-"
    return f"{v:,.1f} ms" if v < 100 else f"{v:,.0f} ms"


def _spread(xs: list[float], fmt: Callable[[float], str] = _ms) -> str:
    if not xs:
        return "-"
    return f"{fmt(statistics.median(xs))} ({fmt(min(xs))}-{fmt(max(xs))})"


def print_table(pairs: list[Pair], rss: dict[str, list[float]]) -> None:
    print("| measure | MySQL median (min-max) | SQLite median (min-max) | ratio | target |")
    print("| --- | --- | --- | --- | --- |")
    for p in pairs:
        ratio = f"{statistics.median(p.ratios):.2f}x" if p.ratios else "-"
        target = "info" if p.target is None else f"<= {p.target:g}x"
        if p.ok is not None:
            target += " ✓" if p.ok else " ✗"
        print(f"| {p.label} | {_spread(p.mysql)} | {_spread(p.sqlite)} | {ratio} | {target} |")
    mb = lambda v: f"{v:,.0f} MB"  # noqa: E731
    if rss.get("mysql") and rss.get("sqlite"):
        ratios = [m / s for m, s in zip(rss["mysql"], rss["sqlite"], strict=True)]
        print(
            f"| peak RSS of a child doing the reads (VmHWM) | {_spread(rss['mysql'], mb)} | "
            f"{_spread(rss['sqlite'], mb)} | {statistics.median(ratios):.2f}x | info |"
        )
    if rss.get("server_after_load"):
        after = rss.get("server_after_reads") or []
        print(
            f"| mariadbd RSS (VmRSS) after the load / after the reads | "
            f"{mb(rss['server_after_load'][0])} / {mb(after[0]) if after else '-'} | - | - | "
            "info |"
        )


# --------------------------------------------------------------------------------------
# Machine, data, server
# --------------------------------------------------------------------------------------


def vm(pid: int | str, field_name: str) -> float:
    """A /proc/PID/status memory field (VmRSS, VmHWM) in MB; 0 when unreadable."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1]) / 1024
    return 0.0


def m_load(info: dict[str, Any]) -> list[float]:
    return list(info["machine"].get("loadavg_at_start") or [])


def loadavg() -> list[float]:
    with contextlib.suppress(OSError):
        return [round(x, 2) for x in os.getloadavg()]
    return []


@dataclass
class Picks:
    """What the reads read: conversations and a snapshot of the migrated SQLite file."""

    long_conv: str
    long_rows: int
    long_turns: int
    typical_conv: str
    typical_rows: int
    typical_turns: int
    snapshot: tuple[str, str, str, str, int]
    snapshot_blocks: int
    conversations: int


def pick(path: Path, long_conv: str = "") -> Picks:
    """The conversation with the most membership rows, a typical one (the median by
    membership rows), and the largest snapshot of the long one."""
    c = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        per_conv = c.execute(
            "SELECT m.conv_id, COUNT(*) AS n, "
            "(SELECT COUNT(*) FROM turns t WHERE t.conv_id = m.conv_id) "
            "FROM turn_block_membership m GROUP BY m.conv_id ORDER BY n DESC, m.conv_id"
        ).fetchall()
        big = per_conv[0]
        if long_conv and long_conv != big[0]:
            big = next((r for r in per_conv if r[0] == long_conv), big)
        rest = sorted((r for r in per_conv if r[0] != big[0]), key=lambda r: (r[1], r[0]))
        typical = rest[len(rest) // 2] if rest else big
        snap = c.execute(
            "SELECT conv_id, session_id, turn_id, phase, snapshot_created_at_ms, COUNT(*) AS n "
            "FROM turn_block_membership WHERE conv_id = ? "
            "GROUP BY session_id, turn_id, phase, snapshot_created_at_ms "
            "ORDER BY n DESC, snapshot_created_at_ms DESC LIMIT 1",
            (big[0],),
        ).fetchone()
        convs = c.execute("SELECT COUNT(DISTINCT conv_id) FROM turns").fetchone()[0]
    finally:
        c.close()
    return Picks(
        str(big[0]),
        int(big[1]),
        int(big[2]),
        str(typical[0]),
        int(typical[1]),
        int(typical[2]),
        (str(snap[0]), str(snap[1]), str(snap[2]), str(snap[3]), int(snap[4])),
        int(snap[5]),
        int(convs),
    )


_servers: list[Any] = []


@atexit.register
def _stop_servers() -> None:  # a last resort: main's finally normally did it
    for server in _servers:
        with contextlib.suppress(Exception):
            server.cleanup()


def start_server(buffer_pool_mb: int) -> Any:
    """A throwaway MariaDB with the test users, its InnoDB buffer pool resized to
    `buffer_pool_mb` (the test server starts with 64 MB, below both servers' default of
    128 MB, and then the index's working set no longer fits: pages are re-read on every
    call)."""
    from tests.mysql_server import MariaDb

    folder = Path(tempfile.mkdtemp(prefix="ttbm-"))
    server = MariaDb(folder)
    _servers.append(server)
    server.start()
    server.create_users()
    if buffer_pool_mb:
        server.execute(f"SET GLOBAL innodb_buffer_pool_size = {int(buffer_pool_mb)} * 1048576")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the resize runs in the background
            rows = server.query("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_resize_status'")
            status = str(rows[0][1]) if rows else ""
            if not status or "omplete" in status or "not" in status.lower():
                break
            time.sleep(0.2)
    return server


def load(server: Any, path: Path) -> tuple[float, dict[str, int]]:
    server.create_store(DATABASE)
    last = [0.0]
    started = time.perf_counter()

    def progress(table: str, rows: int) -> None:
        now = time.perf_counter()
        if now - last[0] >= 5:
            last[0] = now
            print(f"    {now - started:5.0f} s  {table}: {rows:,} rows", flush=True)

    counts = server.load_sqlite(DATABASE, path, progress=progress)
    return time.perf_counter() - started, counts


# --------------------------------------------------------------------------------------
# In-process reads: both stores open, the same calls, alternating which goes first
# --------------------------------------------------------------------------------------


async def _timed(call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    gc.collect()  # not timed: every sample starts from the same heap state
    t = time.perf_counter()
    out = await call()
    return (time.perf_counter() - t) * 1000.0, out


async def measure(
    dsn: str, path: Path, picks: Picks, runs: int
) -> tuple[list[Pair], dict[str, Any]]:
    from tui.store.dsn import parse_dsn
    from tui.store.mysql_store import MySqlStore
    from tui.store.sqlite_store import SqliteStore

    def make(kind: str) -> Any:
        return MySqlStore(parse_dsn(dsn)) if kind == "mysql" else SqliteStore(str(path))

    pairs = {
        "open": Pair("open", "open() of a fresh store (connect, schema check, overlay scan)"),
        "index": Pair(
            "index",
            f"conversation index: conversations() ({picks.conversations} conversations)",
            target=RATIO_TARGET,
        ),
        "long": Pair(
            "long",
            f"timeline: conversation() of the biggest ({picks.long_turns} turns, "
            f"{picks.long_rows:,} membership rows)",
            target=RATIO_TARGET,
        ),
        "typical": Pair(
            "typical",
            f"timeline: conversation() of a typical one ({picks.typical_turns} turns, "
            f"{picks.typical_rows:,} membership rows)",
            target=RATIO_TARGET,
        ),
        "snapshot": Pair(
            "snapshot", f"snapshot() of the largest snapshot ({picks.snapshot_blocks} blocks)"
        ),
        "token": Pair("token", "change_token()"),
    }
    stores = {kind: make(kind) for kind in ("mysql", "sqlite")}
    for store in stores.values():
        await store.open()
    calls: dict[str, Callable[[Any], Callable[[], Awaitable[Any]]]] = {
        "index": lambda s: s.conversations,
        "long": lambda s: lambda: s.conversation(picks.long_conv),
        "typical": lambda s: lambda: s.conversation(picks.typical_conv),
        "snapshot": lambda s: lambda: s.snapshot(*picks.snapshot),
        "token": lambda s: s.change_token,
    }
    checks: dict[str, Any] = {}
    try:
        # One untimed pass on each side (caches, buffer pool, page cache, imports).
        for kind, store in stores.items():
            for key, call in calls.items():
                out = await call(store)()
                if key == "index":
                    checks[f"{kind}_conversations"] = len(out)
                elif key in ("long", "typical"):
                    checks[f"{kind}_{key}_turns"] = len(out.turns)
                elif key == "snapshot":
                    checks[f"{kind}_snapshot_blocks"] = len(out.blocks) if out else 0
            fresh = make(kind)
            await fresh.open()
            await fresh.close()
        for run in range(runs):
            order = ("mysql", "sqlite") if run % 2 == 0 else ("sqlite", "mysql")
            for kind in order:  # open: a fresh store each time, closed untimed
                fresh = make(kind)
                ms, _ = await _timed(fresh.open)
                await fresh.close()
                getattr(pairs["open"], kind).append(ms)
            for key, call in calls.items():
                for kind in order:
                    ms, _ = await _timed(call(stores[kind]))
                    getattr(pairs[key], kind).append(ms)
            print(
                f"    run {run + 1}/{runs}: "
                + ", ".join(
                    f"{key} {p.mysql[-1]:.1f}/{p.sqlite[-1]:.1f}" for key, p in pairs.items()
                )
                + " ms (MySQL/SQLite)",
                flush=True,
            )
    finally:
        for store in stores.values():
            await store.close()
    return list(pairs.values()), checks


# --------------------------------------------------------------------------------------
# Whole processes: dump, and the peak RSS of a child doing the reads
# --------------------------------------------------------------------------------------


def dump_args(kind: str, dsn: str, path: Path, conv: str) -> list[str]:
    if kind == "mysql":
        return [TURNS_TUI, "dump", "--turns-dsn", dsn, "--conv", conv]
    return [TURNS_TUI, "dump", str(path), "--conv", conv]


def bench_dump(dsn: str, path: Path, conv: str, runs: int) -> tuple[Pair, bool]:
    pair = Pair("dump", "`turns-tui dump --conv` of the biggest, whole process")
    outs: dict[str, Any] = {}
    for run in range(runs + 1):  # run 0: untimed warm-up (and the equality check)
        order = ("mysql", "sqlite") if run % 2 == 0 else ("sqlite", "mysql")
        for kind in order:
            ms, proc = bench.run_proc(dump_args(kind, dsn, path, conv))
            if run == 0:
                outs[kind] = json.loads(proc.stdout)["conversations"]
            else:
                getattr(pair, kind).append(ms)
    return pair, outs["mysql"] == outs["sqlite"]


def child_main(spec: dict[str, Any]) -> None:
    """The reads of one store in this process; prints its peak RSS (VmHWM)."""

    async def reads() -> None:
        from tui.store.dsn import parse_dsn
        from tui.store.mysql_store import MySqlStore
        from tui.store.sqlite_store import SqliteStore

        store: Any = (
            MySqlStore(parse_dsn(spec["dsn"]))
            if spec["kind"] == "mysql"
            else SqliteStore(spec["path"])
        )
        await store.open()
        try:
            await store.conversations()
            await store.conversation(spec["long"])
            await store.conversation(spec["typical"])
            await store.snapshot(*spec["snapshot"])
            await store.change_token()
        finally:
            await store.close()

    import tui.store.mysql_store  # noqa: F401
    import tui.store.sqlite_store  # noqa: F401

    imported = vm("self", "VmHWM")
    asyncio.run(reads())
    print(CHILD_MARK + json.dumps({"peak_mb": vm("self", "VmHWM"), "imports_mb": imported}))


def bench_rss(dsn: str, path: Path, picks: Picks, runs: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {
        "mysql": [],
        "sqlite": [],
        "mysql_imports": [],
        "sqlite_imports": [],
    }
    for run in range(runs):
        order = ("mysql", "sqlite") if run % 2 == 0 else ("sqlite", "mysql")
        for kind in order:
            spec = {
                "kind": kind,
                "dsn": dsn,
                "path": str(path),
                "long": picks.long_conv,
                "typical": picks.typical_conv,
                "snapshot": list(picks.snapshot),
            }
            _, proc = bench.run_proc(
                [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
            )
            line = next(ln for ln in proc.stdout.decode().splitlines() if ln.startswith(CHILD_MARK))
            got = json.loads(line[len(CHILD_MARK) :])
            out[kind].append(got["peak_mb"])
            out[f"{kind}_imports"].append(got["imports_mb"])
    return out


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--runs", type=int, default=None, help="runs per figure (default 5; 3 with --quick)"
    )
    p.add_argument("--quick", action="store_true", help="3 runs")
    p.add_argument("--json", metavar="PATH", help="also write every figure as JSON")
    p.add_argument("--convs", type=int, default=200, help="conversations (default 200)")
    p.add_argument("--turns", type=int, default=30, help="turns per conversation (default 30)")
    p.add_argument(
        "--long-blocks",
        type=int,
        default=180,
        help="blocks of the long conversation's last turn (default 180)",
    )
    p.add_argument(
        "--buffer-pool-mb",
        type=int,
        default=128,
        help="the server's innodb_buffer_pool_size in MB (default 128, the default of "
        "MariaDB 10.11 and MySQL 8.4; 0 keeps the test server's 64 MB)",
    )
    p.add_argument(
        "--dsn",
        help="development: use this already loaded server instead of starting one "
        "(with --migrated, the same data as a migrated SQLite file)",
    )
    p.add_argument("--migrated", help="development: the migrated SQLite file --dsn holds")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.runs = args.runs or (3 if args.quick else 5)
    if bool(args.dsn) != bool(args.migrated):
        p.error("--dsn and --migrated go together")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        child_main(json.loads(args.child))
        return 0
    info: dict[str, Any] = {"machine": bench.machine_info(), "params": vars(args).copy()}
    info["params"].pop("child", None)
    with contextlib.suppress(TypeError, ValueError):
        info["machine"]["loadavg_at_start"] = [round(x, 2) for x in m_load(info)]
    m = info["machine"]
    print(
        f"machine: nproc={m['nproc']} python={m['python']} sqlite={m['sqlite']} "
        f"load={m.get('loadavg_at_start')}",
        flush=True,
    )
    # An installed package has its bytecode compiled; PYTHONDONTWRITEBYTECODE would
    # otherwise recompile tui/ in every child process.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "tui")], check=False)
    server: Any = None
    copy: Path | None = None
    started = time.perf_counter()
    try:
        if args.dsn:
            dsn, copy_path = args.dsn, Path(args.migrated)
            info["dataset"] = {"migrated": str(copy_path), "reused_server": True}
            long_conv = ""
        else:
            with bench.section(f"data set {args.convs} x {args.turns}"):
                src, meta = bench.dataset(args.convs, args.turns, long_blocks=args.long_blocks)
            print("  " + bench.describe(meta), flush=True)
            info["dataset"] = meta
            long_conv = meta["stats"].get("long_conv_id", "")
            with bench.section("migrated copy (turns-tui migrate COPY; not timed)"):
                copy = bench.fresh_copy(src, "mysql")
                bench.run_proc([TURNS_TUI, "migrate", str(copy)])
            copy_path = copy
            with bench.section("MariaDB: start a throwaway server"):
                server = start_server(args.buffer_pool_mb)
            with bench.section("MariaDB: load the migrated copy (not timed)"):
                load_s, counts = load(server, copy_path)
            print(f"  loaded {counts} in {load_s:.1f} s", flush=True)
            info["load"] = {"seconds": load_s, "rows": counts}
            dsn = server.dsn(DATABASE)
        if server is not None:
            version, pool = server.query("SELECT VERSION(), @@innodb_buffer_pool_size")[0]
            info["server"] = {
                "version": str(version),
                "innodb_buffer_pool_mb": int(pool) / 1048576,
                "rss_after_load_mb": vm(server.proc.pid, "VmRSS"),
            }
            print(
                f"  server: {version}, buffer pool {int(pool) / 1048576:.0f} MB, "
                f"RSS {info['server']['rss_after_load_mb']:.0f} MB",
                flush=True,
            )
        with bench.section("picking conversations"):
            picks = pick(copy_path, long_conv)
        info["picks"] = vars(picks)
        print(
            f"  biggest {picks.long_conv} ({picks.long_turns} turns, {picks.long_rows:,} rows); "
            f"typical {picks.typical_conv} ({picks.typical_turns} turns, "
            f"{picks.typical_rows:,} rows); snapshot of {picks.snapshot_blocks} blocks",
            flush=True,
        )
        with bench.section(f"in-process reads x {args.runs}"):
            pairs, checks = asyncio.run(measure(dsn, copy_path, picks, args.runs))
        info["checks"] = checks
        with bench.section(f"dump processes x {args.runs}"):
            dump_pair, same = bench_dump(dsn, copy_path, picks.long_conv, args.runs)
        pairs.append(dump_pair)
        with bench.section(f"peak RSS of a reading child x {args.runs}"):
            rss = bench_rss(dsn, copy_path, picks, args.runs)
        if server is not None:
            rss["server_after_load"] = [info["server"]["rss_after_load_mb"]]
            rss["server_after_reads"] = [vm(server.proc.pid, "VmRSS")]
    finally:
        if server is not None:
            server.cleanup()
            _servers.remove(server)
        if copy is not None:
            bench.remove(copy)
            with contextlib.suppress(OSError):
                bench.WORK.rmdir()
    info["machine"]["loadavg_at_end"] = loadavg()
    info["seconds"] = time.perf_counter() - started
    same_reads = (
        checks.get("mysql_conversations") == checks.get("sqlite_conversations")
        and checks.get("mysql_long_turns") == checks.get("sqlite_long_turns")
        and checks.get("mysql_snapshot_blocks") == checks.get("sqlite_snapshot_blocks")
    )
    print()
    print_table(pairs, rss)
    print()
    print(f"- `dump --turns-dsn` equals `dump FILE` (conversations): {'yes' if same else 'NO'}")
    print(
        f"- the same counts on both sides (conversations, turns, blocks): "
        f"{'yes' if same_reads else 'NO'} {checks}"
    )
    if "load" in info:
        print(f"- load (not timed in the figures): {info['load']['seconds']:.1f} s")
    srv = info.get("server", {})
    print(
        f"\n(runs {args.runs}; {srv.get('version', 'reused server')}, buffer pool "
        f"{srv.get('innodb_buffer_pool_mb', '-')} MB; nproc {m['nproc']}, Python {m['python']}, "
        f"SQLite {m['sqlite']}, load {m.get('loadavg_at_start')} -> {m.get('loadavg_at_end')}; "
        f"{info['seconds']:.0f} s)"
    )
    failed = [p.label for p in pairs if p.ok is False]
    if not same or not same_reads:
        failed.append("equal results")
    if args.json:
        doc = {
            "figures": {p.key: p.to_json() for p in pairs},
            "rss_mb": rss,
            "dump_equal": same,
            "same_counts": same_reads,
            "info": info,
            "failed": failed,
        }
        Path(args.json).write_text(json.dumps(doc, indent=1, default=str))
    if failed:
        print("FAILED: " + "; ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
