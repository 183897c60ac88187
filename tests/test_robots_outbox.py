"""End to end: a broadcast to robots goes through the OutboxWorker to the fake webhooks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db import Database
from bot.models.outbox import OutboxRow
from bot.outbox.service import Outbox, Recipient
from bot.outbox.worker import OutboxWorker
from bot.robots.sender import RobotSender
from bot.robots.service import RobotsService
from bot.sender import Limit, OutgoingMessage, SendResult
from tests.fake_robots import FakeRobot, FakeRobotServer, StepClock
from tests.test_robots_delivery import NOTICE, Admin, attach, db  # noqa: F401  (the db fixture)


class Crash(BaseException):
    """Stands for SIGKILL: nothing after it runs."""


class CrashAfterPost:
    """The RobotSender, but the process dies right after the robot accepted one address's post."""

    channel = "robot"

    def __init__(self, inner: RobotSender, address: str) -> None:
        self.inner = inner
        self.address = address

    def limits(self, address: str) -> tuple[Limit, ...]:
        """Return the robot's limits."""
        return self.inner.limits(address)

    async def send(self, address: str, message: OutgoingMessage) -> SendResult:
        """Send, then die before the outbox can record it when address is the doomed one."""
        result = await self.inner.send(address, message)
        if address == self.address:
            raise Crash
        return result


class SleepyClock(StepClock):
    """A StepClock whose sleeps move time (the worker paces with them)."""

    async def sleep(self, seconds: float) -> None:
        """Advance instead of waiting."""
        self.advance(timedelta(seconds=seconds))


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeRobotServer, SleepyClock]]:
    """Yield the fake webhooks and the clock they share with the worker."""
    clock = SleepyClock()
    server = FakeRobotServer(now=clock.now)
    await server.start()
    yield server, clock
    await server.close()


async def states(database: Database) -> dict[str, str]:
    """Return the outbox row state of each robot address."""
    async with database.session() as session:
        rows = (await session.execute(select(OutboxRow.address, OutboxRow.state))).all()
    return {address: state for address, state in rows}  # noqa: C416


@pytest.mark.parametrize("crash_at", [0, 2])
async def test_broadcast_to_robots_survives_a_crash_without_loss_or_duplicates(
    db: Database,  # noqa: F811
    fakes: tuple[FakeRobotServer, SleepyClock],
    crash_at: int,
) -> None:
    server, clock = fakes
    service = RobotsService(db)
    robots: list[FakeRobot] = [
        server.add("wecom"),
        server.add("dingtalk", secret="SECabcdef0123456789abcdef", keyword="科协"),
        server.add("feishu", secret="feishu-secret-0123456789"),
        server.add("dingtalk"),
        server.add("feishu"),
    ]
    for fake in robots:
        await attach(service, server, fake)
    park = await service.park_id("长春新区")
    ids = await service.robots_for_parks([park], "notice")
    assert len(ids) == len(robots)
    outbox = Outbox(db, clock)
    broadcast = await outbox.create_broadcast(
        kind="notice",
        created_by=1,
        message=NOTICE,
        recipients=[Recipient("robot", str(robot_id)) for robot_id in ids],
        park_ids=[park],
    )
    doomed = str(ids[crash_at])
    first_sender = RobotSender(db, clock=clock, timeout=2)
    first = OutboxWorker(
        db, {"robot": CrashAfterPost(first_sender, doomed)}, clock, "proc-1", sleep=clock.sleep
    )
    with pytest.raises(Crash):
        await first.run_once()
    await first_sender.close()
    assert (await states(db))[doomed] == "sending"

    # Restart: a new process on the same database resumes the broadcast.
    second_sender = RobotSender(db, clock=clock, timeout=2)
    second = OutboxWorker(db, {"robot": second_sender}, clock, "proc-1", sleep=clock.sleep)
    await second.recover()
    while await second.run_once():
        pass
    await second_sender.close()

    # Every group got the notice exactly once, the interrupted one included (it was not resent).
    assert [len(fake.posts) for fake in robots] == [1] * len(robots)
    for fake in robots:
        assert "关于申报2026年度科协工作站的通知" in fake.texts()[0]
    status = await outbox.status(broadcast)
    assert (status.total, status.sent, status.uncertain, status.finished) == (5, 4, 1, True)
    assert (await states(db))[doomed] == "uncertain"


async def test_broken_robot_row_is_unreachable_in_the_broadcast(
    db: Database,  # noqa: F811
    fakes: tuple[FakeRobotServer, SleepyClock],
) -> None:
    server, clock = fakes
    service = RobotsService(db)
    alive, gone = server.add("wecom"), server.add("feishu")
    alive_id = await attach(service, server, alive)
    gone_id = await attach(service, server, gone)
    gone.removed = True
    outbox = Outbox(db, clock)
    broadcast = await outbox.create_broadcast(
        kind="notice",
        created_by=1,
        message=NOTICE,
        recipients=[Recipient("robot", str(alive_id)), Recipient("robot", str(gone_id))],
    )
    sender = RobotSender(db, clock=clock, timeout=2)
    worker = OutboxWorker(db, {"robot": sender}, clock, "w", sleep=clock.sleep)
    while await worker.run_once():
        pass
    await sender.close()
    status = await outbox.status(broadcast)
    assert (status.sent, status.unreachable, status.finished) == (1, 1, True)
    assert [n.robot_id for n in await service.pending_broken_notices()] == [gone_id]
    assert (await service.get(Admin(), gone_id)).broken
