"""Outbox engine: durable rows, pacing, retries, crash-resume, cancel, progress (fake Sender)."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.clock import FakeClock
from bot.db import Database
from bot.models import RoleGrant, User
from bot.models.outbox import OutboxRow, RowState
from bot.outbox.limiter import RateLimiter
from bot.outbox.progress import ProgressThrottle
from bot.outbox.service import (
    BroadcastDenied,
    BroadcastStatus,
    Outbox,
    Recipient,
    audience_for_parks,
)
from bot.outbox.worker import OutboxWorker, WorkerSettings
from bot.sender import (
    Limit,
    OutgoingMessage,
    PermanentError,
    RateLimited,
    SendResult,
    TransientError,
    Uncertain,
    Unreachable,
)
from tests.people import approved_member

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock(FakeClock):
    """A clock the tests move (the worker's sleeps move it too)."""

    def __init__(self, start: datetime = T0) -> None:
        super().__init__(start)

    async def sleep(self, seconds: float) -> None:
        self.advance(timedelta(seconds=seconds))


@dataclass(frozen=True)
class Boss:
    """An actor (the shape of bot.access.Actor the outbox needs)."""

    user_id: int
    is_admin: bool = False


class FakeSender:
    """Records each send; per-address scripts raise DeliveryErrors before succeeding."""

    channel = "telegram"

    def __init__(self, clock: Clock, limits: tuple[Limit, ...] = ()) -> None:
        self.clock = clock
        self._limits = limits
        self.script: dict[str, list[BaseException]] = {}
        self.calls: list[tuple[str, datetime]] = []
        self.delivered: Counter[str] = Counter()

    def limits(self, address: str) -> tuple[Limit, ...]:
        return tuple(
            Limit(lim.key.replace("{chat}", address), lim.count, lim.period)
            for lim in self._limits
        )

    async def send(self, address: str, message: OutgoingMessage) -> SendResult:
        self.calls.append((address, self.clock.now()))
        script = self.script.get(address)
        if script:
            raise script.pop(0)
        self.delivered[address] += 1
        return SendResult(message_id=str(len(self.calls)))


class Crash(BaseException):
    """Stands for SIGKILL: nothing after it runs."""


class RecordingSink:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.updates: list[tuple[datetime, BroadcastStatus]] = []

    async def update(self, status: BroadcastStatus) -> None:
        self.updates.append((self.clock.now(), status))


def people(*ids: int) -> list[Recipient]:
    return [Recipient("telegram", str(i), i) for i in ids]


def worker(
    db: Database,
    sender: FakeSender,
    clock: Clock,
    owner: str = "w1",
    sink: RecordingSink | None = None,
    **settings: object,
) -> OutboxWorker:
    return OutboxWorker(
        db,
        {"telegram": sender},
        clock,
        owner,
        sink,
        settings=WorkerSettings(**settings),  # type: ignore[arg-type]
        sleep=clock.sleep,
        timer=lambda: clock.now().timestamp(),
    )


async def add_users(db: Database, *ids: int, reachable: bool = True) -> None:
    async with db.session() as s:
        for i in ids:
            s.add(User(id=i, name=f"u{i}", reachable=reachable))


async def states(db: Database) -> dict[str, str]:
    async with db.session() as s:
        rows = (await s.execute(select(OutboxRow.address, OutboxRow.state))).all()
    return {address: state for address, state in rows}  # noqa: C416


MSG = OutgoingMessage(text="hello")


async def test_create_stores_one_row_per_recipient_and_skips_unreachable(db: Database) -> None:
    clock = Clock()
    outbox = Outbox(db, clock)
    await add_users(db, 1, 2)
    await add_users(db, 3, reachable=False)
    bid = await outbox.create_broadcast(
        kind="notice", created_by=9, message=MSG, recipients=people(1, 2, 2, 3)
    )
    st = await outbox.status(bid)
    assert (st.total, st.skipped, st.count(RowState.PENDING)) == (2, 1, 2)
    assert st.state == "active"
    assert await outbox.message(bid) == MSG
    empty = await outbox.create_broadcast(kind="notice", created_by=9, message=MSG, recipients=[])
    assert (await outbox.status(empty)).finished


async def test_pacing_honours_overall_and_per_chat_limits(db: Database) -> None:
    clock = Clock()
    limits = (Limit("all", 5, 1.0), Limit("chat:{chat}", 1, 1.0))
    sender = FakeSender(clock, limits)
    await Outbox(db, clock).create_broadcast(
        kind="notice", created_by=1, message=MSG, recipients=people(*range(1, 11))
    )
    assert await worker(db, sender, clock).run_once() == 10
    times = [t for _, t in sender.calls]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert min(gaps) == pytest.approx(0.2)
    assert (times[-1] - times[0]).total_seconds() == pytest.approx(1.8)


async def test_rate_limit_pauses_the_channel_and_is_not_a_failure(db: Database) -> None:
    clock = Clock()
    sender = FakeSender(clock)
    sender.script["1"] = [RateLimited("429", retry_after=7)]
    outbox = Outbox(db, clock)
    bid = await outbox.create_broadcast(
        kind="notice", created_by=1, message=MSG, recipients=people(1, 2, 3)
    )
    w = worker(db, sender, clock)
    assert await w.run_once() == 1  # the 429; the rest wait for the pause
    assert await w.run_once() == 0
    assert sender.delivered == Counter()
    clock.advance(timedelta(seconds=7))
    assert await w.run_once() == 3
    st = await outbox.status(bid)
    assert (st.sent, st.failed, st.rate_limited, st.rate_limited_seconds) == (3, 0, 1, 7.0)
    assert st.finished


async def test_server_errors_back_off_then_succeed(db: Database) -> None:
    clock = Clock()
    sender = FakeSender(clock)
    sender.script["1"] = [TransientError("502"), TransientError("503")]
    await Outbox(db, clock).create_broadcast(
        kind="notice", created_by=1, message=MSG, recipients=people(1)
    )
    w = worker(db, sender, clock)
    assert await w.run_once() == 1
    clock.advance(timedelta(seconds=1.9))
    assert await w.run_once() == 0  # backoff 2 s not over
    clock.advance(timedelta(seconds=0.1))
    assert await w.run_once() == 1
    clock.advance(timedelta(seconds=3.9))
    assert await w.run_once() == 0  # second backoff is 4 s
    clock.advance(timedelta(seconds=0.1))
    assert await w.run_once() == 1
    assert await states(db) == {"1": "sent"}
    assert sender.delivered == Counter({"1": 1})


async def test_retries_are_bounded_then_failed(db: Database) -> None:
    clock = Clock()
    sender = FakeSender(clock)
    sender.script["1"] = [TransientError("network")] * 10
    outbox = Outbox(db, clock)
    bid = await outbox.create_broadcast(
        kind="notice", created_by=1, message=MSG, recipients=people(1)
    )
    w = worker(db, sender, clock, max_attempts=3)
    for _ in range(10):
        await w.run_once()
        clock.advance(timedelta(minutes=10))
    assert len(sender.calls) == 3
    st = await outbox.status(bid)
    assert (st.failed, st.finished) == (1, True)


async def test_timeout_is_uncertain_and_never_resent(db: Database) -> None:
    clock = Clock()
    sender = FakeSender(clock)
    sender.script["1"] = [Uncertain("timed out")]
    sender.script["2"] = [PermanentError("message is too long")]
    outbox = Outbox(db, clock)
    bid = await outbox.create_broadcast(
        kind="notice", created_by=1, message=MSG, recipients=people(1, 2)
    )
    w = worker(db, sender, clock)
    await w.run_once()
    clock.advance(timedelta(hours=1))
    await w.recover()
    assert await w.run_once() == 0
    assert [a for a, _ in sender.calls] == ["1", "2"]
    st = await outbox.status(bid)
    assert (st.uncertain, st.failed, st.finished) == (1, 1, True)


async def test_blocked_user_is_unreachable_and_skipped_next_time(db: Database) -> None:
    clock = Clock()
    await add_users(db, 1, 2)
    sender = FakeSender(clock)
    sender.script["1"] = [Unreachable("Forbidden: bot was blocked by the user")]
    outbox = Outbox(db, clock)
    bid = await outbox.create_broadcast(
        kind="notice", created_by=1, message=MSG, recipients=people(1, 2)
    )
    await worker(db, sender, clock).run_once()
    assert (await outbox.status(bid)).unreachable == 1
    async with db.session() as s:
        assert await s.scalar(select(User.reachable).where(User.id == 1)) is False
    again = await outbox.create_broadcast(
        kind="notice", created_by=1, message=MSG, recipients=people(1, 2)
    )
    st = await outbox.status(again)
    assert (st.total, st.skipped) == (1, 1)
    # Writing to the bot again (users.reachable back to True) brings them back.
    async with db.session() as s:
        await s.execute(update(User).where(User.id == 1).values(reachable=True))
    third = await outbox.create_broadcast(
        kind="notice", created_by=1, message=MSG, recipients=people(1, 2)
    )
    assert (await outbox.status(third)).total == 2


@pytest.mark.parametrize("crash_at", [0, 2, 4])
async def test_crash_mid_batch_resumes_without_loss_or_duplicates(
    db: Database, crash_at: int
) -> None:
    clock = Clock()
    sender = FakeSender(clock)
    ids = list(range(1, 8))
    crashed = str(ids[crash_at])
    sender.script[crashed] = [Crash()]  # dies inside the network call: row is `sending`
    outbox = Outbox(db, clock)
    bid = await outbox.create_broadcast(
        kind="notice", created_by=1, message=MSG, recipients=people(*ids)
    )
    first = worker(db, sender, clock, owner="proc-1")
    with pytest.raises(Crash):
        await first.run_once()
    left = await states(db)
    assert left[crashed] == "sending"
    assert {left[str(i)] for i in ids[crash_at + 1 :]} <= {"claimed"}
    # Restart: a new process, same database.
    second = worker(db, sender, clock, owner="proc-1")
    await second.recover()
    while await second.run_once():
        pass
    assert sender.delivered == Counter({str(i): 1 for i in ids if str(i) != crashed})
    st = await outbox.status(bid)
    assert (st.sent, st.uncertain, st.finished) == (6, 1, True)


async def test_crash_after_claim_returns_rows_to_pending(db: Database) -> None:
    clock = Clock()
    sender = FakeSender(clock)
    outbox = Outbox(db, clock)
    await outbox.create_broadcast(
        kind="notice", created_by=1, message=MSG, recipients=people(1, 2, 3)
    )
    claimed = await worker(db, sender, clock, owner="dead")._claim()
    assert len(claimed) == 3
    survivor = worker(db, sender, clock, owner="alive")
    assert await survivor.run_once() == 0  # the dead process's lease still holds
    clock.advance(timedelta(minutes=3))
    assert await survivor.run_once() == 3  # lease expired: claims went back to the pool
    assert sender.delivered == Counter({"1": 1, "2": 1, "3": 1})


async def test_cancel_stops_remaining_rows_and_checks_who_asks(db: Database) -> None:
    clock = Clock()
    sender = FakeSender(clock)
    outbox = Outbox(db, clock)
    bid = await outbox.create_broadcast(
        kind="notice", created_by=5, message=MSG, recipients=people(*range(1, 11))
    )
    w = worker(db, sender, clock, batch_size=3)
    assert await w.run_once() == 3
    with pytest.raises(BroadcastDenied):
        await outbox.cancel(bid, Boss(6))
    assert await outbox.cancel(bid, Boss(5)) is True
    assert await outbox.cancel(bid, Boss(7, is_admin=True)) is False  # already cancelled
    assert await w.run_once() == 0
    st = await outbox.status(bid)
    assert (st.sent, st.cancelled, st.state) == (3, 7, "cancelled")
    assert len(sender.calls) == 3


async def test_cancel_between_claim_and_send_wins(db: Database) -> None:
    clock = Clock()
    sender = FakeSender(clock)
    outbox = Outbox(db, clock)
    bid = await outbox.create_broadcast(
        kind="notice", created_by=5, message=MSG, recipients=people(1, 2)
    )
    w = worker(db, sender, clock)
    claimed = await w._claim()
    await outbox.cancel(bid, Boss(1, is_admin=True))
    assert not await w._mark_sending(claimed[0])
    assert sender.calls == []


async def test_progress_is_throttled_and_ends_with_a_summary(db: Database) -> None:
    clock = Clock()
    sender = FakeSender(clock, (Limit("all", 2, 1.0),))
    sink = RecordingSink(clock)
    outbox = Outbox(db, clock)
    bid = await outbox.create_broadcast(
        kind="notice",
        created_by=5,
        message=MSG,
        recipients=people(*range(1, 21)),
        progress_chat=5,
    )
    w = worker(db, sender, clock, "w1", sink, batch_size=7)
    while await w.run_once():
        pass
    times = [t for t, _ in sink.updates]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times[:-1])]
    assert all(g >= 2 for g in gaps)
    assert 4 <= len(sink.updates) <= 7
    final = sink.updates[-1][1]
    assert (final.id, final.finished, final.sent, final.total) == (bid, True, 20, 20)
    assert all(not s.finished for _, s in sink.updates[:-1])
    # No progress chat: no updates at all.
    sink.updates.clear()
    await outbox.create_broadcast(kind="notice", created_by=5, message=MSG, recipients=people(1))
    while await w.run_once():
        pass
    assert sink.updates == []


async def test_group_limit_defers_instead_of_stalling_others(db: Database) -> None:
    clock = Clock()
    sender = FakeSender(clock, (Limit("all", 25, 1.0),))
    group = Limit("chat:-100", 20, 60.0)
    sender.limits = lambda a: (Limit("all", 25, 1.0), group) if a == "-100" else ()  # type: ignore[method-assign,assignment]
    outbox = Outbox(db, clock)
    for _ in range(2):
        await outbox.create_broadcast(
            kind="notice",
            created_by=1,
            message=MSG,
            recipients=[Recipient("telegram", "-100"), *people(1, 2, 3)],
        )
    w = worker(db, sender, clock)
    start = clock.now()
    assert await w.run_once() == 7  # the group's second message waits for its slot
    assert (clock.now() - start).total_seconds() < 1
    assert await w.run_once() == 0
    clock.advance(timedelta(seconds=3))
    assert await w.run_once() == 1
    assert sender.delivered["-100"] == 2


async def test_recent_shows_own_broadcasts_and_admins_see_all(db: Database) -> None:
    clock = Clock()
    outbox = Outbox(db, clock)
    a = await outbox.create_broadcast(kind="notice", created_by=1, message=MSG, recipients=[])
    b = await outbox.create_broadcast(
        kind="event", created_by=2, message=MSG, recipients=people(3)
    )
    assert [s.id for s in await outbox.recent(Boss(1))] == [a]
    assert [s.id for s in await outbox.recent(Boss(9, is_admin=True))] == [b, a]
    assert (await outbox.recent(Boss(2)))[0].remaining == 1


async def test_audience_is_the_members_of_the_chosen_parks(db: Database) -> None:
    from bot.models import City, Park

    async with db.session() as s:
        s.add(City(id=1, name="长春"))
        s.add_all([Park(id=1, name="A", city_id=1), Park(id=2, name="B", city_id=1)])
        await s.flush()
        s.add_all(
            [
                approved_member(11, 1),
                approved_member(12, 2),
                RoleGrant(user_id=13, role="secretary", park_id=1),
            ]
        )
    async with db.session() as s:
        assert await audience_for_parks(s, [1]) == [Recipient("telegram", "11", 11)]
        assert [r.user_id for r in await audience_for_parks(s, None)] == [11, 12]


async def test_two_workers_share_a_broadcast_without_duplicates(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("several processes need PostgreSQL")

    class RealClock:
        def now(self) -> datetime:
            return datetime.now(UTC)

    delivered: Counter[str] = Counter()

    class SlowSender:
        channel = "telegram"

        def limits(self, address: str) -> tuple[Limit, ...]:
            return ()

        async def send(self, address: str, message: OutgoingMessage) -> SendResult:
            await asyncio.sleep(0.001)  # let the other worker run while this one "sends"
            delivered[address] += 1
            return SendResult()

    clock = RealClock()
    ids = range(1, 301)
    bid = await Outbox(db, clock).create_broadcast(
        kind="notice", created_by=1, message=MSG, recipients=people(*ids)
    )
    other = Database(db.url)  # a second engine, as a second process would have
    sender = SlowSender()
    settings = WorkerSettings(batch_size=10)
    workers = [
        OutboxWorker(db, {"telegram": sender}, clock, "p1", settings=settings),
        OutboxWorker(other, {"telegram": sender}, clock, "p2", settings=settings),
    ]

    async def drain(w: OutboxWorker) -> int:
        total = 0
        while n := await w.run_once():
            total += n
        return total

    try:
        counts = await asyncio.gather(*(drain(w) for w in workers))
    finally:
        await other.dispose()
    assert all(n > 0 for n in counts)
    assert sum(counts) == 300
    assert delivered == Counter({str(i): 1 for i in ids})
    assert (await Outbox(db, clock).status(bid)).sent == 300


def test_limiter_spaces_sends_evenly() -> None:
    limiter = RateLimiter()
    limits = (Limit("all", 4, 1.0),)
    waits = [limiter.reserve(limits, 100.0) for _ in range(5)]
    assert waits == pytest.approx([0, 0.25, 0.5, 0.75, 1.0])
    assert limiter.wait_for(limits, 102.0) == 0


def test_throttle_lets_one_update_per_interval() -> None:
    throttle = ProgressThrottle()
    assert throttle.due(1, T0)
    throttle.mark(1, T0)
    assert not throttle.due(1, T0 + timedelta(seconds=1.9))
    assert throttle.due(2, T0)
    assert throttle.due(1, T0 + timedelta(seconds=2))


@dataclass(frozen=True)
class Secretary:
    user_id: int
    secretary_park_ids: frozenset[int] = frozenset()
    is_admin: bool = False


async def _two_parks(db: Database) -> None:
    from bot.models import City, Park

    async with db.session() as s:
        s.add(City(id=1, name="吉林"))
        s.add_all([Park(id=1, name="A", city_id=1), Park(id=2, name="B", city_id=1)])
        await s.flush()
        s.add_all(
            [
                approved_member(11, 1),
                approved_member(12, 1),
                approved_member(21, 2),
            ]
        )


async def test_notice_scope_secretary_own_parks_admin_anywhere(db: Database) -> None:
    from bot.outbox.notices import NoticeDraft, NoticeService

    await _two_parks(db)
    clock = Clock()
    outbox = Outbox(db, clock)
    notices = NoticeService(db, outbox)
    sec = Secretary(5, frozenset({1}))
    admin = Secretary(9, is_admin=True)
    assert len(await notices.recipients(sec, [1])) == 2
    for scope in ([2], [1, 2], None, []):
        with pytest.raises(BroadcastDenied):
            await notices.recipients(sec, scope)
    assert len(await notices.recipients(admin, None)) == 3
    bid = await notices.send(sec, NoticeDraft("开会", (1,)), progress_chat=5)
    st = await outbox.status(bid)
    assert (st.kind, st.total, st.created_by, st.park_ids, st.progress_chat) == (
        "notice",
        2,
        5,
        (1,),
        5,
    )


def test_notice_text_limits_count_utf16() -> None:
    from bot.outbox.notices import NoticeDraft, NoticeInvalid, NoticeService

    NoticeService.validate(NoticeDraft("字" * 4096, None))
    with pytest.raises(NoticeInvalid):
        NoticeService.validate(NoticeDraft("😀" * 2049, None))  # 4098 UTF-16 units
    with pytest.raises(NoticeInvalid):
        NoticeService.validate(NoticeDraft("  ", None))


def test_progress_text_running_final_and_cancelled() -> None:
    from bot.outbox.progress import progress_text
    from bot.texts import Texts

    texts = Texts.load()
    base: dict[str, Any] = {
        "id": 7,
        "kind": "notice",
        "created_by": 1,
        "created_at": T0,
        "finished_at": None,
        "total": 500,
        "skipped": 3,
    }
    running = BroadcastStatus(
        state="active", counts={"sent": 312, "failed": 2, "unreachable": 5}, **base
    )
    assert progress_text(texts, "zh", running) == "群发 #7：已发送 312/500，失败 2，无法送达 5"
    done = BroadcastStatus(
        state="done",
        counts={"sent": 493, "failed": 2, "unreachable": 5},
        rate_limited=2,
        rate_limited_seconds=14.0,
        **base,
    )
    summary = progress_text(texts, "en", done)
    assert "finished: sent 493/500" in summary
    assert "2 times, 14 s" in summary
    cancelled = BroadcastStatus(state="cancelled", counts={"cancelled": 400}, **base)
    assert "未发送 400" in progress_text(texts, "zh", cancelled)


def test_limiter_catches_up_after_a_slow_send_but_never_bursts_past_the_limit() -> None:
    limiter = RateLimiter()
    overall = (Limit("all", 25, 1.0),)
    t = 100.0
    sends = []
    for i in range(200):
        if i % 20 == 0:
            t += 0.1  # a slow commit now and then
        t += limiter.reserve(overall, t)
        sends.append(t)
    # Slow moments are made up: the pace stays at the limit ...
    assert len(sends) / (sends[-1] - sends[0]) == pytest.approx(25, rel=0.05)
    # ... and no one-second window holds more than 28 (Telegram allows about 30).
    assert max(sum(1 for s in sends if a <= s < a + 1) for a in sends) <= 28
    per_chat = (Limit("chat", 1, 1.0),)
    assert [limiter.reserve(per_chat, 200.0) for _ in range(3)] == [0, 1.0, 2.0]


async def test_recover_leaves_live_processes_rows_alone_on_postgresql(db: Database) -> None:
    clock = Clock()
    sender = FakeSender(clock)
    await Outbox(db, clock).create_broadcast(
        kind="notice", created_by=1, message=MSG, recipients=people(1, 2)
    )
    alive = worker(db, sender, clock, owner="alive")
    rows = await alive._claim()
    assert await alive._mark_sending(rows[0])  # "alive" is mid-send on row 1
    await worker(db, sender, clock, owner="restarted").recover()
    left = await states(db)
    if db.is_sqlite:  # one process only: whatever was in flight died with it
        assert left == {"1": "uncertain", "2": "pending"}
        return
    assert left == {"1": "sending", "2": "claimed"}
    clock.advance(timedelta(minutes=3))  # alive's lease ran out: it is dead after all
    await worker(db, sender, clock, owner="restarted").recover()
    assert await states(db) == {"1": "uncertain", "2": "pending"}


async def test_only_the_clock_holder_sends_and_a_standby_takes_over(db: Database) -> None:
    """Telegram's ~30/s is per bot: one process sends at a time, the clock holder's."""
    if db.is_sqlite:
        pytest.skip("several processes need PostgreSQL")
    from bot.leader import ClockLeader

    class RealClock:
        def now(self) -> datetime:
            return datetime.now(UTC)

    class Recording:
        channel = "telegram"

        def __init__(self) -> None:
            self.delivered: Counter[str] = Counter()

        def limits(self, address: str) -> tuple[Limit, ...]:
            return ()

        async def send(self, address: str, message: OutgoingMessage) -> SendResult:
            self.delivered[address] += 1
            return SendResult()

    clock = RealClock()
    other = Database(db.url)  # a second process's engine
    leaders = [ClockLeader(db), ClockLeader(other)]
    senders = [Recording(), Recording()]
    settings = WorkerSettings(batch_size=10, idle_poll=0.05)
    workers = [
        OutboxWorker(d, {"telegram": s}, clock, f"p{n}", settings=settings, gate=lead.is_leader)
        for n, (d, s, lead) in enumerate(zip((db, other), senders, leaders, strict=True))
    ]
    assert await leaders[0].is_leader()  # process 0 runs the clock
    stops = [asyncio.Event(), asyncio.Event()]
    loops = [
        asyncio.create_task(w.run_forever(stop)) for w, stop in zip(workers, stops, strict=True)
    ]
    outbox = Outbox(db, clock)

    async def sent(bid: int, count: int) -> None:
        async with asyncio.timeout(20):
            while (await outbox.status(bid)).sent < count:  # noqa: ASYNC110 (rows in the DB)
                await asyncio.sleep(0.05)

    try:
        first = await outbox.create_broadcast(
            kind="notice", created_by=1, message=MSG, recipients=people(*range(1, 51))
        )
        await sent(first, 50)
        assert senders[0].delivered == Counter({str(i): 1 for i in range(1, 51)})
        assert not senders[1].delivered  # the standby's loop never sent

        await leaders[0].release()  # the holder goes away (its process stops)
        stops[0].set()
        second = await outbox.create_broadcast(
            kind="notice", created_by=1, message=MSG, recipients=people(*range(51, 81))
        )
        await sent(second, 30)
        assert senders[1].delivered == Counter({str(i): 1 for i in range(51, 81)})
        assert sum(senders[0].delivered.values()) == 50
    finally:
        for stop in stops:
            stop.set()
        await asyncio.gather(*loops)
        for lead in leaders:
            await lead.release()
        await other.dispose()
