"""RobotSender and RobotsService against loopback fake WeCom, DingTalk and Feishu robots."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import asyncpg
import pytest

from bot.db import Database
from bot.models.core import City, Park
from bot.robots.sender import RobotConfigError, RobotSender
from bot.robots.service import RobotError, RobotsService
from bot.sender import (
    Limit,
    OutgoingMessage,
    RateLimited,
    SendResult,
    TransientError,
    Uncertain,
    Unreachable,
)
from tests.fake_robots import FakeRobot, FakeRobotServer, StepClock

PG_ADMIN = os.environ.get("PARKBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
NOTICE = OutgoingMessage(text="关于申报2026年度科协工作站的通知", title="申报通知", kind="notice")


@dataclass(frozen=True)
class Admin:
    """An actor with the admin role."""

    is_admin: bool = True
    secretary_park_ids: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Secretary:
    """An actor who is secretary of some parks."""

    secretary_park_ids: frozenset[int]
    is_admin: bool = False


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: object) -> AsyncIterator[Database]:
    """Yield a migrated database on SQLite, and on PostgreSQL when it runs here."""
    name = ""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/robots.db"
    else:
        name = f"robots_{uuid.uuid4().hex[:12]}"
        try:
            conn = await asyncpg.connect(PG_ADMIN, timeout=3)
        except (OSError, asyncpg.PostgresError):
            pytest.skip("PostgreSQL is not running")
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    database = Database(url)
    await database.upgrade()
    async with database.session() as session:
        city = City(name="长春市")
        session.add(city)
        await session.flush()
        session.add_all(
            [Park(name="长春新区", city_id=city.id), Park(name="净月区", city_id=city.id)]
        )
    yield database
    await database.dispose()
    if name:
        conn = await asyncpg.connect(PG_ADMIN)
        await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await conn.close()


@pytest.fixture
def clock() -> StepClock:
    """Return a hand-moved clock shared by the sender and the fake servers."""
    return StepClock()


@pytest.fixture
async def server(clock: StepClock) -> AsyncIterator[FakeRobotServer]:
    """Yield running fake robot webhooks on 127.0.0.1."""
    fake = FakeRobotServer(now=clock.now)
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def sender(db: Database, clock: StepClock) -> AsyncIterator[RobotSender]:
    """Yield a RobotSender with a short timeout."""
    robot_sender = RobotSender(db, clock=clock, timeout=0.5)
    yield robot_sender
    await robot_sender.close()


async def attach(
    service: RobotsService,
    server: FakeRobotServer,
    fake: FakeRobot,
    *,
    park: str = "长春新区",
    kinds: str | None = None,
) -> int:
    """Register the fake robot with the service for a park and return its id."""
    view = await service.add(
        Admin(),
        kind=fake.platform,
        url=server.url(fake),
        park_id=await service.park_id(park),
        secret=fake.secret,
        keyword=fake.keyword,
        kinds=kinds,
    )
    return view.id


@pytest.mark.parametrize(
    ("platform", "secret", "keyword"),
    [
        ("wecom", None, None),
        ("dingtalk", None, None),
        ("dingtalk", "SECd1n9t4lk0123456789abcdef", None),
        ("dingtalk", "SECd1n9t4lk0123456789abcdef", "科协通知"),
        ("feishu", None, None),
        ("feishu", "f3ishu-s3cret-0123456789", None),
    ],
)
async def test_delivers_signed_messages_the_fake_accepts(
    db: Database,
    server: FakeRobotServer,
    sender: RobotSender,
    platform: str,
    secret: str | None,
    keyword: str | None,
) -> None:
    service = RobotsService(db)
    fake = server.add(platform, secret=secret, keyword=keyword)
    robot_id = await attach(service, server, fake)
    result = await sender.send(str(robot_id), NOTICE)
    assert result.extra["parts"] == 1
    [text] = fake.texts()
    assert "关于申报2026年度科协工作站的通知" in text
    if keyword:
        assert keyword in text
    if platform == "dingtalk" and secret:
        [(_, query)] = server.requests
        assert "timestamp=" in query
        assert "sign=" in query


async def test_wrong_secret_is_a_configuration_error_not_a_broken_robot(
    db: Database, server: FakeRobotServer, sender: RobotSender
) -> None:
    service = RobotsService(db)
    for platform in ("dingtalk", "feishu"):
        fake = server.add(platform, secret="the-real-secret-123456")
        view = await service.add(
            Admin(),
            kind=platform,
            url=server.url(fake),
            park_id=await service.park_id("长春新区"),
            secret="a-wrong-secret-654321",
        )
        with pytest.raises(RobotConfigError):
            await sender.send(str(view.id), NOTICE)
        assert not (await service.get(Admin(), view.id)).broken
        assert fake.posts == []


async def test_missing_keyword_is_a_configuration_error(
    db: Database, server: FakeRobotServer, sender: RobotSender
) -> None:
    service = RobotsService(db)
    fake = server.add("dingtalk", keyword="科协通知")
    view = await service.add(
        Admin(), kind="dingtalk", url=server.url(fake), park_id=await service.park_id("净月区")
    )
    with pytest.raises(RobotConfigError, match="keywords"):
        await sender.send(str(view.id), NOTICE)


@pytest.mark.parametrize("platform", ["wecom", "dingtalk", "feishu"])
async def test_removed_webhook_marks_robot_broken_and_admins_are_told_once(
    db: Database, server: FakeRobotServer, sender: RobotSender, platform: str
) -> None:
    service = RobotsService(db)
    fake = server.add(platform)
    robot_id = await attach(service, server, fake)
    fake.removed = True
    with pytest.raises(Unreachable):
        await sender.send(str(robot_id), NOTICE)
    assert (await service.get(Admin(), robot_id)).broken
    assert await service.robots_for_parks([await service.park_id("长春新区")], "notice") == []
    with pytest.raises(Unreachable, match="broken"):
        await sender.send(str(robot_id), NOTICE)  # no further posts to a dead webhook
    assert len(server.requests) == 1
    [notice] = await service.pending_broken_notices()
    assert notice.robot_id == robot_id
    assert notice.scope_name == "长春新区"
    await service.mark_broken_notified(robot_id)
    assert await service.pending_broken_notices() == []


async def test_http_404_marks_robot_broken(
    db: Database, server: FakeRobotServer, sender: RobotSender
) -> None:
    service = RobotsService(db)
    robot_id = await attach(service, server, server.add("feishu"))
    server.fail_next("not_found")
    with pytest.raises(Unreachable):
        await sender.send(str(robot_id), NOTICE)
    assert (await service.get(Admin(), robot_id)).broken


async def test_server_error_is_transient_and_retry_succeeds(
    db: Database, server: FakeRobotServer, sender: RobotSender
) -> None:
    service = RobotsService(db)
    fake = server.add("wecom")
    robot_id = await attach(service, server, fake)
    server.fail_next("server_error")
    with pytest.raises(TransientError):
        await sender.send(str(robot_id), NOTICE)
    await sender.send(str(robot_id), NOTICE)
    assert len(fake.posts) == 1


async def test_network_error_is_transient(db: Database, sender: RobotSender) -> None:
    service = RobotsService(db)
    view = await service.add(
        Admin(),
        kind="wecom",
        url="http://127.0.0.1:9/cgi-bin/webhook/send?key=nobody-listens",  # discard port
        park_id=await service.park_id("长春新区"),
    )
    with pytest.raises(TransientError):
        await sender.send(str(view.id), NOTICE)


async def test_timeout_is_uncertain(
    db: Database, server: FakeRobotServer, sender: RobotSender
) -> None:
    service = RobotsService(db)
    fake = server.add("dingtalk")
    robot_id = await attach(service, server, fake)
    server.fail_next("slow")
    with pytest.raises(Uncertain):
        await sender.send(str(robot_id), NOTICE)
    assert len(fake.posts) == 1  # it was delivered: that is why it must not be blindly resent


async def test_platform_rate_limit_answer_becomes_rate_limited(
    db: Database, server: FakeRobotServer, sender: RobotSender, clock: StepClock
) -> None:
    service = RobotsService(db)
    fake = server.add("wecom")
    robot_id = await attach(service, server, fake)
    # Another program used up this robot's minute: WeCom answers 45009.
    fake.sent_at.extend([clock.now().timestamp()] * 20)
    with pytest.raises(RateLimited) as caught:
        await sender.send(str(robot_id), NOTICE)
    assert caught.value.retry_after == 60
    clock.advance(timedelta(seconds=61))
    await sender.send(str(robot_id), NOTICE)
    assert len(fake.posts) == 1


async def test_dingtalk_block_lasts_ten_minutes(
    db: Database, server: FakeRobotServer, sender: RobotSender, clock: StepClock
) -> None:
    service = RobotsService(db)
    fake = server.add("dingtalk")
    robot_id = await attach(service, server, fake)
    fake.sent_at.extend([clock.now().timestamp()] * 20)
    with pytest.raises(RateLimited) as caught:
        await sender.send(str(robot_id), NOTICE)
    assert caught.value.retry_after == 600
    calls = len(server.requests)
    clock.advance(timedelta(minutes=5))
    with pytest.raises(RateLimited) as again:
        await sender.send(str(robot_id), NOTICE)
    assert again.value.retry_after == pytest.approx(300)
    assert len(server.requests) == calls  # known block: not even asked
    clock.advance(timedelta(minutes=5, seconds=1))
    await sender.send(str(robot_id), NOTICE)
    assert len(fake.posts) == 1


@pytest.mark.parametrize(
    ("platform", "count", "period"), [("wecom", 20, 60), ("dingtalk", 20, 60), ("feishu", 5, 1)]
)
async def test_own_pacing_never_trips_the_platform_limit(
    db: Database,
    server: FakeRobotServer,
    sender: RobotSender,
    clock: StepClock,
    platform: str,
    count: int,
    period: float,
) -> None:
    service = RobotsService(db)
    fake = server.add(platform)
    robot_id = await attach(service, server, fake)
    assert {(lim.count, lim.period) for lim in sender.limits(str(robot_id))} >= {(count, period)}
    for _ in range(count):
        await sender.send(str(robot_id), NOTICE)
    with pytest.raises(RateLimited) as caught:
        await sender.send(str(robot_id), NOTICE)
    assert 0 < caught.value.retry_after <= period
    assert len(server.requests) == count  # the limit was kept here, not hit there
    clock.advance(timedelta(seconds=caught.value.retry_after + 0.01))
    await sender.send(str(robot_id), NOTICE)
    assert len(fake.posts) == count + 1


async def test_feishu_hundred_a_minute(
    db: Database, server: FakeRobotServer, sender: RobotSender, clock: StepClock
) -> None:
    service = RobotsService(db)
    fake = server.add("feishu")
    robot_id = await attach(service, server, fake)
    for _ in range(100):
        await sender.send(str(robot_id), NOTICE)
        clock.advance(timedelta(seconds=0.25))  # 4/s: under the per-second limit
    with pytest.raises(RateLimited):
        await sender.send(str(robot_id), NOTICE)
    assert len(fake.posts) == 100


async def test_split_message_resumes_at_the_missing_part(
    db: Database, server: FakeRobotServer, sender: RobotSender
) -> None:
    service = RobotsService(db)
    fake = server.add("wecom")
    robot_id = await attach(service, server, fake)
    long = OutgoingMessage(text="\n".join(["园区科协工作要点" * 20] * 20))  # ~9.6 KB: 3 parts
    server.fail_next("pass")
    server.fail_next("server_error")  # part 1 arrives, part 2 meets a 502
    with pytest.raises(TransientError):
        await sender.send(str(robot_id), long)
    assert len(fake.posts) == 1
    result = await sender.send(str(robot_id), long)
    assert result.extra["parts"] == 3
    assert [t.split("\n", 1)[0] for t in fake.texts()] == ["（1/3）", "（2/3）", "（3/3）"]


async def test_kinds_filter_and_scopes(db: Database, server: FakeRobotServer) -> None:
    service = RobotsService(db)
    xinqu = await service.park_id("长春新区")
    jingyue = await service.park_id("净月区")
    city = await service.city_id("长春市")
    a = await attach(service, server, server.add("wecom"), kinds="notice,event")
    b = await attach(service, server, server.add("feishu"), park="净月区")
    c = (
        await service.add(
            Admin(), kind="dingtalk", url=server.url(server.add("dingtalk")), city_id=city
        )
    ).id
    assert await service.robots_for_parks([xinqu, jingyue], "notice") == [a, b]
    assert await service.robots_for_parks([xinqu, jingyue], "report") == [b]
    assert await service.robots_for_parks([], "notice") == []
    assert await service.robots_for_city(city, "report") == [c]
    secretary = Secretary(frozenset({xinqu}))
    assert [v.id for v in await service.list(secretary)] == [a]
    assert [v.id for v in await service.list(Admin())] == [a, b, c]
    for robot_id in (b, c):
        with pytest.raises(RobotError, match="denied"):
            await service.remove(secretary, robot_id)
    with pytest.raises(RobotError, match="denied"):
        await service.add(
            secretary, kind="wecom", url=server.url(server.add("wecom")), park_id=jingyue
        )
    with pytest.raises(RobotError, match="denied"):
        await service.add(
            secretary, kind="wecom", url=server.url(server.add("wecom")), city_id=city
        )
    await service.remove(secretary, a)
    assert await service.robots_for_parks([xinqu], "notice") == []


async def test_secrets_are_masked_in_views(db: Database, server: FakeRobotServer) -> None:
    service = RobotsService(db)
    fake = server.add("dingtalk", secret="SEC0123456789abcdef0123456789a1b2")
    robot_id = await attach(service, server, fake)
    view = await service.get(Admin(), robot_id)
    assert view.secret == "SEC…a1b2"
    assert fake.token not in view.url
    assert fake.secret not in repr(view)  # type: ignore[operator]


async def test_test_send_reports_the_answer_and_revives_a_broken_robot(
    db: Database, server: FakeRobotServer, sender: RobotSender
) -> None:
    service = RobotsService(db)
    fake = server.add("feishu")
    robot_id = await attach(service, server, fake)
    fake.removed = True
    with pytest.raises(Unreachable):
        await sender.send(str(robot_id), NOTICE)
    failed = await service.test_send(Admin(), robot_id, sender)
    assert not failed.ok
    assert "19001" in failed.answer
    fake.removed = False  # the admin re-added the robot to the group
    outcome = await service.test_send(Admin(), robot_id, sender)
    assert outcome.ok
    assert '"code": 0' in outcome.answer
    assert not (await service.get(Admin(), robot_id)).broken
    assert "测试消息" in fake.texts()[-1]


async def test_secrets_never_reach_the_logs(
    db: Database, server: FakeRobotServer, sender: RobotSender, real_logging: io.StringIO
) -> None:
    service = RobotsService(db)
    dingtalk = server.add("dingtalk", secret="SECtopsecret0123456789abcdef")
    feishu = server.add("feishu", secret="feishu-topsecret-0123456789")
    wecom = server.add("wecom")
    ids = [await attach(service, server, fake) for fake in (dingtalk, feishu, wecom)]
    for robot_id in ids:
        await sender.send(str(robot_id), NOTICE)
        await service.test_send(Admin(), robot_id, sender)
    wecom.removed = True
    with pytest.raises(Unreachable):
        await sender.send(str(ids[2]), NOTICE)
    server.fail_next("server_error")
    with pytest.raises(TransientError):
        await sender.send(str(ids[0]), NOTICE)
    logged = real_logging.getvalue()
    assert "robot" in logged  # DEBUG logging was on and the sender did log
    for secret in (dingtalk.secret, feishu.secret, dingtalk.token, feishu.token, wecom.token):
        assert secret not in logged  # type: ignore[operator]


class RecordingTelegram:
    """Stands in for TelegramSender: records what admins would read, or fails on request."""

    channel = "telegram"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.fail = False

    def limits(self, address: str) -> tuple[Limit, ...]:
        """Return no limits."""
        return ()

    async def send(self, address: str, message: OutgoingMessage) -> SendResult:
        """Record the message or fail like a blocked chat."""
        if self.fail:
            raise Unreachable("blocked")
        self.sent.append((address, message.text))
        return SendResult()


async def test_admins_are_told_once_about_a_broken_robot(
    db: Database, server: FakeRobotServer, sender: RobotSender
) -> None:
    service = RobotsService(db)
    fake = server.add("dingtalk")
    robot_id = await attach(service, server, fake)
    fake.removed = True
    with pytest.raises(Unreachable):
        await sender.send(str(robot_id), NOTICE)
    telegram = RecordingTelegram()
    telegram.fail = True
    assert await service.notify_broken(telegram, {7, 8}) == 0  # nobody told: try next tick
    telegram.fail = False
    assert await service.notify_broken(telegram, {7, 8}) == 1
    assert [address for address, _ in telegram.sent] == ["7", "8"]
    assert "长春新区" in telegram.sent[0][1]
    assert await service.notify_broken(telegram, {7, 8}) == 0
    assert len(telegram.sent) == 2
