"""`bench.py --scale large`: turns-tui on a ~4 GiB pre-GP-26 file (the scale issue).

    .venv/bin/python benchmarks/bench.py --scale large [--runs 3] [--quick] [--json out.json]

Every figure is a median over the runs, each beside its baseline measured in the same run:

a. the floor: a bare Textual app that paints one DataTable (child process), and the
   pure-SQL backfill bound on a fresh copy of the large file (in process and `python -c`);
b. the app's first painted timeline on a fresh pre-GP-26 copy (migration included) against
   bare + SQL bound, and the re-open of the migrated copy against bare;
c. the turn detail of the largest turn (~180 blocks) and of the turn holding the 5 MB block,
   from `enter` to painted, then `end` until the end of the detail is painted;
d. selecting the next conversation (`down` on #conversations) until its timeline shows;
e. a 3-key filter over 10,000 conversations (bench.py's `app_big`);

with the loop-lag probe and the peak RSS of every app child. See benchmarks/README.md,
"--scale large".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

T_MODULE = time.perf_counter()  # a child's interpreter is up (before the harness imports)
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench  # noqa: E402
import gen  # noqa: E402
from bench import (  # noqa: E402
    APP_MARK,
    DATA,
    ROOT,
    AppError,
    LagProbe,
    Results,
    _count,
    _describe_exc,
    _is_detail,
    _query,
    _select_next,
    _send_key,
    _settle,
    _until,
    peak_rss_mb,
    remove,
    timed,
)

WORK_LARGE = DATA / "work-large"  # not bench.py's work/: a medium run beside removes that
SIZE = (160, 48)
SCRIPT = Path(__file__).resolve()

# --------------------------------------------------------------------------------------
# Data (cached in bench-data/ with a JSON sidecar, as bench.dataset)
# --------------------------------------------------------------------------------------


def _progress(done: int, total: int, elapsed: float, db_bytes: int, stage: str) -> None:
    if stage == "rows":
        eta = elapsed / done * (total - done) if done else 0.0
        what = f"{done:,}/{total:,} conversations"
        tail = f"ETA {eta:,.0f} s (+ indexes)"
    else:
        what = f"index {stage}"
        tail = ""
    sys.stderr.write(
        f"\r  generating: {what}, {db_bytes / 1e6:,.0f} MB, {elapsed:,.0f} s elapsed {tail}".ljust(
            110
        )
    )
    sys.stderr.flush()


def large_dataset(
    convs: int, turns: int, seed: int = 26, big_block: int = gen.LARGE_BIG_BLOCK_BYTES
) -> tuple[Path, Path, dict[str, Any]]:
    """The cached large file and its timeline store; generated when missing or stale."""
    DATA.mkdir(exist_ok=True)
    stem = f"large-{convs}x{turns}-s{seed}"
    path = DATA / f"{stem}.sqlite"
    timeline = DATA / f"{stem}-timeline.sqlite"
    meta_path = DATA / f"{stem}.json"
    want = {
        "large_gen_version": gen.LARGE_GEN_VERSION,
        "convs": convs,
        "turns": turns,
        "seed": seed,
        "big_block_bytes": big_block,
    }
    for p in (path, timeline):
        wal = Path(str(p) + "-wal")
        if wal.exists() and wal.stat().st_size == 0:
            wal.unlink()
            Path(str(p) + "-shm").unlink(missing_ok=True)
    if path.exists() and timeline.exists() and meta_path.exists():
        with contextlib.suppress(ValueError, OSError):
            meta = json.loads(meta_path.read_text())
            s = meta.get("stats", {})
            if (
                meta.get("params") == want
                and s.get("bytes") == path.stat().st_size
                and s.get("timeline_bytes") == timeline.stat().st_size
                and not Path(str(path) + "-wal").exists()
            ):
                meta["cached"] = True
                return path, timeline, meta
    stats = gen.generate_large(
        str(path),
        str(timeline),
        convs,
        turns,
        seed,
        on_progress=_progress,
        big_block_bytes=big_block,
    )
    sys.stderr.write("\n")
    meta = {"params": want, "stats": dataclasses.asdict(stats)}
    meta_path.write_text(json.dumps(meta, indent=1))
    meta["cached"] = False
    return path, timeline, meta


def describe(meta: dict[str, Any]) -> str:
    s = meta["stats"]
    how = "cached" if meta.get("cached") else f"generated in {s['seconds']:.0f} s"
    return (
        f"{Path(s['path']).name}: {s['conversations']:,} conversations, {s['turns']:,} turns, "
        f"{s['blocks']:,} blocks ({s['payload_bytes'] / 1e6:,.0f} MB of payload), "
        f"{s['membership']:,} membership rows; last turns hold "
        f"{s['mean_last_turn_blocks']:.0f} blocks on average, the largest "
        f"{s['max_turn_blocks']}; {s['bytes'] / 2**30:.2f} GiB ({s['bytes'] / 1e6:,.0f} MB), "
        f"timeline store {s['timeline_bytes'] / 1e3:,.0f} kB ({how})"
    )


_seq = 0


def copy_large(src: Path, name: str) -> Path:
    """A private copy in bench-data/work-large/, flushed to disk (neither is timed)."""
    global _seq
    WORK_LARGE.mkdir(parents=True, exist_ok=True)
    _seq += 1
    dst = WORK_LARGE / f"{name}-{os.getpid()}-{_seq}.sqlite"
    remove(dst)
    done = subprocess.run(
        ["cp", "--reflink=auto", str(src), str(dst)], capture_output=True, check=False
    )
    if done.returncode != 0:
        shutil.copyfile(src, dst)
    fd = os.open(dst, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return dst


# --------------------------------------------------------------------------------------
# Child processes: "painted" is the first frame that redraws the widget while it holds
# what was asked for
# --------------------------------------------------------------------------------------


class PaintWatch:
    """Wraps `app._display`, which the screen calls with each compositor update (Textual's
    frame: every changed line already rendered through `render_line`). `arm(cond, widget)`
    records the time of the first frame that touches `widget`'s region while `cond()`
    holds. Headless, `_display` writes nothing; the frame is rendered all the same."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.cond: Callable[[], bool] | None = None
        self.widget: Callable[[], Any] | None = None
        self.hit: float | None = None
        self.frames = 0
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            if renderable is not None and not app._batch_count:
                self.frames += 1
                if self.cond is not None and self.hit is None:
                    with contextlib.suppress(Exception):
                        if self._touches(renderable) and self.cond():
                            self.hit = time.perf_counter()
            original(screen, renderable)

        app._display = display

    def _touches(self, update: Any) -> bool:
        widget = self.widget() if self.widget is not None else None
        if widget is None:
            return True
        r = widget.region
        if not r:
            return False
        if hasattr(update, "spans"):  # ChopsUpdate: (y, x1, x2) of changed runs
            return any(
                r.y <= y < r.y + r.height and x1 < r.x + r.width and x2 > r.x
                for y, x1, x2 in update.spans
            )
        region = getattr(update, "region", None)  # LayoutUpdate: a full redraw
        return region is None or bool(region.overlaps(r))

    def arm(self, cond: Callable[[], bool], widget: Callable[[], Any] | None = None) -> None:
        self.cond = cond
        self.widget = widget
        self.hit = None

    async def wait(self, pilot: Any, timeout: float, what: str) -> float:  # noqa: ASYNC109
        if not await _until(pilot, lambda: self.hit is not None, timeout):
            raise RuntimeError(f"{what} was not painted within {timeout:.0f} s")
        assert self.hit is not None
        return self.hit


async def bare_app(t_spawn: float) -> dict[str, Any]:
    """The floor: a Textual app that mounts one DataTable with 30 rows, until painted."""
    t_imp = time.perf_counter()
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable(id="table")

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns("conversation", "runtime", "turns", "last activity")
            table.add_rows(
                (f"{i:08x}-7c1e-4b0a-9f3d-2a6c5e8b1d40", "planner", str(28 + i), "2026-02-14")
                for i in range(30)
            )

    out: dict[str, Any] = {"import_ms": (time.perf_counter() - t_imp) * 1000}
    t0 = time.perf_counter()
    app = Bare()
    watch = PaintWatch(app)
    watch.arm(lambda: app.query_one(DataTable).row_count > 0, lambda: app.query_one(DataTable))
    async with app.run_test(size=SIZE) as pilot:
        hit = await watch.wait(pilot, 30.0, "the DataTable")
        out["paint_ms"] = (hit - t0) * 1000
        out["proc_ms"] = (hit - t_spawn) * 1000
    out["rss_mb"] = peak_rss_mb()
    return out


def _timeline_ready(app: Any) -> bool:
    tl = _query(app, "#timeline")
    return tl is not None and _count(tl) > 0


async def _open(
    spec: dict[str, Any], t_spawn: float, probe: LagProbe
) -> tuple[Any, Any, dict[str, Any], Any]:
    """make_app + run_test until #timeline is painted with rows; returns (app, pilot
    context, figures, watch). The probe runs from make_app until the app is idle."""
    t_imp = time.perf_counter()
    from tui.app import make_app

    out: dict[str, Any] = {"import_ms": (time.perf_counter() - t_imp) * 1000}
    t0 = time.perf_counter()
    probe.start()
    app = make_app(spec["path"], timeline_db=spec.get("timeline"))
    watch = PaintWatch(app)
    watch.arm(lambda: _timeline_ready(app), lambda: _query(app, "#timeline"))
    ctx = app.run_test(size=SIZE)
    pilot = await ctx.__aenter__()
    try:
        if not await _until(pilot, lambda: _timeline_ready(app), 300.0):
            raise RuntimeError("#timeline never got rows within 300 s")
        out["rows_ms"] = (time.perf_counter() - t0) * 1000
        hit = await watch.wait(pilot, 30.0, "#timeline")
        out["paint_ms"] = (hit - t0) * 1000
        out["proc_ms"] = (hit - t_spawn) * 1000
        await pilot.pause()  # until idle, still probed
        out["open_lag"] = await probe.stop()
        out["idle_ms"] = (time.perf_counter() - t0) * 1000
        opened = getattr(app, "opened", None)
        out["open_mode"] = str(getattr(opened, "mode", "?"))
        convs = _query(app, "#conversations")
        out["conversation_rows"] = _count(convs) if convs is not None else None
    except BaseException:
        await ctx.__aexit__(*sys.exc_info())
        raise
    return app, (ctx, pilot), out, watch


async def _close(ctx: Any, app: Any, out: dict[str, Any]) -> None:
    context, pilot = ctx
    try:
        await _settle(app, pilot)
        await context.__aexit__(None, None, None)
    except Exception as exc:  # the figures were taken; a shutdown error is reported apart
        out["teardown_error"] = _describe_exc(exc)


async def app_open(spec: dict[str, Any], t_spawn: float) -> dict[str, Any]:
    """b. first open (fresh pre-GP-26 copy) or re-open (migrated copy)."""
    probe = LagProbe()
    app, ctx, out, _watch = await _open(spec, t_spawn, probe)
    await _close(ctx, app, out)
    out["rss_mb"] = peak_rss_mb()
    return out


def _detail_painted(app: Any) -> bool:
    """The turn detail shows the blocks of its snapshot (sections of its one view)."""
    from tui.widgets.detail_sections import MAX_BLOCKS

    screen = app.screen
    if not _is_detail(screen) or not getattr(screen, "loaded", False):
        return False
    detail = getattr(screen, "detail", None)
    if detail is None:
        return False
    sections = getattr(screen.view, "sections", ())
    blocks = sum(1 for s in sections if getattr(s, "block", None) is not None)
    return bool(sections) and blocks >= min(len(detail.blocks), MAX_BLOCKS)


def _view(app: Any) -> Any:
    return getattr(app.screen, "view", None) if _is_detail(app.screen) else None


def _at_end(app: Any) -> bool:
    view = _view(app)
    return view is not None and view.max_scroll_y > 0 and view.scroll_y >= view.max_scroll_y


async def app_detail(spec: dict[str, Any], t_spawn: float) -> dict[str, Any]:
    """c. `enter` on the last turn of spec["conv"] until its detail is painted; then `end`
    on the detail's view until its end is painted. With spec["read_ahead"] false, the
    timeline's read-ahead never starts: `enter` pressed at once after the highlight."""
    probe = LagProbe()
    if not spec.get("read_ahead", True):
        import tui.app

        tui.app.READ_AHEAD_DELAY_S = 1e9
    app, ctx, out, watch = await _open(spec, t_spawn, probe)
    _context, pilot = ctx
    try:
        await bench.goto_last_turn(app, pilot, spec["conv"])
        if spec.get("read_ahead", True):  # the highlight rests: its read-ahead starts, ends
            import tui.app

            await pilot.pause(tui.app.READ_AHEAD_DELAY_S + 0.05)
            await _settle(app, pilot)
        ahead = getattr(app, "_ahead", None)
        out["read_ahead_done"] = ahead is not None and ahead[1].is_finished
        watch.arm(lambda: _detail_painted(app), lambda: _view(app))
        probe.start()
        t = time.perf_counter()
        _send_key(app, "enter")
        hit = await watch.wait(pilot, 60.0, "the turn detail")
        out["detail_ms"] = (hit - t) * 1000
        await pilot.pause()  # until idle, still probed
        out["detail_lag"] = await probe.stop()
        out["detail_idle_ms"] = (time.perf_counter() - t) * 1000
        screen = app.screen
        out["detail_blocks"] = len(screen.detail.blocks)
        out["detail_turn_ok"] = screen.turn.turn.turn_id == spec["turn"]
        out["detail_rows"] = getattr(screen.view, "_total", None)
        # Scroll to the end. Textual animates `end` for 1 s by default: off, so the figure
        # is the app's work, not the animation.
        screen.view.focus()
        await pilot.pause()
        app.animation_level = "none"
        watch.arm(lambda: _at_end(app), lambda: _view(app))
        probe.start()
        t = time.perf_counter()
        _send_key(app, "end")
        hit = await watch.wait(pilot, 60.0, "the end of the detail")
        out["end_ms"] = (hit - t) * 1000
        await pilot.pause()
        out["end_lag"] = await probe.stop()
        out["end_scroll_y"] = screen.view.scroll_y
    except BaseException:
        await ctx[0].__aexit__(*sys.exc_info())
        raise
    await _close(ctx, app, out)
    out["rss_mb"] = peak_rss_mb()
    return out


async def app_select(spec: dict[str, Any], t_spawn: float) -> dict[str, Any]:
    """d. `down` on #conversations until #timeline shows the next conversation, N times."""
    probe = LagProbe()
    app, ctx, out, _watch = await _open(spec, t_spawn, probe)
    _context, pilot = ctx
    try:
        convs = _query(app, "#conversations")
        convs.focus()
        await _settle(app, pilot)
        await pilot.pause()
        times: list[float] = []
        notes: list[str] = []
        probe.start()
        for _ in range(spec["selections"]):
            ms = await _select_next(app, pilot, False, timeout=30.0)
            if ms is None:
                notes.append("a cursor move did not change #timeline within 30 s")
                break
            times.append(ms)
            await pilot.pause()  # settle (not timed, still probed)
        out["select_lag"] = await probe.stop()
        out["select_ms"] = times
        out["notes"] = notes
    except BaseException:
        await ctx[0].__aexit__(*sys.exc_info())
        raise
    await _close(ctx, app, out)
    out["rss_mb"] = peak_rss_mb()
    return out


def app_child(spec: dict[str, Any]) -> None:
    """Entry point of a child process (`large.py --app-child JSON`)."""
    t_spawn = float(spec["t_spawn"])  # CLOCK_MONOTONIC, system-wide: the parent's spawn
    t_entry = time.perf_counter()
    try:
        kind = spec["kind"]
        if kind == "bare":
            out = asyncio.run(bare_app(t_spawn))
        elif kind == "open":
            out = asyncio.run(app_open(spec, t_spawn))
        elif kind == "detail":
            out = asyncio.run(app_detail(spec, t_spawn))
        elif kind == "select":
            out = asyncio.run(app_select(spec, t_spawn))
        elif kind == "big":
            out = asyncio.run(
                bench.app_big(spec["path"], spec["needle"], spec["total"], spec["match"], lag=True)
            )
        else:
            raise ValueError(f"unknown child kind {kind!r}")
        out["ok"] = True
        out["interpreter_ms"] = (T_MODULE - t_spawn) * 1000  # spawn -> python up
        out["harness_import_ms"] = (t_entry - T_MODULE) * 1000  # bench.py, gen.py, large.py
    except BaseException as exc:  # report everything, the parent prints it
        out = {
            "ok": False,
            "error": _describe_exc(exc),
            "traceback": traceback.format_exc(limit=40),
            "rss_mb": peak_rss_mb(),
        }
    sys.stdout.write("\n" + APP_MARK + json.dumps(out) + "\n")
    sys.stdout.flush()


def child(spec: dict[str, Any], timeout: float = 600.0) -> dict[str, Any]:
    spec = dict(spec, t_spawn=time.perf_counter())
    return bench._child(spec, timeout=timeout, script=SCRIPT)


# --------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------


class Fig:
    """Samples of one figure over the runs, with the lag and RSS of the same children."""

    def __init__(self) -> None:
        self.ms: list[float] = []
        self.lag: list[float] = []
        self.rss: list[float] = []
        self.extra: list[dict[str, Any]] = []


def _lag(out: dict[str, Any], key: str) -> float:
    return float(out.get(key, {}).get("max_gap_ms", float("nan")))


def run_large(args: argparse.Namespace, res: Results) -> None:
    parts = set(args.parts)
    src, timeline_src, meta = large_dataset(args.convs, args.turns)
    res.info["dataset"] = meta
    print("  " + describe(meta), flush=True)
    stats = meta["stats"]
    if not meta.get("cached"):
        res.add("gen_seconds", "generation of the large file", "s", [stats["seconds"]])
    with bench.section("warm-up (page cache, imports)"):
        bench.sha256(src)
        import tui.app  # noqa: F401

    figs: dict[str, Fig] = {
        k: Fig()
        for k in (
            "bare",
            "sql_in",
            "sql_proc",
            "first",
            "reopen",
            "d180",
            "e180",
            "d5",
            "e5",
            "d180c",
            "d5c",
            "select",
            "filter",
        )
    }
    errors: dict[str, str] = {}

    def attempt(part: str, fn: Callable[[], None]) -> None:
        if part in errors:
            return
        try:
            fn()
        except Exception as exc:  # noqa: BLE001
            errors[part] = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, AppError):
                res.info.setdefault("app_tracebacks", {})[part] = exc.tb
            print(f"    ! {part}: {errors[part]}", flush=True)

    for run in range(args.runs):
        with bench.section(f"run {run + 1} of {args.runs}"):
            _one_run(args, src, timeline_src, stats, figs, attempt)
    if "e" in parts:
        with bench.section(f"e: 3-key filter over {args.big_convs:,} conversations x {args.runs}"):
            attempt("e. filter", lambda: bench_filter(args, figs["filter"], res))
    res.info["errors"] = errors
    for part, why in errors.items():
        res.skipped[part] = why
    record(figs, stats, res)


def _one_run(
    args: argparse.Namespace,
    src: Path,
    timeline_src: Path,
    stats: dict[str, Any],
    figs: dict[str, Fig],
    attempt: Callable[[str, Callable[[], None]], None],
) -> None:
    """One run of parts a-d, each app figure in its own child process."""
    parts = set(args.parts)
    tl = copy_large(timeline_src, "timeline")
    migrated: Path | None = None
    try:
        if "a" in parts or "b" in parts:

            def bare() -> None:
                out = child({"kind": "bare"})
                figs["bare"].ms.append(out["proc_ms"])
                figs["bare"].rss.append(out["rss_mb"])
                figs["bare"].extra.append(out)

            def sql() -> None:
                copy = copy_large(src, "sql")
                try:
                    ms, _ = timed(lambda: bench.pure_sql_migrate(str(copy)))
                finally:
                    remove(copy)
                figs["sql_in"].ms.append(ms)
                copy = copy_large(src, "sqlp")
                try:
                    ms, _ = bench.run_proc([sys.executable, "-c", bench.PURE_SQL, str(copy)])
                finally:
                    remove(copy)
                figs["sql_proc"].ms.append(ms)

            attempt("a. bare app", bare)
            attempt("a. SQL bound", sql)
        need_migrated = parts & {"b", "c", "d"}
        if need_migrated:
            migrated = copy_large(src, "app")

            def first() -> None:
                assert migrated is not None
                out = child({"kind": "open", "path": str(migrated), "timeline": str(tl)})
                _keep(figs["first"], out, "proc_ms", "open_lag")

            if "b" in parts:
                attempt("b. first open", first)
            else:  # migrate it for c and d (not timed)
                bench.run_proc([bench.TURNS_TUI, "migrate", str(migrated)])

            def reopen() -> None:
                assert migrated is not None
                out = child({"kind": "open", "path": str(migrated), "timeline": str(tl)})
                _keep(figs["reopen"], out, "proc_ms", "open_lag")

            if "b" in parts:
                attempt("b. re-open", reopen)

            def detail(conv: str, turn: str, d: str, e: str | None, ahead: bool = True) -> None:
                assert migrated is not None
                out = child(
                    {
                        "kind": "detail",
                        "path": str(migrated),
                        "timeline": str(tl),
                        "conv": conv,
                        "turn": turn,
                        "read_ahead": ahead,
                    }
                )
                _keep(figs[d], out, "detail_ms", "detail_lag")
                if e is not None:
                    figs[e].ms.append(out["end_ms"])
                    figs[e].lag.append(_lag(out, "end_lag"))
                    figs[e].rss.append(out["rss_mb"])

            if "c" in parts:
                attempt(
                    "c. detail (largest turn)",
                    lambda: detail(
                        stats["largest_conv_id"], stats["largest_turn_id"], "d180", "e180"
                    ),
                )
                attempt(
                    "c. detail (5 MB block)",
                    lambda: detail(stats["big_conv_id"], stats["big_turn_id"], "d5", "e5"),
                )
                attempt(
                    "c. detail at once (largest turn)",
                    lambda: detail(
                        stats["largest_conv_id"], stats["largest_turn_id"], "d180c", None, False
                    ),
                )
                attempt(
                    "c. detail at once (5 MB block)",
                    lambda: detail(stats["big_conv_id"], stats["big_turn_id"], "d5c", None, False),
                )

            def select() -> None:
                assert migrated is not None
                out = child(
                    {
                        "kind": "select",
                        "path": str(migrated),
                        "timeline": str(tl),
                        "selections": args.selections,
                    }
                )
                fig = figs["select"]
                fig.ms.extend(out["select_ms"])
                fig.lag.append(_lag(out, "select_lag"))
                fig.rss.append(out["rss_mb"])
                fig.extra.append({k: v for k, v in out.items() if k != "select_ms"})

            if "d" in parts:
                attempt("d. select next conversation", select)
    finally:
        if migrated is not None:
            remove(migrated)
        remove(tl)


def _keep(fig: Fig, out: dict[str, Any], key: str, lag_key: str) -> None:
    fig.ms.append(out[key])
    fig.lag.append(_lag(out, lag_key))
    fig.rss.append(out["rss_mb"])
    fig.extra.append(out)


def bench_filter(args: argparse.Namespace, fig: Fig, res: Results) -> None:
    """e. bench.py's app_big on the 10,000 x 3 file (migrated once, so GP-26)."""
    from tui.store.sqlite_store import SqliteStore

    big_src, meta = bench.dataset(args.big_convs, 3, tag="era2")
    res.info["big_dataset"] = bench.describe(meta)
    print("  " + bench.describe(meta), flush=True)
    base = copy_large(big_src, "big-gp26")
    try:

        async def listed() -> list[Any]:
            store = SqliteStore(str(base))
            try:
                await store.open()
                return await store.conversations()
            finally:
                await store.close()

        summaries = asyncio.run(listed())
        needle, match = bench.pick_needle(summaries)
        res.info["big_filter_needle"] = {"needle": needle, "expected_rows": match}
        for _ in range(args.runs):
            copy = copy_large(base, "big")
            try:
                out = child(
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
            _keep(fig, out, "filter_ms", "filter_lag")
    finally:
        remove(base)
    res.info["big_list"] = len(summaries)


def _ratios(num: list[float], den: list[float]) -> list[float]:
    return [a / b for a, b in zip(num, den, strict=False) if b]


def record(figs: dict[str, Fig], stats: dict[str, Any], res: Results) -> None:
    f = figs
    lag_t, lag_l = "< 50 ms", 50.0
    if f["bare"].ms:
        res.add("a_bare", "a. bare Textual app: spawn -> DataTable painted", "ms", f["bare"].ms)
        res.add(
            "a_bare_inproc",
            "a. bare app in process: App() -> painted",
            "ms",
            [o["paint_ms"] for o in f["bare"].extra],
        )
        res.add("a_bare_rss", "a. bare app peak RSS", "MB", f["bare"].rss)
    if f["sql_in"].ms:
        res.add("a_sql_in", "a. pure-SQL bound on the large file, in process", "ms", f["sql_in"].ms)
        res.add("a_sql_proc", "a. pure-SQL bound, python -c process", "ms", f["sql_proc"].ms)
    floor = [b + s for b, s in zip(f["bare"].ms, f["sql_in"].ms, strict=False)]
    for key, label, fig in (
        ("b_first", "b. first open (migrates): spawn -> #timeline painted", f["first"]),
        ("b_reopen", "b. re-open (migrated): spawn -> #timeline painted", f["reopen"]),
    ):
        if not fig.ms:
            continue
        res.add(key, label, "ms", fig.ms)
        res.add(
            f"{key}_inproc",
            f"{label.split(':')[0]}: make_app -> painted (in process)",
            "ms",
            [o["paint_ms"] for o in fig.extra],
        )
        res.add(
            f"{key}_rows",
            f"{label.split(':')[0]}: make_app -> #timeline has rows (as bench.py g)",
            "ms",
            [o["rows_ms"] for o in fig.extra],
        )
        res.add(
            f"{key}_idle",
            f"{label.split(':')[0]}: make_app -> idle after the first paint",
            "ms",
            [o["idle_ms"] for o in fig.extra],
        )
        res.add(
            f"{key}_lag", f"{label.split(':')[0]}: loop lag (max gap)", "ms", fig.lag, lag_t, lag_l
        )
        res.add(f"{key}_rss", f"{label.split(':')[0]}: peak RSS", "MB", fig.rss, "< 100 MB", 100.0)
    if f["first"].ms and floor:
        res.add(
            "b_first_ratio",
            "b. ratio first open / (bare app + SQL bound in process)",
            "x",
            _ratios(f["first"].ms, floor),
            "<= 1.2",
            1.2,
            note="per run; both whole-process paints, the bound in process (no second "
            "interpreter start)",
        )
        res.add(
            "b_first_ratio_inproc",
            "b. ratio in process: make_app->paint / (App()->paint + SQL bound)",
            "x",
            _ratios(
                [o["paint_ms"] for o in f["first"].extra],
                [o["paint_ms"] + s for o, s in zip(f["bare"].extra, f["sql_in"].ms, strict=False)],
            ),
        )
    if f["reopen"].ms and f["bare"].ms:
        res.add(
            "b_reopen_ratio",
            "b. ratio re-open / bare app (whole process)",
            "x",
            _ratios(f["reopen"].ms, f["bare"].ms),
            "<= 1.5",
            1.5,
        )
    blocks180 = stats.get("largest_turn_blocks")
    for key, label, fig, target, limit, rss in (
        (
            "c_detail180",
            f"c. detail of the largest turn ({blocks180} blocks): enter -> painted",
            f["d180"],
            "< 150 ms",
            150.0,
            True,
        ),
        ("c_end180", "c. that detail: end -> its end painted", f["e180"], "", None, False),
        (
            "c_detail5mb",
            f"c. detail of the turn with the 5 MB block "
            f"({stats.get('big_turn_blocks')} blocks): enter -> painted",
            f["d5"],
            "< 150 ms",
            150.0,
            True,
        ),
        ("c_end5mb", "c. that detail: end -> its end painted", f["e5"], "", None, False),
        (
            "c_detail180_at_once",
            "c. largest turn, enter at once after the highlight (no read-ahead): enter -> painted",
            f["d180c"],
            "< 150 ms",
            150.0,
            True,
        ),
        (
            "c_detail5mb_at_once",
            "c. 5 MB block turn, enter at once after the highlight (no read-ahead): "
            "enter -> painted",
            f["d5c"],
            "< 150 ms",
            150.0,
            True,
        ),
        (
            "d_select",
            "d. select next conversation -> #timeline painted",
            f["select"],
            "< 50 ms",
            50.0,
            True,
        ),
        (
            "e_filter",
            f"e. '/' + 3 letters over {res.info.get('big_list', 10000):,} "
            "conversations -> list updated",
            f["filter"],
            "",
            None,
            True,
        ),
    ):
        if not fig.ms:
            continue
        res.add(key, label, "ms", fig.ms, target, limit)
        res.add(
            f"{key}_lag", f"{label.split(':')[0]}: loop lag (max gap)", "ms", fig.lag, lag_t, lag_l
        )
        if rss:
            big = key == "e_filter"
            res.add(
                f"{key}_rss",
                f"{label.split(':')[0]}: peak RSS",
                "MB",
                fig.rss,
                "< 150 MB" if big else "< 100 MB",
                150.0 if big else 100.0,
            )
    for name, fig in (
        ("bare", f["bare"]),
        ("first", f["first"]),
        ("reopen", f["reopen"]),
        ("d180", f["d180"]),
        ("d5", f["d5"]),
        ("d180c", f["d180c"]),
        ("d5c", f["d5c"]),
        ("select", f["select"]),
        ("filter", f["filter"]),
    ):
        if fig.extra:
            res.info.setdefault("runs", {})[name] = fig.extra
    turn_ok = [o.get("detail_turn_ok") for o in f["d180"].extra + f["d5"].extra]
    if turn_ok:
        res.check(
            "c_turn_ok",
            "c. the detail opened the intended (last) turn",
            all(turn_ok),
            "" if all(turn_ok) else "the cursor was not on the intended turn",
        )


# The summary table of benchmarks/README.md: (measure, figure, baseline, ratio, lag, rss).
SUMMARY: tuple[tuple[str, str, str | None, str | None, str | None, str | None], ...] = (
    (
        "bare Textual app, one DataTable painted (whole process)",
        "a_bare",
        None,
        None,
        None,
        "a_bare_rss",
    ),
    ("pure-SQL backfill bound on the large file (in process)", "a_sql_in", None, None, None, None),
    (
        "first open, migration included: start to first painted timeline",
        "b_first",
        "bare + SQL",
        "b_first_ratio",
        "b_first_lag",
        "b_first_rss",
    ),
    (
        "re-open of the migrated file: start to first painted timeline",
        "b_reopen",
        "a_bare",
        "b_reopen_ratio",
        "b_reopen_lag",
        "b_reopen_rss",
    ),
    (
        "turn detail of the largest turn, enter to painted",
        "c_detail180",
        None,
        None,
        "c_detail180_lag",
        "c_detail180_rss",
    ),
    ("scroll that detail to its end (end key)", "c_end180", None, None, "c_end180_lag", None),
    (
        "turn detail of the turn holding the 5 MB block, enter to painted",
        "c_detail5mb",
        None,
        None,
        "c_detail5mb_lag",
        "c_detail5mb_rss",
    ),
    ("scroll that detail to its end (end key)", "c_end5mb", None, None, "c_end5mb_lag", None),
    (
        "largest turn's detail, enter at once after the highlight (no read-ahead)",
        "c_detail180_at_once",
        None,
        None,
        "c_detail180_at_once_lag",
        "c_detail180_at_once_rss",
    ),
    (
        "5 MB block turn's detail, enter at once after the highlight (no read-ahead)",
        "c_detail5mb_at_once",
        None,
        None,
        "c_detail5mb_at_once_lag",
        "c_detail5mb_at_once_rss",
    ),
    (
        "select the next conversation until its timeline is painted",
        "d_select",
        None,
        None,
        "d_select_lag",
        "d_select_rss",
    ),
    (
        "3-key filter over 10,000 conversations",
        "e_filter",
        None,
        None,
        "e_filter_lag",
        "e_filter_rss",
    ),
)


def _mark(m: Any) -> str:
    if m is None or m.ok is None:
        return ""
    return " ✓" if m.ok else " ✗"


def print_summary(res: Results) -> None:
    fmt = bench._fmt
    print(
        "| measure | median (min-max) | baseline (same run) | ratio | target | "
        "loop lag max (median, max) | peak RSS |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    m = res.metrics
    for label, key, base_key, ratio_key, lag_key, rss_key in SUMMARY:
        fig = m.get(key)
        if fig is None or not fig.values:
            continue
        med = (
            f"{fmt(fig.median, fig.unit)} ({fmt(min(fig.values), fig.unit)}-"
            f"{fmt(max(fig.values), fig.unit)})"
        )
        if base_key == "bare + SQL":
            bare, sql = m.get("a_bare"), m.get("a_sql_in")
            base = f"{fmt(bare.median, 'ms')} + {fmt(sql.median, 'ms')}" if bare and sql else "-"
        elif base_key:
            b = m.get(base_key)
            base = fmt(b.median, b.unit) if b is not None and b.values else "-"
        else:
            base = "-"
        ratio = m.get(ratio_key) if ratio_key else None
        ratio_s = fmt(ratio.median, "x") if ratio is not None and ratio.values else "-"
        tm = ratio if ratio is not None and ratio.target else fig
        target = (tm.target or "-") + _mark(tm)
        lag = m.get(lag_key) if lag_key else None
        lag_s = (
            f"{fmt(lag.median, 'ms')}, {fmt(max(lag.values), 'ms')}{_mark(lag)}"
            if lag is not None and lag.values
            else "-"
        )
        rss = m.get(rss_key) if rss_key else None
        rss_s = f"{fmt(rss.median, 'MB')}{_mark(rss)}" if rss is not None and rss.values else "-"
        print(f"| {label} | {med} | {base} | {ratio_s} | {target} | {lag_s} | {rss_s} |")
    n = res.info.get("params", {})
    mach = res.info.get("machine", {})
    print(
        f"\n(runs {n.get('runs')}, {n.get('selections')} selections per run; nproc "
        f"{mach.get('nproc')}, Python {mach.get('python')}, SQLite {mach.get('sqlite')}, "
        f"Textual {mach.get('textual')}, load {mach.get('loadavg_at_start')} -> "
        f"{mach.get('loadavg_at_end')})"
    )


def _lag_story(res: Results) -> None:
    """Where the stalls were: the largest gaps of each run, and when (ms after the start)."""
    runs = res.info.get("runs", {})
    for name, key in (
        ("first", "open_lag"),
        ("reopen", "open_lag"),
        ("d180", "detail_lag"),
        ("d5", "detail_lag"),
        ("select", "select_lag"),
        ("filter", "filter_lag"),
    ):
        for i, out in enumerate(runs.get(name, ())):
            lag = out.get(key) or {}
            gaps = ", ".join(f"{g['gap_ms']:.0f}@{g['at_ms']:.0f}" for g in lag.get("top_gaps", ()))
            if gaps:
                print(f"  lag {name} run {i + 1}: largest gaps (ms@ms) {gaps}")


def main(args: argparse.Namespace) -> int:
    """`bench.py --scale large` (args from bench.parse_args, without its medium defaults)."""
    if args.quick:
        args.runs = args.runs or 2
        args.convs = args.convs or 50
        args.big_convs = args.big_convs or 1000
    args.runs = args.runs or 3
    args.convs = args.convs or 1000
    args.turns = args.turns or 28
    args.big_convs = args.big_convs or 10000
    args.selections = 4 if args.quick else 12
    known = set("abcde")
    given = set(args.parts.lower()) if args.parts != "abcdefghijk" else known
    args.parts = "".join(sorted(given & known)) or "abcde"
    if args.no_app:
        args.parts = "a"
    res = Results()
    res.info["machine"] = bench.machine_info()
    res.info["params"] = {
        "scale": "large",
        "runs": args.runs,
        "convs": args.convs,
        "turns": args.turns,
        "big_convs": args.big_convs,
        "selections": args.selections,
        "parts": args.parts,
        "quick": args.quick,
    }
    # As bench.py: compiled bytecode, so no child recompiles tui/ (or the harness) under
    # PYTHONDONTWRITEBYTECODE.
    for folder in ("tui", "benchmarks"):
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / folder)], check=False)
    mach = res.info["machine"]
    print(
        f"machine: nproc={mach['nproc']} python={mach['python']} sqlite={mach['sqlite']} "
        f"textual={mach.get('textual', '-')} load={mach.get('loadavg_at_start')}"
    )
    try:
        with bench.section(f"large: {args.convs} x {args.turns}, parts {args.parts}"):
            run_large(args, res)
    finally:
        shutil.rmtree(WORK_LARGE, ignore_errors=True)
    with contextlib.suppress(OSError, ValueError):
        res.info["machine"]["loadavg_at_end"] = os.getloadavg()
    print()
    bench.print_table(res)
    print()
    print_summary(res)
    print()
    _lag_story(res)
    if args.json:
        doc = {
            "info": res.info,
            "metrics": {k: m.to_json() for k, m in res.metrics.items()},
            "skipped": res.skipped,
        }
        Path(args.json).write_text(json.dumps(doc, indent=1, default=str))
        print(f"\nJSON written to {args.json}")
    print(f"total bench time {time.perf_counter() - bench.T_START:.1f} s")
    failed = [m.label for m in res.metrics.values() if m.ok is False]
    return 1 if failed or res.skipped else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--app-child":
        app_child(json.loads(sys.argv[2]))
        sys.exit(0)
    sys.exit(bench.main([*sys.argv[1:], "--scale", "large"]))
