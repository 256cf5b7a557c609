"""Regenerate screenshots/ (SVG and PNG) from the demo database by driving the app.

    .venv/bin/python scripts/screenshots.py

Deterministic: TZ=UTC, a fixed clock, no animation, the demo file opened by its relative
name from a temporary folder (so no temporary path shows up in the pictures).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["TZ"] = "UTC"
time.tzset()

from textual.pilot import Pilot  # noqa: E402
from textual.worker import WorkerFailed, WorkerState  # noqa: E402

from tui.app import make_app  # noqa: E402
from tui.demo import DEMO_FILE_NAME, build_demo_database, demo_id  # noqa: E402
from tui.screens.main import MainScreen  # noqa: E402

OUT = ROOT / "screenshots"
SIZE = (160, 42)
NOW = 1_771_927_200.0  # 2026-02-24 10:00:00 UTC

Steps = Callable[[Pilot[Any]], Awaitable[None]]


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until no worker runs and the message queues are drained."""
    quiet = 0
    for _ in range(100):
        await pilot.pause()
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerFailed:
            pass
        await pilot.pause()
        busy = any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in pilot.app.workers)
        quiet = 0 if busy else quiet + 1
        if quiet >= 2:
            return


def main_screen(pilot: Pilot[Any]) -> MainScreen:
    screen = pilot.app.screen
    assert isinstance(screen, MainScreen)
    return screen


async def main_view(pilot: Pilot[Any]) -> None:
    main = main_screen(pilot)
    main.timeline.focus()
    main.timeline.move_cursor(row=0)
    await settle(pilot)


async def turn_detail(pilot: Pilot[Any]) -> None:
    main = main_screen(pilot)
    conv_ids = [s.conv_id for s in main.conversations.shown]
    main.conversations.move_cursor(row=conv_ids.index(demo_id("warehouse")))
    await settle(pilot)
    main.timeline.focus()
    main.timeline.move_cursor(row=1)  # the tool loop
    await pilot.press("enter")
    await settle(pilot)


async def help_screen(pilot: Pilot[Any]) -> None:
    await pilot.press("question_mark")
    await settle(pilot)


SHOTS: list[tuple[str, Steps]] = [
    ("main", main_view),
    ("turn-detail", turn_detail),
    ("help", help_screen),
]


async def shoot(name: str, steps: Steps, folder: Path) -> Path:
    app = make_app(DEMO_FILE_NAME, clock=lambda: NOW)
    app.animation_level = "none"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await steps(pilot)
        svg = app.save_screenshot(filename=f"{name}.svg", path=str(folder))
    return Path(svg)


def to_png(svg: Path) -> Path:
    import cairosvg  # type: ignore[import-untyped]

    png = svg.with_suffix(".png")
    cairosvg.svg2png(url=str(svg), write_to=str(png))
    return png


async def run() -> None:
    OUT.mkdir(exist_ok=True)
    here = os.getcwd()
    for name, steps in SHOTS:
        with tempfile.TemporaryDirectory(prefix="turns-tui-shot-") as tmp:
            os.chdir(tmp)
            try:
                build_demo_database(Path(tmp) / DEMO_FILE_NAME)
                svg = await shoot(name, steps, OUT)
            finally:
                os.chdir(here)
        png = to_png(svg)
        print(f"wrote {svg.relative_to(ROOT)} and {png.relative_to(ROOT)}")


if __name__ == "__main__":
    asyncio.run(run())
