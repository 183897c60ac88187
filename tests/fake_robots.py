"""Loopback fakes of the WeCom, DingTalk and Feishu custom-robot webhooks, built from their docs.

Each fake checks what the real service checks (credential in the URL, DingTalk's query-string
signature and security keyword, Feishu's body signature, size limits), enforces the per-robot
rate limits with the platform's own error codes, and records every accepted post. Signatures are
verified with code written here from the vendors' descriptions, not with bot.robots.signing.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

WECOM_MAX_BYTES = 4096
FEISHU_MAX_BODY = 20 * 1024
SIGN_WINDOW_S = 3600  # both vendors accept a timestamp at most one hour off


class StepClock:
    """A clock tests move by hand (bot.clock.FakeClock once the foundation lands)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 3, 2, 1, 0, tzinfo=UTC)

    def now(self) -> datetime:
        """Return the current time."""
        return self.current

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        self.current += delta


@dataclass
class FakeRobot:
    """One robot in one group of one platform."""

    platform: str
    token: str
    secret: str | None = None
    keyword: str | None = None
    posts: list[dict[str, Any]] = field(default_factory=list)
    sent_at: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0
    removed: bool = False

    def texts(self) -> list[str]:
        """Return the visible text of every accepted post."""
        return [visible_text(self.platform, body) for body in self.posts]


def visible_text(platform: str, body: dict[str, Any]) -> str:
    """Return the text a group member would read in a post."""
    if platform == "wecom":
        return str(body["markdown"]["content"])
    if platform == "dingtalk":
        return str(body["markdown"]["text"])
    post = body["content"]["post"]["zh_cn"]
    lines = ["".join(el.get("text", "") for el in para) for para in post["content"]]
    return "\n".join([post["title"], *lines])


class FakeRobotServer:
    """An aiohttp server on 127.0.0.1 serving all three platforms' webhooks."""

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        self.now = now or (lambda: datetime.now(UTC))
        self.robots: dict[tuple[str, str], FakeRobot] = {}
        self.requests: list[tuple[str, str]] = []  # (platform, raw query string) of every call
        self.faults: list[str] = []
        self.slow_seconds = 2.0
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_post("/cgi-bin/webhook/send", self._wecom)
        app.router.add_post("/robot/send", self._dingtalk)
        app.router.add_post("/open-apis/bot/v2/hook/{token}", self._feishu)
        self._runner = web.AppRunner(app, access_log=None)  # the platform's log, not ours
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        sockets = site._server.sockets  # type: ignore[union-attr]
        self.port = sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    def add(
        self, platform: str, *, secret: str | None = None, keyword: str | None = None
    ) -> FakeRobot:
        """Create a robot in a fresh group and return it."""
        robot = FakeRobot(platform, secrets.token_hex(16), secret=secret, keyword=keyword)
        self.robots[(platform, robot.token)] = robot
        return robot

    def url(self, robot: FakeRobot) -> str:
        """Return the webhook URL the platform shows for robot."""
        base = f"http://127.0.0.1:{self.port}"
        if robot.platform == "wecom":
            return f"{base}/cgi-bin/webhook/send?key={robot.token}"
        if robot.platform == "dingtalk":
            return f"{base}/robot/send?access_token={robot.token}"
        return f"{base}/open-apis/bot/v2/hook/{robot.token}"

    def fail_next(self, kind: str, count: int = 1) -> None:
        """Queue faults for the next calls: server_error, not_found, slow (accept, answer late),
        or pass (let one call through untouched)."""
        self.faults.extend([kind] * count)

    def _seconds(self) -> float:
        return self.now().timestamp()

    async def _fault(self) -> web.Response | None:
        if not self.faults:
            return None
        kind = self.faults[0]
        if kind == "slow":
            return None  # handled after the post is recorded
        self.faults.pop(0)
        if kind == "pass":
            return None
        if kind == "server_error":
            return web.Response(status=502, text="Bad Gateway")
        if kind == "not_found":
            return web.Response(status=404, text="Not Found")
        raise AssertionError(f"unknown fault {kind}")

    async def _accept(
        self, robot: FakeRobot, body: dict[str, Any], ok: dict[str, Any]
    ) -> web.Response:
        robot.posts.append(body)
        robot.sent_at.append(self._seconds())
        if self.faults and self.faults[0] == "slow":
            self.faults.pop(0)
            await asyncio.sleep(self.slow_seconds)
        return web.json_response(ok)

    @staticmethod
    def _within(robot: FakeRobot, now: float, count: int, period: float) -> bool:
        return sum(1 for t in robot.sent_at if t > now - period) < count

    # --- WeCom: key in the URL, markdown content ≤ 4096 bytes, 20 messages a minute ---------
    async def _wecom(self, request: web.Request) -> web.Response:
        self.requests.append(("wecom", request.query_string))
        if fault := await self._fault():
            return fault
        robot = self.robots.get(("wecom", request.query.get("key", "")))
        if robot is None or robot.removed:
            return web.json_response({"errcode": 93000, "errmsg": "invalid webhook url"})
        body = await request.json()
        if body.get("msgtype") != "markdown" or not body.get("markdown", {}).get("content"):
            return web.json_response({"errcode": 40008, "errmsg": "invalid message type"})
        if len(body["markdown"]["content"].encode()) > WECOM_MAX_BYTES:
            return web.json_response(
                {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
            )
        if not self._within(robot, self._seconds(), 20, 60):
            return web.json_response({"errcode": 45009, "errmsg": "api freq out of limit"})
        return await self._accept(robot, body, {"errcode": 0, "errmsg": "ok"})

    # --- DingTalk: access_token, optional timestamp+sign in the query, keyword, 20/min ---------
    async def _dingtalk(self, request: web.Request) -> web.Response:
        self.requests.append(("dingtalk", request.query_string))
        if fault := await self._fault():
            return fault
        robot = self.robots.get(("dingtalk", request.query.get("access_token", "")))
        if robot is None or robot.removed:
            return web.json_response({"errcode": 300001, "errmsg": "token is not exist"})
        now = self._seconds()
        if robot.secret:
            timestamp = request.query.get("timestamp", "")
            given = request.query.get("sign", "")
            if not timestamp.isdigit() or abs(int(timestamp) / 1000 - now) > SIGN_WINDOW_S:
                return web.json_response(
                    {"errcode": 310000, "errmsg": "invalid timestamp, more: [doc]"}
                )
            string_to_sign = f"{timestamp}\n{robot.secret}".encode()
            expected = base64.b64encode(
                hmac.new(robot.secret.encode(), string_to_sign, hashlib.sha256).digest()
            ).decode()
            if not hmac.compare_digest(given, expected):
                return web.json_response(
                    {"errcode": 310000, "errmsg": "sign not match, more: [doc]"}
                )
        body = await request.json()
        markdown = body.get("markdown") or {}
        if (
            body.get("msgtype") != "markdown"
            or not markdown.get("title")
            or not markdown.get("text")
        ):
            return web.json_response({"errcode": 40035, "errmsg": "缺少参数 json"})
        if robot.keyword and robot.keyword not in markdown["title"] + markdown["text"]:
            return web.json_response(
                {"errcode": 310000, "errmsg": "keywords not in content, more: [doc]"}
            )
        if now < robot.blocked_until:
            return web.json_response(
                {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
            )
        if not self._within(robot, now, 20, 60):
            robot.blocked_until = now + 600  # DingTalk: "如果超过20条，会限流10分钟"
            return web.json_response(
                {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
            )
        return await self._accept(robot, body, {"errcode": 0, "errmsg": "ok"})

    # --- Feishu: token in the path, timestamp+sign in the body, post ≤ 20 KB, 100/min, 5/s ----
    async def _feishu(self, request: web.Request) -> web.Response:
        self.requests.append(("feishu", request.query_string))
        if fault := await self._fault():
            return fault
        robot = self.robots.get(("feishu", request.match_info["token"]))
        if robot is None or robot.removed:
            return web.json_response(
                {
                    "code": 19001,
                    "msg": "param invalid: incoming webhook access token invalid",
                    "data": {},
                }
            )
        raw = await request.read()
        if len(raw) > FEISHU_MAX_BODY:
            return web.json_response({"code": 9499, "msg": "Bad Request", "data": {}})
        body = json.loads(raw)
        now = self._seconds()
        if robot.secret:
            timestamp = str(body.get("timestamp", ""))
            key = f"{timestamp}\n{robot.secret}".encode()
            expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
            fresh = timestamp.isdigit() and abs(int(timestamp) - now) <= SIGN_WINDOW_S
            if not fresh or not hmac.compare_digest(str(body.get("sign", "")), expected):
                return web.json_response(
                    {
                        "code": 19021,
                        "msg": "sign match fail or timestamp is not within one hour "
                        "from current time",
                        "data": {},
                    }
                )
        if not valid_post(body):
            return web.json_response({"code": 9499, "msg": "Bad Request", "data": {}})
        if not (self._within(robot, now, 100, 60) and self._within(robot, now, 5, 1)):
            return web.json_response({"code": 11232, "msg": "frequency limited", "data": {}})
        return await self._accept(robot, body, {"code": 0, "msg": "success", "data": {}})


def valid_post(body: dict[str, Any]) -> bool:
    """Return whether body is a Feishu rich-text post of text and a elements."""
    try:
        post = body["content"]["post"]["zh_cn"]
        if body["msg_type"] != "post" or not isinstance(post["title"], str):
            return False
        return all(
            element["tag"] in ("text", "a")
            and isinstance(element["text"], str)
            and (element["tag"] != "a" or bool(element["href"]))
            for paragraph in post["content"]
            for element in paragraph
        )
    except (KeyError, TypeError):
        return False
