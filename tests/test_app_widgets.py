"""Widgets alone: the conversation list with 10,000 conversations, the large-text view."""

from __future__ import annotations

import time

from textual.app import App, ComposeResult

from tests.snapshot_apps.support import settle
from tui.store.records import ConversationSummary
from tui.widgets.conversations import FIRST_BATCH, ConversationTable
from tui.widgets.large_text import CHUNK, LargeText, split_lines

N = 10_000


def summaries(n: int) -> list[ConversationSummary]:
    return [
        ConversationSummary(
            conv_id=f"conv-{i:06d}",
            session_id=f"sess-{i % 300:04d}",
            turn_count=3,
            last_activity_ms=1_771_923_600_000 - i * 1000,
            latest_runtime_key="inventory",
            runtime_keys=("inventory", "planner" if i % 7 == 0 else "inventory", "inventory"),
        )
        for i in range(n)
    ]


class ListApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ConversationTable()


async def test_ten_thousand_conversations_paint_fast_and_fill_lazily() -> None:
    app = ListApp()
    data = summaries(N)
    async with app.run_test(size=(160, 48)) as pilot:
        table = app.query_one(ConversationTable)
        started = time.perf_counter()
        table.set_conversations(data)
        first = time.perf_counter() - started
        assert table.row_count == FIRST_BATCH  # the first screenful is there at once
        assert first < 0.3, f"first batch took {first * 1000:.0f} ms"
        deadline = time.monotonic() + 30
        while not table.fully_loaded and time.monotonic() < deadline:
            await pilot.pause(0.05)
        assert table.row_count == N
        # filtering keeps the cursor on the selected conversation when it still matches
        table.move_cursor(row=7)
        await settle(pilot)
        keep = table.conv_id_at_cursor()
        assert keep == "conv-000007"
        table.set_filter("conv-0000", keep=keep)
        assert [s.conv_id for s in table.shown] == [f"conv-{i:06d}" for i in range(100)]
        assert table.conv_id_at_cursor() == keep
        table.set_filter("sess-0299", keep=keep)
        assert len(table.shown) == N // 300 and table.cursor_row == 0


async def test_refill_during_lazy_fill_drops_the_stale_batches() -> None:
    app = ListApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(ConversationTable)
        table.set_conversations(summaries(3000))
        table.set_filter("conv-00001")  # 10 matches, while batches are still scheduled
        await pilot.pause(0.3)
        assert table.row_count == 10 and table.fully_loaded


def test_split_lines_cuts_long_lines_and_expands_tabs() -> None:
    rows = split_lines("a\tb\n" + "x" * (CHUNK * 2 + 5))
    assert rows[0] == "a    b"
    assert [len(r) for r in rows[1:]] == [CHUNK, CHUNK, 5]


class TextApp(App[None]):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        yield LargeText(self.text)


async def test_large_text_renders_only_what_is_visible() -> None:
    text = "".join(f"row {i}\n" for i in range(200_000))
    started = time.perf_counter()
    app = TextApp(text)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(LargeText)
        view.focus()
        await pilot.press("end")
        await pilot.pause()
        assert view.scroll_y > 100_000
        line = view.render_line(0).text
        assert line.split()[1:2] == ["row"] and int(line.split()[2]) > 199_000
    assert time.perf_counter() - started < 10
