"""The Textual app: routes messages between the store's workers and the screens.

Data flows one way: workers (all defined here) read the injected `Store` and post
result messages (`tui.messages`); the app sets state on its screens ("attributes
down"); screens post requests ("messages up") that the app turns into workers.
`on_worker_state_changed` is the one place where a worker's error becomes a readable
message. Wording lives in `tui.presenter`, follow mode in `tui.follow`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerError, WorkerState

from tui import presenter
from tui.check import gather as gather_check
from tui.collector import freeze_long_lived
from tui.diff import diff_snapshots, final_or_latest, previous_runtime_turn, switch_summary
from tui.domain import ConversationView, TurnView, build_conversation
from tui.find import Match, id_matches, text_matches
from tui.follow import FOLLOW_INTERVAL_S, Follower
from tui.formatting import format_clock_s, safe_text
from tui.messages import (
    CheckLoaded,
    CheckProgress,
    ComparisonLoaded,
    ConversationLoaded,
    ConversationsLoaded,
    DatabaseOpened,
    FindProgress,
    FollowChecked,
    OpenNotice,
    OpenProgress,
    OpenStep,
    Place,
    SnapshotLoaded,
    SwitchSummaryLoaded,
)
from tui.screens.check import CheckScreen, CheckTable
from tui.screens.detail import (
    PreparedSections,
    SnapshotList,
    SnapshotPlace,
    TurnDetailScreen,
    predicted_view_width,
    prepare_sections,
)
from tui.screens.error import ErrorScreen
from tui.screens.export_dialog import ExportDialog, ExportFinished, ExportRequest
from tui.screens.find import FindResults, FindScreen
from tui.screens.help import HelpScreen, Section, key_rows
from tui.screens.loading import LoadingScreen
from tui.screens.main import MEDIUM_FROM, WIDE_FROM, MainScreen
from tui.store.base import OpenCallbacks, Store
from tui.store.errors import LockedError, StoreError
from tui.store.models import Notice, Opened, Progress
from tui.store.records import SnapshotDetail
from tui.widgets.conversations import ConversationTable
from tui.widgets.timeline import TimelineTable

Clock = Callable[[], float]
PROGRESS_EVERY_S = 0.2  # a progress line repaints the screen: no more often than this
LOADING_DELAY_S = 0.25  # show the loading screen only when opening takes longer
FIND_LIMIT = 1000  # matches a find lists (the rest: "first 1,000 shown")
FIND_CHUNK = 200  # candidate blocks decoded between two progress messages
READ_AHEAD_DELAY_S = 0.12  # a timeline highlight that stays this long is read ahead
DETAIL_WAIT_S = 0.15  # Enter waits this long at most for the snapshot to be read ahead
# what the read-ahead gives: the snapshot, and its detail's sections laid out ahead
ReadAhead = tuple[SnapshotDetail | None, PreparedSections | None]


def describe_error(error: BaseException | None) -> str:
    """One readable line for any error (never a traceback)."""
    if error is None:
        return "unknown error"
    if isinstance(error, StoreError):
        text = str(error)
    elif isinstance(error, sqlite3.Error):
        text = f"database error: {error}"
    else:
        text = f"{type(error).__name__}: {error}"
    first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return safe_text(first, 300)


class TurnsApp(App[None]):
    """Terminal debugger for turns databases."""

    # Every screen's CSS is loaded with the app: a screen with its own CSS_PATH makes
    # Textual re-parse every stylesheet and re-style every widget on its first push
    # (about half of the first turn detail's cost).
    CSS_PATH = [
        "app.tcss",
        "screens/detail.tcss",
        "screens/export_dialog.tcss",
    ]
    TITLE = "turns-tui"
    ENABLE_COMMAND_PALETTE = True
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (MEDIUM_FROM, "-medium"), (WIDE_FROM, "-wide")]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("f", "toggle_follow", "Follow", id="app.toggle-follow"),
        Binding(
            "E",
            "export",
            "Export",
            key_display="E",
            show=False,  # in help and the palette; the footers are full
            id="app.export",
            tooltip="Export the shown conversation (json, markdown or minitrace) to a file",
        ),
        Binding(
            "ctrl+p",
            "command_palette",
            "Palette",
            show=False,
            priority=True,
            id="app.command-palette",
        ),
    ]

    opened: var[Opened | None] = var(None)  # set once the store is open

    def __init__(
        self,
        store: Store,
        *,
        follow: bool = False,
        clock: Clock | None = None,
        follow_interval: float = FOLLOW_INTERVAL_S,
        start_at: Place | None = None,
    ) -> None:
        super().__init__()
        self.theme = "textual-dark"
        self.store = store
        self.follow = follow
        self.start_at = start_at  # where to go once the conversation list is loaded
        self._prefetched: ConversationView | None = None  # read with the list (first load)
        # the snapshot Enter on the timeline would open, read ahead (or being read)
        self._ahead: tuple[SnapshotPlace, Worker[ReadAhead]] | None = None
        self._ahead_timer: Timer | None = None
        self.clock: Clock = clock or time.time
        self.main_screen: MainScreen | None = None
        self.change_token: object | None = None
        self.follower = Follower(self.set_interval, self._poll_tick, follow_interval)
        self._loading_timer: Timer | None = None
        self._last_step = ""
        self._last_notice = ""
        self._open_failed = False  # the error screen stays until a retry starts a new open

    @property
    def label(self) -> str:
        """What the store is called on screen."""
        return self.store.label

    @property
    def last_check(self) -> float | None:
        """Time of the last completed follow-mode check."""
        return self.follower.checked_at

    # -- start -----------------------------------------------------------------------

    def on_mount(self) -> None:
        freeze_long_lived()  # modules, classes, the stylesheet
        self.start_open(loading_now=False)

    def start_open(self, *, loading_now: bool = True) -> None:
        """Open the store in a worker; the loading screen shows if that takes a while."""
        if self._loading_timer is not None:
            self._loading_timer.stop()
            self._loading_timer = None
        self._last_step = self._last_notice = ""
        self._open_failed = False
        if loading_now:
            self._show_loading()
        else:  # a quick open goes straight to the main screen (one screen less to draw)
            self._loading_timer = self.set_timer(LOADING_DELAY_S, self._show_loading)
        self.open_worker()

    def _show_loading(self) -> None:
        self._loading_timer = None
        if self._open_failed:
            return  # a step or notice posted just before the open failed came in late
        if self.opened is None and not isinstance(self.screen, LoadingScreen):
            loading = LoadingScreen(self.label)
            if self._last_step:
                loading.show_step(self._last_step)
            if self._last_notice:
                loading.show_notice(self._last_notice)
            self._show_screen(loading)

    def _show_screen(self, screen: Screen[None]) -> Awaitable[object]:
        """Replace the loading or error screen (or push the first screen)."""
        if self._loading_timer is not None:
            self._loading_timer.stop()
            self._loading_timer = None
        if isinstance(self.screen, (LoadingScreen, ErrorScreen)):
            return self.switch_screen(screen)
        return self.push_screen(screen)

    @work(exclusive=True, group="db", exit_on_error=False, name="open database")
    async def open_worker(self) -> None:
        """Open, migrate and backfill (the store runs its blocking part in a thread)."""
        last = 0.0

        def progress(p: Progress) -> None:
            nonlocal last
            now = time.monotonic()
            if p.done < p.total and now - last < PROGRESS_EVERY_S:
                return
            last = now
            self.post_message(OpenProgress(p.step, p.done, p.total))

        def step(name: str) -> None:
            self.post_message(OpenStep(name))

        def notice(what: Notice) -> None:
            self.post_message(OpenNotice(what))

        opened = await self.store.open(
            OpenCallbacks(on_progress=progress, on_step=step, on_notice=notice)
        )
        self.post_message(DatabaseOpened(opened))

    def on_open_progress(self, message: OpenProgress) -> None:
        if isinstance(self.screen, LoadingScreen):
            self.screen.show_progress(message.step, message.done, message.total)

    def on_open_step(self, message: OpenStep) -> None:
        self._last_step = message.step
        if isinstance(self.screen, LoadingScreen):
            self.screen.show_step(message.step)

    def on_open_notice(self, message: OpenNotice) -> None:
        self._last_notice = message.notice.text
        self._show_loading()  # for example a wait for another writer's lock: say so now
        if isinstance(self.screen, LoadingScreen):
            self.screen.show_notice(message.notice.text)

    async def on_database_opened(self, message: DatabaseOpened) -> None:
        self.opened = opened = message.opened
        title = Text("turns-tui", style="bold", no_wrap=True, overflow="ellipsis")
        title.append("  ")
        title.append(presenter.title_text(self.label, opened))
        banner = presenter.banner_text(opened)
        notice = presenter.notice_text(opened)
        self.main_screen = MainScreen(
            title=title,
            banner=Text(banner, no_wrap=True, overflow="ellipsis") if banner else None,
            notice=Text(notice, no_wrap=True, overflow="ellipsis") if notice else None,
        )
        self.load_conversations()  # reads while the screen mounts (its result waits for it)
        await self._show_screen(self.main_screen)
        if self.follow:
            self._start_follow()

    # -- reads -----------------------------------------------------------------------

    @work(exclusive=True, group="conversations", exit_on_error=False, name="load conversations")
    async def load_conversations(self) -> None:
        """Read the conversation list (and the change token, for follow mode), and with it
        the conversation the screen opens on: the newest, unless the command line asked
        for a place (one read less between the open and the first painted timeline)."""
        token = await self.store.change_token()
        summaries = await self.store.conversations()
        first = None
        newest = next((s for s in summaries if s.in_file), None)
        if self.start_at is None and newest is not None:
            first = await self._read_view(newest.conv_id)
        self.post_message(ConversationsLoaded(tuple(summaries), token, reload=False, first=first))

    def on_conversations_loaded(self, message: ConversationsLoaded) -> None:
        self.change_token = message.token
        main = self.main_screen
        if main is None:
            return
        before = main.selected_conv_id
        start_at = None
        if self.start_at is not None and not message.reload:
            start_at, self.start_at = self.start_at, None
        # The first selection the list makes shows it (any later one reads afresh).
        self._prefetched = message.first
        if message.reload:
            self.forget_read_ahead()
        main.set_conversations(message.summaries, start_at=start_at)
        if message.reload and before is not None and main.selected_conv_id == before:
            self.load_conversation(before)

    def on_main_screen_conversation_selected(
        self, message: MainScreen.ConversationSelected
    ) -> None:
        first, self._prefetched = self._prefetched, None
        if first is not None and first.conv_id == message.conv_id and self.main_screen:
            # read with the list, shown a frame after it: two shorter frames, where the
            # list's and the timeline's first renders in one stalled the loop 80-97 ms
            self.call_after_refresh(self.main_screen.show_conversation, first)
            # the main screen, its list and the store's index live as long as the app
            self.call_after_refresh(freeze_long_lived)
            return
        self.load_conversation(message.conv_id)

    @work(exclusive=True, group="conversation", exit_on_error=False, name="load conversation")
    async def load_conversation(self, conv_id: str) -> None:
        """Read one conversation's turns and evaluate them (domain rules off the loop)."""
        self.post_message(ConversationLoaded(await self._read_view(conv_id)))

    async def _read_view(self, conv_id: str) -> ConversationView:
        """One conversation read and evaluated (the domain rules in a thread)."""
        records = await self.store.conversation(conv_id)
        return await asyncio.to_thread(build_conversation, conv_id, records.turns, records.timeline)

    def on_conversation_loaded(self, message: ConversationLoaded) -> None:
        self._prefetched = None
        self.forget_read_ahead()  # read afresh: so is what Enter opens
        if self.main_screen is not None:
            self.main_screen.show_conversation(message.view)

    async def on_turn_detail_screen_snapshot_requested(
        self, message: TurnDetailScreen.SnapshotRequested
    ) -> None:
        ahead = self._read_ahead_done(message.place)
        screen = self.screen
        if (
            ahead is not None
            and isinstance(screen, TurnDetailScreen)
            and screen.turn.turn.turn_id == message.turn_id
        ):
            # read (and laid out) ahead: handed over now, usually before the new screen
            # has mounted, so its first paint shows the blocks
            await screen.show_snapshot((message.phase, message.created_at_ms), *ahead)
            return
        self.load_snapshot(*message.place)

    def _read_ahead_done(self, place: SnapshotPlace) -> ReadAhead | None:
        """What the read-ahead of `place` gave, when it has finished without error."""
        ahead = self._ahead
        if ahead is None or ahead[0] != place or ahead[1].state != WorkerState.SUCCESS:
            return None
        return ahead[1].result

    @work(exclusive=True, group="snapshot", exit_on_error=False, name="load snapshot")
    async def load_snapshot(
        self, conv_id: str, session_id: str, turn_id: str, phase: str, created_at_ms: int
    ) -> None:
        """Read the blocks of one snapshot (or take them from the read-ahead)."""
        place = (conv_id, session_id, turn_id, phase, created_at_ms)
        detail, prepared = await self._snapshot(place)
        self.post_message(SnapshotLoaded(turn_id, (phase, created_at_ms), detail, prepared))

    async def _snapshot(self, place: SnapshotPlace) -> ReadAhead:
        """The snapshot at `place`: the one read ahead (waiting for it if its read is
        under way), with its sections when they were laid out too; else read now."""
        self._stop_read_ahead_timer()
        ahead = self._ahead
        if ahead is not None and ahead[0] == place:
            with contextlib.suppress(WorkerError):  # cancelled or failed: read it here
                return await ahead[1].wait()
        return await self.store.snapshot(*place), None

    def on_main_screen_snapshot_wanted(self, message: MainScreen.SnapshotWanted) -> None:
        """The timeline's highlight: read its snapshot ahead once the highlight stays
        put for `READ_AHEAD_DELAY_S` (a cursor running down the rows reads nothing)."""
        place, turn = message.place, message.turn
        self._stop_read_ahead_timer()
        if self._ahead is not None and self._ahead[0] == place:
            return
        self._ahead_timer = self.set_timer(
            READ_AHEAD_DELAY_S, lambda: self._start_read_ahead(place, turn), name="read ahead"
        )

    def on_main_screen_detail_wanted(self, message: MainScreen.DetailWanted) -> None:
        """Enter on the timeline: open the detail once its snapshot is read and laid out
        ahead (at once when that is done), so its first paint shows the blocks instead of
        an empty view, a read and a second paint."""
        place, turn = message.place, message.turn
        self._stop_read_ahead_timer()
        if self._ahead is None or self._ahead[0] != place:
            self._start_read_ahead(place, turn)
        self.open_detail_when_read(place, turn)

    @work(exclusive=True, group="open-detail", exit_on_error=False, name="open detail")
    async def open_detail_when_read(self, place: SnapshotPlace, turn: TurnView) -> None:
        """Wait (up to DETAIL_WAIT_S) for the read-ahead of `place`, then open the detail;
        a slower read shows in the detail, which waits for it."""
        ahead = self._ahead
        if ahead is not None and ahead[0] == place:
            with contextlib.suppress(asyncio.TimeoutError, WorkerError):
                await asyncio.wait_for(asyncio.shield(ahead[1].wait()), DETAIL_WAIT_S)
        main = self.main_screen
        if main is not None and self.screen is main:
            main.open_turn_if_shown(turn)

    def _start_read_ahead(self, place: SnapshotPlace, turn: TurnView) -> None:
        self._ahead_timer = None
        self._ahead = (place, self.read_ahead(place, turn))

    @work(exclusive=True, group="read-ahead", exit_on_error=False, name="read ahead")
    async def read_ahead(self, place: SnapshotPlace, turn: TurnView) -> ReadAhead:
        """Read the snapshot the timeline's Enter would open, before it is pressed, and
        lay out (in a thread) the sections its detail will show, at the detail's width."""
        detail = await self.store.snapshot(*place)
        if detail is None:
            return None, None
        width = predicted_view_width(self.size.width, self.screen.has_class("-narrow"))
        return detail, await asyncio.to_thread(prepare_sections, turn, detail, width)

    def _stop_read_ahead_timer(self) -> None:
        if self._ahead_timer is not None:
            self._ahead_timer.stop()
            self._ahead_timer = None

    def forget_read_ahead(self) -> None:
        """Drop the snapshot read ahead: the database may have changed (a reload)."""
        self._stop_read_ahead_timer()
        if self._ahead is not None:
            self._ahead[1].cancel()
            self._ahead = None

    async def on_snapshot_loaded(self, message: SnapshotLoaded) -> None:
        screen = self.screen
        if isinstance(screen, TurnDetailScreen) and screen.turn.turn.turn_id == message.turn_id:
            await screen.show_snapshot(message.key, message.detail, message.prepared)

    def on_turn_detail_screen_comparison_requested(
        self, message: TurnDetailScreen.ComparisonRequested
    ) -> None:
        self.load_comparison(
            message.conv_id,
            message.session_id,
            message.turn_id,
            message.phase,
            message.created_at_ms,
        )

    @work(exclusive=True, group="comparison", exit_on_error=False, name="load comparison")
    async def load_comparison(
        self, conv_id: str, session_id: str, turn_id: str, phase: str, created_at_ms: int
    ) -> None:
        """Read the snapshot the turn detail compares with (its diff, d)."""
        detail = await self.store.snapshot(conv_id, session_id, turn_id, phase, created_at_ms)
        self.post_message(ComparisonLoaded(turn_id, (phase, created_at_ms), detail))

    def on_comparison_loaded(self, message: ComparisonLoaded) -> None:
        screen = self.screen
        if isinstance(screen, TurnDetailScreen):
            screen.show_comparison(message.turn_id, message.key, message.detail)

    # -- investigating: switch summaries, the database check, find --------------------

    def on_main_screen_switch_summary_requested(
        self, message: MainScreen.SwitchSummaryRequested
    ) -> None:
        self.load_switch_summary(message.view, message.turn, message.turn_key)

    @work(exclusive=True, group="switch-summary", exit_on_error=False, name="switch summary")
    async def load_switch_summary(
        self, view: ConversationView, turn: TurnView, turn_key: str
    ) -> None:
        """What a switch changed: the last turn of the previous runtime's final (or latest)
        snapshot against the switch turn's (`tui.diff.switch_summary`)."""
        record = turn.turn
        before = previous_runtime_turn([t.turn for t in view.turns], record)
        to_snap = final_or_latest(record)
        if to_snap is None:
            self.post_message(SwitchSummaryLoaded(view.conv_id, turn_key, "no snapshots"))
            return
        new = await self.store.snapshot(
            record.conv_id,
            record.session_id,
            record.turn_id,
            to_snap.phase,
            to_snap.snapshot_created_at_ms,
        )
        old = None
        from_snap = final_or_latest(before) if before is not None else None
        if before is not None and from_snap is not None:
            old = await self.store.snapshot(
                before.conv_id,
                before.session_id,
                before.turn_id,
                from_snap.phase,
                from_snap.snapshot_created_at_ms,
            )
        if new is None:
            self.post_message(SwitchSummaryLoaded(view.conv_id, turn_key, "snapshot not found"))
            return
        diff = await asyncio.to_thread(diff_snapshots, old, new, before, record)
        self.post_message(SwitchSummaryLoaded(view.conv_id, turn_key, switch_summary(diff)))

    def on_switch_summary_loaded(self, message: SwitchSummaryLoaded) -> None:
        if self.main_screen is not None:
            self.main_screen.show_switch_summary(message.conv_id, message.turn_key, message.summary)

    def on_check_screen_requested(self, message: CheckScreen.Requested) -> None:
        self.run_check()

    @work(exclusive=True, group="check", exit_on_error=False, name="database check")
    async def run_check(self) -> None:
        """Every conversation of the file and the database-wide facts, then the rules of
        `tui.check` (in a thread)."""
        last = 0.0

        def progress(done: int, total: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= PROGRESS_EVERY_S:
                last = now
                self.post_message(CheckProgress(done, total))

        self.post_message(CheckLoaded(await gather_check(self.store, progress)))

    def on_check_progress(self, message: CheckProgress) -> None:
        if isinstance(self.screen, CheckScreen):
            self.screen.show_progress(message.done, message.total)

    def on_check_loaded(self, message: CheckLoaded) -> None:
        if isinstance(self.screen, CheckScreen):
            self.screen.show_report(message.report)

    def on_find_screen_search(self, message: FindScreen.Search) -> None:
        self.run_find(message.generation, message.query)

    def on_find_screen_cancel(self, message: FindScreen.Cancel) -> None:
        self.workers.cancel_group(self, "find")

    @work(exclusive=True, group="find", exit_on_error=False, name="find")
    async def run_find(self, generation: int, query: str) -> None:
        """Id matches first, then block text, streamed to the find screen in chunks."""

        def post(
            matches: list[Match],
            status: str,
            done: bool = False,
            progress: tuple[int, int] | None = None,
        ) -> None:
            self.post_message(FindProgress(generation, tuple(matches), status, done, progress))

        ids = id_matches(query, await self.store.find_ids(query, FIND_LIMIT))
        found = len(ids)
        post(ids[:FIND_LIMIT], "searching block text…")
        hits = await self.store.find_text(query)
        total = len(hits)
        for start in range(0, total, FIND_CHUNK):
            if found >= FIND_LIMIT:
                break
            chunk = hits[start : start + FIND_CHUNK]
            more = await asyncio.to_thread(text_matches, query, chunk)
            room = FIND_LIMIT - found
            found += len(more)
            checked = start + len(chunk)
            post(
                more[:room],
                f"checked {checked:,} of {total:,} candidate blocks",
                progress=(checked, total),
            )
        ended = f"first {FIND_LIMIT:,} shown" if found >= FIND_LIMIT else "done"
        post([], ended, done=True)

    def on_find_progress(self, message: FindProgress) -> None:
        if isinstance(self.screen, FindScreen):
            self.screen.show_progress(
                message.generation, message.matches, message.status, message.done, message.progress
            )

    # -- follow mode -----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_follow" and isinstance(self.screen, TurnDetailScreen):
            return False  # follow shows new turns on the main screen (and frees the footer)
        if action in ("toggle_follow", "poll", "reload"):
            return self.opened is not None and self.main_screen is not None
        if action == "export":
            return self.export_conv_id(self.screen) is not None
        return True

    def action_toggle_follow(self) -> None:
        """Turn follow mode on or off."""
        if self.follower.on:
            self.follower.stop()
            self.follow = False
            self._show_follow()
            return
        self.follow = True
        if self.opened is not None:
            self._start_follow()

    def _start_follow(self) -> None:
        self.follower.start()
        if self.opened is not None and self.opened.mode == "copy":
            self.notify(
                "Follow mode reads the private migrated copy: new turns written to the "
                "original file will not appear.",
                markup=False,
                severity="warning",
            )
        self._show_follow()

    def _show_follow(self) -> None:
        if self.main_screen is None:
            return
        if not self.follow:
            self.main_screen.set_follow(Text(""))
            return
        text = Text("● follow", style="bold")
        if self.last_check is not None:
            text.append(f" · checked {format_clock_s(self.last_check)}", style="dim")
        self.main_screen.set_follow(text)

    def _poll_tick(self) -> None:
        self.poll_changes()

    def action_poll(self) -> None:
        """Check once whether another program committed; reload if so."""
        if self.opened is not None:
            self.follower.tick()

    @work(group="follow", exit_on_error=False, name="follow")
    async def poll_changes(self) -> None:
        """Compare the store's change token; on a change reload the list and selection."""
        try:
            token = await self.store.change_token()
            if token != self.change_token:
                summaries = await self.store.conversations()
                self.post_message(ConversationsLoaded(tuple(summaries), token, reload=True))
        finally:
            self.post_message(FollowChecked(self.clock()))

    def on_follow_checked(self, message: FollowChecked) -> None:
        self.follower.completed(message.checked_at)
        self._show_follow()

    # -- errors: the one place -------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Turn any worker error into a readable message; never a traceback."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        self.log.error(f"worker {event.worker.name!r} failed: {error!r}")
        if event.worker.group == "read-ahead":
            return  # unasked for: Enter reads again and reports what fails then
        if event.worker.group == "db":
            self._show_open_error(error)
            return
        if event.worker.group == "find" and isinstance(self.screen, FindScreen):
            find = self.screen
            find.show_progress(find.generation, (), f"failed: {describe_error(error)}", True)
        self.notify(
            f"{event.worker.name} failed: {describe_error(error)}",
            title="Error",
            severity="error",
            markup=False,
            timeout=10,
        )

    def _show_open_error(self, error: BaseException | None) -> None:
        self._open_failed = True
        if isinstance(error, StoreError):
            screen = ErrorScreen(
                "Cannot open the database",
                describe_error(error),
                exit_code=error.exit_code,
                locked=isinstance(error, LockedError),
            )
        else:
            screen = ErrorScreen(
                "Unexpected error while opening the database",
                describe_error(error),
                exit_code=1,
            )
        self._show_screen(screen)

    def on_error_screen_quit(self, message: ErrorScreen.Quit) -> None:
        self.exit(return_code=message.exit_code)

    def on_error_screen_retry(self, message: ErrorScreen.Retry) -> None:
        self.store = self.store.reopen(read_only=self.store.read_only or message.read_only)
        self.start_open()

    # -- help and the command palette ------------------------------------------------

    def help_sections(self) -> list[Section]:
        """Every key, grouped by where it works (built from the bindings themselves)."""
        display = self.get_key_display
        builtin = [
            ("↑ ↓", "", "Move the cursor"),
            ("ctrl+q", "", "Quit (always)"),
        ]
        return [
            ("Everywhere", [*key_rows(self.BINDINGS, display), *builtin]),
            ("Main screen", key_rows(MainScreen.BINDINGS, display)),
            ("Conversation list", key_rows(ConversationTable.BINDINGS, display)),
            ("Phase timeline", key_rows(TimelineTable.BINDINGS, display)),
            (
                "Turn detail",
                [
                    *key_rows(TurnDetailScreen.BINDINGS, display),
                    *key_rows(SnapshotList.BINDINGS, display),
                ],
            ),
            (
                "Database check",
                [*key_rows(CheckScreen.BINDINGS, display), *key_rows(CheckTable.BINDINGS, display)],
            ),
            (
                "Find",
                [*key_rows(FindScreen.BINDINGS, display), *key_rows(FindResults.BINDINGS, display)],
            ),
            ("Error screen", key_rows(ErrorScreen.BINDINGS, display)),
        ]

    def action_help(self) -> None:
        """Open the help screen (closing it if it is open)."""
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        self.push_screen(HelpScreen(self.help_sections()))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "List every key and what the marks mean", self.action_help)
        follow = "off" if self.follow else "on"
        yield SystemCommand(
            f"Turn follow mode {follow}",
            "Watch the database and reload when another program commits",
            self.action_toggle_follow,
        )
        if self.opened is not None:
            yield SystemCommand("Reload", "Read the database again now", self.action_reload)
        if self.export_conv_id(screen) is not None:
            yield SystemCommand(
                "Export conversation",
                "Write the shown conversation as json, markdown or minitrace to a file",
                self.action_export,
            )
        commands = getattr(screen, "system_commands", None)
        if callable(commands):  # each screen supplies its own
            yield from commands()

    def action_reload(self) -> None:
        """Reload the conversation list and the selected conversation."""
        self.change_token = None
        self.action_poll()

    # -- export (E) ------------------------------------------------------------------

    def export_conv_id(self, screen: Screen[object]) -> str | None:
        """The conversation E exports: the turn detail's, else the main screen's selection."""
        if self.opened is None:
            return None
        if isinstance(screen, TurnDetailScreen):
            return screen.conversation.conv_id
        if isinstance(screen, MainScreen):
            return screen.selected_conv_id
        return None

    def action_export(self) -> None:
        """Choose format and file (`ExportDialog`), then write them in a worker."""
        conv_id = self.export_conv_id(self.screen)
        if conv_id is None:
            self.notify("No conversation to export.", markup=False, timeout=3)
            return
        self.push_screen(ExportDialog(conv_id, os.getcwd()), self._export_chosen)

    def _export_chosen(self, request: ExportRequest | None) -> None:
        if request is not None:
            self.export_conversation(request)

    @work(group="export", exit_on_error=False, name="export")
    async def export_conversation(self, request: ExportRequest) -> None:
        """Render as `turns-tui export` does and write the file (`tui.export.output`)."""
        import datetime as dt

        from tui.export.output import ExportFileError, export_to_file

        opened = self.opened
        assert opened is not None
        now = dt.datetime.fromtimestamp(self.clock(), tz=dt.UTC)  # minitrace's clock
        r = request
        try:
            size = await export_to_file(
                self.store,
                opened,
                r.conv_id,
                r.fmt,
                r.path,
                overwrite=r.overwrite,
                source_path=self.label,
                now=now,
            )
        except ExportFileError as exc:
            self.post_message(ExportFinished(r.conv_id, r.path, error=str(exc)))
        else:
            self.post_message(ExportFinished(r.conv_id, r.path, size))

    def on_export_finished(self, message: ExportFinished) -> None:
        conv = safe_text(message.conv_id, 60)
        if message.error:
            text = f"export of {conv} failed: {safe_text(message.error, 300)}"
            self.notify(text, title="Export", severity="error", markup=False, timeout=10)
            return
        path = safe_text(message.path, 300)
        self.notify(f"exported {conv} to {path} ({message.size:,} bytes)", markup=False)

    # -- end -------------------------------------------------------------------------

    async def on_unmount(self) -> None:
        self.follower.stop()
        await self.store.close()


def make_app(
    path: str | None = None,
    *,
    store: Store | None = None,
    read_only: bool = False,
    timeline_db: str | None = None,
    follow: bool = False,
    clock: Clock | None = None,
    follow_interval: float = FOLLOW_INTERVAL_S,
    start_at: Place | None = None,
) -> TurnsApp:
    """The one factory for the CLI and the tests: an injected store, or a SQLite store
    built from a path (no path: a fresh demo database)."""
    if store is None:
        from tui.store.sqlite_store import SqliteStore

        label: str | None = None
        if path is None:
            from tui.demo import demo_database

            path = str(demo_database())
            label = "demo database"
        store = SqliteStore(path, read_only=read_only, timeline_db=timeline_db, label=label)
    return TurnsApp(
        store, follow=follow, clock=clock, follow_interval=follow_interval, start_at=start_at
    )


def run_app(
    path: str | None,
    *,
    read_only: bool = False,
    timeline_db: str | None = None,
    follow: bool = False,
    start_at: Place | None = None,
) -> int:
    """Run the app; the exit code is nonzero when the user quit from the error screen."""
    app = make_app(
        path, read_only=read_only, timeline_db=timeline_db, follow=follow, start_at=start_at
    )
    try:
        app.run()
    finally:
        demo = getattr(app.store, "path", None)
        if path is None and isinstance(demo, str):
            shutil.rmtree(os.path.dirname(demo), ignore_errors=True)
    return app.return_code or 0
