"""RobotSender: deliver an OutgoingMessage to a WeCom, DingTalk or Feishu group robot."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import aiohttp
from sqlalchemy import update
from yarl import URL

from bot.db import Database, utcnow
from bot.models.robots import Robot
from bot.robots.render import render
from bot.robots.signing import dingtalk_query, feishu_sign
from bot.sender import (
    DeliveryError,
    Limit,
    OutgoingMessage,
    PermanentError,
    RateLimited,
    SendResult,
    TransientError,
    Uncertain,
    Unreachable,
)
from bot.texts import Texts

log = logging.getLogger(__name__)


CHANNEL = "robot"

# Per-robot limits from the vendors' docs: WeCom 20/min; DingTalk 20/min (exceeding it blocks the
# robot for 10 minutes); Feishu 100/min and 5/s per robot.
LIMITS: dict[str, tuple[tuple[int, float], ...]] = {
    "wecom": ((20, 60.0),),
    "dingtalk": ((20, 60.0),),
    "feishu": ((100, 60.0), (5, 1.0)),
}
DINGTALK_BLOCK_SECONDS = 600.0
RATE_RETRY_AFTER = {"wecom": 60.0, "dingtalk": DINGTALK_BLOCK_SECONDS, "feishu": 60.0}

WECOM_RATE = {45009}
WECOM_GONE = {93000}
DINGTALK_RATE = {130101, 660026}
DINGTALK_GONE = {300001, 400013}
FEISHU_RATE = {11232}
FEISHU_GONE = {19001}
FEISHU_CONFIG = {19021, 19022, 19024}
# DingTalk answers 310000 for every security check; its errmsg says which one failed.
DINGTALK_CONFIG_HINTS = ("sign", "keyword", "timestamp", "ip ")


class RobotConfigError(PermanentError):
    """The robot rejected our signature, keyword or address: its settings here are wrong."""


class Clock(Protocol):
    """Anything that tells the time (bot.clock.Clock once the foundation lands)."""

    def now(self) -> datetime:
        """Return the current aware UTC time."""
        ...


class _SystemClock:
    def now(self) -> datetime:
        return utcnow()


@dataclass(frozen=True)
class RobotTarget:
    """What a send needs to know about one robot."""

    id: int
    kind: str
    url: str
    secret: str | None = None
    keyword: str | None = None
    language: str = "zh"
    broken: bool = False

    @classmethod
    def of(cls, robot: Robot) -> RobotTarget:
        """Return the snapshot of a robot row."""
        return cls(
            id=robot.id,
            kind=robot.kind,
            url=robot.url,
            secret=robot.secret,
            keyword=robot.keyword,
            language=robot.language,
            broken=robot.broken,
        )


def classify(kind: str, status: int, answer: dict[str, Any] | None) -> DeliveryError | None:
    """Map a webhook's HTTP status and JSON answer to a DeliveryError, or None on success."""
    code: int | None = None
    message = ""
    if answer is not None:
        raw = answer.get("errcode", answer.get("code", answer.get("StatusCode")))
        code = int(raw) if isinstance(raw, int | str) and str(raw).lstrip("-").isdigit() else None
        message = str(answer.get("errmsg", answer.get("msg", "")))
    reason = f"{kind} http {status} code {code}: {message}"[:250]
    if code is not None and code != 0:
        return _classify_code(kind, code, message, reason)
    if status == 404:
        return Unreachable(reason)
    if status == 429:
        return RateLimited(reason, RATE_RETRY_AFTER[kind])
    if status >= 500:
        return TransientError(reason)
    if status >= 400 or code is None:
        return PermanentError(reason)
    return None


def _classify_code(kind: str, code: int, message: str, reason: str) -> DeliveryError:
    lowered = message.lower()
    if code == -1:  # WeCom and DingTalk: "system busy"
        return TransientError(reason)
    if kind == "wecom":
        if code in WECOM_RATE:
            return RateLimited(reason, RATE_RETRY_AFTER[kind])
        if code in WECOM_GONE:
            return Unreachable(reason)
    elif kind == "dingtalk":
        if code in DINGTALK_RATE:
            return RateLimited(reason, DINGTALK_BLOCK_SECONDS)
        if code in DINGTALK_GONE:
            return Unreachable(reason)
        if code == 310000:
            if any(hint in lowered for hint in DINGTALK_CONFIG_HINTS):
                return RobotConfigError(reason)
            return Unreachable(reason)
    elif kind == "feishu":
        # 9499 is both "Bad Request" and "too many request"; only the message tells them apart.
        if code in FEISHU_RATE or (code == 9499 and "too many" in lowered):
            return RateLimited(reason, RATE_RETRY_AFTER[kind])
        if code in FEISHU_GONE:
            return Unreachable(reason)
        if code in FEISHU_CONFIG:
            return RobotConfigError(reason)
    return PermanentError(reason)


class RobotSender:
    """The Sender of channel "robot": address is the robot id as a string."""

    channel = CHANNEL

    def __init__(
        self,
        db: Database,
        *,
        texts: Texts | None = None,
        clock: Clock | None = None,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.db = db
        self.texts = texts or Texts.load()
        self.clock: Clock = clock or _SystemClock()
        self.timeout = aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 5.0))
        self._session = session
        self._own_session = session is None
        self._kinds: dict[str, str] = {}
        self._posts: dict[int, deque[float]] = {}
        self._blocked_until: dict[int, float] = {}
        # Parts of a split message already delivered, so a retry in this process resumes at the
        # first missing part instead of posting earlier parts twice.
        self._delivered: OrderedDict[tuple[int, str], int] = OrderedDict()
        self._lock = asyncio.Lock()

    def limits(self, address: str) -> tuple[Limit, ...]:
        """Return the per-robot limits; the kind is known once the robot was loaded."""
        kind = self._kinds.get(address)
        pairs = LIMITS[kind] if kind else ((20, 60.0), (5, 1.0))  # the strictest of all three
        return tuple(Limit(f"robot:{address}", count, period) for count, period in pairs)

    async def load(self, robot_id: int) -> RobotTarget | None:
        """Return the robot's snapshot, or None when it was removed."""
        async with self.db.session() as session:
            robot = await session.get(Robot, robot_id)
            if robot is None:
                return None
            target = RobotTarget.of(robot)
        self._kinds[str(robot_id)] = target.kind
        return target

    async def send(self, address: str, message: OutgoingMessage) -> SendResult:
        """Send message to the robot with id address or raise a DeliveryError subclass."""
        if not address.isdigit():
            raise PermanentError(f"robot address {address!r} is not a robot id")
        target = await self.load(int(address))
        if target is None:
            raise Unreachable(f"robot {address} was removed")
        if target.broken:
            raise Unreachable(f"robot {address} is marked broken")
        return await self.deliver(target, message)

    async def deliver(self, target: RobotTarget, message: OutgoingMessage) -> SendResult:
        """Post message to target (even a broken one: the admin's test) and map its answers."""
        bodies = render(target.kind, message, self.texts, target.language, keyword=target.keyword)
        fingerprint = hashlib.sha256(
            json.dumps(bodies, ensure_ascii=False, sort_keys=True).encode()
        ).hexdigest()
        key = (target.id, fingerprint)
        done = self._delivered.get(key, 0)
        answers: list[object] = []
        for index in range(done, len(bodies)):
            await self._take_slot(target, len(bodies) - index)
            try:
                answers.append(await self._post(target, bodies[index]))
            except Unreachable as exc:
                await self.mark_broken(target.id, exc.reason)
                raise
            self._delivered[key] = index + 1
            self._delivered.move_to_end(key)
            while len(self._delivered) > 1000:
                self._delivered.popitem(last=False)
        self._delivered.pop(key, None)
        return SendResult(extra={"parts": len(bodies), "answers": answers})

    async def _take_slot(self, target: RobotTarget, needed: int) -> None:
        """Reserve one post within every limit, or raise RateLimited before posting anything."""
        async with self._lock:
            now = self.clock.now().timestamp()
            blocked = self._blocked_until.get(target.id, 0.0)
            if blocked > now:
                raise RateLimited(f"robot {target.id} blocked by {target.kind}", blocked - now)
            posts = self._posts.setdefault(target.id, deque())
            wait = 0.0
            for count, period in LIMITS[target.kind]:
                recent = [t for t in posts if t > now - period]
                # Ask for room for every remaining part so a split message is not cut midway.
                over = len(recent) + min(needed, count) - count
                if over > 0:
                    wait = max(wait, recent[over - 1] + period - now)
            if wait > 0:
                raise RateLimited(f"robot {target.id} local {target.kind} limit", wait)
            posts.append(now)
            longest = max(period for _, period in LIMITS[target.kind])
            while posts and posts[0] <= now - longest:
                posts.popleft()

    async def _post(self, target: RobotTarget, body: dict[str, object]) -> object:
        url, payload = self._signed(target, body)
        session = await self._client()
        log.debug("robot %s (%s): posting %d bytes", target.id, target.kind, len(payload))
        try:
            async with session.post(
                url, data=payload, headers={"Content-Type": "application/json; charset=utf-8"}
            ) as response:
                status = response.status
                raw = await response.read()
        except TimeoutError as exc:
            raise Uncertain(f"robot {target.id}: timed out") from exc
        except aiohttp.ClientError as exc:
            raise TransientError(f"robot {target.id}: {type(exc).__name__}") from exc
        answer: dict[str, Any] | None
        try:
            parsed = json.loads(raw) if raw else None
            answer = parsed if isinstance(parsed, dict) else None
        except ValueError:
            answer = None
        error = classify(target.kind, status, answer)
        log.debug("robot %s (%s): http %s, error %s", target.id, target.kind, status, error)
        if error is None:
            return answer
        if isinstance(error, RateLimited) and target.kind == "dingtalk":
            self._blocked_until[target.id] = self.clock.now().timestamp() + error.retry_after
        raise error

    def _signed(self, target: RobotTarget, body: dict[str, object]) -> tuple[URL, bytes]:
        """Return the URL and JSON bytes of one post, signed as the platform specifies."""
        url = target.url
        if target.secret and target.kind == "dingtalk":
            timestamp_ms = int(self.clock.now().timestamp() * 1000)
            url += ("&" if "?" in url else "?") + dingtalk_query(target.secret, timestamp_ms)[1:]
        if target.secret and target.kind == "feishu":
            timestamp_s = int(self.clock.now().timestamp())
            body = {
                "timestamp": str(timestamp_s),
                "sign": feishu_sign(target.secret, timestamp_s),
                **body,
            }
        # Chinese as UTF-8, not \\uXXXX escapes: those would triple the size against the limits.
        payload = json.dumps(body, ensure_ascii=False).encode()
        return URL(url, encoded=True), payload

    async def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
            self._own_session = True
        return self._session

    async def mark_broken(self, robot_id: int, reason: str) -> None:
        """Flag the robot as broken so it is skipped and the admin is told once."""
        log.warning("robot %s marked broken: %s", robot_id, reason)
        async with self.db.session() as session:
            await session.execute(
                update(Robot)
                .where(Robot.id == robot_id, Robot.broken.is_(False))
                .values(
                    broken=True,
                    broken_reason=reason[:250],
                    broken_at=self.clock.now(),
                    broken_notified=False,
                )
            )

    async def close(self) -> None:
        """Close the HTTP session if this sender opened it."""
        if self._own_session and self._session is not None and not self._session.closed:
            await self._session.close()


def kinds_of(robots: Sequence[RobotTarget]) -> set[str]:
    """Return the platforms among robots."""
    return {r.kind for r in robots}
