"""Open a turns database safely: check the path, pick the mode, migrate, report.

One job per function: `check_path` validates, `inspect_read_only` judges the file on a
read-only connection (which steps it needs), and `open_database` picks the mode:
``none`` (nothing needed, no write lock), ``in_place`` (migrate the user's file, as
pinocchio does), ``overlay`` (read-only: the backfill derived in memory) or ``copy``
(read-only eras 0/1: a private migrated copy, removed on every exit path).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tui.store import cleanup, schema
from tui.store import migrate as migration
from tui.store.errors import (
    LockedError,
    NotADatabaseError,
    NotFoundError,
    PermissionDeniedError,
    StoreError,
)
from tui.store.models import (
    Era,
    MigrationReport,
    Notice,
    NoticeKind,
    Opened,
    OpenMode,
    Progress,
    SchemaInfo,
)
from tui.store.overlay import NO_OVERLAY, Overlay, compute_overlay

BUSY_TIMEOUT_S = 5.0
SQLITE_MAGIC = b"SQLite format 3\x00"

NoticeFn = Callable[[Notice], None]
ProgressFn = Callable[[Progress], None]
StepFn = Callable[[str], None]


_URI_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._~-")


def _uri_quote(path: str) -> str:
    """Percent-encode a path for a SQLite URI (like urllib's quote(safe="/"), without
    importing urllib; undecodable file-name bytes kept via surrogateescape)."""
    return "".join(
        c if c in _URI_SAFE else "".join(f"%{b:02X}" for b in c.encode("utf-8", "surrogateescape"))
        for c in path
    )


def sqlite_uri(path: str, mode: str) -> str:
    """A `file:` URI that opens `path` with `mode` (ro or rw) and never creates it."""
    quoted = _uri_quote(os.path.abspath(path))
    return f"file:{quoted}?mode={mode}"


def lenient_text(value: bytes) -> str:
    """Decode TEXT that is not valid UTF-8 (a writer may store any bytes) with U+FFFD."""
    return value.decode("utf-8", "replace")


def is_decode_error(exc: BaseException) -> bool:
    """Whether sqlite3 failed to decode a TEXT value as UTF-8."""
    return "could not decode to utf-8" in str(exc).lower()


def connect(
    path: str, mode: str, timeout: float = BUSY_TIMEOUT_S, *, lenient: bool = False
) -> sqlite3.Connection:
    """Connect in autocommit mode with a busy timeout; `mode` is ro or rw.

    `lenient` decodes invalid UTF-8 in TEXT values with U+FFFD instead of failing (a
    little slower per value; readers switch to it only when they meet such a value).
    """
    conn = sqlite3.connect(
        sqlite_uri(path, mode),
        uri=True,
        timeout=timeout,
        isolation_level=None,
        check_same_thread=False,
    )
    if lenient:
        conn.text_factory = lenient_text
    return conn


def quick_check(path: str) -> str:
    """`PRAGMA quick_check` on a read-only connection, summed up on one line (or the error)."""
    try:
        conn = connect(path, "ro", timeout=1.0)
        try:
            rows = conn.execute("PRAGMA quick_check(20)").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return str(exc)
    # SQLite puts several problems in one row, separated by newlines.
    problems = [
        line.strip()
        for row in rows
        for line in str(row[0]).splitlines()
        if line.strip() and not line.startswith("***")
    ]
    if not problems:
        return str(rows[0][0]) if rows else "no result"
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    return problems[0] + more


def classify_error(
    path: str,
    exc: sqlite3.Error,
    *,
    read_only: bool = False,
    check: str | None = None,
    timeout: float = BUSY_TIMEOUT_S,
) -> StoreError:
    """Turn a sqlite3 error into one clear StoreError naming `path` and the cause.

    `check` is the file to run `quick_check` on when it is not `path` (a private copy).
    """
    text = " ".join(str(exc).split())
    low = text.lower()
    if "locked" in low or "busy" in low:
        if read_only:
            return LockedError(
                path,
                "locked by another process for more than "
                f"{timeout:g} s; it holds an exclusive lock that even a read-only "
                "open must wait for (try again when it releases the file)",
            )
        return LockedError(
            path,
            f"locked by another writer for more than {timeout:g} s (try again, or use --read-only)",
        )
    if "readonly" in low or "read-only" in low or "permission" in low:
        return PermissionDeniedError(path, f"permission denied ({text})")
    if "not a database" in low or "malformed" in low or "disk image" in low or "corrupt" in low:
        found = quick_check(check or path)
        return NotADatabaseError(
            path, f"corrupt or truncated SQLite file ({text}; quick_check: {found})"
        )
    if "unable to open" in low:
        if not os.access(path, os.R_OK):
            return PermissionDeniedError(path, "permission denied: cannot read the file")
        return NotADatabaseError(path, f"cannot open the database ({text})")
    return NotADatabaseError(path, f"SQLite error: {text}")


# Descriptors of database files this process must never close (see `read_head`).
_held_fds: dict[tuple[int, int], int] = {}


def _open_elsewhere(fd: int, st: os.stat_result) -> bool:
    """Whether another descriptor of this process has the same file open (a SQLite
    connection, most likely). Unknown (True) where /proc/self/fd is not available."""
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return True
    for name in names:
        if name == str(fd):
            continue
        try:
            other = os.stat(f"/proc/self/fd/{name}")
        except OSError:
            continue
        if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
            return True
    return False


@contextlib.contextmanager
def _database_fd(path: str) -> Iterator[int]:
    """A read-only descriptor of a database file that is never closed while it matters.

    Closing *any* descriptor of a file releases every POSIX lock the process holds on
    it, including the SHARED lock a SQLite reader of this process keeps on a WAL
    database; a writer closing its last connection could then delete the -wal and -shm
    under that reader, which stops seeing new commits (SQLite's "How to corrupt", 2.2).
    So when the file is also open elsewhere in this process, the descriptor is kept
    open for the life of the process instead of being closed.
    """
    st = os.stat(path)
    held = _held_fds.get((st.st_dev, st.st_ino))
    if held is not None:
        yield held
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        yield fd
    finally:
        st = os.fstat(fd)
        if _open_elsewhere(fd, st):
            _held_fds[(st.st_dev, st.st_ino)] = fd  # closing it would drop their locks
        else:
            os.close(fd)


def read_head(path: str, size: int) -> bytes:
    """The first `size` bytes of a database file (without releasing this process' locks)."""
    with _database_fd(path) as fd:
        return os.pread(fd, size, 0)


def _copy_database_bytes(path: str, target: str) -> None:
    """Copy a database file's bytes (without releasing this process' locks on it)."""
    chunk = 8 << 20
    with _database_fd(path) as fd, open(target, "wb") as out:
        offset = 0
        while True:
            data = os.pread(fd, chunk, offset)
            if not data:
                break
            out.write(data)
            offset += len(data)


def check_path(path: str) -> int:
    """Validate the path and its header without writing; return its size in bytes."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise NotFoundError(path, "no such file") from None
    except PermissionError:
        raise PermissionDeniedError(path, "permission denied: cannot reach the file") from None
    if os.path.isdir(path):
        raise NotADatabaseError(path, "is a folder, not a database file")
    try:
        header = read_head(path, 100)
    except PermissionError:
        raise PermissionDeniedError(path, "permission denied: cannot read the file") from None
    except OSError as exc:
        raise NotADatabaseError(path, f"cannot read the file ({exc.strerror})") from None
    if st.st_size == 0:
        return 0
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise NotADatabaseError(path, "not a SQLite database (no SQLite header)")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    change_counter = int.from_bytes(header[24:28], "big")
    page_count = int.from_bytes(header[28:32], "big")
    valid_for = int.from_bytes(header[92:96], "big")
    if page_count and change_counter == valid_for and st.st_size < page_count * page_size:
        # A live writer's checkpoint (or commit) writes page 1, with the new page count,
        # before it extends the file: read without a lock, a healthy database can look
        # truncated for a moment. SQLite's own check, under a read lock, decides. A
        # writer killed inside COMMIT leaves the same page 1 beside a hot journal, which
        # a read-only check cannot roll back: that is for the recovery the open does (in
        # place, or in a private copy), not a truncated file.
        found = quick_check(path)
        if found != "ok" and not _needs_raw_copy(path, found):
            raise NotADatabaseError(
                path,
                f"truncated SQLite file ({st.st_size} bytes, header says "
                f"{page_count * page_size}; quick_check: {found})",
            )
    return st.st_size


def writable(path: str) -> bool:
    """Whether the file and its folder can be written (journal and WAL files live there)."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    return os.access(path, os.W_OK) and os.access(folder, os.W_OK | os.X_OK)


def _copyfile(source: str, target: str) -> None:
    import shutil  # lazily: only private copies need it

    shutil.copyfile(source, target)


def _detect(
    conn: sqlite3.Connection,
    path: str,
    check: str | None = None,
    *,
    read_only: bool = False,
    timeout: float = BUSY_TIMEOUT_S,
) -> SchemaInfo:
    try:
        info = schema.detect(conn)
    except sqlite3.Error as exc:
        raise classify_error(path, exc, check=check, read_only=read_only, timeout=timeout) from None
    if info.era == Era.NOT_TURNS:
        found = ", ".join(sorted(info.tables)[:6])
        raise NotADatabaseError(path, f"SQLite database without turns tables (found: {found})")
    return info


def _begin_wait(conn: sqlite3.Connection, path: str, notice: NoticeFn, timeout: float) -> float:
    """Probe the write lock in short slices so the wait can be reported; return the wait."""
    started = time.monotonic()
    deadline = started + timeout
    told = False
    conn.execute("PRAGMA busy_timeout = 200")
    try:
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
                return time.monotonic() - started
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc).lower() and "busy" not in str(exc).lower():
                    raise
                if time.monotonic() >= deadline:
                    raise classify_error(path, exc, timeout=timeout) from None
                if not told:
                    notice(
                        Notice(
                            NoticeKind.LOCK_WAIT,
                            f"another writer holds the lock; waiting up to {timeout:g} s",
                        )
                    )
                    told = True
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")


@dataclass(frozen=True)
class Migrated:
    """What migrating one file did."""

    before: SchemaInfo
    after: SchemaInfo
    report: MigrationReport
    lock_wait_s: float


def _migrate_file(
    path: str,
    *,
    commit: bool,
    notice: NoticeFn,
    on_progress: ProgressFn | None,
    on_step: StepFn | None,
    timeout: float,
    name: str | None = None,
) -> Migrated:
    """Migrate `path` in one write transaction (the caller knows a step is needed).

    `name` is the file errors and notices name (the user's file when `path` is a copy).
    """
    shown = name or path
    check = path if name else None
    try:
        conn = connect(path, "rw", timeout, lenient=True)
    except sqlite3.Error as exc:
        raise classify_error(shown, exc, check=check, timeout=timeout) from None
    try:
        try:
            waited = _begin_wait(conn, shown, notice, timeout)
            info = _detect(conn, shown, check, timeout=timeout)  # under the latest commit
            report = migration.migrate(
                conn, info, on_progress=on_progress, on_step=on_step, commit=commit
            )
            after = schema.detect(conn) if commit else info
        except sqlite3.Error as exc:
            raise classify_error(shown, exc, check=check, timeout=timeout) from None
        return Migrated(info, after, report, waited)
    finally:
        conn.close()


# Files SQLite keeps beside a database: a WAL with committed frames, or the rollback
# journal a crashed writer left (a "hot" journal that must be rolled back before reading).
_SIDE_FILES = ("-wal", "-journal")


def _wal_header(path: str) -> bool:
    """Whether the file's header says WAL journaling (read and write versions 2)."""
    try:
        header = read_head(path, 20)
    except OSError:
        return False
    return len(header) == 20 and header[18:20] == b"\x02\x02"


def _needs_raw_copy(path: str, error: str) -> bool:
    """Whether a read-only open failed (with message `error`) only because SQLite would
    have to write beside it.

    A read-only connection cannot roll back a hot journal (a killed writer's), nor create
    the -wal / -shm files of a WAL database in a read-only folder. A private copy of the
    files can do both, and the user's files stay untouched.
    """
    low = error.lower()
    if "locked" in low or "busy" in low:
        return False
    if not ("readonly" in low or "read-only" in low or "unable to open" in low):
        return False
    if not os.access(path, os.R_OK):
        return False
    return any(os.path.exists(path + s) for s in _SIDE_FILES) or _wal_header(path)


def _raw_private_copy(path: str, target: str) -> None:
    """Copy the file and its WAL / hot journal bytes; SQLite recovers them in the copy."""
    _copy_database_bytes(path, target)
    for suffix in _SIDE_FILES:  # SQLite takes no POSIX lock on these
        if os.path.exists(path + suffix):
            _copyfile(path + suffix, target + suffix)
    try:
        conn = sqlite3.connect(target, isolation_level=None)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise classify_error(path, exc, check=target) from None


def make_private_copy(path: str, *, raw: bool = False) -> str:
    """Copy `path` (with its committed WAL content) into a private temp file, read-only.

    SQLite's backup API copies what a reader sees; when a read-only open is impossible
    (`raw`, or the backup fails that way) the files are copied and recovered in the copy.
    """
    folder = cleanup.new_copy_folder()
    target = os.path.join(folder, os.path.basename(path) or "copy.sqlite")
    if raw:
        _raw_private_copy(path, target)
        return target
    try:
        src = connect(path, "ro")
        try:
            dst = sqlite3.connect(target)
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        if not _needs_raw_copy(path, str(exc)):
            raise classify_error(path, exc, read_only=True) from None
        for suffix in ("", *_SIDE_FILES):
            with contextlib.suppress(FileNotFoundError):
                os.remove(target + suffix)
        _raw_private_copy(path, target)
    return target


def _timeline_path(
    timeline_db: str | None, read_path: str, info: SchemaInfo, timeout: float
) -> str | None:
    if timeline_db:
        check_path(timeline_db)
        try:
            conn = connect(timeline_db, "ro", min(timeout, 1.0))
            try:
                tables = schema.table_names(conn)
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise classify_error(timeline_db, exc, read_only=True, timeout=timeout) from None
        if schema.TIMELINE_TABLE not in tables:
            raise NotADatabaseError(
                timeline_db, "no timeline_conversations table (not a timeline store)"
            )
        return timeline_db
    return read_path if info.has_timeline else None


@dataclass(frozen=True)
class Inspection:
    """A file judged on a read-only connection: its era, and the steps it needs."""

    info: SchemaInfo
    steps: tuple[migration.Step, ...]
    report: MigrationReport | None  # the report of the file as it is, when nothing is needed
    future: tuple[str, ...]  # what a newer writer added that is kept and ignored

    @property
    def in_memory(self) -> bool:
        """Whether the overlay can stand in for every needed step (no copy needed)."""
        return all(step.in_memory for step in self.steps)


def inspect_read_only(path: str, timeout: float) -> Inspection | None:
    """Judge the file without writing. None when only a private copy of its files can be
    read without writing beside it (a hot journal; a WAL database in a read-only folder; a
    WAL database whose -wal file is missing in a folder we cannot write)."""
    try:
        conn = connect(path, "ro", timeout, lenient=True)
        try:
            info = _detect(conn, path, read_only=True, timeout=timeout)
            needed, report = migration.inspect(conn, info)
            steps = tuple(needed)
            future = schema.future_schema(conn, info)
            return Inspection(info, steps, report, future)
        finally:
            conn.close()
    except StoreError as exc:
        cause = exc.__context__ if isinstance(exc.__context__, sqlite3.Error) else None
        if cause is not None and _needs_raw_copy(path, str(cause)):
            return None
        raise
    except sqlite3.Error as exc:
        if _needs_raw_copy(path, str(exc)):
            return None
        raise classify_error(path, exc, read_only=True, timeout=timeout) from None


def _overlay_for(
    path: str, inspection: Inspection, *, turns: bool, timeout: float, now_ms: int
) -> tuple[Overlay, MigrationReport | None]:
    """The in-memory backfill of the file as it is (turns and/or geppetto_turns)."""
    geppetto = inspection.info.era == Era.GEPPETTO
    if not turns and not geppetto:
        return NO_OVERLAY, None
    try:
        conn = connect(path, "ro", timeout, lenient=True)
        try:
            overlay, report = compute_overlay(conn, turns=turns, geppetto=geppetto, now_ms=now_ms)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise classify_error(path, exc, read_only=True, timeout=timeout) from None
    return overlay, report


@dataclass(frozen=True)
class OpenResult:
    """An opened database and the overlay its reads apply."""

    opened: Opened
    overlay: Overlay


def open_database(
    path: str,
    *,
    read_only: bool = False,
    timeline_db: str | None = None,
    on_progress: ProgressFn | None = None,
    on_step: StepFn | None = None,
    on_notice: NoticeFn | None = None,
    timeout: float = BUSY_TIMEOUT_S,
    now_ms: int | None = None,
) -> Opened:
    """Open, migrate and backfill a turns database; raise a StoreError on bad input."""
    return open_store_files(
        path,
        read_only=read_only,
        timeline_db=timeline_db,
        on_progress=on_progress,
        on_step=on_step,
        on_notice=on_notice,
        timeout=timeout,
        now_ms=now_ms,
    ).opened


def open_store_files(
    path: str,
    *,
    read_only: bool = False,
    timeline_db: str | None = None,
    on_progress: ProgressFn | None = None,
    on_step: StepFn | None = None,
    on_notice: NoticeFn | None = None,
    timeout: float = BUSY_TIMEOUT_S,
    now_ms: int | None = None,
) -> OpenResult:
    """`open_database` with the overlay the reads must apply (the store uses this)."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    with _cleaned_up(path, timeline_db):
        notices: list[Notice] = []

        def notice(n: Notice) -> None:
            notices.append(n)
            if on_notice is not None:
                on_notice(n)

        def result(
            mode: OpenMode,
            read_path: str,
            before: Era,
            after: Era,
            report: MigrationReport,
            timeline: str | None,
            overlay: Overlay = NO_OVERLAY,
            waited: float = 0.0,
        ) -> OpenResult:
            opened = Opened(
                path=path,
                read_path=read_path,
                mode=mode,
                schema_before=before,
                schema_after=after,
                report=report,
                notices=tuple(notices),
                timeline_path=timeline,
                read_only=read_only,
                lock_wait_s=waited,
                timeout_s=timeout,
            )
            return OpenResult(opened, overlay)

        size = check_path(path)
        empty_info = SchemaInfo(Era.EMPTY, frozenset())
        if size == 0:
            notice(Notice(NoticeKind.EMPTY, "empty database (0 bytes): no conversations"))
            nothing = MigrationReport(applied=False, steps=())
            timeline = _timeline_path(timeline_db, path, empty_info, timeout)
            return result(OpenMode.NONE, path, Era.EMPTY, Era.EMPTY, nothing, timeline)
        if not read_only and not writable(path):
            notice(
                Notice(
                    NoticeKind.READ_ONLY_FORCED,
                    "the file or its folder is not writable: opened read-only",
                )
            )
            read_only = True
        inspection = inspect_read_only(path, timeout)
        if inspection is not None:
            info = inspection.info
            if info.era == Era.EMPTY:
                notice(Notice(NoticeKind.EMPTY, "empty database (no tables): no conversations"))
            if inspection.future:
                notice(
                    Notice(
                        NoticeKind.FUTURE_SCHEMA,
                        "kept and ignored (from a newer writer?): " + ", ".join(inspection.future),
                    )
                )
        if inspection is not None and not inspection.steps:
            assert inspection.report is not None
            overlay, derived = _overlay_for(
                path, inspection, turns=False, timeout=timeout, now_ms=now_ms
            )
            if overlay.active:
                notice(
                    Notice(
                        NoticeKind.OVERLAY,
                        "geppetto_turns belongs to geppetto's JS provider and is never written: "
                        "its empty runtime keys and inference ids are derived in memory",
                    )
                )
            timeline = _timeline_path(timeline_db, path, inspection.info, timeout)
            era = inspection.info.era
            mode = OpenMode.OVERLAY if overlay.active else OpenMode.NONE
            return result(mode, path, era, era, derived or inspection.report, timeline, overlay)
        if inspection is not None and read_only and inspection.in_memory:
            overlay, derived = _overlay_for(
                path, inspection, turns=True, timeout=timeout, now_ms=now_ms
            )
            assert derived is not None
            notice(
                Notice(
                    NoticeKind.OVERLAY,
                    "read-only: the GP-26 backfill is derived in memory; nothing is written",
                )
            )
            timeline = _timeline_path(timeline_db, path, inspection.info, timeout)
            era = inspection.info.era
            return result(OpenMode.OVERLAY, path, era, Era.GP26, derived, timeline, overlay)
        if read_only:
            if inspection is None:
                notice(
                    Notice(
                        NoticeKind.RAW_COPY,
                        "cannot be read in place without writing beside it (a crashed writer's "
                        "journal to roll back, or WAL files the folder cannot hold): "
                        "reading a private copy",
                    )
                )
            else:
                notice(
                    Notice(
                        NoticeKind.PRIVATE_COPY,
                        "read-only: legacy snapshots are normalised in a private copy "
                        "(removed on exit); the file is never written",
                    )
                )
            copy = make_private_copy(path, raw=inspection is None)
            cleanup.restore_idle(path)  # the copy is taken: drop what reading it left
            done = _migrate_file(
                copy,
                commit=True,
                notice=notice,
                on_progress=on_progress,
                on_step=on_step,
                timeout=timeout,
                name=path,
            )
            timeline = _timeline_path(timeline_db, copy, done.after, timeout)
            return result(
                OpenMode.COPY, copy, done.before.era, done.after.era, done.report, timeline
            )
        done = _migrate_file(
            path,
            commit=True,
            notice=notice,
            on_progress=on_progress,
            on_step=on_step,
            timeout=timeout,
        )
        timeline = _timeline_path(timeline_db, path, done.after, timeout)
        mode = OpenMode.IN_PLACE if done.report.applied else OpenMode.NONE
        after = done.after.era
        return result(
            mode, path, done.before.era, after, done.report, timeline, waited=done.lock_wait_s
        )


@contextlib.contextmanager
def _cleaned_up(path: str, timeline_db: str | None) -> Iterator[None]:
    """Note the side files of the database (and timeline store) now; when the open's own
    connections are all closed, on success or failure, drop what they left beside."""
    cleanup.guard(path, fresh=True)
    if timeline_db:
        cleanup.guard(timeline_db, fresh=True)
    try:
        yield
    finally:
        cleanup.restore_idle(path)
        if timeline_db:
            cleanup.restore_idle(timeline_db)


def plan_migration(path: str, timeout: float = BUSY_TIMEOUT_S) -> tuple[Era, MigrationReport]:
    """Dry run: migrate a private copy and report what would change; the file is not written."""
    cleanup.guard(path, fresh=True)
    try:
        size = check_path(path)
        if size == 0:
            return Era.EMPTY, MigrationReport(applied=False, steps=())
        inspection = inspect_read_only(path, timeout)
        if inspection is not None and not inspection.steps:
            assert inspection.report is not None
            return inspection.info.era, inspection.report
        copy = make_private_copy(path, raw=inspection is None)
        cleanup.restore_idle(path)
        try:
            done = _migrate_file(
                copy,
                commit=False,
                notice=lambda _: None,
                on_progress=None,
                on_step=None,
                timeout=timeout,
                name=path,
            )
        finally:
            cleanup.remove_copy(os.path.dirname(copy))
        return done.before.era, done.report
    finally:
        cleanup.restore_idle(path)
