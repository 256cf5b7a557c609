"""Errors of the data layer, each with the CLI exit code it maps to."""

from __future__ import annotations


class StoreError(Exception):
    """A failure opening or migrating a database; `str()` is one clear line."""

    exit_code = 3

    def __init__(self, path: str, cause: str) -> None:
        super().__init__(f"{path}: {cause}")
        self.path = path
        self.cause = cause


class NotFoundError(StoreError):
    """The path does not exist."""

    exit_code = 3


class NotADatabaseError(StoreError):
    """Not SQLite, corrupt or truncated, a folder, or SQLite without turns tables."""

    exit_code = 3


class LockedError(StoreError):
    """Another writer held the lock past the busy timeout."""

    exit_code = 4


class PermissionDeniedError(StoreError):
    """The file (or its folder) cannot be read at all."""

    exit_code = 5


class MigrationAbortedError(StoreError):
    """A migration failed and was rolled back; the file is unchanged."""

    exit_code = 3
