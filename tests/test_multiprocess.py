"""Two `parkbot run` processes on one PostgreSQL behave as one bot, even when one is killed."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db import Database
from bot.models import City, Park, PtbState
from bot.texts import Texts
from handlers.admin import NEW_CITY
from tests.processes import (
    FakeBotApiServer,
    bot_env,
    free_port,
    metric,
    metric_sum,
    parkbot,
    post_update,
    stop_process,
    wait_for_text,
    wait_healthy,
)

pytestmark = pytest.mark.postgres

ADMIN = 900077


async def leader_port(ports: list[int], within: float = 15) -> int:
    """Return the port of the one process that runs the clock (waiting for both to tick)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        flags = [await metric(p, "parkbot_clock_leader") for p in ports]
        if None not in flags and sorted(flags) == [0.0, 1.0]:  # type: ignore[type-var]
            return ports[flags.index(1.0)]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no single clock leader: {flags}")


async def all_handled(ports: list[int], count: int, within: float = 10) -> None:
    """Wait until the processes together finished count updates (state saved, not just sent)."""
    deadline = time.monotonic() + within
    while sum([await metric_sum(p, "parkbot_updates_handled_total") for p in ports]) < count:
        assert time.monotonic() < deadline, "updates were not all handled"
        await asyncio.sleep(0.05)


async def test_two_processes_share_conversations_and_the_clock(
    fresh_pg: str, tmp_path: Path
) -> None:
    api = FakeBotApiServer()
    await api.start()
    t = Texts.load()
    ports = [free_port(), free_port()]
    # Both start at once on an empty database: migrations must not race.
    procs = {
        port: parkbot(
            ["run"],
            bot_env(fresh_pg, api, port, PARKBOT_ADMIN_IDS=str(ADMIN), PARKBOT_TICK_SECONDS="1"),
            tmp_path / f"bot-{port}.log",
        )
        for port in ports
    }
    a, b = ports
    u = api.updates
    ask_city = t.get("admin.ask_city")
    ask_name = t.get("admin.ask_park_name", city="松原市")
    added = t.get("admin.park_added", park="查干湖科技园", city="松原市")
    try:
        await asyncio.gather(*(wait_healthy(p, procs[p], within=30) for p in ports))
        leader = await leader_port(ports)

        # /addpark on A, the "new city" button on B, the city name on A …
        assert await post_update(a, u.text(ADMIN, "/addpark")) == 200
        await wait_for_text(api, "sendMessage", ADMIN, ask_city)
        [question] = [
            m
            for (chat, _), m in api.api.messages.items()
            if chat == ADMIN and m["text"] == ask_city
        ]
        question = {k: v for k, v in question.items() if not k.startswith("_")}
        assert await post_update(b, u.callback(ADMIN, NEW_CITY, question)) == 200
        await api.wait_for("editMessageText", ADMIN, 1)
        assert await post_update(a, u.text(ADMIN, "松原市")) == 200
        await wait_for_text(api, "sendMessage", ADMIN, ask_name)
        # The reply goes out before the state is saved; a process killed in between loses the
        # step (Telegram already had its 200), so let the step finish first.
        await all_handled(ports, 3)

        # … then the clock holder dies without a goodbye, and the other process finishes.
        procs[leader].send_signal(signal.SIGKILL)
        procs[leader].wait(10)
        survivor = b if leader == a else a
        assert await post_update(survivor, u.text(ADMIN, "查干湖科技园")) == 200
        await wait_for_text(api, "sendMessage", ADMIN, added)

        deadline = time.monotonic() + 10
        while await metric(survivor, "parkbot_clock_leader") != 1.0:
            assert time.monotonic() < deadline, "the survivor never took the clock over"
            await asyncio.sleep(0.1)
        ticks = await metric(survivor, "parkbot_clock_ticks_total") or 0
        await asyncio.sleep(1.5)
        assert (await metric(survivor, "parkbot_clock_ticks_total") or 0) > ticks

        # Every step answered exactly once, in order, by whichever process got it; whatever
        # the clock sent the admin (features' notices) was sent once, not once per process.
        sent = [p["text"] for p in api.sent("sendMessage", ADMIN)]
        assert [s for s in sent if s in (ask_city, ask_name, added)] == [ask_city, ask_name, added]
        clock_sent = [s for s in sent if s not in (ask_city, ask_name, added)]
        assert len(clock_sent) == len(set(clock_sent))
        assert [p["text"] for p in api.sent("editMessageText", ADMIN)] == [
            t.get("admin.ask_city_name")
        ]
        assert len(api.sent("answerCallbackQuery", ADMIN)) <= 1
        db = Database(fresh_pg)
        try:
            async with db.session() as s:
                parks = (await s.execute(select(Park.name, City.name).join(City))).all()
                states = (await s.scalars(select(PtbState.kind))).all()
        finally:
            await db.dispose()
        assert [tuple(r) for r in parks] == [("查干湖科技园", "松原市")]
        assert not [k for k in states if k.startswith("conv:")]  # the conversation ended

        assert await stop_process(procs[survivor]) == 0
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        await api.stop()


async def test_chat_lock_serialises_one_chat_across_connections(pg_url: str) -> None:
    from bot.chatlock import ChatLocks, chat_lock_key

    db = Database(pg_url)
    first, second = ChatLocks(db), ChatLocks(db)  # two pools: as two processes would have
    order: list[str] = []
    try:
        async with first.hold(-1001234567890):
            waiter = asyncio.create_task(_hold_and_note(second, -1001234567890, order))
            other_chat = asyncio.create_task(_hold_and_note(second, 42, order))
            await asyncio.wait_for(other_chat, 5)  # a different chat is not held up
            await asyncio.sleep(0.3)
            assert not waiter.done()
            order.append("first released")
        await asyncio.wait_for(waiter, 5)
    finally:
        await first.close()
        await second.close()
        await db.dispose()
    assert order == [42, "first released", -1001234567890]
    assert -(2**31) <= chat_lock_key(-1001234567890) < 2**31


async def _hold_and_note(locks: object, chat_id: int, order: list[object]) -> None:
    async with locks.hold(chat_id):  # type: ignore[attr-defined]
        order.append(chat_id)
