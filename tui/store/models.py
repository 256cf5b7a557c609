"""Plain frozen dataclasses of opening and migrating (read records: `tui.store.records`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Era(StrEnum):
    """Schema generation of a turns database, decided from its tables and columns."""

    EMPTY = "empty"  # 0-byte file or SQLite file with no tables at all
    ERA0_RUN_ID = "era0-run-id"  # one snapshot table keyed by run_id
    ERA1_SNAPSHOTS = "era1-snapshots"  # one snapshot table keyed by session_id
    ERA2_NORMALIZED = "era2-normalized"  # normalised tables, no runtime columns
    GP26 = "gp26"  # normalised tables with runtime_key / inference_id (eras 3 and 4)
    GEPPETTO = "geppetto-turns"  # geppetto JS provider's flat table
    HYBRID = "hybrid"  # half-migrated: legacy snapshots beside normalised tables
    NOT_TURNS = "not-turns"  # SQLite, but none of the turns tables
    NOT_SQLITE = "not-sqlite"


@dataclass(frozen=True)
class SchemaInfo:
    """What era detection found in a file."""

    era: Era
    tables: frozenset[str]
    turns_columns: frozenset[str] = frozenset()
    legacy_table: str | None = None  # table holding YAML snapshot rows, if any
    legacy_session_column: str | None = None  # session_id or run_id
    has_geppetto: bool = False
    has_timeline: bool = False
    missing_indexes: tuple[str, ...] = ()


@dataclass(frozen=True)
class MigrationReport:
    """What a migration did (or, for a dry run, would do)."""

    applied: bool
    steps: tuple[str, ...]
    backfilled_runtime_key: int = 0
    backfilled_inference_id: int = 0
    unknown_runtime_turns: int = 0
    malformed_metadata_rows: int = 0
    legacy_rows_unparsed: int = 0
    legacy_rows_normalized: int = 0
    unparsed_legacy_examples: tuple[str, ...] = ()
    unknown_runtime_reasons: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Progress:
    """A progress report from a long migration step."""

    step: str
    done: int
    total: int


class OpenMode(StrEnum):
    """How a database was opened (what, if anything, was written)."""

    NONE = "none"  # nothing needed; nothing written, no write lock taken
    IN_PLACE = "in_place"  # migrated the user's file, as pinocchio does
    OVERLAY = "overlay"  # read as it is; the backfill derived in memory, nothing written
    COPY = "copy"  # eras 0/1 read-only: a private migrated copy (removed on exit)


class NoticeKind(StrEnum):
    """What a notice of the opener is about (one notice per fact)."""

    READ_ONLY_FORCED = "read_only_forced"  # the file or its folder cannot be written
    PRIVATE_COPY = "private_copy"  # read-only, and only a private copy can be migrated
    RAW_COPY = "raw_copy"  # a hot journal / WAL the folder cannot hold: files copied
    OVERLAY = "overlay"  # values derived in memory (read-only, or geppetto_turns)
    LOCK_WAIT = "lock_wait"  # waited for another writer's lock
    EMPTY = "empty"  # 0-byte file or SQLite without tables
    FUTURE_SCHEMA = "future_schema"  # unknown tables / columns / views / user_version kept
    DERIVED_CURRENT = "derived_current"  # no timeline store: current runtime = latest turn's


@dataclass(frozen=True)
class Notice:
    """One fact the opener tells the user, as data (the screens and CLI word it)."""

    kind: NoticeKind
    text: str


@dataclass(frozen=True)
class Opened:
    """A database ready to read: where to read it, how it got there, what was said."""

    path: str  # the user's file
    read_path: str  # the file actually read (the user's file or a private copy)
    mode: OpenMode
    schema_before: Era
    schema_after: Era
    report: MigrationReport
    notices: tuple[Notice, ...] = field(default=())
    timeline_path: str | None = None  # file holding timeline_conversations, if any
    read_only: bool = False  # asked for, or forced by permissions: the file is never written
    lock_wait_s: float = 0.0  # time spent waiting for another writer's lock
    timeout_s: float = 5.0  # the busy timeout used

    @property
    def notice_texts(self) -> tuple[str, ...]:
        """The notices' plain texts, in order."""
        return tuple(n.text for n in self.notices)
