"""The MySQL team store against a real MariaDB server (`tests/mysql_server.py`): no mocks.

Fixtures come from the SQLite builders (the standard GP-26 scenario with rows whose
runtime_key / inference_id are empty or blank, hostile ids, a 5 MB block, malformed
metadata), copied into MySQL's schema v1. `dump --turns-dsn` must equal `dump` of the
SQLite file, conversation by conversation. Then the faults: wrong password, no grant,
schema problems, a malformed DSN, an unreachable port, a hung server (SIGSTOP), a server
killed and restarted mid-session; the password never shows; no write is ever sent.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import builders as b
from tests.mysql_server import LOADER, SCHEMA_DDL, VIEWER, MariaDb, free_port
from tui.store.dsn import PASSWORD_ENV, parse_dsn
from tui.store.errors import UnreachableError
from tui.store.factory import store_for
from tui.store.mysql_store import MySqlStore
from tui.store.sqlite_store import SqliteStore

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = VIEWER[1]
SECRETS = (VIEWER[1], LOADER[1], "nogrant-pw", "partial-pw", "wrong-Pa55word")
MAIN_DB = "turns_main"


# -- the scenario ----------------------------------------------------------------------

HOSTILE_CONV = "conv-\x1b]0;pwn\x07 'q\"\\%_🦊"


def _hostile() -> b.ConversationSpec:
    evil = "\x1b[31mred\x1b[0m \x9b2J \u202etxt.exe [bold]x[/bold]"
    block = b.BlockSpec(kind="user", role="user", payload={"text": evil}, id="u-\x1b'\"")
    turn = b.TurnSpec(
        turn_id="turn-\x1b[2J",
        snapshots=(b.SnapshotSpec("final", b.T0 + 900_000, (block,)),),
        metadata={"geppetto.runtime@v1": "rt\u202eevil"},
        runtime_key_column="rt\u202eevil",
    )
    return b.ConversationSpec(HOSTILE_CONV, "s\x9b-ü", (turn,))


def _big() -> b.ConversationSpec:
    text = "".join(f"line {i:07d} of a very large tool result\n" for i in range(125_001))
    blocks = (
        b.BlockSpec(kind="user", role="user", payload={"text": "dump the log"}, id="big-u1"),
        b.BlockSpec(kind="tool_use", payload={"id": "c1", "result": text}, id="big-t1"),
    )
    turn = b.TurnSpec(
        turn_id="turn-big",
        snapshots=(b.SnapshotSpec("final", b.T0 + 1_000_000, blocks),),
        metadata={"geppetto.runtime@v1": b.runtime_attribution("inventory")},
        runtime_key_column="inventory",
        inference_id_column="inf-big",
    )
    return b.ConversationSpec("conv-big", "sess-big", (turn,))


def _blanks() -> b.ConversationSpec:
    """Empty and blank columns: each needs (or must not get) the in-memory backfill."""

    def turn(n: int, rk: str, inf: str, meta: dict[str, Any]) -> b.TurnSpec:
        at = b.T0 + 1_100_000 + n * 60_000
        block = b.BlockSpec(kind="user", role="user", payload={"text": f"q{n}"}, id=f"bl-u{n}")
        return b.TurnSpec(
            turn_id=f"turn-blank-{n}",
            snapshots=(
                b.SnapshotSpec("pre_inference", at, (block,)),
                b.SnapshotSpec("final", at + 500, (block,)),
            ),
            metadata=meta,
            runtime_key_column=rk,
            inference_id_column=inf,
        )

    return b.ConversationSpec(
        "conv-blanks",
        "sess-blank",
        (
            turn(1, "", "", {"geppetto.runtime@v1": b.runtime_attribution("planner")}),
            turn(2, "  ", "", {"runtime": "research", "geppetto.inference_id@v1": "inf-x"}),
            turn(3, "  ", "inf-3", {"runtime": "research"}),  # blank, not selected
            turn(4, "", "inf-4", {"runtime_key": 7}),
            turn(5, "", "", {"placeholder": True}),  # metadata made malformed below
        ),
    )


def build_source(path: Path) -> Path:
    convs = (*b.standard_scenario(), _hostile(), _big(), _blanks())
    b.build_gp26(path, convs)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "UPDATE turns SET turn_metadata_json = '{\"runtime\": NaN}' "
            "WHERE turn_id = 'turn-blank-5'"
        )
    conn.close()
    return path


@dataclass
class Team:
    server: MariaDb
    sqlite: Path
    timeline: Path
    counts: dict[str, int]

    def dsn(self, database: str = MAIN_DB, **kw: Any) -> str:
        return self.server.dsn(database, **kw)


NO_VERSION_DDL = SCHEMA_DDL[1:]
MISSING_BLOCKS_DDL = tuple(s for s in SCHEMA_DDL if "CREATE TABLE blocks" not in s)


@pytest.fixture(scope="module")
def team(mariadb: MariaDb, tmp_path_factory: pytest.TempPathFactory) -> Team:
    """Every database of the module, created before the write counters are read."""
    folder = tmp_path_factory.mktemp("team")
    source = build_source(folder / "source.sqlite")
    timeline = b.build_timeline(folder / "timeline.sqlite", b.standard_timeline_rows())
    server = mariadb
    server.create_store(MAIN_DB)
    counts = server.load_sqlite(MAIN_DB, source)
    server.create_store("turns_v2", version=2)
    server.create_store("turns_norow", version=None)
    server.create_store("turns_proto", ddl=NO_VERSION_DDL)
    server.create_store("turns_empty", ddl=())
    server.create_store("turns_noblocks", ddl=MISSING_BLOCKS_DDL)
    server.create_store("turns_bytes")
    conn = server.loader("turns_bytes")
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO turns VALUES (%s, %s, %s, 1, '{}', '{}', 2, %s, %s)",
            (b"conv-\xff\xfe", b"sess-\xc3(", b"turn-\x80", b"rk-\xe9", b""),
        )
        cur.execute(
            "INSERT INTO blocks VALUES (%s, %s, 'x', 'user', 'user', '{\"text\":\"hi\"}', '{}', 1)",
            (b"blk-\xff", b"h\xfe"),
        )
        cur.execute(
            "INSERT INTO turn_block_membership VALUES (%s, %s, %s, 'final', 5, 0, %s, %s)",
            (b"conv-\xff\xfe", b"sess-\xc3(", b"turn-\x80", b"blk-\xff", b"h\xfe"),
        )
    conn.commit()
    conn.close()
    # SELECT on the version table only: connects, then cannot read `turns`.
    server.execute(
        f"GRANT SELECT ON `{MAIN_DB}`.`pinocchio_schema_version` TO 'partial'@'127.0.0.1'"
    )
    return Team(server, source, timeline, counts)


@pytest.fixture(scope="module", autouse=True)
def write_baseline(team: Team) -> dict[str, int]:
    """The server's write-statement counters once every fixture database exists."""
    return team.server.write_counters()


@pytest.fixture
def server_up(team: Team) -> Iterator[MariaDb]:
    """The server, running and answering again after the test (whatever it did)."""
    yield team.server
    team.server.resume()
    if team.server.proc is None:
        team.server.start()


# -- the CLI -----------------------------------------------------------------------------

RUNS: list[subprocess.CompletedProcess[str]] = []


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Any:
    environ = {k: v for k, v in os.environ.items() if k != PASSWORD_ENV}
    environ.update(env or {})
    res = subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=environ,
    )
    RUNS.append(res)
    for secret in SECRETS:
        assert secret not in res.stdout and secret not in res.stderr, "a password was shown"
    return res


def one_line_error(res: Any, code: int) -> str:
    assert res.returncode == code, (res.returncode, res.stderr)
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("turns-tui: "), res.stderr
    assert "Traceback" not in res.stderr
    return lines[0]


# -- equality with the SQLite file -------------------------------------------------------


def test_fixture_copied_every_row(team: Team) -> None:
    assert team.counts["turns"] == 17
    rows = team.server.query(f"SELECT COUNT(*) FROM `{MAIN_DB}`.turns")
    assert rows[0][0] == 17


def _assert_same_conversations(mine: dict[str, Any], theirs: dict[str, Any]) -> None:
    a, b_ = mine["conversations"], theirs["conversations"]
    assert [c["conv_id"] for c in a] == [c["conv_id"] for c in b_]
    for got, want in zip(a, b_, strict=True):
        assert got == want, got["conv_id"]


def test_dump_equals_the_sqlite_dump_conversation_by_conversation(team: Team) -> None:
    mysql = cli("dump", "--turns-dsn", team.dsn())
    assert mysql.returncode == 0, mysql.stderr
    sqlite = cli("dump", "--read-only", str(team.sqlite))
    assert sqlite.returncode == 0, sqlite.stderr
    mine, theirs = json.loads(mysql.stdout), json.loads(sqlite.stdout)
    _assert_same_conversations(mine, theirs)
    turns = {
        (c["conv_id"], t["turn_id"]): (t["runtime_key"], t["inference_id"])
        for c in mine["conversations"]
        for t in c["turns"]
    }
    for key, want in b.STANDARD_EXPECTED_ATTRIBUTION.items():
        assert turns[key] == want
    assert turns[("conv-blanks", "turn-blank-1")] == ("planner", "")  # derived in memory
    assert turns[("conv-blanks", "turn-blank-2")] == ("research", "inf-x")
    assert turns[("conv-blanks", "turn-blank-3")] == ("  ", "inf-3")  # not selected
    assert turns[("conv-blanks", "turn-blank-4")] == ("7", "inf-4")
    assert turns[("conv-blanks", "turn-blank-5")] == ("", "")  # malformed: skipped
    db = mine["database"]
    assert db["read_only"] is True and db["mode"] == "overlay"
    assert db["path"] == f"viewer:***@tcp(127.0.0.1:{team.server.port})/{MAIN_DB}?parseTime=true"
    assert "derived from its latest turn" in mysql.stderr
    assert {c["current_runtime_source"] for c in mine["conversations"]} == {"latest_turn"}
    assert db["migration"] == theirs["database"]["migration"]  # same overlay, same counts


def test_dump_with_a_timeline_store_and_the_url_form(team: Team) -> None:
    url = f"mysql://viewer@127.0.0.1:{team.server.port}/{MAIN_DB}"
    mysql = cli(
        "dump", "--turns-dsn", url, "--timeline-db", str(team.timeline),
        env={PASSWORD_ENV: PASSWORD},
    )  # fmt: skip
    assert mysql.returncode == 0, mysql.stderr
    sqlite = cli("dump", "--read-only", str(team.sqlite), "--timeline-db", str(team.timeline))
    mine, theirs = json.loads(mysql.stdout), json.loads(sqlite.stdout)
    _assert_same_conversations(mine, theirs)
    switch = next(c for c in mine["conversations"] if c["conv_id"] == "conv-switch")
    assert (switch["current_runtime_key"], switch["current_runtime_source"]) == (
        "planner",
        "timeline",
    )
    assert mine["database"]["path"] == url  # no password was in it
    assert "derived from its latest turn" not in mysql.stderr


async def test_records_and_every_snapshot_equal_the_sqlite_store(team: Team) -> None:
    mine = MySqlStore(parse_dsn(team.dsn()))
    theirs = SqliteStore(str(team.sqlite), read_only=True)
    await mine.open()
    await theirs.open()
    try:
        a, b_ = await mine.conversations(), await theirs.conversations()
        assert a == b_
        big_seen = False
        for summary in a:
            got = await mine.conversation(summary.conv_id)
            want = await theirs.conversation(summary.conv_id)
            key = lambda t: t.turn_id  # noqa: E731
            assert sorted(got.turns, key=key) == sorted(want.turns, key=key)
            for turn in got.turns:
                for snap in turn.snapshots:
                    ids = (turn.conv_id, turn.session_id, turn.turn_id, snap.phase)
                    at = snap.snapshot_created_at_ms
                    detail = await mine.snapshot(*ids, at)
                    assert detail == await theirs.snapshot(*ids, at)
                    assert detail is not None
                    big_seen |= any(len(blk.payload_json) > 5_000_000 for blk in detail.blocks)
        assert big_seen
        assert await mine.anomaly_facts() == await theirs.anomaly_facts()
        for query in ("conv-s", "INF-", "planner", "turn-blank", "research", "7"):
            assert await mine.find_ids(query) == await theirs.find_ids(query), query
        assert await mine.find_ids("turn", 3) == await theirs.find_ids("turn", 3)
        for query in ("A-1", "stock", "\x1b[31m"):
            got_hits = {(h.conv_id, h.block_id, h.snapshot_created_at_ms) for h in
                        await mine.find_text(query)}  # fmt: skip
            want_hits = {(h.conv_id, h.block_id, h.snapshot_created_at_ms) for h in
                         await theirs.find_text(query)}  # fmt: skip
            assert want_hits <= got_hits, query  # MySQL's LIKE may find more candidates
    finally:
        await mine.close()
        await theirs.close()


async def test_binary_ids_round_trip(team: Team) -> None:
    store = MySqlStore(parse_dsn(team.dsn("turns_bytes")))
    await store.open()
    try:
        [summary] = await store.conversations()
        assert summary.conv_id.encode("utf-8", "surrogateescape") == b"conv-\xff\xfe"
        records = await store.conversation(summary.conv_id)
        [turn] = records.turns
        assert turn.runtime_key.encode("utf-8", "surrogateescape") == b"rk-\xe9"
        [snap] = turn.snapshots
        detail = await store.snapshot(
            turn.conv_id, turn.session_id, turn.turn_id, snap.phase, snap.snapshot_created_at_ms
        )
        assert detail is not None and len(detail.blocks) == 1
        assert detail.blocks[0].block_id.encode("utf-8", "surrogateescape") == b"blk-\xff"
    finally:
        await store.close()
    res = cli("dump", "--turns-dsn", team.dsn("turns_bytes"))
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["conversations"][0]["conv_id"] == "conv-\udcff\udcfe"


async def test_change_token_is_max_updated_and_count(team: Team) -> None:
    store = MySqlStore(parse_dsn(team.dsn()))
    await store.open()
    try:
        token = await store.change_token()
        rows = team.server.query(f"SELECT MAX(updated_at_ms), COUNT(*) FROM `{MAIN_DB}`.turns")
        assert token == (int(rows[0][0]), int(rows[0][1]))
        assert await store.change_token() == token
    finally:
        await store.close()


# -- bad input and faults ----------------------------------------------------------------


def test_wrong_password_exit_5(team: Team) -> None:
    line = one_line_error(cli("dump", "--turns-dsn", team.dsn(password="wrong-Pa55word")), 5)
    assert "access denied" in line and "1045" in line


def test_password_from_the_environment(team: Team) -> None:
    dsn = team.dsn(password=None)
    assert one_line_error(cli("dump", "--turns-dsn", dsn), 5)  # no password: denied
    res = cli("dump", "--turns-dsn", dsn, env={PASSWORD_ENV: PASSWORD})
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize(
    ("user", "password", "errno"),
    [("nogrant", "nogrant-pw", "1044"), ("partial", "partial-pw", "1142")],
)
def test_user_without_select_exit_5(team: Team, user: str, password: str, errno: str) -> None:
    line = one_line_error(cli("dump", "--turns-dsn", team.dsn(user=user, password=password)), 5)
    assert errno in line


@pytest.mark.parametrize(
    ("database", "says"),
    [
        ("turns_v2", "schema version 2"),
        ("turns_norow", "no 'chatstore.turns' row"),
        ("turns_proto", "unversioned prototype schema"),
        ("turns_empty", "no pinocchio_schema_version table"),
        ("turns_noblocks", "the blocks table is missing"),
        ("turns_nosuchdb", "1044"),  # the viewer has no grant there: MySQL says 1044
    ],
)
def test_schema_check_exit_3(team: Team, database: str, says: str) -> None:
    res = cli("dump", "--turns-dsn", team.dsn(database))
    line = one_line_error(res, 5 if database == "turns_nosuchdb" else 3)
    assert says in line


def test_unknown_database_for_a_user_who_may_see_it_exit_3(team: Team) -> None:
    dsn = team.dsn("turns_nosuchdb", user=LOADER[0], password=LOADER[1])
    line = one_line_error(cli("dump", "--turns-dsn", dsn), 3)
    assert "no such database" in line


def test_unreachable_port_exit_6(team: Team) -> None:
    dsn = team.dsn(port=free_port(), params="timeout=2s")
    started = time.monotonic()
    line = one_line_error(cli("dump", "--turns-dsn", dsn), 6)
    assert "cannot reach the server" in line and "2003" in line
    assert time.monotonic() - started < 10


def test_hung_server_fails_after_read_timeout_exit_6(team: Team, server_up: MariaDb) -> None:
    dsn = team.dsn(params="readTimeout=1s&timeout=1s")
    server_up.pause()
    try:
        started = time.monotonic()
        line = one_line_error(cli("dump", "--turns-dsn", dsn, timeout=30), 6)
        elapsed = time.monotonic() - started
    finally:
        server_up.resume()
    assert "did not answer within readTimeout=1s" in line
    assert elapsed < 6


async def test_hung_mid_session_then_the_next_read_works(team: Team, server_up: MariaDb) -> None:
    store = MySqlStore(parse_dsn(team.dsn(params="readTimeout=1s")))
    await store.open()
    try:
        assert len(await store.conversations()) == 6
        server_up.pause()
        started = time.monotonic()
        with pytest.raises(UnreachableError) as caught:
            await store.conversations()
        assert time.monotonic() - started < 4
        assert caught.value.exit_code == 6
        server_up.resume()
        assert len(await store.conversations()) == 6  # a fresh connection
    finally:
        server_up.resume()
        await store.close()


async def test_killed_mid_session_then_restarted_the_next_read_reconnects(
    team: Team, server_up: MariaDb
) -> None:
    store = MySqlStore(parse_dsn(team.dsn(params="readTimeout=5s&timeout=2s")))
    await store.open()
    try:
        assert len(await store.conversations()) == 6
        server_up.kill()
        with pytest.raises(UnreachableError) as caught:
            await store.conversation("conv-switch")
        assert caught.value.exit_code == 6
        assert PASSWORD not in str(caught.value)
        server_up.start()
        assert len((await store.conversation("conv-switch")).turns) == 5
        # killed and back while idle: the dead connection is replaced without an error
        server_up.kill()
        server_up.start()
        assert len(await store.conversations()) == 6
    finally:
        await store.close()


async def test_app_shows_the_lost_server_and_retry_works_after_a_restart(
    team: Team, server_up: MariaDb
) -> None:
    from tests.snapshot_apps.support import fixed_clock, main_screen, settle
    from tui.app import make_app

    store = store_for(None, team.dsn(params="readTimeout=5s&timeout=2s"), True, None)
    app = make_app(store=store, clock=fixed_clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        main = main_screen(app)
        assert main.conversations.row_count == 6
        assert PASSWORD not in app.label and "***" in app.label
        server_up.kill()
        app.action_reload()
        await settle(pilot)
        messages = " ".join(str(n.message) for n in app._notifications)
        assert "lost the connection" in messages or "cannot reach" in messages
        assert PASSWORD not in messages
        server_up.start()
        app.action_reload()
        await settle(pilot)
        assert main_screen(app).conversations.row_count == 6


async def test_app_error_screen_when_the_server_is_down_then_retry(
    team: Team, server_up: MariaDb
) -> None:
    from tests.snapshot_apps.support import fixed_clock, main_screen, settle
    from tui.app import make_app
    from tui.screens.error import ErrorScreen

    server_up.kill()
    store = store_for(None, team.dsn(params="readTimeout=5s&timeout=2s"), True, None)
    app = make_app(store=store, clock=fixed_clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert app.screen.exit_code == 6
        server_up.start()
        await pilot.press("r")
        await settle(pilot)
        assert main_screen(app).conversations.row_count == 6


def test_store_for_picks_the_store(team: Team) -> None:
    assert isinstance(store_for(str(team.sqlite), None), SqliteStore)
    mysql = store_for(None, team.dsn())
    assert isinstance(mysql, MySqlStore) and mysql.read_only


def test_a_missing_timeline_file_exit_3(team: Team, tmp_path: Path) -> None:
    missing = tmp_path / "nope.sqlite"
    line = one_line_error(cli("dump", "--turns-dsn", team.dsn(), "--timeline-db", str(missing)), 3)
    assert str(missing) in line
    assert not missing.exists()


# -- last: nothing written, no password shown ----------------------------------------------


def test_zz_no_write_statement_was_ever_sent(team: Team, write_baseline: dict[str, int]) -> None:
    """Com_insert / Com_update / Com_delete / Com_replace (and every other write kind)
    unchanged across the whole module, killed-and-restarted server included."""
    assert team.server.write_counters() == write_baseline


def test_zz_no_cli_run_showed_a_password() -> None:
    assert RUNS, "the CLI tests ran first"
    for res in RUNS:
        for secret in SECRETS:
            assert secret not in res.stdout and secret not in res.stderr
