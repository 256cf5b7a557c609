"""Errors of the data layer, each with the CLI exit code it maps to."""

from __future__ import annotations

import re

# C0 controls (newlines included), DEL, C1 controls and the bidirectional overrides and
# isolates: none of them may reach a terminal raw from a file name or a database.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` on one line with every control or bidi character escaped (\\x1b, \\u202e)."""
    return _UNSAFE.sub(_escape, text)


class StoreError(Exception):
    """A failure opening or migrating a database; `str()` is one clear, printable line."""

    exit_code = 3

    def __init__(self, path: str, cause: str) -> None:
        super().__init__(f"{printable(path)}: {printable(cause)}")
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


class UnreachableError(StoreError):
    """The server cannot be reached, or the connection was lost mid-read (MySQL store)."""

    exit_code = 6
