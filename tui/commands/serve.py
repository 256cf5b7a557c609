"""`turns-tui serve PATH`: the same app in a browser, through textual-serve.

Bound to 127.0.0.1 unless asked otherwise: textual-serve has no authentication, so
anyone who can reach the port can use the app (and read the database).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence

LOOPBACK = "127.0.0.1"


def serve_command(argv_for_app: Sequence[str]) -> str:
    """The shell command textual-serve runs for each browser session (this Python)."""
    return shlex.join([sys.executable, "-m", "tui", *argv_for_app])


def main(argv: Sequence[str]) -> int:
    """Serve the app over HTTP and websockets until interrupted."""
    from tui.cli import _Parser

    p = _Parser(prog="turns-tui serve", description="Serve the app in a web browser.")
    p.add_argument("path", nargs="?", help="turns database (default: the built-in demo)")
    p.add_argument("--host", default=LOOPBACK, help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--read-only", action="store_true", help="never write the file")
    p.add_argument("--timeline-db", metavar="PATH", help="pinocchio timeline store")
    args: argparse.Namespace = p.parse_args(argv)
    try:
        from textual_serve.server import Server
    except ImportError:
        sys.stderr.write("turns-tui: serve needs textual-serve: pip install 'turns-tui[serve]'\n")
        return 2
    import os

    app_args: list[str] = []
    if args.path is not None:
        if not os.path.exists(args.path):
            from tui.store.errors import printable

            sys.stderr.write(f"turns-tui: {printable(args.path)}: no such file\n")
            return 3
        app_args.append(os.path.abspath(args.path))
    if args.read_only:
        app_args.append("--read-only")
    if args.timeline_db:
        app_args += ["--timeline-db", os.path.abspath(args.timeline_db)]
    url = f"http://{args.host}:{args.port}/"
    if args.host not in (LOOPBACK, "localhost", "::1"):
        sys.stderr.write(
            f"turns-tui: warning: serving on {args.host}, reachable from other machines, "
            "with no authentication\n"
        )
    sys.stdout.write(f"turns-tui: serving on {url} (Ctrl+C to stop)\n")
    sys.stdout.flush()
    server = Server(
        serve_command(app_args),
        host=args.host,
        port=args.port,
        title="turns-tui",
        public_url=url.rstrip("/"),
    )
    server.serve()
    return 0
