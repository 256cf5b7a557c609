"""Widgets alone: the conversation list with 10,000 conversations, the large-text view."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tests.snapshot_apps.support import settle
from tui.store.records import ConversationSummary
from tui.widgets.conversations import ConversationTable
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


def drawn_rows(table: ConversationTable) -> list[str]:
    """The rows the list draws now (header first), as plain text."""
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


async def test_ten_thousand_conversations_are_listed_at_once_and_drawn_on_demand() -> None:
    app = ListApp()
    data = summaries(N)
    async with app.run_test(size=(160, 48)) as pilot:
        table = app.query_one(ConversationTable)
        table.set_conversations(data)
        await settle(pilot)
        assert table.row_count == N  # every row listed at once: nothing filled in batches
        assert table.virtual_size.height == N + 1  # the header row and one row each
        rows = drawn_rows(table)
        assert rows[0].split()[:2] == ["conversation", "session"]
        assert rows[1].split()[0] == "conv-000000" and rows[-1].split()[0] == "conv-000046"
        # only the drawn rows were turned into cells
        assert len(table._cells) < 100
        table.focus()
        await pilot.press("end")
        await settle(pilot)
        assert table.conv_id_at_cursor() == f"conv-{N - 1:06d}"
        assert drawn_rows(table)[-1].split()[0] == f"conv-{N - 1:06d}"
        await pilot.press("home", "down", "down", "pagedown")
        await settle(pilot)
        assert table.cursor_row == 2 + 47  # a page: the 47 rows under the header
        assert table.get_row_at(table.cursor_row)[0].plain == "conv-000049"
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
        table.set_filter("no such thing", keep=keep)
        await settle(pilot)
        assert table.row_count == 0 and table.conv_id_at_cursor() is None
        assert drawn_rows(table)[1].strip() == ""


async def test_cursor_moves_announce_the_conversation_and_a_click_chooses_it() -> None:
    seen: list[tuple[str, str | None]] = []

    class Listening(ListApp):
        def on_conversation_table_highlighted(self, m: ConversationTable.Highlighted) -> None:
            seen.append(("highlighted", m.conv_id))

        def on_conversation_table_chosen(self, m: ConversationTable.Chosen) -> None:
            seen.append(("chosen", m.conv_id))

    app = Listening()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(ConversationTable)
        table.set_conversations(summaries(50))
        table.focus()
        await settle(pilot)
        await pilot.press("down", "up", "up", "enter")
        await settle(pilot)
        await pilot.click(ConversationTable, offset=(3, 4))  # header row, then rows 0, 1, 2
        await settle(pilot)
    assert seen == [
        ("highlighted", "conv-000000"),
        ("highlighted", "conv-000001"),
        ("highlighted", "conv-000000"),
        ("chosen", "conv-000000"),
        ("highlighted", "conv-000003"),
        ("chosen", "conv-000003"),
    ]


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
    app = TextApp(text)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(LargeText)
        view.focus()
        await pilot.press("end")
        await pilot.pause()
        assert view.scroll_y > 100_000
        line = view.render_line(0).text
        assert line.split()[1:2] == ["row"] and int(line.split()[2]) > 199_000


async def test_the_lists_filter_equals_the_domain_rule() -> None:
    """The joined lower-case texts the list searches give what `matches_filter` gives,
    for needles that hit one field, that would span two, and blanks."""
    from tui.domain import matches_filter

    data = summaries(3000)
    app = ListApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(ConversationTable)
        table.set_conversations(data)
        await settle(pilot)
        for needle in ("CONV-0001", "sess-02", "planner", "inventory", "7\x00sess", " ", "zz"):
            table.set_filter(needle)
            want = [s.conv_id for s in data if matches_filter(s, needle)]
            assert [s.conv_id for s in table.shown] == want, needle
