"""The `--turns-dsn` string: pinocchio's go-sql-driver grammar and mysql:// URLs, the
password kept out of every output, malformed input as one line with exit code 2, and the
optional PyMySQL extra. No server needed (see `test_mysql_store.py` for those)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.mysql_server import VIEWER
from tui.store.dsn import PASSWORD_ENV, DsnError, parse_dsn
from tui.store.errors import StoreError
from tui.store.factory import store_for

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = VIEWER[1]


def cli(*args: str, env: dict[str, str] | None = None) -> Any:
    environ = {k: v for k, v in os.environ.items() if k != PASSWORD_ENV}
    environ.update(env or {})
    res = subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=environ,
    )
    assert PASSWORD not in res.stdout and PASSWORD not in res.stderr
    return res


def one_line_error(res: Any, code: int) -> str:
    assert res.returncode == code, (res.returncode, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("turns-tui: "), res.stderr
    return lines[0]


@pytest.mark.parametrize(
    "dsn",
    [
        f"viewer:{PASSWORD}@tcp(127.0.0.1:3306",
        f"viewer:{PASSWORD}@tcp(127.0.0.1:3306)",  # the last '/' is in the password
        f"viewer:{PASSWORD}@tcp(127.0.0.1:99999)/db",
        f"viewer:{PASSWORD}@tcp(127.0.0.1)/db?readTimeout=soon",
        f"viewer:{PASSWORD}@tcp(127.0.0.1)/db?tls=custom",
        f"viewer:{PASSWORD}@udp(127.0.0.1)/db",
        "mysql://viewer:pw@/db",
    ],
)
def test_malformed_dsn_exit_2(dsn: str) -> None:
    line = one_line_error(cli("dump", "--turns-dsn", dsn), 2)
    assert "malformed DSN" in line and PASSWORD not in line


def test_path_and_dsn_together_exit_2(tmp_path: Path) -> None:
    line = one_line_error(
        cli("dump", str(tmp_path / "x.sqlite"), "--turns-dsn", f"viewer:{PASSWORD}@/db"), 2
    )
    assert "not both" in line


def test_store_for_needs_a_path_or_a_dsn() -> None:
    with pytest.raises(StoreError) as caught:
        store_for(None, None)
    assert caught.value.exit_code == 2


def test_missing_driver_names_the_extra(tmp_path: Path) -> None:
    blocker = tmp_path / "pymysql"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('blocked for the test')\n")
    env = {"PYTHONPATH": str(tmp_path)}
    res = cli("dump", "--turns-dsn", "u:p@tcp(127.0.0.1:1)/db", env=env)
    line = one_line_error(res, 2)
    assert "pip install 'turns-tui[mysql]'" in line


def test_dsn_grammar() -> None:
    d = parse_dsn(
        "us:er:p:a@s/s?@tcp([::1]:3307)/my%20db?readTimeout=1m30s&tls=skip-verify", env={}
    )
    assert (d.user, d.password.reveal(), d.host, d.port, d.database) == (
        "us", "er:p:a@s/s?", "::1", 3307, "my db",
    )  # fmt: skip
    assert (d.read_timeout, d.tls) == (90.0, "skip-verify")
    assert "er:p" not in repr(d) and "er:p" not in str(d) and "er:p" not in d.redacted()
    assert d.redacted() == "us:***@tcp([::1]:3307)/my%20db?readTimeout=1m30s&tls=skip-verify"
    u = parse_dsn("mysql://me:p%40ss@db.example:3310/turns", env={})
    assert (u.user, u.password.reveal(), u.host, u.port, u.database) == (
        "me", "p@ss", "db.example", 3310, "turns",
    )  # fmt: skip
    assert u.redacted() == "mysql://me:***@db.example:3310/turns"
    e = parse_dsn("me@unix(/run/mysqld.sock)/turns", env={PASSWORD_ENV: "from-env"})
    assert (e.net, e.socket, e.password.reveal(), e.read_timeout) == (
        "unix", "/run/mysqld.sock", "from-env", 30.0,
    )  # fmt: skip
    assert e.redacted() == "me@unix(/run/mysqld.sock)/turns"
    assert parse_dsn("/turns", env={}).address == "127.0.0.1:3306"
    with pytest.raises(DsnError) as caught:
        parse_dsn("me:topsecret@tcp(h:1)/db?timeout=x", env={})
    assert caught.value.exit_code == 2 and "topsecret" not in str(caught.value)
