"""Manage group robots: add, list, remove, choose recipients, test, report broken ones."""

from __future__ import annotations

import builtins
import json
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.erasure import personal_data_eraser
from bot.models.core import City, Park
from bot.models.robots import MESSAGE_KINDS, ROBOT_KINDS, Robot
from bot.robots.sender import RobotSender, RobotTarget
from bot.robots.signing import mask
from bot.sender import DeliveryError, OutgoingMessage, Sender
from bot.texts import Texts

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
# Where each platform keeps the webhook's credential: a query parameter or the last path part.
TOKEN_QUERY = {"wecom": "key", "dingtalk": "access_token"}
FEISHU_PATH = "/bot/v2/hook/"


class RobotError(Exception):
    """A robot request cannot be done; key names the text that explains why."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


class RobotActor(Protocol):
    """The part of bot.access.Actor the robots service needs."""

    @property
    def is_admin(self) -> bool:
        """Return whether the person is a provincial admin."""
        ...

    @property
    def secretary_park_ids(self) -> Collection[int]:
        """Return the parks the person is secretary of."""
        ...


@dataclass(frozen=True)
class RobotView:
    """A robot as shown to people: credentials masked."""

    id: int
    kind: str
    scope: str  # "park" | "city"
    scope_id: int
    scope_name: str
    url: str
    secret: str
    keyword: str
    kinds: tuple[str, ...]
    broken: bool
    broken_reason: str


@dataclass(frozen=True)
class BrokenNotice:
    """A robot that broke and whose breakage the admins were not told yet."""

    robot_id: int
    kind: str
    scope: str
    scope_name: str
    reason: str


@dataclass(frozen=True)
class TestOutcome:
    """What a robot answered to a test message."""

    ok: bool
    answer: str
    error: DeliveryError | None = None


def mask_url(kind: str, url: str) -> str:
    """Return url with its webhook credential masked."""
    parts = urlsplit(url)
    name = TOKEN_QUERY.get(kind)
    if name:
        query = "&".join(f"{k}={mask(v) if k == name else v}" for k, v in parse_qsl(parts.query))
        return urlunsplit(parts._replace(query=query))
    head, _, token = parts.path.rpartition("/")
    return urlunsplit(parts._replace(path=f"{head}/{mask(token)}", query=""))


def check_url(kind: str, url: str) -> None:
    """Raise RobotError unless url looks like a webhook of that kind of robot."""
    parts = urlsplit(url)
    secure = parts.scheme == "https" or (
        parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
    )
    if not secure or not parts.hostname:
        raise RobotError("robots.error.url_scheme")
    name = TOKEN_QUERY.get(kind)
    if name and not dict(parse_qsl(parts.query)).get(name):
        raise RobotError("robots.error.url_token", kind=kind, name=name)
    if kind == "feishu" and (FEISHU_PATH not in parts.path or parts.path.endswith("/")):
        raise RobotError("robots.error.url_token", kind=kind, name=FEISHU_PATH)


def parse_kinds(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Return the message kinds a robot receives (all when value is empty)."""
    if value is None:
        return MESSAGE_KINDS
    items = value.split(",") if isinstance(value, str) else list(value)
    kinds = tuple(dict.fromkeys(k.strip() for k in items if k.strip()))
    unknown = [k for k in kinds if k not in MESSAGE_KINDS]
    if unknown:
        raise RobotError("robots.error.kinds", kinds=", ".join(unknown))
    return kinds or MESSAGE_KINDS


@personal_data_eraser
async def erase_robot_creator(session: AsyncSession, user_id: int) -> None:
    """Unlink robots a deleted person registered (the robot belongs to its park or city)."""
    await session.execute(update(Robot).where(Robot.created_by == user_id).values(created_by=None))


class RobotsService:
    """Robots of parks and cities, with access checks for admins and secretaries."""

    def __init__(self, db: Database, texts: Texts | None = None) -> None:
        self.db = db
        self.texts = texts or Texts.load()

    async def park_id(self, name: str) -> int:
        """Return the id of the park called name."""
        async with self.db.session() as session:
            found = await session.scalar(select(Park.id).where(Park.name == name))
        if found is None:
            raise RobotError("robots.error.no_park", name=name)
        return found

    async def city_id(self, name: str) -> int:
        """Return the id of the city called name."""
        async with self.db.session() as session:
            found = await session.scalar(select(City.id).where(City.name == name))
        if found is None:
            raise RobotError("robots.error.no_city", name=name)
        return found

    @staticmethod
    def _check_scope(actor: RobotActor, park_id: int | None, city_id: int | None) -> None:
        if actor.is_admin:
            return
        if park_id is None or park_id not in actor.secretary_park_ids:
            raise RobotError("robots.error.denied")

    async def add(
        self,
        actor: RobotActor,
        *,
        kind: str,
        url: str,
        park_id: int | None = None,
        city_id: int | None = None,
        secret: str | None = None,
        keyword: str | None = None,
        kinds: str | Iterable[str] | None = None,
        created_by: int | None = None,
    ) -> RobotView:
        """Attach a new robot to a park or a city and return it."""
        if kind not in ROBOT_KINDS:
            raise RobotError("robots.error.kind", kind=kind)
        if (park_id is None) == (city_id is None):
            raise RobotError("robots.error.scope")
        self._check_scope(actor, park_id, city_id)
        url = url.strip()
        check_url(kind, url)
        if secret and kind == "wecom":
            raise RobotError("robots.error.no_secret", kind=kind)
        if keyword and kind != "dingtalk":
            raise RobotError("robots.error.no_keyword", kind=kind)
        robot = Robot(
            kind=kind,
            url=url,
            secret=secret or None,
            keyword=keyword or None,
            kinds=list(parse_kinds(kinds)),
            park_id=park_id,
            city_id=city_id,
            created_by=created_by,
        )
        async with self.db.session() as session:
            if park_id is not None and await session.get(Park, park_id) is None:
                raise RobotError("robots.error.no_park", name=park_id)
            if city_id is not None and await session.get(City, city_id) is None:
                raise RobotError("robots.error.no_city", name=city_id)
            session.add(robot)
            await session.flush()
            robot_id = robot.id
        return await self.get(actor, robot_id)

    async def list(self, actor: RobotActor) -> builtins.list[RobotView]:
        """Return the robots actor may manage: all for admins, their parks' for secretaries."""
        query = select(Robot).order_by(Robot.id)
        if not actor.is_admin:
            query = query.where(Robot.park_id.in_(list(actor.secretary_park_ids)))
        async with self.db.session() as session:
            robots = list(await session.scalars(query))
            return [await self._view(session, r) for r in robots]

    async def get(self, actor: RobotActor, robot_id: int) -> RobotView:
        """Return one robot actor may manage."""
        async with self.db.session() as session:
            robot = await session.get(Robot, robot_id)
            if robot is None:
                raise RobotError("robots.error.not_found", id=robot_id)
            self._check_scope(actor, robot.park_id, robot.city_id)
            return await self._view(session, robot)

    async def remove(self, actor: RobotActor, robot_id: int) -> None:
        """Delete a robot actor may manage."""
        async with self.db.session() as session:
            robot = await session.get(Robot, robot_id)
            if robot is None:
                raise RobotError("robots.error.not_found", id=robot_id)
            self._check_scope(actor, robot.park_id, robot.city_id)
            await session.delete(robot)

    async def robots_for_parks(
        self, park_ids: Iterable[int], kind: str, *, language: str | None = None
    ) -> builtins.list[int]:
        """Return ids of working robots of these parks that receive kind (in language)."""
        return [r_id for r_id, _ in await self._park_robots(park_ids, kind, language)]

    async def park_robot_languages(self, park_ids: Iterable[int], kind: str) -> set[str]:
        """Return the languages of the working robots of these parks that receive kind."""
        return {lang for _, lang in await self._park_robots(park_ids, kind, None)}

    async def _park_robots(
        self, park_ids: Iterable[int], kind: str, language: str | None
    ) -> builtins.list[tuple[int, str]]:
        ids = builtins.list(park_ids)
        if not ids:
            return []
        return await self._working(select(Robot).where(Robot.park_id.in_(ids)), kind, language)

    async def robots_for_city(self, city_id: int, kind: str) -> builtins.list[int]:
        """Return ids of working robots attached to the city itself that receive kind."""
        return [r_id for r_id, _ in await self.city_robots(city_id, kind)]

    async def city_robots(self, city_id: int, kind: str) -> builtins.list[tuple[int, str]]:
        """Return (id, language) of the city's own working robots that receive kind."""
        return await self._working(select(Robot).where(Robot.city_id == city_id), kind, None)

    async def _working(
        self, query: Select[Robot], kind: str, language: str | None
    ) -> builtins.list[tuple[int, str]]:
        async with self.db.session() as session:
            robots = await session.scalars(query.where(Robot.broken.is_(False)).order_by(Robot.id))
            # kinds is a JSON list: filter here, portable across SQLite and PostgreSQL.
            return [
                (r.id, r.language)
                for r in robots
                if kind in (r.kinds or MESSAGE_KINDS) and language in (None, r.language)
            ]

    async def set_kinds(
        self, actor: RobotActor, robot_id: int, kinds: str | Iterable[str] | None
    ) -> RobotView:
        """Choose which kinds of message a robot actor may manage receives; return it."""
        async with self.db.session() as session:
            robot = await session.get(Robot, robot_id)
            if robot is None:
                raise RobotError("robots.error.not_found", id=robot_id)
            self._check_scope(actor, robot.park_id, robot.city_id)
            robot.kinds = builtins.list(parse_kinds(kinds))
        return await self.get(actor, robot_id)

    async def test_send(
        self, actor: RobotActor, robot_id: int, sender: RobotSender, lang: str = "zh"
    ) -> TestOutcome:
        """Send a test message; on success a broken robot is trusted again."""
        async with self.db.session() as session:
            robot = await session.get(Robot, robot_id)
            if robot is None:
                raise RobotError("robots.error.not_found", id=robot_id)
            self._check_scope(actor, robot.park_id, robot.city_id)
            target = RobotTarget.of(robot)
        message = OutgoingMessage(
            text=self.texts.get("robots.test.message", target.language, kind=target.kind),
            title=self.texts.get("robots.test.title", target.language),
            kind="test",
        )
        try:
            result = await sender.deliver(target, message)
        except DeliveryError as exc:
            return TestOutcome(ok=False, answer=exc.reason, error=exc)
        async with self.db.session() as session:
            robot = await session.get(Robot, robot_id)
            if robot is not None and robot.broken:
                robot.broken = False
                robot.broken_reason = ""
                robot.broken_notified = False
        answers = result.extra.get("answers")
        last = answers[-1] if isinstance(answers, builtins.list) and answers else ""
        return TestOutcome(ok=True, answer=json.dumps(last, ensure_ascii=False))

    async def pending_broken_notices(self) -> builtins.list[BrokenNotice]:
        """Return broken robots the admins have not been told about yet."""
        query = (
            select(Robot)
            .where(Robot.broken.is_(True), Robot.broken_notified.is_(False))
            .order_by(Robot.id)
        )
        async with self.db.session() as session:
            notices = []
            for robot in await session.scalars(query):
                view = await self._view(session, robot)
                notices.append(
                    BrokenNotice(
                        robot.id, robot.kind, view.scope, view.scope_name, robot.broken_reason
                    )
                )
            return notices

    async def mark_broken_notified(self, robot_id: int) -> None:
        """Record that the admins were told the robot is broken."""
        async with self.db.session() as session:
            robot = await session.get(Robot, robot_id)
            if robot is not None:
                robot.broken_notified = True

    async def notify_broken(self, telegram: Sender, admin_ids: Iterable[int]) -> int:
        """Tell every admin, once, about each newly broken robot; return how many were reported."""
        admins = sorted(admin_ids)
        reported = 0
        for notice in await self.pending_broken_notices():
            text = self.texts.get(
                "robots.broken.notice",
                id=notice.robot_id,
                kind=notice.kind,
                scope_name=notice.scope_name,
                reason=notice.reason,
            )
            told = not admins  # with no admin configured there is nobody to wait for
            for admin in admins:
                try:
                    await telegram.send(str(admin), OutgoingMessage(text=text, kind="robot"))
                    told = True
                except DeliveryError as exc:
                    log.warning("could not tell admin about robot %s: %s", notice.robot_id, exc)
            if told:
                await self.mark_broken_notified(notice.robot_id)
                reported += 1
        return reported

    async def _view(self, session: AsyncSession, robot: Robot) -> RobotView:
        place: Park | City | None
        if robot.park_id is not None:
            scope, scope_id = "park", robot.park_id
            place = await session.get(Park, scope_id)
        else:
            scope, scope_id = "city", robot.city_id or 0
            place = await session.get(City, scope_id)
        return RobotView(
            id=robot.id,
            kind=robot.kind,
            scope=scope,
            scope_id=scope_id,
            scope_name=place.name if place else "",
            url=mask_url(robot.kind, robot.url),
            secret=mask(robot.secret),
            keyword=robot.keyword or "",
            kinds=tuple(robot.kinds or MESSAGE_KINDS),
            broken=robot.broken,
            broken_reason=robot.broken_reason,
        )
