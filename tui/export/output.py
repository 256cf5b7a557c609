"""Writing an export to a file: never over an existing file unless asked, nothing partial.

Shared by `turns-tui export -o FILE` and the app's export (E). No textual import.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import os
import tempfile

from tui.store.base import Store
from tui.store.errors import printable
from tui.store.models import Opened

__all__ = ["ExportFileError", "export_to_file", "same_file", "write_export_file"]


def same_file(a: str, b: str | None) -> bool:
    """True when `a` and `b` name one existing file (an export over the database itself)."""
    if not b:
        return False
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def write_export_file(path: str, data: bytes, *, force: bool) -> None:
    """Write `data` to `path`: exclusively (`FileExistsError` for an existing file) unless
    `force`, where a temporary file in the same folder replaces it atomically. Nothing
    partial is left behind."""
    if not force:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
        except BaseException:
            os.unlink(path)
            raise
        return
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".turns-tui-export-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class ExportFileError(Exception):
    """An export that was not written, in one readable line (`str()`)."""


def _check_target(path: str, opened: Opened, overwrite: bool) -> None:
    """Refuse the database itself, and an existing file unless `overwrite` (before the
    work of rendering; the write itself is exclusive too)."""
    shown = printable(path)
    if any(same_file(path, db) for db in (opened.path, opened.read_path, opened.timeline_path)):
        raise ExportFileError(f"{shown}: is the database itself; not overwritten")
    if not overwrite and os.path.lexists(path):
        raise ExportFileError(f"{shown}: exists; not overwritten")


async def export_to_file(
    store: Store,
    opened: Opened,
    conv_id: str,
    fmt: str,
    path: str,
    *,
    overwrite: bool = False,
    source_path: str | None = None,
    now: _dt.datetime | None = None,
) -> int:
    """Render `conv_id` of an opened store with `render_export` (what `turns-tui export`
    writes) and write it to `path`; the bytes written. Raises `ExportFileError` for an
    unknown conversation, a minitrace without snapshots, the database itself, an existing
    file (unless `overwrite`) or a file that cannot be written."""
    from tui.dump import UnknownConversationError
    from tui.export import NoSnapshotsError, render_export

    shown = printable(path)
    await asyncio.to_thread(_check_target, path, opened, overwrite)
    try:
        text = await render_export(store, opened, conv_id, fmt, source_path=source_path, now=now)
    except UnknownConversationError:
        raise ExportFileError(f"no conversation {printable(conv_id)!r} in this store") from None
    except NoSnapshotsError:
        raise ExportFileError(
            f"conversation {printable(conv_id)!r} has no snapshot with blocks "
            "(minitrace needs at least one)"
        ) from None
    data = text.encode("utf-8")
    try:
        await asyncio.to_thread(write_export_file, path, data, force=overwrite)
    except FileExistsError:
        raise ExportFileError(f"{shown}: exists; not overwritten") from None
    except OSError as exc:
        reason = printable(exc.strerror or str(exc))
        raise ExportFileError(f"{shown}: cannot write: {reason}") from None
    return len(data)
