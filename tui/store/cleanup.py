"""Leave nothing behind: side files SQLite creates beside a database, private copies.

A read-only SQLite connection to a WAL database creates ``-wal`` and ``-shm`` files when
they are missing, and cannot delete them when it closes. `SideFiles` remembers which
existed before the program touched the file and removes the ones it created, the way
SQLite's own last connection does: only when no other process holds the ``-shm`` (its
DMS lock byte is free) and the ``-wal`` holds no frames. A live writer's files stay.

Private copies (read-only opens of era 0/1 files) live in folders named
``turns-tui-*`` with an ``owner.pid`` file; they are removed on every exit path this
process controls (atexit, SIGTERM, SIGHUP, SIGINT) and, after a SIGKILL, by the next start.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
from collections.abc import Callable
from types import FrameType

SIDE_SUFFIXES = ("-wal", "-shm", "-journal")
_SHM_DMS_BYTE = 128  # SQLite's unix VFS: every connection holds a read lock here
COPY_PREFIX = "turns-tui-"
OWNER_FILE = "owner.pid"


class SideFiles:
    """The side files of one database path as they were before this process opened it."""

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)
        self.before = frozenset(s for s in SIDE_SUFFIXES if os.path.lexists(self.path + s))

    def restore(self) -> None:
        """Remove the `-wal` / `-shm` this process created, when no one else uses them.

        A `-wal` that was there before (a crashed writer's, or one copied off a server
        without its `-shm`) is kept; the `-shm` a reader created beside it is removed.
        """
        wal, shm = self.path + "-wal", self.path + "-shm"
        if "-shm" in self.before:
            return  # a live writer's index, or a crashed one's: not ours
        wal_ours = "-wal" not in self.before
        if os.path.exists(shm):
            try:
                fd = os.open(shm, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
            except OSError:
                return
            try:
                import fcntl

                try:
                    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _SHM_DMS_BYTE)
                except OSError:
                    return  # another process has the database open
                if wal_ours:
                    if os.path.exists(wal) and os.path.getsize(wal) > 0:
                        return  # committed frames not yet checkpointed: never lose them
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(wal)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(shm)  # an index SQLite rebuilds from the -wal when needed
            finally:
                os.close(fd)  # releases the lock
        elif wal_ours and os.path.exists(wal) and os.path.getsize(wal) == 0:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(wal)


_guards: list[SideFiles] = []
_copies: list[str] = []
_installed = False


def guard(path: str, *, fresh: bool = False) -> SideFiles:
    """Remember `path`'s side files now; `restore_all` (also run at exit) cleans up.

    `fresh` (the start of an open): unless this process holds `path` open, look again,
    since an earlier open's snapshot may be stale (the file replaced, a writer come and
    gone); cleaning up by a stale snapshot would delete files that were there before this
    open, or leave behind files it created.
    """
    absolute = os.path.abspath(path)
    found = next((g for g in _guards if g.path == absolute), None)
    if found is not None:
        if not fresh or _holds.get(absolute, 0) > 0:
            return found
        _guards.remove(found)
    side = SideFiles(path)
    _guards.append(side)
    install()
    return side


_holds: dict[str, int] = {}


def hold(path: str) -> None:
    """This process keeps connections to `path` open: leave its side files for now."""
    side = guard(path)
    _holds[side.path] = _holds.get(side.path, 0) + 1


def release(path: str) -> None:
    """Connections to `path` closed; clean up when no other holder remains."""
    side = guard(path)
    _holds[side.path] = max(_holds.get(side.path, 0) - 1, 0)
    restore_idle(path)


def restore_idle(path: str) -> None:
    """Remove `path`'s created side files unless this process still holds it open."""
    side = guard(path)
    if _holds.get(side.path, 0) == 0:
        side.restore()


def restore_all() -> None:
    """Clean up every guarded database's side files (call after closing connections)."""
    for side in _guards:
        side.restore()


def _rmtree(folder: str) -> None:
    import shutil  # lazily: only private copies need it

    shutil.rmtree(folder, ignore_errors=True)


def new_copy_folder() -> str:
    """A private folder for a copy, marked with this process id; removed at exit."""
    import tempfile

    sweep_stale_copies()
    folder = tempfile.mkdtemp(prefix=COPY_PREFIX)
    with open(os.path.join(folder, OWNER_FILE), "w", encoding="ascii") as out:
        out.write(str(os.getpid()))
    _copies.append(folder)
    install()
    return folder


def remove_copy(folder: str) -> None:
    """Remove one private copy folder now."""
    _rmtree(folder)
    if folder in _copies:
        _copies.remove(folder)


def remove_copies() -> None:
    """Remove every private copy this process made."""
    for folder in list(_copies):
        remove_copy(folder)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def temp_folder() -> str:
    """The folder `tempfile` puts private copies in, found without writing to it.

    `tempfile.gettempdir()` proves a folder usable by creating and deleting a file in it,
    which changes the folder's modification time at every start; here the same candidates
    (TMPDIR, TEMP, TMP, then the usual places) are only looked at."""
    import tempfile

    if tempfile.tempdir is not None:
        return tempfile.tempdir
    names = [os.environ.get(v) for v in ("TMPDIR", "TEMP", "TMP")]
    for folder in [*names, "/tmp", "/var/tmp", "/usr/tmp", os.getcwd()]:
        if folder and os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK):
            return os.path.abspath(folder)
    return tempfile.gettempdir()


def sweep_stale_copies(tmp: str | None = None) -> list[str]:
    """Remove copy folders whose owner process is gone (a SIGKILL); return them."""
    base = tmp or temp_folder()
    removed: list[str] = []
    try:
        names = os.listdir(base)
    except OSError:
        return removed
    for name in names:
        if not name.startswith(COPY_PREFIX):
            continue
        folder = os.path.join(base, name)
        try:
            with open(os.path.join(folder, OWNER_FILE), encoding="ascii") as f:
                pid = int(f.read().strip() or "0")
        except (OSError, ValueError):
            continue  # not ours, or being created
        if pid > 0 and pid != os.getpid() and not _alive(pid):
            _rmtree(folder)
            removed.append(folder)
    return removed


def cleanup() -> None:
    """Everything this module tracks: private copies, then side files."""
    remove_copies()
    restore_all()


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    cleanup()
    previous = _previous.get(signum)
    if callable(previous):
        previous(signum, _frame)
        return
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


_previous: dict[int, Callable[[int, FrameType | None], object] | int | None] = {}


def install() -> None:
    """Run `cleanup` at exit and on SIGTERM / SIGHUP (once; main thread only)."""
    global _installed
    if _installed:
        return
    _installed = True
    atexit.register(cleanup)
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError, OSError):
            previous = signal.getsignal(sig)
            if previous in (signal.SIG_IGN,):
                continue
            _previous[sig] = previous if callable(previous) else None
            signal.signal(sig, _on_signal)
