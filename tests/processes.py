"""Real `parkbot` processes for tests: a loopback fake Bot API server and process helpers."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from aiohttp import web

from bot.localapi import LocalBotApi, UpdateFactory

ROOT = Path(__file__).resolve().parents[1]
FAKE_TOKEN = "123456789:AAFakeTokenForTests_abcdefghijklmnop"
SECRET = "multi-process-secret_0123456789"
WEBHOOK_URL = "https://bot.example.org/telegram"


def free_port() -> int:
    """Return a loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeBotApiServer:
    """LocalBotApi served over real HTTP on loopback, as TELEGRAM_API_BASE_URL for processes."""

    def __init__(self) -> None:
        self.api = LocalBotApi()
        self.updates = UpdateFactory()
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """Return the value for TELEGRAM_API_BASE_URL."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application(client_max_size=64 << 20)
        app.router.add_route("*", "/{tail:.*}", self._relay)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def _relay(self, request: web.Request) -> web.Response:
        # The same answers the in-process tests get: LocalBotApi speaks httpx, so translate.
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        req = httpx.Request(request.method, str(request.url), headers=headers, content=body)
        resp = await self.api.handle(req)
        return web.Response(
            status=resp.status_code, body=resp.content, content_type="application/json"
        )

    def sent(self, method: str, chat_id: int) -> list[dict[str, Any]]:
        """Return the params of every call of method to chat_id."""
        return [c.params for c in self.api.calls if c.method == method and c.chat_id == chat_id]

    async def wait_for(self, method: str, chat_id: int, count: int, within: float = 10) -> None:
        """Wait until method was called count times for chat_id."""
        deadline = time.monotonic() + within
        while len(self.sent(method, chat_id)) < count:
            if time.monotonic() > deadline:
                got = [(c.method, c.chat_id) for c in self.api.calls]
                raise AssertionError(f"waited for {count} {method} to {chat_id}; calls: {got}")
            await asyncio.sleep(0.02)


async def wait_for_text(
    api: FakeBotApiServer, method: str, chat_id: int, text: str, within: float = 10
) -> None:
    """Wait until method carried text to chat_id."""
    deadline = time.monotonic() + within
    while text not in [p.get("text") for p in api.sent(method, chat_id)]:
        if time.monotonic() > deadline:
            got = [p.get("text") for p in api.sent(method, chat_id)]
            raise AssertionError(f"waited for {text!r} by {method} to {chat_id}; got {got}")
        await asyncio.sleep(0.02)


def bot_env(database_url: str, api: FakeBotApiServer, port: int, **extra: str) -> dict[str, str]:
    """Return the environment of one `parkbot run` in webhook mode."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARKBOT_", "TELEGRAM_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        TELEGRAM_BOT_TOKEN=FAKE_TOKEN,
        TELEGRAM_API_BASE_URL=api.base_url,
        PARKBOT_DATABASE_URL=database_url,
        PARKBOT_WEBHOOK_URL=WEBHOOK_URL,
        PARKBOT_WEBHOOK_SECRET=SECRET,
        PARKBOT_LISTEN=f"127.0.0.1:{port}",
        PARKBOT_LOG_FORMAT="json",
        **extra,
    )
    return env


def parkbot(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `python -m bot ARGS` (the `parkbot` command) with its output in log."""
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "bot", *args], cwd=log.parent, env=env, stdout=out, stderr=out
        )


async def parkbot_once(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Run `python -m bot ARGS` to completion; return (exit code, stdout + stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode()


async def wait_healthy(port: int, proc: subprocess.Popen[bytes], within: float = 20) -> None:
    """Poll /healthz until 200 (fail early if the process died)."""
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as http:
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"parkbot exited with {proc.returncode} before healthy")
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("parkbot did not become healthy")
            await asyncio.sleep(0.1)


async def post_update(port: int, update: dict[str, Any], secret: str = SECRET) -> int:
    """POST one update to a process's webhook; return the HTTP status."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{port}/telegram",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": secret},
        ) as resp,
    ):
        return resp.status


async def metric(port: int, name: str) -> float | None:
    """Return one unlabelled sample from a process's /metrics."""
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as r:
        for line in (await r.text()).splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return None


async def metric_sum(port: int, name: str) -> float:
    """Return the sum of every labelled sample of one metric from a process's /metrics."""
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as r:
        return sum(
            float(line.rsplit(maxsplit=1)[1])
            for line in (await r.text()).splitlines()
            if line.startswith(name + "{")
        )


async def stop_process(proc: subprocess.Popen[bytes]) -> int:
    """SIGTERM the process without blocking the loop (a loopback fake API must keep answering)."""
    return await asyncio.to_thread(terminate, proc)


def terminate(proc: subprocess.Popen[bytes], timeout: float = 15) -> int:
    """SIGTERM the process and return its exit code (kill it if it hangs)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
