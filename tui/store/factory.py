"""Pick the store for what the user named: a SQLite file (PATH) or a MySQL DSN."""

from __future__ import annotations

from tui.store.base import Store
from tui.store.errors import StoreError


class StoreChoiceError(StoreError):
    """Both a PATH and --turns-dsn, or neither (a usage error: exit code 2)."""

    exit_code = 2


def store_for(
    path: str | None,
    dsn: str | None,
    read_only: bool = False,
    timeline_db: str | None = None,
) -> Store:
    """The store for a PATH (`SqliteStore`) or a `--turns-dsn` (`MySqlStore`, always
    read-only). A malformed DSN raises `DsnError` (exit 2) without echoing it."""
    if path is not None and dsn is not None:
        raise StoreChoiceError("usage error", "give a PATH or --turns-dsn, not both")
    if dsn is not None:
        from tui.store.dsn import parse_dsn
        from tui.store.mysql_store import MySqlStore

        return MySqlStore(parse_dsn(dsn), timeline_db=timeline_db)
    if path is None:
        raise StoreChoiceError("usage error", "give a PATH or --turns-dsn (see --help)")
    from tui.store.sqlite_store import SqliteStore

    return SqliteStore(path, read_only=read_only, timeline_db=timeline_db)
