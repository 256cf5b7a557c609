"""Open a turns database safely: check the path, pick the mode, migrate, report.

Modes: ``in_place`` migrates the user's file (as pinocchio does); ``copy`` never
writes the user's file and migrates a private copy made with SQLite's backup API;
``none`` means nothing needed migrating and nothing was written.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator

from tui.store import migrate as migration
from tui.store import schema
from tui.store.errors import (
    LockedError,
    NotADatabaseError,
    NotFoundError,
    PermissionDeniedError,
    StoreError,
    printable,
)
from tui.store.models import Era, MigrationReport, OpenedDatabase, Progress, SchemaInfo

BUSY_TIMEOUT_S = 5.0
SQLITE_MAGIC = b"SQLite format 3\x00"

NoticeFn = Callable[[str], None]
ProgressFn = Callable[[Progress], None]
StepFn = Callable[[str], None]

_private_copies: list[str] = []


def _rmtree(folder: str) -> None:
    import shutil  # lazily: only private copies need it

    shutil.rmtree(folder, ignore_errors=True)


def _copyfile(source: str, target: str) -> None:
    import shutil

    shutil.copyfile(source, target)


def _cleanup_copies() -> None:
    for folder in _private_copies:
        _rmtree(folder)


atexit.register(_cleanup_copies)


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
    path: str, exc: sqlite3.Error, *, read_only: bool = False, check: str | None = None
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
                f"{BUSY_TIMEOUT_S:g} s; it holds an exclusive lock that even a read-only "
                "open must wait for (try again when it releases the file)",
            )
        return LockedError(
            path,
            f"locked by another writer for more than {BUSY_TIMEOUT_S:g} s "
            "(try again, or use --read-only)",
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
        # truncated for a moment. SQLite's own check, under a read lock, decides.
        found = quick_check(path)
        if found != "ok":
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


def _detect(
    conn: sqlite3.Connection, path: str, check: str | None = None, *, read_only: bool = False
) -> SchemaInfo:
    try:
        info = schema.detect(conn)
    except sqlite3.Error as exc:
        raise classify_error(path, exc, check=check, read_only=read_only) from None
    if info.era == Era.NOT_TURNS:
        found = ", ".join(sorted(info.tables)[:6])
        raise NotADatabaseError(path, f"SQLite database without turns tables (found: {found})")
    return info


def _begin_wait(conn: sqlite3.Connection, path: str, notice: NoticeFn, timeout: float) -> None:
    """Probe the write lock in short slices so the wait can be reported."""
    deadline = time.monotonic() + timeout
    told = False
    conn.execute("PRAGMA busy_timeout = 200")
    try:
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc).lower() and "busy" not in str(exc).lower():
                    raise
                if time.monotonic() >= deadline:
                    raise classify_error(path, exc) from None
                if not told:
                    notice(
                        f"{printable(path)}: another writer holds the lock; "
                        f"waiting up to {timeout:g} s"
                    )
                    told = True
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")


def _migrate_file(
    path: str,
    *,
    commit: bool,
    notice: NoticeFn,
    on_progress: ProgressFn | None,
    on_step: StepFn | None,
    timeout: float,
    name: str | None = None,
) -> tuple[SchemaInfo, SchemaInfo, MigrationReport, bool]:
    """Detect and, when needed, migrate `path` in place. Returns (before, after, report, wrote).

    `name` is the file errors and notices name (the user's file when `path` is a copy).
    """
    shown = name or path
    check = path if name else None
    try:
        conn = connect(path, "rw", timeout, lenient=True)
    except sqlite3.Error as exc:
        raise classify_error(shown, exc, check=check) from None
    try:
        info = _detect(conn, shown, check)
        try:
            unchanged = migration.probe(conn, info)
            if unchanged is not None:
                return info, info, unchanged, False
            _begin_wait(conn, shown, notice, timeout)
            info = _detect(conn, shown, check)  # re-read under the writer's latest commit
            report = migration.migrate(
                conn, info, on_progress=on_progress, on_step=on_step, commit=commit
            )
            after = schema.detect(conn) if commit else info
        except sqlite3.Error as exc:
            raise classify_error(shown, exc, check=check) from None
        return info, after, report, report.applied
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


def _needs_raw_copy(path: str, exc: sqlite3.Error) -> bool:
    """Whether a read-only open failed only because SQLite would have to write beside it.

    A read-only connection cannot roll back a hot journal (a killed writer's), nor create
    the -wal / -shm files of a WAL database in a read-only folder. A private copy of the
    files can do both, and the user's files stay untouched.
    """
    low = str(exc).lower()
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
    import tempfile  # only copies need it: keep the CLI's start-up light

    folder = tempfile.mkdtemp(prefix="turns-tui-")
    _private_copies.append(folder)
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
        if not _needs_raw_copy(path, exc):
            raise classify_error(path, exc, read_only=True) from None
        for suffix in ("", *_SIDE_FILES):
            with contextlib.suppress(FileNotFoundError):
                os.remove(target + suffix)
        _raw_private_copy(path, target)
    return target


def discard_copy(opened: OpenedDatabase) -> None:
    """Remove the private copy of a database opened in copy mode."""
    if opened.mode == "copy":
        _rmtree(os.path.dirname(opened.read_path))


def _timeline_path(timeline_db: str | None, read_path: str, info: SchemaInfo) -> str | None:
    if timeline_db:
        check_path(timeline_db)
        try:
            conn = connect(timeline_db, "ro", 1.0)
            try:
                tables = schema.table_names(conn)
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise classify_error(timeline_db, exc, read_only=True) from None
        if schema.TIMELINE_TABLE not in tables:
            raise NotADatabaseError(
                timeline_db, "no timeline_conversations table (not a timeline store)"
            )
        return timeline_db
    return read_path if info.has_timeline else None


def open_database(
    path: str,
    *,
    read_only: bool = False,
    timeline_db: str | None = None,
    on_progress: ProgressFn | None = None,
    on_step: StepFn | None = None,
    on_notice: NoticeFn | None = None,
    timeout: float = BUSY_TIMEOUT_S,
) -> OpenedDatabase:
    """Open, migrate and backfill a turns database; raise a StoreError on bad input."""
    notices: list[str] = []

    def notice(text: str) -> None:
        notices.append(text)
        if on_notice is not None:
            on_notice(text)

    size = check_path(path)
    if size == 0:
        empty = MigrationReport(applied=False, steps=())
        return OpenedDatabase(
            path,
            path,
            "none",
            Era.EMPTY,
            Era.EMPTY,
            empty,
            tuple(notices),
            _timeline_path(timeline_db, path, SchemaInfo(Era.EMPTY, frozenset())),
        )
    if not read_only and not writable(path):
        notice(
            f"{printable(path)}: the file or its folder is not writable; opened read-only "
            "(a private migrated copy; the file is untouched)"
        )
        read_only = True
    if read_only:
        return _open_copy(path, timeline_db, on_progress, on_step, notice, notices, timeout)
    before, after, report, wrote = _migrate_file(
        path,
        commit=True,
        notice=notice,
        on_progress=on_progress,
        on_step=on_step,
        timeout=timeout,
    )
    return OpenedDatabase(
        path=path,
        read_path=path,
        mode="in_place" if wrote else "none",
        schema_before=before.era,
        schema_after=after.era,
        report=report,
        notices=tuple(notices),
        timeline_path=_timeline_path(timeline_db, path, after),
    )


def _probe_read_only(path: str, timeout: float) -> tuple[SchemaInfo, MigrationReport | None] | None:
    """(era info, report when nothing needs migrating) from a read-only connection; None
    when only a private
    copy of the files can be read without writing beside them (a hot journal; a WAL
    database in a read-only folder; a WAL database without its -wal file, where a
    read-only connection would leave an empty -wal and a -shm behind)."""
    if _wal_header(path) and not os.path.exists(path + "-wal"):
        return None
    try:
        conn = connect(path, "ro", timeout, lenient=True)
        try:
            info = _detect(conn, path, read_only=True)
            return info, migration.probe(conn, info)
        finally:
            conn.close()
    except StoreError as exc:
        cause = exc.__context__ if isinstance(exc.__context__, sqlite3.Error) else None
        if cause is not None and _needs_raw_copy(path, cause):
            return None
        raise
    except sqlite3.Error as exc:
        if _needs_raw_copy(path, exc):
            return None
        raise classify_error(path, exc, read_only=True) from None


def _open_copy(
    path: str,
    timeline_db: str | None,
    on_progress: ProgressFn | None,
    on_step: StepFn | None,
    notice: NoticeFn,
    notices: list[str],
    timeout: float,
) -> OpenedDatabase:
    probe = _probe_read_only(path, timeout)
    ready = probe[1] if probe is not None else None
    if probe is not None and ready is not None:
        info, report = probe[0], ready
        notice(f"{printable(path)}: read-only mode; the file is never written")
        return OpenedDatabase(
            path,
            path,
            "none",
            info.era,
            info.era,
            report,
            tuple(notices),
            _timeline_path(timeline_db, path, info),
        )
    if probe is None:
        notice(
            f"{printable(path)}: cannot be read in place without writing beside it (a crashed "
            "writer's journal to roll back, or WAL files the folder cannot hold); "
            "reading a private copy"
        )
    copy = make_private_copy(path, raw=probe is None)
    before, after, report, _ = _migrate_file(
        copy,
        commit=True,
        notice=notice,
        on_progress=on_progress,
        on_step=on_step,
        timeout=timeout,
        name=path,
    )
    notice(f"{printable(path)}: read-only mode; migrated a private copy, the file is untouched")
    timeline = _timeline_path(timeline_db, copy, after)
    return OpenedDatabase(
        path, copy, "copy", before.era, after.era, report, tuple(notices), timeline
    )


def plan_migration(path: str, timeout: float = BUSY_TIMEOUT_S) -> tuple[Era, MigrationReport]:
    """Dry run: migrate a private copy and report what would change; the file is not written."""
    size = check_path(path)
    if size == 0:
        return Era.EMPTY, MigrationReport(applied=False, steps=())
    probe = _probe_read_only(path, timeout)
    if probe is not None and probe[1] is not None:
        return probe[0].era, probe[1]
    copy = make_private_copy(path, raw=probe is None)
    try:
        before, _, report, _ = _migrate_file(
            copy,
            commit=False,
            notice=lambda _: None,
            on_progress=None,
            on_step=None,
            timeout=timeout,
            name=path,
        )
    finally:
        _rmtree(os.path.dirname(copy))
    return before.era, report
