"""A loopback Bot API on aiohttp that enforces Telegram's rate limits and counts deliveries."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# Telegram's own limits (unpublished; the commonly observed values).
TG_OVERALL = 30  # messages per second per bot
TG_PER_CHAT = 1  # per second per private chat
TG_PER_GROUP = 20  # per minute per group

FAULTS = {
    "blocked": (403, "Forbidden: bot was blocked by the user"),
    "chat_not_found": (400, "Bad Request: chat not found"),
    "bad_request": (400, "Bad Request: message is too long"),
    "server_error": (502, "Bad Gateway"),
}


@dataclass
class _Window:
    """Timestamps of recent sends; at most `count` within any `period` seconds."""

    count: int
    period: float
    times: deque[float] = field(default_factory=deque)

    def admit(self, now: float) -> float:
        """Record a send at now, or return the seconds until one would be allowed."""
        while self.times and self.times[0] <= now - self.period:
            self.times.popleft()
        if len(self.times) >= self.count:
            return self.times[0] + self.period - now
        self.times.append(now)
        return 0.0


class FakeBotApi:
    """Answer sendMessage/sendPhoto/sendDocument/editMessageText/getMe like Telegram does."""

    def __init__(
        self,
        *,
        overall: int = TG_OVERALL,
        per_chat: int = TG_PER_CHAT,
        per_group: int = TG_PER_GROUP,
        slow_seconds: float = 1.0,
    ) -> None:
        self.overall = _Window(overall, 1.0)
        self.per_chat = per_chat
        self.per_group = per_group
        self.slow_seconds = slow_seconds
        self._chats: dict[int, _Window] = {}
        self.deliveries: Counter[int] = Counter()
        self.too_many = 0
        self.first_at: float | None = None
        self.last_at: float | None = None
        self.faults: dict[int, list[str]] = {}
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.keep_requests = True
        self._next_id = 0
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def start(self) -> str:
        """Listen on a free loopback port; return the base_url to give PTB's Bot."""
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/stats", self._stats)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/bot"
        return self.base_url

    async def stop(self) -> None:
        """Close the server."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def fail_next(self, chat_id: int, *kinds: str) -> None:
        """Make the next sends to chat_id fail as kinds (see FAULTS, 'retry_after', 'timeout')."""
        self.faults.setdefault(chat_id, []).extend(kinds)

    @property
    def duplicated(self) -> int:
        """Return how many chats got the message more than once."""
        return sum(1 for n in self.deliveries.values() if n > 1)

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "delivered": sum(self.deliveries.values()),
                "chats": len(self.deliveries),
                "duplicated": self.duplicated,
                "too_many": self.too_many,
                "first_at": self.first_at,
                "last_at": self.last_at,
            }
        )

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        form = await request.post()
        params: dict[str, Any] = {
            k: (_decode(v) if isinstance(v, str) else getattr(v, "filename", "file"))
            for k, v in form.items()
        }
        if self.keep_requests:
            self.requests.append((method, params))
        if method == "getMe":
            return _ok({"id": 1, "is_bot": True, "first_name": "Bench", "username": "bench_bot"})
        if method not in ("sendMessage", "sendPhoto", "sendDocument", "editMessageText"):
            return _ok(True)
        chat_id = int(params["chat_id"])
        faults = self.faults.get(chat_id)
        fault = faults.pop(0) if faults else None
        if fault in FAULTS:
            code, text = FAULTS[fault]
            return _error(code, text)
        if fault == "retry_after":
            return self._too_many(3)
        if method != "editMessageText":
            now = time.monotonic()
            wait = self.overall.admit(now)
            if wait == 0:
                wait = self._chat_window(chat_id).admit(now)
            if wait > 0:
                return self._too_many(max(1, int(wait + 0.999)))
            self.deliveries[chat_id] += 1
            self.first_at = self.first_at or now
            self.last_at = now
        self._next_id += 1
        message = {
            "message_id": self._next_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "group" if chat_id < 0 else "private"},
            "text": params.get("text") or params.get("caption") or "",
        }
        if fault == "timeout":
            # Delivered, but the answer comes after the client gave up: the classic uncertain send.
            await asyncio.sleep(self.slow_seconds)
        return _ok(message)

    def _chat_window(self, chat_id: int) -> _Window:
        window = self._chats.get(chat_id)
        if window is None:
            window = _Window(self.per_group, 60.0) if chat_id < 0 else _Window(self.per_chat, 1.0)
            self._chats[chat_id] = window
        return window

    def _too_many(self, retry_after: int) -> web.Response:
        self.too_many += 1
        return web.json_response(
            {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {retry_after}",
                "parameters": {"retry_after": retry_after},
            },
            status=429,
        )


def _decode(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def _ok(result: object) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(code: int, description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": code, "description": description}, status=code
    )
