"""The Textual app: opens the database in a thread, then reads it in async workers.

Data flows one way: workers (all defined here, on the app) post result messages to the
app; the app sets state on its screens ("attributes down"); screens post requests
("messages up") that the app turns into workers. `on_worker_state_changed` is the one
place where a worker's error becomes a readable message.
"""

from __future__ import annotations

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
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from tui.domain import ConversationView, build_conversation
from tui.formatting import format_clock_s, safe_text
from tui.screens.detail import SnapshotKey, SnapshotList, TurnDetailScreen
from tui.screens.error import ErrorScreen
from tui.screens.help import HelpScreen, Section, key_rows
from tui.screens.loading import LoadingScreen
from tui.screens.main import MEDIUM_FROM, WIDE_FROM, MainScreen
from tui.store.async_reader import AsyncReader
from tui.store.errors import LockedError, StoreError
from tui.store.models import OpenedDatabase, Progress
from tui.store.opener import BUSY_TIMEOUT_S, open_database
from tui.store.records import ConversationSummary, SnapshotDetail
from tui.widgets.conversations import ConversationTable
from tui.widgets.timeline import TimelineTable

Clock = Callable[[], float]
FOLLOW_INTERVAL_S = 1.0
PROGRESS_EVERY_S = 0.05
LOADING_DELAY_S = 0.25  # show the loading screen only when opening takes longer


# ---------------------------------------------------------------------------------------
# Messages posted by the workers (to the app)
# ---------------------------------------------------------------------------------------


class OpenProgress(Message):
    """A long migration step made progress."""

    def __init__(self, step: str, done: int, total: int) -> None:
        super().__init__()
        self.step = step
        self.done = done
        self.total = total


class OpenStep(Message):
    """A migration step started."""

    def __init__(self, step: str) -> None:
        super().__init__()
        self.step = step


class OpenNotice(Message):
    """The opener has something to say (a lock wait, a read-only fallback)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class DatabaseOpened(Message):
    """The database is open and migrated."""

    def __init__(self, opened: OpenedDatabase) -> None:
        super().__init__()
        self.opened = opened


class ConversationsLoaded(Message):
    """The conversation list was read."""

    def __init__(
        self, summaries: tuple[ConversationSummary, ...], version: int, reload: bool
    ) -> None:
        super().__init__()
        self.summaries = summaries
        self.version = version
        self.reload = reload


class ConversationLoaded(Message):
    """The turns of one conversation were read and evaluated."""

    def __init__(self, view: ConversationView) -> None:
        super().__init__()
        self.view = view


class SnapshotLoaded(Message):
    """The blocks of one snapshot were read."""

    def __init__(self, turn_id: str, key: SnapshotKey, detail: SnapshotDetail | None) -> None:
        super().__init__()
        self.turn_id = turn_id
        self.key = key
        self.detail = detail


class FollowChecked(Message):
    """A follow-mode poll ran."""


# ---------------------------------------------------------------------------------------
# The app
# ---------------------------------------------------------------------------------------


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

    CSS_PATH = "app.tcss"
    TITLE = "turns-tui"
    ENABLE_COMMAND_PALETTE = True
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (MEDIUM_FROM, "-medium"), (WIDE_FROM, "-wide")]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("f", "toggle_follow", "Follow", id="app.toggle-follow"),
        Binding(
            "ctrl+p",
            "command_palette",
            "Palette",
            show=False,
            priority=True,
            id="app.command-palette",
        ),
    ]

    def __init__(
        self,
        path: str,
        *,
        read_only: bool = False,
        timeline_db: str | None = None,
        follow: bool = False,
        clock: Clock | None = None,
        label: str | None = None,
    ) -> None:
        super().__init__()
        self.theme = "textual-dark"
        self.db_path = path
        self.read_only = read_only
        self.timeline_db = timeline_db
        self.follow = follow
        self.clock: Clock = clock or time.time
        self.label = label or path
        self.opened: OpenedDatabase | None = None
        self.reader: AsyncReader | None = None
        self.main_screen: MainScreen | None = None
        self.data_version: int | None = None
        self.last_check: float | None = None
        self._follow_timer: Timer | None = None
        self._loading_timer: Timer | None = None
        self._last_step = ""
        self._last_notice = ""
        self.open_timeout = BUSY_TIMEOUT_S  # how long to wait for another writer's lock

    # -- start -----------------------------------------------------------------------

    def on_mount(self) -> None:
        self.start_open(loading_now=False)

    def start_open(self, *, loading_now: bool = True) -> None:
        """Open the database in a thread; the loading screen shows if that takes a while."""
        if self._loading_timer is not None:
            self._loading_timer.stop()
            self._loading_timer = None
        self._last_step = self._last_notice = ""
        if loading_now:
            self._show_loading()
        else:  # a quick open goes straight to the main screen (one screen less to draw)
            self._loading_timer = self.set_timer(LOADING_DELAY_S, self._show_loading)
        self.open_worker(self.read_only)

    def _show_loading(self) -> None:
        self._loading_timer = None
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

    @work(thread=True, exclusive=True, group="db", exit_on_error=False, name="open database")
    def open_worker(self, read_only: bool) -> None:
        """Open, migrate and backfill (synchronous sqlite3 code: a thread worker)."""
        last = 0.0

        def post(message: Message) -> None:
            self.call_from_thread(self.post_message, message)

        def progress(p: Progress) -> None:
            nonlocal last
            now = time.monotonic()
            if p.done < p.total and now - last < PROGRESS_EVERY_S:
                return
            last = now
            post(OpenProgress(p.step, p.done, p.total))

        opened = open_database(
            self.db_path,
            read_only=read_only,
            timeline_db=self.timeline_db,
            on_progress=progress,
            on_step=lambda step: post(OpenStep(step)),
            on_notice=lambda text: post(OpenNotice(text)),
            timeout=self.open_timeout,
        )
        post(DatabaseOpened(opened))

    def on_open_progress(self, message: OpenProgress) -> None:
        self._show_loading()  # a long step: show it now
        if isinstance(self.screen, LoadingScreen):
            self.screen.show_progress(message.step, message.done, message.total)

    def on_open_step(self, message: OpenStep) -> None:
        self._last_step = message.step
        if isinstance(self.screen, LoadingScreen):
            self.screen.show_step(message.step)

    def on_open_notice(self, message: OpenNotice) -> None:
        self._last_notice = message.text
        self._show_loading()  # for example a wait for another writer's lock: say so now
        if isinstance(self.screen, LoadingScreen):
            self.screen.show_notice(message.text)

    async def on_database_opened(self, message: DatabaseOpened) -> None:
        self.opened = opened = message.opened
        self.reader = AsyncReader(opened)
        self.main_screen = MainScreen(
            title=self._title(opened), banner=self._banner(opened), notice=self._notice(opened)
        )
        await self._show_screen(self.main_screen)  # mounted before any result arrives
        self.load_conversations()
        if self.follow:
            self._start_follow()

    # -- what the main screen says about the file -------------------------------------

    def _title(self, opened: OpenedDatabase) -> Text:
        title = Text("turns-tui", style="bold", no_wrap=True, overflow="ellipsis")
        title.append("  ")
        title.append(safe_text(self.label, 80))
        title.append(" · ", style="dim")
        if opened.schema_before != opened.schema_after:
            title.append(f"{opened.schema_before.value} → {opened.schema_after.value}")
        else:
            title.append(opened.schema_after.value)
        return title

    def is_read_only(self, opened: OpenedDatabase) -> bool:
        """Read-only requested, or forced (copy mode, or a file that cannot be written)."""
        return (
            self.read_only or opened.mode == "copy" or any("read-only" in n for n in opened.notices)
        )

    def _banner(self, opened: OpenedDatabase) -> Text | None:
        if not self.is_read_only(opened):
            return None
        where = safe_text(opened.path, 80)
        if opened.mode == "copy":
            text = f"READ-ONLY · migrated a private copy; {where} is never written"
        else:
            text = f"READ-ONLY · {where} is never written"
        return Text(text, no_wrap=True, overflow="ellipsis")

    def _notice(self, opened: OpenedDatabase) -> Text | None:
        report = opened.report
        if not report.applied:
            return None
        did: list[str] = []
        if report.legacy_rows_normalized:
            did.append(f"normalised {report.legacy_rows_normalized:,} legacy snapshots")
        did.append(f"backfilled {report.backfilled_runtime_key:,} runtime keys")
        did.append(f"{report.backfilled_inference_id:,} inference ids")
        if report.unknown_runtime_turns:
            n = report.unknown_runtime_turns
            did.append(f"{n:,} turn{'s' if n != 1 else ''} still of unknown runtime")
        if report.malformed_metadata_rows:
            did.append(f"{report.malformed_metadata_rows:,} rows with malformed metadata")
        where = "migrated a private copy" if opened.mode == "copy" else "migrated in place"
        era = f"{opened.schema_before.value} → {opened.schema_after.value}"
        return Text(f"{where} ({era}): " + ", ".join(did), no_wrap=True, overflow="ellipsis")

    # -- reads -----------------------------------------------------------------------

    def _reader(self) -> AsyncReader:
        if self.reader is None:
            raise RuntimeError("the database is not open")
        return self.reader

    @work(exclusive=True, group="conversations", exit_on_error=False, name="load conversations")
    async def load_conversations(self) -> None:
        """Read the conversation list (and the data version, for follow mode)."""
        reader = self._reader()
        version = await reader.data_version()
        summaries = await reader.conversations()
        self.post_message(ConversationsLoaded(tuple(summaries), version, reload=False))

    def on_conversations_loaded(self, message: ConversationsLoaded) -> None:
        self.data_version = message.version
        main = self.main_screen
        if main is None:
            return
        before = main.selected_conv_id
        main.set_conversations(message.summaries)
        if message.reload and before is not None and main.selected_conv_id == before:
            self.load_conversation(before)

    def on_main_screen_conversation_selected(
        self, message: MainScreen.ConversationSelected
    ) -> None:
        self.load_conversation(message.conv_id)

    @work(exclusive=True, group="conversation", exit_on_error=False, name="load conversation")
    async def load_conversation(self, conv_id: str) -> None:
        """Read one conversation's turns and its timeline-store runtime."""
        reader = self._reader()
        turns = await reader.turns(conv_id)
        timeline = await reader.timeline((conv_id,))
        entry = timeline.get(conv_id)
        view = build_conversation(conv_id, turns, entry[0] if entry else None)
        self.post_message(ConversationLoaded(view))

    def on_conversation_loaded(self, message: ConversationLoaded) -> None:
        if self.main_screen is not None:
            self.main_screen.show_conversation(message.view)

    def on_turn_detail_screen_snapshot_requested(
        self, message: TurnDetailScreen.SnapshotRequested
    ) -> None:
        self.load_snapshot(
            message.conv_id,
            message.session_id,
            message.turn_id,
            message.phase,
            message.created_at_ms,
        )

    @work(exclusive=True, group="snapshot", exit_on_error=False, name="load snapshot")
    async def load_snapshot(
        self, conv_id: str, session_id: str, turn_id: str, phase: str, created_at_ms: int
    ) -> None:
        """Read the blocks of one snapshot."""
        detail = await self._reader().snapshot(conv_id, session_id, turn_id, phase, created_at_ms)
        self.post_message(SnapshotLoaded(turn_id, (phase, created_at_ms), detail))

    async def on_snapshot_loaded(self, message: SnapshotLoaded) -> None:
        screen = self.screen
        if isinstance(screen, TurnDetailScreen) and screen.turn.turn.turn_id == message.turn_id:
            await screen.show_snapshot(message.key, message.detail)

    # -- follow mode -----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("toggle_follow", "poll", "reload"):
            return self.opened is not None and self.main_screen is not None
        return True

    def action_toggle_follow(self) -> None:
        """Turn follow mode on or off."""
        if self._follow_timer is not None:
            self._follow_timer.stop()
            self._follow_timer = None
            self.follow = False
            self._show_follow()
            return
        self.follow = True
        if self.opened is not None:
            self._start_follow()

    def _start_follow(self) -> None:
        if self._follow_timer is None:
            self._follow_timer = self.set_interval(FOLLOW_INTERVAL_S, self.action_poll)
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

    def action_poll(self) -> None:
        """Check once whether another connection committed; reload if so."""
        if self.reader is not None:
            self.poll_changes()

    @work(exclusive=True, group="follow", exit_on_error=False, name="follow")
    async def poll_changes(self) -> None:
        """Compare SQLite's data_version; on a change reload the list and the selection."""
        reader = self._reader()
        version = await reader.data_version()
        self.last_check = self.clock()
        if version != self.data_version:
            summaries = await reader.conversations()
            self.post_message(ConversationsLoaded(tuple(summaries), version, reload=True))
        self.post_message(FollowChecked())

    def on_follow_checked(self, _message: FollowChecked) -> None:
        self._show_follow()

    # -- errors: the one place -------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Turn any worker error into a readable message; never a traceback."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        self.log.error(f"worker {event.worker.name!r} failed: {error!r}")
        if event.worker.group == "db":
            self._show_open_error(error)
            return
        self.notify(
            f"{event.worker.name} failed: {describe_error(error)}",
            title="Error",
            severity="error",
            markup=False,
            timeout=10,
        )

    def _show_open_error(self, error: BaseException | None) -> None:
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
        self.read_only = self.read_only or message.read_only
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
        if self.reader is not None:
            yield SystemCommand("Reload", "Read the database again now", self.action_reload)
        if isinstance(screen, MainScreen):
            yield SystemCommand(
                "Focus conversations",
                "Move the focus to the conversation list",
                lambda: screen.conversations.focus(),
            )
            yield SystemCommand(
                "Focus timeline",
                "Move the focus to the phase timeline",
                lambda: screen.timeline.focus(),
            )
            yield SystemCommand(
                "Next runtime switch", "Jump to the next switch row", screen.action_next_switch
            )
            yield SystemCommand(
                "Previous runtime switch",
                "Jump to the previous switch row",
                screen.action_previous_switch,
            )
            yield SystemCommand(
                "Filter conversations",
                "By conversation id, session or runtime key",
                screen.action_filter,
            )
            yield SystemCommand(
                "Open turn detail",
                "Snapshots and blocks of the turn under the cursor",
                screen.open_turn,
            )
        if isinstance(screen, TurnDetailScreen):
            yield SystemCommand(
                "Show raw metadata",
                "Toggle the raw turn metadata and data",
                screen.action_toggle_raw,
            )
            yield SystemCommand(
                "Expand cut text", "Show very large text in full", screen.action_expand
            )
            yield SystemCommand("Back", "Return to the timeline", screen.action_back)

    def action_reload(self) -> None:
        """Reload the conversation list and the selected conversation."""
        self.data_version = None
        self.action_poll()

    # -- end -------------------------------------------------------------------------

    async def on_unmount(self) -> None:
        if self._follow_timer is not None:
            self._follow_timer.stop()
        if self.reader is not None:
            await self.reader.close()
            self.reader = None


def make_app(
    path: str | None,
    *,
    read_only: bool = False,
    timeline_db: str | None = None,
    follow: bool = False,
    clock: Clock | None = None,
) -> TurnsApp:
    """The one factory for the CLI and the tests; no path opens a fresh demo database."""
    label: str | None = None
    if path is None:
        from tui.demo import demo_database

        path = str(demo_database())
        label = "demo database"
    return TurnsApp(
        path,
        read_only=read_only,
        timeline_db=timeline_db,
        follow=follow,
        clock=clock,
        label=label,
    )


def run_app(
    path: str | None,
    *,
    read_only: bool = False,
    timeline_db: str | None = None,
    follow: bool = False,
) -> int:
    """Run the app; the exit code is nonzero when the user quit from the error screen."""
    app = make_app(path, read_only=read_only, timeline_db=timeline_db, follow=follow)
    try:
        app.run()
    finally:
        if path is None:
            shutil.rmtree(os.path.dirname(app.db_path), ignore_errors=True)
    return app.return_code or 0
