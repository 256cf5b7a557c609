"""A throwaway MariaDB server for the MySQL store tests: a real server, no mocks.

`mariadb` is a session-scoped pytest fixture (registered in ``tests/conftest.py``). It
starts ``mariadbd`` from Debian's ``mariadb-server-core`` in a temporary folder, on
127.0.0.1 and a free port, without systemd (``/work/shared/docs/team-store.md``), creates
a read/write ``loader`` user and a SELECT-only ``viewer`` user, and stops the server it
started, by its pid, on every exit (fixture teardown, ``atexit``, and the kernel's
parent-death signal if pytest itself is killed).

Without the packages the MySQL tests skip, naming the install command; under ``CI=true``
they fail instead, so CI can never go green by skipping them.
"""

from __future__ import annotations

import atexit
import contextlib
import getpass
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

INSTALL = (
    "apt-get update && apt-get install -y --no-install-recommends "
    "mariadb-server-core mariadb-client-core"
)
LOADER = ("loader", "l0ader-pw")
VIEWER = ("viewer", "S3cr3t:p@ss/w?rd")  # ':' '@' '/' '?': the DSN split must hold
SCHEMA_DDL: tuple[str, ...] = (
    """CREATE TABLE pinocchio_schema_version (
         component VARBINARY(64) NOT NULL PRIMARY KEY,
         schema_version BIGINT NOT NULL
       ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE turns (
         conv_id VARBINARY(255) NOT NULL,
         session_id VARBINARY(255) NOT NULL,
         turn_id VARBINARY(255) NOT NULL,
         turn_created_at_ms BIGINT NOT NULL,
         turn_metadata_json MEDIUMTEXT NOT NULL,
         turn_data_json MEDIUMTEXT NOT NULL,
         updated_at_ms BIGINT NOT NULL,
         runtime_key VARBINARY(255) NOT NULL DEFAULT '',
         inference_id VARBINARY(255) NOT NULL DEFAULT '',
         PRIMARY KEY (conv_id, session_id, turn_id),
         KEY turns_by_conv_session (conv_id, session_id, updated_at_ms),
         KEY turns_by_session (session_id, updated_at_ms),
         KEY turns_by_conv_runtime (conv_id, runtime_key, updated_at_ms),
         KEY turns_by_conv_inference (conv_id, inference_id, updated_at_ms)
       ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE blocks (
         block_id VARBINARY(255) NOT NULL,
         content_hash VARBINARY(64) NOT NULL,
         hash_algorithm VARBINARY(64) NOT NULL DEFAULT 'sha256-canonical-json-v1',
         kind VARBINARY(128) NOT NULL,
         role VARBINARY(128) NOT NULL DEFAULT '',
         payload_json MEDIUMTEXT NOT NULL,
         block_metadata_json MEDIUMTEXT NOT NULL,
         first_seen_at_ms BIGINT NOT NULL,
         PRIMARY KEY (block_id, content_hash),
         KEY blocks_by_kind_role (kind, role)
       ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE turn_block_membership (
         conv_id VARBINARY(255) NOT NULL,
         session_id VARBINARY(255) NOT NULL,
         turn_id VARBINARY(255) NOT NULL,
         phase VARBINARY(64) NOT NULL,
         snapshot_created_at_ms BIGINT NOT NULL,
         ordinal INT NOT NULL,
         block_id VARBINARY(255) NOT NULL,
         content_hash VARBINARY(64) NOT NULL,
         PRIMARY KEY (conv_id, session_id, turn_id, phase, snapshot_created_at_ms, ordinal),
         KEY tmem_by_block (block_id, content_hash)
       ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
)
# Statements that write; the server counts each kind (SHOW GLOBAL STATUS).
WRITE_COUNTERS: tuple[str, ...] = (
    "Com_insert",
    "Com_insert_select",
    "Com_update",
    "Com_update_multi",
    "Com_delete",
    "Com_delete_multi",
    "Com_replace",
    "Com_replace_select",
    "Com_load",
    "Com_truncate",
    "Com_create_table",
    "Com_alter_table",
    "Com_drop_table",
    "Com_rename_table",
    "Com_create_index",
    "Com_drop_index",
    "Com_create_db",
    "Com_drop_db",
)
_COPY_COLUMNS = {
    "turns": (
        "conv_id",
        "session_id",
        "turn_id",
        "turn_created_at_ms",
        "turn_metadata_json",
        "turn_data_json",
        "updated_at_ms",
        "runtime_key",
        "inference_id",
    ),
    "blocks": (
        "block_id",
        "content_hash",
        "hash_algorithm",
        "kind",
        "role",
        "payload_json",
        "block_metadata_json",
        "first_seen_at_ms",
    ),
    "turn_block_membership": (
        "conv_id",
        "session_id",
        "turn_id",
        "phase",
        "snapshot_created_at_ms",
        "ordinal",
        "block_id",
        "content_hash",
    ),
}
# VARBINARY columns: SQLite text goes in as its UTF-8 bytes.
_BINARY = {
    "conv_id",
    "session_id",
    "turn_id",
    "runtime_key",
    "inference_id",
    "block_id",
    "content_hash",
    "hash_algorithm",
    "kind",
    "role",
    "phase",
}


# Membership rows go in primary-key order (InnoDB appends instead of splitting pages).
_COPY_ORDER = {
    "turn_block_membership": (
        " ORDER BY conv_id, session_id, turn_id, phase, snapshot_created_at_ms, ordinal"
    ),
}


def _secondary_keys(cur: Any, database: str, table: str) -> dict[str, str]:
    """The secondary keys of `table`: name -> its definition for ALTER TABLE ... ADD."""
    cur.execute(
        "SELECT INDEX_NAME AS index_name, NON_UNIQUE AS non_unique, COLUMN_NAME AS column_name,"
        " SUB_PART AS sub_part FROM information_schema.STATISTICS"
        " WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s AND INDEX_NAME <> 'PRIMARY'"
        " ORDER BY INDEX_NAME, SEQ_IN_INDEX",
        (database, table),
    )
    parts: dict[str, tuple[bool, list[str]]] = {}
    for name, non_unique, column, sub_part in cur.fetchall():
        name = name.decode() if isinstance(name, bytes) else str(name)
        column = column.decode() if isinstance(column, bytes) else str(column)
        unique, columns = parts.setdefault(name, (not int(non_unique), []))
        columns.append(f"`{column}`" + (f"({int(sub_part)})" if sub_part else ""))
    return {
        name: f"{'UNIQUE ' if unique else ''}KEY `{name}` ({', '.join(columns)})"
        for name, (unique, columns) in parts.items()
    }


class ServerError(RuntimeError):
    """The test server could not be installed, started or reached."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found is None:
        for folder in ("/usr/sbin", "/usr/bin", "/usr/local/sbin"):
            if os.access(os.path.join(folder, name), os.X_OK):
                return os.path.join(folder, name)
    return found


def _die_with_parent(cmd: list[str]) -> list[str]:
    """`cmd` under `setpriv --pdeathsig KILL` where available (Linux, util-linux): the
    server dies with pytest even if pytest itself is killed. setpriv execs: same pid."""
    setpriv = _binary("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--", *cmd] if setpriv else cmd


class MariaDb:
    """One mariadbd in its own folder; every stop is by the pid it started."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.sock = str(folder / "mysqld.sock")
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.admin_user = "root" if os.geteuid() == 0 else getpass.getuser()
        self._counted: dict[str, int] = dict.fromkeys(WRITE_COUNTERS, 0)  # before restarts
        self.start_seconds = 0.0

    # -- life cycle ------------------------------------------------------------------

    def _install(self) -> None:
        tool = _binary("mariadb-install-db") or _binary("mysql_install_db")
        if tool is None:
            raise ServerError("mariadb-install-db not found")
        cmd = [
            tool,
            "--no-defaults",
            f"--datadir={self.data}",
            "--auth-root-authentication-method=socket",
            "--skip-test-db",
            "--skip-name-resolve",
        ]
        if os.geteuid() == 0:
            cmd.insert(2, "--user=root")
        res = subprocess.run(
            cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120
        )
        if res.returncode != 0:
            raise ServerError(f"mariadb-install-db failed: {res.stderr.strip()[-400:]}")

    def start(self) -> None:
        """Start (or restart, on the same data and port) and wait until it answers."""
        started = time.monotonic()
        server = _binary("mariadbd") or _binary("mysqld")
        if server is None:
            raise ServerError("mariadbd not found")
        if not self.data.exists():
            self._install()
        cmd = [
            server,
            "--no-defaults",
            f"--datadir={self.data}",
            f"--socket={self.sock}",
            f"--pid-file={self.folder / 'mariadbd.pid'}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            "--skip-name-resolve",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
            "--sql-mode=ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
            "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION",
            "--innodb-buffer-pool-size=64M",
            "--max-allowed-packet=64M",
            f"--log-error={self.folder / 'error.log'}",
        ]
        if os.geteuid() == 0:
            cmd.insert(2, "--user=root")
        with open(self.folder / "stdout.log", "ab") as log:
            self.proc = subprocess.Popen(
                _die_with_parent(cmd),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                close_fds=True,  # never inherit the caller's pipes or lock descriptors
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise ServerError(f"mariadbd exited: {self.error_log_tail()}")
            try:
                self.admin().close()
                break
            except Exception as exc:  # noqa: BLE001 - not up yet
                if time.monotonic() > deadline:
                    self.stop()
                    raise ServerError(f"mariadbd did not answer in 30 s: {exc}") from None
                time.sleep(0.05)
        self.start_seconds = time.monotonic() - started

    def error_log_tail(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace")[-600:] if path.exists() else ""

    def _wait(self, timeout: float) -> None:
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM the server we started (by pid), then wait; SIGKILL if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = None
            return
        self.resume()  # a stopped process cannot handle SIGTERM
        with contextlib.suppress(Exception):
            self._bank_counters()
        self.proc.terminate()
        self._wait(20)
        self.proc = None

    def kill(self) -> None:
        """SIGKILL it (a crash mid-session); counters are banked first."""
        assert self.proc is not None
        self._bank_counters()
        self.proc.kill()
        self.proc.wait(10)
        self.proc = None

    def pause(self) -> None:
        """SIGSTOP: the server accepts connections and then answers nothing."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- admin (over the unix socket, as root) ------------------------------------------

    def admin(self, database: str | None = None) -> Any:
        import pymysql

        return pymysql.connect(
            unix_socket=self.sock,
            user=self.admin_user,
            database=database,
            autocommit=True,
            charset="utf8mb4",
            connect_timeout=5,
            read_timeout=30,
        )

    def execute(self, *statements: str, database: str | None = None) -> None:
        conn = self.admin(database)
        try:
            with conn.cursor() as cur:
                for sql in statements:
                    cur.execute(sql)
        finally:
            conn.close()

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        conn = self.admin()
        try:
            with conn.cursor() as cur:
                cur.execute(sql, tuple(args))
                return list(cur.fetchall())
        finally:
            conn.close()

    def _current_counters(self) -> dict[str, int]:
        marks = ",".join("%s" for _ in WRITE_COUNTERS)
        rows = self.query(f"SHOW GLOBAL STATUS WHERE Variable_name IN ({marks})", WRITE_COUNTERS)
        return {str(name): int(value) for name, value in rows}

    def _bank_counters(self) -> None:
        for name, value in self._current_counters().items():
            self._counted[name] += value

    def write_counters(self) -> dict[str, int]:
        """Write statements the server executed since it was first started (restarts
        reset the server's counters; those are banked before each stop)."""
        now = self._current_counters()
        return {name: self._counted[name] + now.get(name, 0) for name in WRITE_COUNTERS}

    def create_users(self) -> None:
        loader, lpw = LOADER
        viewer, vpw = VIEWER
        self.execute(
            f"CREATE USER '{loader}'@'127.0.0.1' IDENTIFIED BY '{lpw}'",
            f"GRANT ALL PRIVILEGES ON *.* TO '{loader}'@'127.0.0.1'",
            f"CREATE USER '{viewer}'@'127.0.0.1' IDENTIFIED BY '{vpw}'",
            "CREATE USER 'nogrant'@'127.0.0.1' IDENTIFIED BY 'nogrant-pw'",
            "CREATE USER 'partial'@'127.0.0.1' IDENTIFIED BY 'partial-pw'",
        )

    def grant_select(self, database: str) -> None:
        self.execute(f"GRANT SELECT ON `{database}`.* TO '{VIEWER[0]}'@'127.0.0.1'")

    # -- loading -------------------------------------------------------------------------

    def loader(self, database: str) -> Any:
        import pymysql

        return pymysql.connect(
            host="127.0.0.1",
            port=self.port,
            user=LOADER[0],
            password=LOADER[1],
            database=database,
            charset="utf8mb4",
            autocommit=False,
            binary_prefix=True,
        )

    def create_store(
        self,
        database: str,
        *,
        ddl: Sequence[str] = SCHEMA_DDL,
        version: int | None = 1,
        component: bytes = b"chatstore.turns",
    ) -> None:
        """A database with the schema-v1 tables (or `ddl`) and its version row."""
        self.execute(f"CREATE DATABASE `{database}`")
        self.grant_select(database)
        conn = self.loader(database)
        try:
            with conn.cursor() as cur:
                for sql in ddl:
                    cur.execute(sql)
                if version is not None and any("pinocchio_schema_version" in s for s in ddl):
                    cur.execute(
                        "INSERT INTO pinocchio_schema_version VALUES (%s, %s)",
                        (component, version),
                    )
            conn.commit()
        finally:
            conn.close()

    def load_sqlite(
        self,
        database: str,
        path: Path,
        *,
        batch: int = 5000,
        progress: Callable[[str, int], None] | None = None,
    ) -> dict[str, int]:
        """Copy the GP-26 tables of a SQLite turns file into `database`; row counts.

        Made for big files too (the medium benchmark file: 1.1 M membership rows, 800 MB):
        rows are streamed from SQLite in batches of `batch` (PyMySQL's executemany sends
        each as multi-row INSERTs), membership in primary-key order, with the session's
        unique and foreign-key checks off, and each table's secondary keys are dropped
        before the copy and built again after it, with the same names and columns (one
        sorted index build instead of a random insert per row: 85 s -> 57 s for the medium
        file). `progress(table, rows so far)` is called after every batch.
        """
        src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn = self.loader(database)
        counts: dict[str, int] = {}
        dropped: dict[str, list[str]] = {}
        try:
            with conn.cursor() as cur:
                cur.execute("SET SESSION unique_checks = 0, foreign_key_checks = 0")
                for table in _COPY_COLUMNS:
                    keys = _secondary_keys(cur, database, table)
                    if keys:
                        cur.execute(
                            f"ALTER TABLE `{table}` "
                            + ", ".join(f"DROP KEY `{name}`" for name in keys)
                        )
                        dropped[table] = [f"ADD {definition}" for definition in keys.values()]
                for table, columns in _COPY_COLUMNS.items():
                    binary = [c in _BINARY for c in columns]
                    marks = ", ".join("%s" for _ in columns)
                    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
                    order = _COPY_ORDER.get(table, "")
                    rows = src.execute(f"SELECT {', '.join(columns)} FROM {table}{order}")
                    n = 0
                    while chunk := rows.fetchmany(batch):
                        cur.executemany(
                            sql,
                            [
                                tuple(
                                    v.encode("utf-8") if is_bin and isinstance(v, str) else v
                                    for v, is_bin in zip(row, binary, strict=True)
                                )
                                for row in chunk
                            ],
                        )
                        n += len(chunk)
                        if progress is not None:
                            progress(table, n)
                    counts[table] = n
                conn.commit()
                for table, adds in dropped.items():
                    cur.execute(f"ALTER TABLE `{table}` {', '.join(adds)}")
        finally:
            conn.close()
            src.close()
        return counts

    # -- DSNs --------------------------------------------------------------------------

    def dsn(
        self,
        database: str,
        *,
        user: str = VIEWER[0],
        password: str | None = VIEWER[1],
        params: str = "parseTime=true",
        port: int | None = None,
    ) -> str:
        """A go-sql-driver DSN, as pinocchio's --turns-dsn takes it."""
        who = user if password is None else f"{user}:{password}"
        query = f"?{params}" if params else ""
        return f"{who}@tcp(127.0.0.1:{port or self.port})/{database}{query}"


_started: list[MariaDb] = []


@atexit.register
def _stop_all() -> None:  # a last resort: the fixture's teardown normally did it
    for server in _started:
        with contextlib.suppress(Exception):
            server.cleanup()


def _unavailable(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"MySQL tests: the MariaDB test server cannot start: {why}", pytrace=False)
    pytest.skip(f"MySQL tests need a MariaDB server ({why}); install it with: {INSTALL}")


@pytest.fixture(scope="session")
def mariadb() -> Iterator[MariaDb]:
    """A running throwaway MariaDB with the loader, viewer, nogrant and partial users."""
    try:
        import pymysql  # noqa: F401
    except ImportError:
        _unavailable("PyMySQL is not installed: pip install -e '.[test]'")
    if (_binary("mariadbd") or _binary("mysqld")) is None:
        _unavailable("mariadbd not found")
    folder = Path(tempfile.mkdtemp(prefix="ttmdb-"))
    server = MariaDb(folder)
    _started.append(server)
    try:
        server.start()
        server.create_users()
    except (ServerError, OSError, subprocess.SubprocessError) as exc:
        server.cleanup()
        _unavailable(str(exc))
    try:
        yield server
    finally:
        server.cleanup()
        _started.remove(server)
