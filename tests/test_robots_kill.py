"""kill -9 in the middle of posting to group robots: the restarted worker resumes cleanly."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import SystemClock
from bot.db import Database
from bot.models.core import City, Park
from bot.models.outbox import OutboxRow, RowState
from bot.outbox.service import Outbox
from bot.robots.service import RobotsService
from bot.sender import OutgoingMessage
from tests.fake_robots import FakeRobot, FakeRobotServer

ROOT = Path(__file__).resolve().parents[1]
ROBOTS = 8


@dataclass(frozen=True)
class Admin:
    """An actor with the admin role, as RobotsService asks."""

    user_id: int = 1
    is_admin: bool = True
    secretary_park_ids: frozenset[int] = frozenset()


ADMIN = Admin()


@pytest.fixture
async def server() -> AsyncIterator[FakeRobotServer]:
    """Yield fake webhooks on the real clock (the worker runs in another process)."""
    fake = FakeRobotServer()
    fake.slow_seconds = 5.0  # the third post hangs until the process is killed
    await fake.start()
    yield fake
    await fake.close()


async def spawn(db_url: str, broadcast_id: int) -> asyncio.subprocess.Process:
    """Start a robot worker process."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.robot_worker",
        db_url,
        str(broadcast_id),
        cwd=str(ROOT),
        stdout=asyncio.subprocess.PIPE,
    )


async def wait_for_posts(robots: list[FakeRobot], count: int, within: float = 20.0) -> None:
    """Wait until the fake robots accepted count posts in all."""
    for _ in range(int(within / 0.05)):
        if sum(len(r.posts) for r in robots) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"only {sum(len(r.posts) for r in robots)} posts, expected {count}")


async def test_kill_9_mid_delivery_resumes_without_loss_or_duplicates(
    tmp_path: Path, server: FakeRobotServer
) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'kill.db'}"
    db = Database(db_url)
    await db.upgrade()
    async with db.session() as s:
        city = City(name="长春市")
        s.add(city)
        await s.flush()
        park = Park(name="长春新区", city_id=city.id)
        s.add(park)
        await s.flush()
        park_id = park.id
    service = RobotsService(db)
    fakes = [server.add("wecom") for _ in range(ROBOTS)]
    for fake in fakes:
        await service.add(ADMIN, kind="wecom", url=server.url(fake), park_id=park_id)
    outbox = Outbox(db, SystemClock(), robots=service)
    bid = await outbox.create_broadcast(
        kind="notice",
        created_by=ADMIN.user_id,
        message=OutgoingMessage(text="园区科协通知：断电后继续发送。", kind="notice"),
        recipients=[],
        park_ids=[park_id],
    )
    # The fake answers the third post late ("pass" lets one through; the last one passed
    # before "slow" is the one held).
    server.fail_next("pass", 3)
    server.fail_next("slow")

    first = await spawn(db_url, bid)
    await wait_for_posts(fakes, 3)  # the third was accepted, its answer is still on the way
    first.send_signal(signal.SIGKILL)
    assert await first.wait() == -signal.SIGKILL

    second = await spawn(db_url, bid)
    out, _ = await asyncio.wait_for(second.communicate(), 60)
    assert b"finished" in out

    async with db.session() as s:
        states = dict(
            (
                await s.execute(
                    select(OutboxRow.address, OutboxRow.state).where(OutboxRow.broadcast_id == bid)
                )
            ).all()
        )
    await db.dispose()
    posts = [len(f.posts) for f in fakes]
    assert posts == [1] * ROBOTS  # nobody lost, nobody got it twice
    # The one killed mid-request is uncertain (never resent); every other robot is sent.
    assert sorted(states.values()) == sorted(
        [RowState.UNCERTAIN.value] + [RowState.SENT.value] * (ROBOTS - 1)
    )
