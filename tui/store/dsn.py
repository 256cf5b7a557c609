"""Where a MySQL turn store is: pinocchio's `--turns-dsn` string, parsed.

Two spellings are accepted:

* the go-sql-driver/mysql DSN pinocchio takes,
  ``[user[:password]@][net[(addr)]]/dbname[?param=value&...]``, split exactly as the Go
  driver splits it (the last ``/`` ends the address, the last ``@`` before it ends the
  credentials, the first ``:`` of those ends the user, so a password may hold ``:``,
  ``@``, ``/`` and ``?``);
* ``mysql://USER:PASS@HOST:PORT/DB?param=value`` (user and password percent-encoded).

Parameters a reader needs: ``timeout``, ``readTimeout``, ``writeTimeout`` (Go durations
such as ``5s`` or ``500ms``; ``readTimeout`` defaults to 30 s here so a hung server fails
instead of hanging) and ``tls``. Others are accepted and ignored, as they only tune the
Go driver or set session variables.

The password can come from ``TURNS_TUI_MYSQL_PASSWORD`` instead of the DSN. It is held
in a `Secret`, whose ``str``/``repr`` never show it; `Dsn.redacted` is the form to show.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

from tui.store.errors import StoreError

PASSWORD_ENV = "TURNS_TUI_MYSQL_PASSWORD"
DEFAULT_PORT = 3306
DEFAULT_READ_TIMEOUT_S = 30.0
DEFAULT_CONNECT_TIMEOUT_S = 10.0
TLS_MODES = ("true", "false", "skip-verify", "preferred")
WHERE = "--turns-dsn"  # what errors about the DSN name (never the DSN: it holds a password)


class DsnError(StoreError):
    """A malformed DSN (a usage error: exit code 2)."""

    exit_code = 2

    def __init__(self, cause: str) -> None:
        super().__init__(WHERE, f"malformed DSN: {cause}")


class Secret:
    """A password: `reveal()` gives it; `str`, `repr` and formatting never do."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:  # never pickled with the value
        raise TypeError("a Secret is not picklable")


_DURATION = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")
_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def parse_duration(text: str) -> float:
    """Seconds of a Go duration (`time.ParseDuration`: ``1s``, ``500ms``, ``1m30s``)."""
    body = text[1:] if text[:1] in "+-" else text
    if body == "0":
        return 0.0
    if not body:
        raise ValueError(text)
    total, pos = 0.0, 0
    for m in _DURATION.finditer(body):
        if m.start() != pos or m.group(1) in ("", "."):
            raise ValueError(text)
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(body):
        raise ValueError(text)
    return -total if text.startswith("-") else total


def _unescape(text: str, what: str, *, query: bool) -> str:
    """Go's url.PathUnescape / url.QueryUnescape: a bad ``%`` escape is an error."""
    if re.search(r"%(?![0-9A-Fa-f]{2})", text):
        raise DsnError(f"bad %-escape in the {what}")
    if query:
        text = text.replace("+", " ")
    return unquote(text, errors="strict") if "%" in text else text


@dataclass(frozen=True)
class Dsn:
    """A parsed DSN. `password` is a `Secret`; `redacted()` is safe to show anywhere."""

    user: str
    password: Secret = field(repr=False)
    net: str  # "tcp" or "unix"
    host: str  # tcp: host name or address (IPv6 without brackets)
    port: int
    socket: str  # unix: socket path
    database: str
    params: tuple[tuple[str, str], ...] = ()  # as written, for the redacted form
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S
    read_timeout: float | None = DEFAULT_READ_TIMEOUT_S  # None: no timeout (readTimeout=0)
    write_timeout: float | None = None
    tls: str = ""  # "" (not given), or one of TLS_MODES
    url_style: bool = False  # given as mysql://...
    password_in_dsn: bool = False  # False: none, or from the environment

    @property
    def address(self) -> str:
        if self.net == "unix":
            return self.socket
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def redacted(self) -> str:
        """The DSN as the user wrote it, with `***` for the password."""
        query = "&".join(f"{k}={v}" for k, v in self.params)
        query = f"?{query}" if query else ""
        pw = ":***" if self.password_in_dsn else ""
        db = quote(self.database, safe="")
        if self.url_style:
            who = f"{self.user}{pw}@" if self.user or pw else ""
            return f"mysql://{who}{self.address}/{db}{query}"
        who = f"{self.user}{pw}@" if self.user or pw else ""
        return f"{who}{self.net}({self.address})/{db}{query}"

    def __str__(self) -> str:
        return self.redacted()

    def with_password(self, password: str) -> Dsn:
        """The same DSN with another password (tests; the environment)."""
        from dataclasses import replace

        return replace(self, password=Secret(password))


def _split_host_port(addr: str) -> tuple[str, int]:
    """Go's ensureHavePort, then the host and port (IPv6 addresses bracketed)."""
    if addr.startswith("["):
        end = addr.find("]")
        if end < 0:
            raise DsnError("unclosed '[' in the address")
        host, rest = addr[1:end], addr[end + 1 :]
        if rest and not rest.startswith(":"):
            raise DsnError("unexpected text after the bracketed address")
        port_text = rest[1:] if rest else ""
    elif addr.count(":") == 1:
        host, port_text = addr.split(":")
    else:  # no port, or a bare IPv6 address
        host, port_text = addr, ""
    if not host:
        raise DsnError("empty host in the address")
    if not port_text:
        return host, DEFAULT_PORT
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise DsnError("the port is not a number from 1 to 65535")
    return host, int(port_text)


def _apply_params(raw: str) -> dict[str, object]:
    """Params of a DSN (``a=b&c=d``) as keyword arguments of `Dsn`."""
    out: dict[str, object] = {}
    written: list[tuple[str, str]] = []
    for part in raw.split("&") if raw else []:
        key, eq, value = part.partition("=")
        if not eq:  # the Go driver skips a parameter without "="
            continue
        written.append((key, value))
        value = _unescape(value, f"parameter {key}", query=True)
        if key in ("timeout", "readTimeout", "writeTimeout"):
            try:
                seconds = parse_duration(value)
            except ValueError:
                raise DsnError(f"{key}={value!r} is not a duration like 5s or 500ms") from None
            if seconds < 0:
                raise DsnError(f"{key} is negative")
            if key == "timeout":
                out["connect_timeout"] = seconds if seconds > 0 else DEFAULT_CONNECT_TIMEOUT_S
            else:
                out["read_timeout" if key == "readTimeout" else "write_timeout"] = (
                    seconds if seconds > 0 else None
                )
        elif key == "tls":
            mode = value.lower() if value.lower() in ("true", "false") else value
            if mode in ("1", "0"):
                mode = "true" if mode == "1" else "false"
            if mode not in TLS_MODES:
                raise DsnError(
                    f"tls={value!r}: only true, false, skip-verify and preferred are "
                    "supported (a named TLS config exists only inside a Go program)"
                )
            out["tls"] = mode
    out["params"] = tuple(written)
    return out


def _parse_go(text: str) -> dict[str, object]:
    slash = text.rfind("/")
    if slash < 0:
        raise DsnError("no '/' before the database name (USER:PASS@tcp(HOST:PORT)/DB)")
    left, right = text[:slash], text[slash + 1 :]
    user = password = ""
    has_password = False
    net_part = left
    at = left.rfind("@")
    if at >= 0:
        creds, net_part = left[:at], left[at + 1 :]
        user, colon, password = creds.partition(":")
        has_password = bool(colon)
    net, addr = net_part, ""
    paren = net_part.find("(")
    if paren >= 0:
        if not net_part.endswith(")"):
            raise DsnError("the address must be closed by ')' just before the '/'")
        net, addr = net_part[:paren], net_part[paren + 1 : -1]
    elif ")" in net_part:
        raise DsnError("')' without '(' in the address")
    db_part, _, query = right.partition("?")
    return {
        "user": user,
        "password": password,
        "password_in_dsn": has_password and password != "",
        "net": net or "tcp",
        "addr": addr,
        "database": _unescape(db_part, "database name", query=False),
        "query": query,
    }


def _parse_url(text: str) -> dict[str, object]:
    try:
        parts = urlsplit(text)
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise DsnError("the address of the mysql:// URL is not HOST[:PORT]") from None
    if parts.fragment:
        raise DsnError("a mysql:// URL has no '#' part")
    host = parts.hostname or ""
    if not host:
        raise DsnError("the mysql:// URL names no host (mysql://USER:PASS@HOST:PORT/DB)")
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    if "/" in path:
        raise DsnError("the database name holds a '/' (percent-encode it as %2F)")
    netloc = parts.netloc
    creds = netloc.rpartition("@")[0] if "@" in netloc else ""
    user_raw, colon, password_raw = creds.partition(":")
    password = _unescape(password_raw, "password", query=False)
    return {
        "user": _unescape(user_raw, "user name", query=False),
        "password": password,
        "password_in_dsn": bool(colon) and password != "",
        "net": "tcp",
        "addr": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "database": _unescape(path, "database name", query=False),
        "query": parts.query,
    }


def parse_dsn(text: str, *, env: Mapping[str, str] | None = None) -> Dsn:
    """Parse a `--turns-dsn` value; the password falls back to TURNS_TUI_MYSQL_PASSWORD.

    Raises `DsnError` (exit code 2) naming what is wrong, never echoing the DSN.
    """
    environ = os.environ if env is None else env
    text = text.strip()
    if not text:
        raise DsnError("empty DSN")
    url_style = text[:8].lower() == "mysql://"
    raw = _parse_url(text) if url_style else _parse_go(text)
    net, addr = str(raw["net"]), str(raw["addr"])
    host, port, socket = "", DEFAULT_PORT, ""
    if net in ("tcp", "tcp4", "tcp6"):
        host, port = _split_host_port(addr) if addr else ("127.0.0.1", DEFAULT_PORT)
        net = "tcp" if net == "tcp" or url_style else net
    elif net == "unix":
        socket = addr or "/tmp/mysql.sock"
    else:
        raise DsnError("the network must be tcp or unix, as in tcp(HOST:PORT) or unix(/path)")
    database = str(raw["database"])
    if not database:
        raise DsnError("no database name after the '/'")
    password = str(raw["password"])
    in_dsn = bool(raw["password_in_dsn"])
    if not password:
        password = environ.get(PASSWORD_ENV, "")
    params = _apply_params(str(raw["query"]))
    return Dsn(
        user=str(raw["user"]),
        password=Secret(password),
        net=net,
        host=host,
        port=port,
        socket=socket,
        database=database,
        url_style=url_style,
        password_in_dsn=in_dsn,
        **params,  # type: ignore[arg-type]
    )
