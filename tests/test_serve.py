"""`turns-tui serve`: the app in a browser through textual-serve, on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests import builders as b


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_serve_answers_the_page_and_runs_the_app_over_its_websocket(tmp_path: Path) -> None:
    path = b.build_gp26(tmp_path / "turns.db", b.standard_scenario())
    before = sorted(os.listdir(tmp_path))
    port = free_port()
    proc = subprocess.Popen(  # noqa: ASYNC220 - a server for the whole test, signalled below
        [sys.executable, "-m", "tui", "serve", str(path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 30)
        assert f"http://127.0.0.1:{port}/" in line
        url = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            page = ""
            for _ in range(100):  # the server starts listening just after it prints
                try:
                    async with session.get(url + "/") as response:
                        assert response.status == 200
                        page = await response.text()
                        break
                except aiohttp.ClientConnectorError:
                    await asyncio.sleep(0.1)
            assert "turns-tui" in page and "/ws" in page
            received = b""
            async with session.ws_connect(url + "/ws?width=120&height=30") as ws:
                await ws.send_json(["ping", "x"])
                pong = False
                async with asyncio.timeout(30):
                    while not (pong and b"turns-tui" in received):
                        message = await ws.receive()
                        if message.type == aiohttp.WSMsgType.BINARY:
                            received += message.data
                        elif message.type == aiohttp.WSMsgType.TEXT:
                            pong = pong or '"pong"' in message.data
                        else:
                            break
            assert pong
            assert b"turns-tui" in received  # the app's own title, drawn for the browser
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for _ in range(50):
        if sorted(os.listdir(tmp_path)) == before:
            break
        await asyncio.sleep(0.1)
    assert sorted(os.listdir(tmp_path)) == before


def test_serve_refuses_a_missing_file(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "tui", "serve", str(tmp_path / "nope.db")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert res.returncode == 3
    assert "no such file" in res.stderr and "Traceback" not in res.stderr
