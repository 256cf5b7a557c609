"""Open a turns database safely: check the path, pick the mode, migrate, report.

Modes: ``in_place`` migrates the user's file (as pinocchio does); ``copy`` never
writes the user's file and migrates a private copy made with SQLite's backup API;
``none`` means nothing needed migrating and nothing was written.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sqlite3
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from tui.store import migrate as migration
from tui.store import schema
from tui.store.errors import (
    LockedError,
    NotADatabaseError,
    NotFoundError,
    PermissionDeniedError,
    StoreError,
)
from tui.store.models import Era, MigrationReport, OpenedDatabase, Progress, SchemaInfo

BUSY_TIMEOUT_S = 5.0
SQLITE_MAGIC = b"SQLite format 3\x00"

NoticeFn = Callable[[str], None]
ProgressFn = Callable[[Progress], None]
StepFn = Callable[[str], None]

_private_copies: list[str] = []


def _cleanup_copies() -> None:
    for folder in _private_copies:
        shutil.rmtree(folder, ignore_errors=True)


atexit.register(_cleanup_copies)


def sqlite_uri(path: str, mode: str) -> str:
    """A `file:` URI that opens `path` with `mode` (ro or rw) and never creates it."""
    quoted = urllib.parse.quote(os.path.abspath(path))
    return f"file:{quoted}?mode={mode}"


def connect(path: str, mode: str, timeout: float = BUSY_TIMEOUT_S) -> sqlite3.Connection:
    """Connect in autocommit mode with a busy timeout; `mode` is ro or rw."""
    conn = sqlite3.connect(
        sqlite_uri(path, mode),
        uri=True,
        timeout=timeout,
        isolation_level=None,
        check_same_thread=False,
    )
    return conn


def quick_check(path: str) -> str:
    """First line of `PRAGMA quick_check` on a read-only connection (or the error)."""
    try:
        conn = connect(path, "ro", timeout=1.0)
        try:
            row = conn.execute("PRAGMA quick_check").fetchone()
        finally:
            conn.close()
        return str(row[0]) if row else "no result"
    except sqlite3.Error as exc:
        return str(exc)


def classify_error(path: str, exc: sqlite3.Error) -> StoreError:
    """Turn a sqlite3 error into one clear StoreError naming the cause."""
    text = str(exc)
    low = text.lower()
    if "locked" in low or "busy" in low:
        return LockedError(
            path,
            f"locked by another writer for more than {BUSY_TIMEOUT_S:g} s "
            "(try again, or use --read-only)",
        )
    if "readonly" in low or "read-only" in low or "permission" in low:
        return PermissionDeniedError(path, f"permission denied ({text})")
    if "not a database" in low or "malformed" in low or "disk image" in low or "corrupt" in low:
        check = quick_check(path)
        return NotADatabaseError(
            path, f"corrupt or truncated SQLite file ({text}; quick_check: {check})"
        )
    if "unable to open" in low:
        if not os.access(path, os.R_OK):
            return PermissionDeniedError(path, "permission denied: cannot read the file")
        return NotADatabaseError(path, f"cannot open the database ({text})")
    return NotADatabaseError(path, f"SQLite error: {text}")


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
        with open(path, "rb") as fh:
            header = fh.read(100)
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
        raise NotADatabaseError(
            path,
            f"truncated SQLite file ({st.st_size} bytes, header says "
            f"{page_count * page_size}; quick_check: {quick_check(path)})",
        )
    return st.st_size


def writable(path: str) -> bool:
    """Whether the file and its folder can be written (journal and WAL files live there)."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    return os.access(path, os.W_OK) and os.access(folder, os.W_OK | os.X_OK)


def _detect(conn: sqlite3.Connection, path: str) -> SchemaInfo:
    try:
        info = schema.detect(conn)
    except sqlite3.Error as exc:
        raise classify_error(path, exc) from None
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
                    notice(f"{path}: another writer holds the lock; waiting up to {timeout:g} s")
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
) -> tuple[SchemaInfo, SchemaInfo, MigrationReport, bool]:
    """Detect and, when needed, migrate `path` in place. Returns (before, after, report, wrote)."""
    try:
        conn = connect(path, "rw", timeout)
    except sqlite3.Error as exc:
        raise classify_error(path, exc) from None
    try:
        info = _detect(conn, path)
        try:
            if not migration.needs_migration(conn, info):
                return info, info, migration.inspect(conn, info), False
            _begin_wait(conn, path, notice, timeout)
            info = _detect(conn, path)  # re-read under the writer's latest commit
            report = migration.migrate(
                conn, info, on_progress=on_progress, on_step=on_step, commit=commit
            )
            after = schema.detect(conn) if commit else info
        except sqlite3.Error as exc:
            raise classify_error(path, exc) from None
        return info, after, report, report.applied
    finally:
        conn.close()


def make_private_copy(path: str) -> str:
    """Copy `path` (with its committed WAL content) into a private temp file, read-only."""
    folder = tempfile.mkdtemp(prefix="turns-tui-")
    _private_copies.append(folder)
    target = os.path.join(folder, Path(path).name or "copy.sqlite")
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
        # A read-only folder with a WAL but no shared-memory file cannot be opened
        # read-only in place: copy the files and let SQLite recover the WAL in the copy.
        if "locked" in str(exc).lower():
            raise classify_error(path, exc) from None
        for suffix in ("", "-wal"):
            if os.path.exists(path + suffix):
                shutil.copyfile(path + suffix, target + suffix)
        try:
            conn = sqlite3.connect(target)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            conn.close()
        except sqlite3.Error as exc2:
            raise classify_error(path, exc2) from None
    return target


def discard_copy(opened: OpenedDatabase) -> None:
    """Remove the private copy of a database opened in copy mode."""
    if opened.mode == "copy":
        shutil.rmtree(os.path.dirname(opened.read_path), ignore_errors=True)


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
            raise classify_error(timeline_db, exc) from None
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
            f"{path}: the file or its folder is not writable; opened read-only "
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


def _open_copy(
    path: str,
    timeline_db: str | None,
    on_progress: ProgressFn | None,
    on_step: StepFn | None,
    notice: NoticeFn,
    notices: list[str],
    timeout: float,
) -> OpenedDatabase:
    try:
        conn = connect(path, "ro", timeout)
        try:
            info = _detect(conn, path)
            needed = migration.needs_migration(conn, info)
            report = None if needed else migration.inspect(conn, info)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise classify_error(path, exc) from None
    if report is not None:
        notice(f"{path}: read-only mode; the file is never written")
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
    copy = make_private_copy(path)
    before, after, report, _ = _migrate_file(
        copy,
        commit=True,
        notice=notice,
        on_progress=on_progress,
        on_step=on_step,
        timeout=timeout,
    )
    notice(f"{path}: read-only mode; migrated a private copy, the file is untouched")
    timeline = _timeline_path(timeline_db, copy, after)
    return OpenedDatabase(
        path, copy, "copy", before.era, after.era, report, tuple(notices), timeline
    )


def plan_migration(path: str, timeout: float = BUSY_TIMEOUT_S) -> tuple[Era, MigrationReport]:
    """Dry run: migrate a private copy and report what would change; the file is not written."""
    size = check_path(path)
    if size == 0:
        return Era.EMPTY, MigrationReport(applied=False, steps=())
    try:
        conn = connect(path, "ro", timeout)
        try:
            info = _detect(conn, path)
            if not migration.needs_migration(conn, info):
                return info.era, migration.inspect(conn, info)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise classify_error(path, exc) from None
    copy = make_private_copy(path)
    try:
        before, _, report, _ = _migrate_file(
            copy,
            commit=False,
            notice=lambda _: None,
            on_progress=None,
            on_step=None,
            timeout=timeout,
        )
    finally:
        shutil.rmtree(os.path.dirname(copy), ignore_errors=True)
    return before.era, report
