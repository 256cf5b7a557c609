"""The MySQL store: pinocchio's team turn store (schema version 1), read-only by construction.

PyMySQL (an optional extra: ``pip install 'turns-tui[mysql]'``) runs in worker threads
(`asyncio.to_thread`); one connection, used by one thread at a time under a lock. The
session is ``READ ONLY`` and every logical read runs in one
``START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY`` transaction, so a SELECT-only
user is enough and no statement that writes is ever sent.

Ids are VARBINARY: they arrive as bytes, are decoded with ``surrogateescape`` (so any byte
string round-trips) and are sent back as bytes. Rows an older pinocchio wrote with an
empty ``runtime_key``/``inference_id`` get the GP-26 backfill in memory through the
overlay's rules (`tui.store.migrate.backfill_values`), marked ``derived``, never written.

Errors become one-line `StoreError`s by MySQL error number: 1044/1045/1142 no access
(exit 5), 2002/2003/2006/2013/4031 cannot reach the server or the connection was lost
(exit 6), 1146 a missing table (exit 3). A lost connection is dropped; the next read
connects again, so a server restart is survived.
"""

from __future__ import annotations

import asyncio
import importlib
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import replace
from operator import itemgetter
from typing import TYPE_CHECKING, Any, TypeVar

from tui.store import cleanup
from tui.store.base import ConversationRecords, OpenCallbacks
from tui.store.dsn import WHERE, Dsn
from tui.store.errors import (
    NotADatabaseError,
    PermissionDeniedError,
    StoreError,
    UnreachableError,
)
from tui.store.models import Era, MigrationReport, Notice, NoticeKind, Opened, OpenMode
from tui.store.overlay import BackfillTally, Overlay, TurnKey, derive_turns, tally_report
from tui.store.queries import (
    IndexRow,
    as_int,
    snapshot_from_rows,
    summarize,
    timeline_plan,
    turn_records_from_rows,
)
from tui.store.reader import Reader
from tui.store.records import (
    ConversationSummary,
    SnapshotDetail,
    TimelineEntry,
    TurnRecord,
)

if TYPE_CHECKING:
    from tui.store.investigate import AnomalyFacts, TextHit, TurnIds

T = TypeVar("T")

COMPONENT = b"chatstore.turns"
SCHEMA_VERSION = 1
VERSION_TABLE = "pinocchio_schema_version"
TABLES = ("turns", "blocks", "turn_block_membership")
BEGIN = "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"
INSTALL_HINT = "pip install 'turns-tui[mysql]'"

# MySQL / MariaDB error numbers (server errors < 2000, client errors 2000-2999).
ACCESS_ERRORS = frozenset({1044, 1045, 1142, 1143, 1227, 1698})
MISSING_ERRORS = frozenset({1146, 1049})  # no such table; no such database
LOST_ERRORS = frozenset({2002, 2003, 2005, 2006, 2013, 2026, 2055, 4031, 1053, 1927})


class MissingDriverError(StoreError):
    """PyMySQL is not installed (an environment problem: exit code 2)."""

    exit_code = 2


def load_driver() -> Any:
    """The PyMySQL module, imported on first use (the base install does not need it)."""
    try:
        return importlib.import_module("pymysql")
    except ImportError:
        raise MissingDriverError(
            WHERE, f"reading a MySQL store needs PyMySQL: {INSTALL_HINT}"
        ) from None


def _text(value: Any) -> str:
    """A VARBINARY value (an id, a key) as text that encodes back to the same bytes."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "surrogateescape")
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _bytes(text: str) -> bytes:
    """An id for a query parameter: the bytes it was read from."""
    return text.encode("utf-8", "surrogateescape")


# Turn order of an index row (conv_id, session_id, turn_id, runtime_key, inference_id,
# created, ...): conversation, creation time (BIGINT NOT NULL), turn id; bytes compare
# as the server compares VARBINARY.
_TURN_ORDER = itemgetter(0, 5, 2)
# group_concat_max_len for the packed index (the largest value both servers take; the
# result is still bounded by max_allowed_packet).
_PACKED_MAX = 4294967295


DecodedIndexRow = tuple[str, str, str, str, str, int, int, Any]


def _decode_index(rows: list[tuple[Any, ...]]) -> list[DecodedIndexRow]:
    """Index rows (conv, session, turn, runtime_key, inference_id, created, updated,
    metadata) with ids as text and times as ints, decoded in one tight loop: conversation
    ids, sessions and runtime keys repeat, so each distinct one is decoded once. Values of
    another type than the schema's (bytes ids, BIGINT times) take the general path."""
    seen: dict[Any, str] = {}
    get = seen.get

    def once(value: Any) -> str:
        text = seen[value] = _text(value)
        return text

    try:
        return [
            (
                get(c) or once(c),
                get(s) or once(s),
                t.decode("utf-8", "surrogateescape"),
                get(rk) or once(rk),
                inf.decode("utf-8", "surrogateescape"),
                cr if cr.__class__ is int else as_int(cr),
                up if up.__class__ is int else as_int(up),
                meta,
            )
            for c, s, t, rk, inf, cr, up, meta in rows
        ]
    except AttributeError:  # an id that is not bytes
        return [
            (_text(c), _text(s), _text(t), _text(rk), _text(inf), as_int(cr), as_int(up), meta)
            for c, s, t, rk, inf, cr, up, meta in rows
        ]


def _snapshot_counts(cur: Any, conv: bytes) -> list[tuple[Any, ...]]:
    """(session, turn, phase, snapshot time, block count) of every snapshot of `conv`.

    ``COUNT(*) ... GROUP BY`` reads every membership row of the conversation and groups
    them (the most expensive read of a timeline). Instead: the first and last ordinal of
    each snapshot, which the server finds with a loose index scan (a few index dives per
    snapshot, primary key prefix), and the conversation's row count, a plain range count.
    Ordinals are unique within a snapshot (the primary key), so each snapshot has at most
    last - first + 1 rows, and the spans add up to the row count exactly when no snapshot
    has a gap: then each span is its count. Otherwise (gaps), the counts are grouped.
    """
    cur.execute(
        "SELECT session_id, turn_id, phase, snapshot_created_at_ms, MIN(ordinal), MAX(ordinal) "
        "FROM turn_block_membership WHERE conv_id = %s "
        "GROUP BY conv_id, session_id, turn_id, phase, snapshot_created_at_ms",
        (conv,),
    )
    spans = [(s, t, p, ms, as_int(hi) - as_int(lo) + 1) for s, t, p, ms, lo, hi in cur.fetchall()]
    cur.execute("SELECT COUNT(*) FROM turn_block_membership WHERE conv_id = %s", (conv,))
    if sum(span[4] for span in spans) == as_int(cur.fetchall()[0][0]):
        return spans
    cur.execute(
        "SELECT session_id, turn_id, phase, snapshot_created_at_ms, COUNT(*) "
        "FROM turn_block_membership WHERE conv_id = %s "
        "GROUP BY session_id, turn_id, phase, snapshot_created_at_ms",
        (conv,),
    )
    return list(cur.fetchall())


def _code(exc: BaseException) -> int:
    args = getattr(exc, "args", ())
    return args[0] if args and isinstance(args[0], int) else 0


def _timed_out(exc: BaseException) -> bool:
    return "timed out" in str(exc)


class _SchemaProblem(Exception):
    """The schema check failed (raised inside the read, turned into NotADatabaseError)."""


class MySqlStore:
    """pinocchio's MySQL turn store, read through PyMySQL; never written."""

    def __init__(
        self,
        dsn: Dsn,
        *,
        timeline_db: str | None = None,
        label: str | None = None,
        now_ms: int | None = None,
    ) -> None:
        self.dsn = dsn
        self.timeline_db = timeline_db
        self._label = label or dsn.redacted()
        self.now_ms = now_ms
        self.opened: Opened | None = None
        self._conn: Any = None
        self._lock = threading.Lock()
        self._driver: Any = None
        self._timeline: Reader | None = None
        self._repair_ms = 0

    @property
    def label(self) -> str:
        return self._label

    @property
    def read_only(self) -> bool:
        return True  # always: this store never writes

    def reopen(self, *, read_only: bool) -> MySqlStore:
        return MySqlStore(
            self.dsn, timeline_db=self.timeline_db, label=self._label, now_ms=self.now_ms
        )

    # -- connection and the one read path ---------------------------------------------

    def _connect_args(self) -> dict[str, Any]:
        d = self.dsn
        args: dict[str, Any] = {
            "user": d.user,
            "password": d.password.reveal(),
            "database": d.database,
            "charset": "utf8mb4",
            "connect_timeout": d.connect_timeout,
            "read_timeout": d.read_timeout,
            "write_timeout": d.write_timeout,
            "autocommit": True,
            "binary_prefix": True,  # bytes parameters go as _binary'...'
            "local_infile": False,
            "init_command": "SET SESSION TRANSACTION READ ONLY",
        }
        if d.net == "unix":
            args["unix_socket"] = d.socket
        else:
            args["host"], args["port"] = d.host, d.port
        if d.tls == "false":
            args["ssl_disabled"] = True
        elif d.tls in ("true", "skip-verify"):
            import ssl

            ctx = ssl.create_default_context()  # system CAs, host name checked (as Go)
            if d.tls == "skip-verify":
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            args["ssl"] = ctx
        # tls not given or "preferred": PyMySQL's default, TLS when the server offers it.
        return args

    def _connection(self) -> Any:
        if self._conn is None:
            if self._driver is None:
                self._driver = load_driver()
            try:
                self._conn = self._driver.connect(**self._connect_args())
            except (RuntimeError, ValueError, TypeError, NotImplementedError) as exc:
                # Not a server answer: a login method PyMySQL cannot do without an extra
                # package (MySQL 8.4's caching_sha2_password over plain TCP), a bad option.
                text = self._scrub(str(exc))
                if "cryptography" in text:
                    raise MissingDriverError(
                        self._label,
                        "the server's login method needs the cryptography package: "
                        "pip install 'PyMySQL[rsa]' (or connect with TLS)",
                    ) from None
                raise StoreError(self._label, f"cannot connect: {text}") from None
        return self._conn

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - the connection is gone either way
                pass

    def _is_lost(self, exc: BaseException) -> bool:
        err = self._driver.err if self._driver is not None else None
        if err is not None and isinstance(exc, err.InterfaceError):
            return True  # the connection was already closed
        if err is not None and isinstance(exc, err.InternalError) and not _code(exc):
            return True  # a packet out of sequence: the stream is broken
        if isinstance(exc, OSError):
            return True
        code = _code(exc)
        return code in LOST_ERRORS or 2000 <= code < 3000

    def _scrub(self, text: str) -> str:
        secret = self.dsn.password.reveal()
        return text.replace(secret, "***") if len(secret) >= 4 else text

    def error_for(self, exc: BaseException) -> StoreError:
        """The one-line StoreError for a driver error (never naming the password)."""
        code = _code(exc)
        args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
        raw = str(args[1]) if len(args) > 1 else str(exc)
        detail = self._scrub(f"{code}: {raw}" if code else (raw or type(exc).__name__))
        where = self._label
        if code in ACCESS_ERRORS:
            return PermissionDeniedError(where, f"access denied ({detail})")
        if code == 1146:
            return NotADatabaseError(where, f"a table is missing ({detail})")
        if code == 1049:
            return NotADatabaseError(where, f"no such database ({detail})")
        if self._is_lost(exc):
            if _timed_out(exc) and self.dsn.read_timeout:
                return UnreachableError(
                    where,
                    f"the server did not answer within readTimeout={self.dsn.read_timeout:g}s "
                    f"({detail})",
                )
            if code in (2002, 2003, 2005):
                return UnreachableError(where, f"cannot reach the server ({detail})")
            return UnreachableError(where, f"lost the connection to the server ({detail})")
        return StoreError(where, f"server error ({detail})")

    def read_sync(self, work: Callable[[Any], T]) -> T:
        """Run `work(cursor)` in one consistent-snapshot, read-only transaction.

        Connects when there is no connection. A connection found dead at the very start
        (the server restarted while we were idle) is replaced once; any other failure
        becomes a StoreError, and a lost connection is dropped so the next read reconnects.
        """
        with self._lock:
            for attempt in (1, 2):
                reused = self._conn is not None
                started = False
                try:
                    cur = self._connection().cursor()
                    try:
                        cur.execute(BEGIN)
                        started = True
                        result = work(cur)
                        cur.execute("COMMIT")
                        return result
                    finally:
                        cur.close()
                except _SchemaProblem as problem:
                    self._rollback()
                    raise NotADatabaseError(self._label, str(problem)) from None
                except StoreError:
                    self._rollback()
                    raise
                except Exception as exc:
                    if self._driver is None or not isinstance(
                        exc, self._driver.err.MySQLError | OSError
                    ):
                        self._rollback()
                        raise
                    lost = self._is_lost(exc)
                    if lost:
                        self._drop()
                    else:
                        self._rollback()
                    if lost and reused and not started and not _timed_out(exc) and attempt == 1:
                        continue
                    raise self.error_for(exc) from None
            raise AssertionError("unreachable")

    def _rollback(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.rollback()
        except Exception:  # noqa: BLE001 - a broken connection: drop it
            self._drop()

    async def _read(self, work: Callable[[Any], T]) -> T:
        return await asyncio.to_thread(self.read_sync, work)

    # -- open: the schema check pinocchio makes, and what the overlay will derive --------

    def _table_exists(self, cur: Any, table: str) -> bool:
        try:
            cur.execute(f"SELECT 1 FROM `{table}` LIMIT 0")
            cur.fetchall()
            return True
        except self._driver.err.MySQLError as exc:
            if _code(exc) == 1146:
                return False
            raise

    def _check_schema(self, cur: Any) -> None:
        try:
            cur.execute(
                f"SELECT schema_version FROM `{VERSION_TABLE}` WHERE component = %s",
                (COMPONENT,),
            )
            rows = cur.fetchall()
        except self._driver.err.MySQLError as exc:
            if _code(exc) != 1146:
                raise
            if any(self._table_exists(cur, t) for t in TABLES):
                raise _SchemaProblem(
                    f"no {VERSION_TABLE} table but turn tables exist: an unversioned "
                    "prototype schema, which pinocchio refuses too"
                ) from None
            raise _SchemaProblem(f"not a pinocchio turn store: no {VERSION_TABLE} table") from None
        if not rows:
            raise _SchemaProblem(f"{VERSION_TABLE} has no 'chatstore.turns' row")
        version = rows[0][0]
        if version != SCHEMA_VERSION:
            shown = "NULL" if version is None else _text(version)
            raise _SchemaProblem(
                f"turn store schema version {shown}: this turns-tui reads "
                f"version {SCHEMA_VERSION} only"
            )
        for table in TABLES:
            if not self._table_exists(cur, table):
                raise _SchemaProblem(f"schema version 1 but the {table} table is missing")

    def _scan(self, cur: Any) -> MigrationReport:
        """What the overlay derives (counted like `tui.store.overlay.compute_overlay`)."""
        self._check_schema(cur)
        cur.execute(
            "SELECT conv_id, session_id, turn_id, runtime_key, inference_id, turn_metadata_json "
            "FROM turns WHERE runtime_key = '' OR inference_id = ''"
        )
        tally = BackfillTally()
        changed = derive_turns(
            (
                ((_text(c), _text(s), _text(t)), _text(rk0), _text(inf0), meta)
                for c, s, t, rk0, inf0, meta in cur.fetchall()
            ),
            tally,
        )
        cur.execute(
            "SELECT COUNT(*) FROM turns WHERE runtime_key <> '' AND inference_id <> '' "
            "AND TRIM(runtime_key) = ''"
        )
        tally.no_key += as_int(cur.fetchall()[0][0])
        steps = []
        if changed:
            steps.append(f"backfill runtime_key/inference_id on {len(changed)} turns (in memory)")
        return tally_report(tally, steps)

    def _open_timeline(self) -> Reader | None:
        if not self.timeline_db:
            return None
        from tui.store.models import SchemaInfo
        from tui.store.opener import BUSY_TIMEOUT_S, _timeline_path

        path = self.timeline_db
        cleanup.guard(path)
        try:
            _timeline_path(path, path, SchemaInfo(Era.EMPTY, frozenset()), BUSY_TIMEOUT_S)
        finally:
            cleanup.restore_idle(path)
        cleanup.hold(path)
        opened = Opened(path, path, OpenMode.NONE, Era.EMPTY, Era.EMPTY, _NOTHING)
        return Reader(replace(opened, timeline_path=path))

    def open_sync(self, callbacks: OpenCallbacks | None = None) -> Opened:
        """Connect, check the schema, count what the overlay derives (calling thread)."""
        cb = callbacks or OpenCallbacks()
        self._repair_ms = int(time.time() * 1000) if self.now_ms is None else self.now_ms
        if cb.on_step:
            cb.on_step("connecting to the MySQL turn store")
        try:
            report = self.read_sync(self._scan)
            self._timeline = self._open_timeline()
        except BaseException:
            self.close_sync()  # a failed open keeps no connection
            raise
        notices: list[Notice] = []
        if report.steps:
            notices.append(
                Notice(
                    NoticeKind.OVERLAY,
                    f"the team store is read-only: {report.steps[0]}; nothing is written",
                )
            )
        if self._timeline is None:
            notices.append(
                Notice(
                    NoticeKind.DERIVED_CURRENT,
                    "no timeline store (--timeline-db): each conversation's current runtime "
                    "is derived from its latest turn",
                )
            )
        if cb.on_notice:
            for n in notices:
                cb.on_notice(n)
        self.opened = Opened(
            path=self._label,
            read_path=self._label,
            mode=OpenMode.OVERLAY if report.steps else OpenMode.NONE,
            schema_before=Era.GP26,
            schema_after=Era.GP26,
            report=report,
            notices=tuple(notices),
            timeline_path=self.timeline_db if self._timeline is not None else None,
            read_only=True,
            timeout_s=self.dsn.read_timeout or 0.0,
        )
        return self.opened

    async def open(self, callbacks: OpenCallbacks | None = None) -> Opened:
        return await asyncio.to_thread(self.open_sync, callbacks)

    def _ready(self) -> Opened:
        if self.opened is None:
            raise RuntimeError("the store is not open")
        return self.opened

    # -- the overlay, per row ------------------------------------------------------------

    def _overlay(self, rows: list[tuple[TurnKey, str, str, Any]]) -> Overlay:
        """The overlay of these rows: (key, runtime_key, inference_id, metadata or None)."""
        known = ((key, rk, inf, meta) for key, rk, inf, meta in rows if meta is not None)
        return Overlay(turns=derive_turns(known, BackfillTally()), repair_now_ms=self._repair_ms)

    # -- reads ---------------------------------------------------------------------------

    async def _timeline_entries(
        self, conv_ids: tuple[str, ...] | None = None
    ) -> dict[str, TimelineEntry]:
        if self._timeline is None:
            return {}
        return await self._timeline.run(timeline_plan(conv_ids))

    @staticmethod
    def _index_rows(cur: Any) -> list[tuple[Any, ...]]:
        """Every turn's (conv_id, session_id, turn_id, runtime_key, inference_id, created,
        updated, metadata when the overlay needs it, else None), in turn order: by
        conversation, creation time, turn id.

        Read in bulk: one row per conversation with its turns packed by the server
        (``GROUP_CONCAT`` of hex ids and decimal times), split here with a few C calls per
        turn; PyMySQL's pure-Python row parsing of one row per turn cost more than the rest
        of the index. Sorted here on the raw bytes, as the server compares ``VARBINARY``
        (an ``ORDER BY`` makes the server filesort). A conversation whose packed turns were
        cut (NULL when larger than the server's ``max_allowed_packet``) is read row by row.
        """
        cur.execute(f"SET SESSION group_concat_max_len = {_PACKED_MAX}")
        cur.execute(
            """SELECT conv_id, COUNT(*),
                      GROUP_CONCAT(CONCAT_WS(',', HEX(session_id), HEX(turn_id),
                                             HEX(runtime_key), HEX(inference_id),
                                             turn_created_at_ms, updated_at_ms, '')
                                   SEPARATOR ';')
               FROM turns GROUP BY conv_id"""
        )
        groups = cur.fetchall()
        cur.execute(
            "SELECT conv_id, session_id, turn_id, turn_metadata_json FROM turns "
            "WHERE runtime_key = '' OR inference_id = ''"
        )
        metadata = {(c, s, t): meta for c, s, t, meta in cur.fetchall()}
        rows: list[tuple[Any, ...]] = []
        append = rows.append
        unhex = bytes.fromhex
        for conv, count, packed in groups:
            if isinstance(packed, bytes | bytearray):
                packed = bytes(packed).decode("ascii")
            # Each turn ends with ',': a cut list (NULL, or short) is never taken as whole.
            whole = isinstance(packed, str) and packed.endswith(",")
            items = packed.split(";") if whole else []
            if len(items) != as_int(count):
                cur.execute(
                    """SELECT conv_id, session_id, turn_id, runtime_key, inference_id,
                              turn_created_at_ms, updated_at_ms,
                              CASE WHEN runtime_key = '' OR inference_id = ''
                                   THEN turn_metadata_json END
                       FROM turns WHERE conv_id = %s""",
                    (conv,),
                )
                rows.extend(cur.fetchall())
                continue
            for item in items:
                s, t, rk, inf, created, updated, _ = item.split(",")
                sess, turn = unhex(s), unhex(t)
                append(
                    (
                        conv,
                        sess,
                        turn,
                        unhex(rk),
                        unhex(inf),
                        int(created),
                        int(updated),
                        metadata.get((conv, sess, turn)),
                    )
                )
        rows.sort(key=_TURN_ORDER)
        return rows

    @classmethod
    def _index_and_activity(cls, cur: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        index = cls._index_rows(cur)
        cur.execute(
            """SELECT l.conv_id, COALESCE(
                   (SELECT MAX(m.snapshot_created_at_ms) FROM turn_block_membership m
                    WHERE m.conv_id = l.conv_id AND m.session_id = l.session_id
                      AND m.turn_id = l.turn_id), l.created, 0)
               FROM (SELECT conv_id, session_id, turn_id, turn_created_at_ms AS created,
                            ROW_NUMBER() OVER (PARTITION BY conv_id
                                ORDER BY turn_created_at_ms DESC, turn_id DESC) AS n
                     FROM turns) l
               WHERE l.n = 1"""
        )
        return index, list(cur.fetchall())

    def _summaries(
        self,
        index: list[tuple[Any, ...]],
        activity_rows: list[tuple[Any, ...]],
        timeline: dict[str, TimelineEntry],
    ) -> list[ConversationSummary]:
        decoded = _decode_index(index)
        overlay = self._overlay(
            [
                ((c, s, t), rk, inf, meta)
                for c, s, t, rk, inf, _, _, meta in decoded
                if meta is not None
            ]
        )
        derived, repair = overlay.turns, overlay.repair_now_ms is not None
        rows: list[IndexRow] = []
        append = rows.append
        for c, s, t, rk, inf, created, updated, _ in decoded:
            if (repair and updated <= 0) or (c, s, t) in derived:
                rk, inf, updated, _ = overlay.turn_values((c, s, t), rk, inf, created, updated)
            append((c, s, t, rk, created, updated, inf))
        activity = {_text(c): as_int(ms) for c, ms in activity_rows}
        return summarize(rows, timeline, activity)

    async def conversations(self) -> list[ConversationSummary]:
        self._ready()
        timeline = await self._timeline_entries()

        def work() -> list[ConversationSummary]:  # one thread hop: read, then summarise
            return self._summaries(*self.read_sync(self._index_and_activity), timeline)

        return await asyncio.to_thread(work)

    @staticmethod
    def _conversation_rows(
        conv: bytes,
    ) -> Callable[[Any], tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
        def work(cur: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
            cur.execute(
                "SELECT session_id, turn_id, runtime_key, inference_id, turn_created_at_ms, "
                "updated_at_ms, turn_metadata_json FROM turns WHERE conv_id = %s",
                (conv,),
            )
            turns = list(cur.fetchall())
            return turns, _snapshot_counts(cur, conv)

        return work

    def _records(
        self, conv_id: str, turn_rows: list[tuple[Any, ...]], snap_rows: list[tuple[Any, ...]]
    ) -> tuple[TurnRecord, ...]:
        overlay = self._overlay(
            [
                ((conv_id, _text(sess), _text(turn)), _text(rk), _text(inf), meta)
                for sess, turn, rk, inf, _, _, meta in turn_rows
            ]
        )
        return tuple(turn_records_from_rows(conv_id, turn_rows, snap_rows, overlay, text=_text))

    async def conversation(self, conv_id: str) -> ConversationRecords:
        self._ready()
        read = self._conversation_rows(_bytes(conv_id))

        def work() -> tuple[TurnRecord, ...]:  # one thread hop: read, then build records
            return self._records(conv_id, *self.read_sync(read))

        turns = await asyncio.to_thread(work)
        timeline = (await self._timeline_entries((conv_id,))).get(conv_id)
        return ConversationRecords(conv_id, turns, timeline)

    async def snapshot(
        self, conv_id: str, session_id: str, turn_id: str, phase: str, created_at_ms: int
    ) -> SnapshotDetail | None:
        self._ready()
        key = (_bytes(conv_id), _bytes(session_id), _bytes(turn_id))

        def work(cur: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
            cur.execute(
                """SELECT m.ordinal, m.block_id, COALESCE(b.kind, ''), COALESCE(b.role, ''),
                          COALESCE(b.payload_json, '{}'), COALESCE(b.block_metadata_json, '{}'),
                          m.content_hash
                   FROM turn_block_membership m
                   LEFT JOIN blocks b
                     ON b.block_id = m.block_id AND b.content_hash = m.content_hash
                   WHERE m.conv_id = %s AND m.session_id = %s AND m.turn_id = %s
                     AND m.phase = %s AND m.snapshot_created_at_ms = %s
                   ORDER BY m.ordinal""",
                (*key, _bytes(phase), int(created_at_ms)),
            )
            blocks = list(cur.fetchall())
            cur.execute(
                "SELECT turn_metadata_json, turn_data_json FROM turns "
                "WHERE conv_id = %s AND session_id = %s AND turn_id = %s",
                key,
            )
            return blocks, list(cur.fetchall())

        block_rows, turn_rows = await self._read(work)
        return snapshot_from_rows(
            conv_id, session_id, turn_id, phase, created_at_ms, block_rows, turn_rows, text=_text
        )

    # -- investigation reads (check, find) -----------------------------------------------

    async def anomaly_facts(self) -> AnomalyFacts:
        """Orphan membership rows and snapshots older than their turn."""
        from tui.store.investigate import AnomalyFacts, EarlySnapshot, OrphanSnapshot

        self._ready()

        def work(cur: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
            cur.execute(
                """SELECT m.conv_id, m.session_id, m.turn_id, m.phase,
                          m.snapshot_created_at_ms, COUNT(*)
                   FROM turn_block_membership m
                   WHERE NOT EXISTS (SELECT 1 FROM turns t WHERE t.conv_id = m.conv_id
                                     AND t.session_id = m.session_id
                                     AND t.turn_id = m.turn_id)
                   GROUP BY m.conv_id, m.session_id, m.turn_id, m.phase,
                            m.snapshot_created_at_ms"""
            )
            orphans = list(cur.fetchall())
            cur.execute(
                """SELECT m.conv_id, m.session_id, m.turn_id, m.phase,
                          m.snapshot_created_at_ms, t.turn_created_at_ms
                   FROM (SELECT DISTINCT conv_id, session_id, turn_id, phase,
                                snapshot_created_at_ms
                         FROM turn_block_membership) m
                   JOIN turns t ON t.conv_id = m.conv_id AND t.session_id = m.session_id
                               AND t.turn_id = m.turn_id
                   WHERE m.snapshot_created_at_ms < t.turn_created_at_ms"""
            )
            return orphans, list(cur.fetchall())

        orphan_rows, early_rows = await self._read(work)
        orphans = sorted(
            (
                OrphanSnapshot(_text(c), _text(s), _text(t), _text(p), as_int(ms), as_int(n))
                for c, s, t, p, ms, n in orphan_rows
            ),
            key=lambda o: (o.conv_id, o.session_id, o.turn_id, o.snapshot_created_at_ms, o.phase),
        )
        early = sorted(
            (
                EarlySnapshot(_text(c), _text(s), _text(t), _text(p), as_int(ms), as_int(tc))
                for c, s, t, p, ms, tc in early_rows
            ),
            key=lambda e: (e.conv_id, e.session_id, e.turn_id, e.snapshot_created_at_ms, e.phase),
        )
        return AnomalyFacts(tuple(orphans), tuple(early))

    @staticmethod
    def _snapshots_of(cur: Any, keys: list[TurnKey]) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        for i in range(0, len(keys), 300):
            chunk = keys[i : i + 300]
            marks = ",".join("(%s, %s, %s)" for _ in chunk)
            cur.execute(
                "SELECT DISTINCT conv_id, session_id, turn_id, phase, snapshot_created_at_ms "
                f"FROM turn_block_membership WHERE (conv_id, session_id, turn_id) IN ({marks})",
                tuple(_bytes(v) for key in chunk for v in key),
            )
            rows.extend(cur.fetchall())
        return rows

    async def find_ids(self, query: str, limit: int | None = None) -> list[TurnIds]:
        """Turns one of whose ids starts with `query` (case-insensitive ASCII), the
        overlay's derived values included, each with the snapshot to jump to."""
        from tui.store.investigate import TurnIds, _jump_target, _matches_any

        self._ready()
        needle = query.strip().lower()
        if not needle:
            return []
        index = await self._read(self._index_rows)
        decoded = [
            ((_text(c), _text(s), _text(t)), _text(rk), _text(inf), as_int(cr), meta)
            for c, s, t, rk, inf, cr, _, meta in index
        ]
        overlay = self._overlay([(key, rk, inf, meta) for key, rk, inf, _, meta in decoded])
        found: list[TurnIds] = []
        for key, rk, inf, created, _ in decoded:
            rk2, inf2, _, _ = overlay.turn_values(key, rk, inf, created, 1)
            row = TurnIds(*key, rk2, inf2, created)
            if _matches_any(row, needle):
                found.append(row)
        found.sort(key=lambda r: (r.conv_id, r.turn_created_at_ms, r.turn_id))
        if limit is not None:
            found = found[:limit]
        keys = [(r.conv_id, r.session_id, r.turn_id) for r in found]
        snap_rows = await self._read(lambda cur: self._snapshots_of(cur, keys)) if keys else []
        targets: dict[TurnKey, list[tuple[str, int]]] = {}
        for c, s, t, phase, ms in snap_rows:
            targets.setdefault((_text(c), _text(s), _text(t)), []).append(
                (_text(phase), as_int(ms))
            )
        return [
            TurnIds(
                r.conv_id,
                r.session_id,
                r.turn_id,
                r.runtime_key,
                r.inference_id,
                r.turn_created_at_ms,
                *_jump_target(targets.get((r.conv_id, r.session_id, r.turn_id), ())),
            )
            for r in found
        ]

    async def find_text(self, query: str) -> list[TextHit]:
        """Candidate blocks whose payload JSON contains `query`, each (block, conversation)
        once at its earliest snapshot (`tui.find` keeps the real matches)."""
        from tui.store.investigate import TextHit, json_forms, like_escape

        self._ready()
        if not query:
            return []
        forms = json_forms(query)

        def work(cur: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
            where = " OR ".join("payload_json LIKE %s" for _ in forms)
            cur.execute(
                f"SELECT block_id, content_hash, kind, payload_json FROM blocks WHERE {where}",
                tuple(f"%{like_escape(f)}%" for f in forms),
            )
            blocks = list(cur.fetchall())
            members: list[tuple[Any, ...]] = []
            keys = [(b[0], b[1]) for b in blocks]
            for i in range(0, len(keys), 300):
                chunk = keys[i : i + 300]
                marks = ",".join("(%s, %s)" for _ in chunk)
                cur.execute(
                    "SELECT block_id, content_hash, conv_id, session_id, turn_id, phase, "
                    "snapshot_created_at_ms, ordinal FROM turn_block_membership "
                    f"WHERE (block_id, content_hash) IN ({marks})",
                    tuple(v for key in chunk for v in key),
                )
                members.extend(cur.fetchall())
            return blocks, members

        block_rows, member_rows = await self._read(work)
        info = {(_text(b), _text(h)): (_text(k), _text(p)) for b, h, k, p in block_rows}
        first: dict[tuple[str, str, str], TextHit] = {}
        for bid, h, conv, sess, turn, phase, ms, ordinal in member_rows:
            key = (_text(bid), _text(h), _text(conv))
            if key in first and first[key].snapshot_created_at_ms <= as_int(ms):
                continue
            kind, payload = info[(key[0], key[1])]
            first[key] = TextHit(
                key[2],
                _text(sess),
                _text(turn),
                _text(phase),
                as_int(ms),
                as_int(ordinal),
                key[0],
                kind,
                payload,
            )
        hits = list(first.values())
        hits.sort(key=lambda t: (t.conv_id, t.snapshot_created_at_ms, t.turn_id, t.block_ordinal))
        return hits

    async def change_token(self) -> Hashable:
        """(newest updated_at_ms, number of turns): changes when pinocchio saves a turn."""
        self._ready()

        def work(cur: Any) -> tuple[int, int]:
            cur.execute("SELECT COALESCE(MAX(updated_at_ms), 0), COUNT(*) FROM turns")
            row = cur.fetchall()[0]
            return as_int(row[0]), as_int(row[1])

        return await self._read(work)

    def close_sync(self) -> None:
        """Close the connection (waiting a little for a read in flight)."""
        if self._lock.acquire(timeout=1.0):
            try:
                self._drop()
            finally:
                self._lock.release()
        # else: a read is stuck on a hung server; it ends by its own read timeout and the
        # connection goes with the store.

    async def close(self) -> None:
        await asyncio.to_thread(self.close_sync)
        if self._timeline is not None:
            await self._timeline.close()
            self._timeline = None
            if self.timeline_db:
                cleanup.release(self.timeline_db)


_NOTHING = MigrationReport(applied=False, steps=())
