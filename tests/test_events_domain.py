"""Events domain without Telegram: scope, RSVP, waiting list, reminders, .ics, export."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from icalendar import Calendar
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.access import AccessDenied, Actor, Grant, Role
from bot.clock import FakeClock
from bot.db import Database
from bot.events.audience import erase_rsvps, event_audience
from bot.events.export import attendees_csv, attendees_xlsx
from bot.events.notify import EventNotices, events_tick
from bot.events.parse import DateTimeFormatError, parse_local_datetime
from bot.events.render import EV_RSVP, EV_WITHDRAW, event_card, ics_attachment
from bot.events.service import (
    EventDraft,
    EventError,
    EventKind,
    EventsService,
    RsvpStatus,
)
from bot.models.core import City, Park, RoleGrant, User
from bot.models.events import EventReminder
from bot.sender import OutgoingMessage
from bot.texts import Texts
from tests.people import approved_member

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def actor(
    user_id: int,
    *,
    admin: bool = False,
    secretary: tuple[int, ...] = (),
    member: tuple[int, ...] = (),
) -> Actor:
    grants = {Grant(Role.SECRETARY, park_id=p) for p in secretary}
    grants |= {Grant(Role.MEMBER, park_id=p) for p in member}
    if admin:
        grants.add(Grant(Role.ADMIN))
    return Actor(user_id, frozenset(grants))


@dataclass
class Recorded:
    """A broadcaster that keeps what it was asked to send."""

    sent: list[tuple[int, OutgoingMessage]] = field(default_factory=list)

    async def broadcast(
        self,
        *,
        kind: str,
        created_by: int,
        message: OutgoingMessage,
        user_ids,
        park_ids,
        lang=None,
        robots=False,
    ) -> None:
        self.sent.extend((u, message) for u in user_ids)

    async def robot_languages(self, park_ids, kind: str) -> set[str]:
        return set()

    def to(self, user_id: int) -> list[str]:
        return [m.text for u, m in self.sent if u == user_id]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'events.db'}")
        name = None
    else:
        name = f"events_{uuid.uuid4().hex[:12]}"
        try:
            admin = await asyncpg.connect(PG_ADMIN)
        except OSError:
            pytest.skip("PostgreSQL not reachable")
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        database = Database(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}")
    await database.upgrade()
    async with database.session() as s:
        s.add(City(id=1, name="长春"))
        s.add_all([Park(id=1, name="长春新区", city_id=1), Park(id=2, name="净月", city_id=1)])
    try:
        yield database
    finally:
        await database.dispose()
        if name:
            admin = await asyncpg.connect(PG_ADMIN)
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            await admin.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def service(db: Database, clock: FakeClock) -> EventsService:
    return EventsService(db, clock)


SECRETARY = actor(100, secretary=(1,))


def draft(**changes: object) -> EventDraft:
    values: dict[str, object] = {
        "title": "人工智能学术交流会",
        "kind": EventKind.ACADEMIC,
        "starts_at": T0 + timedelta(days=3),
        "ends_at": T0 + timedelta(days=3, hours=2),
        "place": "长春新区科创中心 301",
        "description": "邀请吉林大学专家分享。",
        "capacity": 2,
        "park_ids": (1,),
    }
    values.update(changes)
    return EventDraft(**values)  # type: ignore[arg-type]


def member(user_id: int, park: int = 1) -> Actor:
    return actor(user_id, member=(park,))


# -- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-05 14:00",
        "12月5日 14:00",
        "12/5 14:00",
        "2026年12月5日下午2点",
        "１２月５日　１４：００",
    ],
)
def test_typed_forms_mean_the_same_instant(text: str) -> None:
    got = parse_local_datetime(text, T0, TZ)
    assert got == datetime(2026, 12, 5, 6, 0, tzinfo=UTC)


def test_date_without_year_already_past_means_next_year() -> None:
    assert parse_local_datetime("1/5 9:00", T0, TZ).astimezone(TZ).year == 2027


def test_time_only_takes_base_date_and_date_only_takes_default_time() -> None:
    day = datetime(2026, 12, 5).date()
    assert parse_local_datetime("16:30", T0, TZ, base_date=day).astimezone(TZ).hour == 16
    deadline = parse_local_datetime("12/4", T0, TZ, default_time=time(23, 59)).astimezone(TZ)
    assert (deadline.day, deadline.hour, deadline.minute) == (4, 23, 59)


@pytest.mark.parametrize("text", ["tomorrow", "13/40 10:00", "12/5 25:00", "12/5", "2/30 10:00"])
def test_unreadable_times_are_refused(text: str) -> None:
    with pytest.raises(DateTimeFormatError):
        parse_local_datetime(text, T0, TZ)


# -- create / validation / scope ---------------------------------------------------------------


async def test_secretary_creates_for_own_park_only(service: EventsService) -> None:
    event = await service.create(SECRETARY, draft())
    assert (event.park_ids, event.sequence, event.places_left) == ((1,), 0, 2)
    with pytest.raises(AccessDenied):
        await service.create(SECRETARY, draft(park_ids=(2,)))
    admin = actor(1, admin=True)
    both = await service.create(admin, draft(park_ids=(1, 2)))
    assert both.park_ids == (1, 2)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"starts_at": T0 - timedelta(minutes=1)}, "start_in_past"),
        ({"ends_at": T0 + timedelta(days=3)}, "end_before_start"),
        ({"capacity": 0}, "capacity_invalid"),
        ({"signup_deadline": T0 + timedelta(days=4)}, "deadline_after_start"),
        ({"signup_deadline": T0 - timedelta(hours=1)}, "deadline_in_past"),
        ({"title": "  "}, "title_invalid"),
        ({"park_ids": ()}, "no_parks"),
    ],
)
async def test_invalid_drafts_are_refused(service: EventsService, changes, code: str) -> None:
    with pytest.raises(EventError) as err:
        await service.create(actor(1, admin=True), draft(**changes))
    assert err.value.code == code


# -- RSVP ---------------------------------------------------------------------------------


async def test_full_event_waitlists_and_cancellation_promotes_first(
    service: EventsService,
) -> None:
    event = await service.create(SECRETARY, draft(capacity=2))
    first = await service.rsvp(member(1), event.id)
    assert (first.status, first.event.places_left) == (RsvpStatus.GOING, 1)
    await service.rsvp(member(2), event.id)
    third = await service.rsvp(member(3), event.id)
    fourth = await service.rsvp(member(4), event.id)
    assert (third.status, third.position, fourth.position) == (RsvpStatus.WAITING, 1, 2)
    again = await service.rsvp(member(3), event.id)
    assert again.already
    assert again.status == RsvpStatus.WAITING

    out = await service.withdraw(member(1), event.id)
    assert (out.was, out.promoted) == (RsvpStatus.GOING, (3,))
    assert await service.status_of(3, event.id) == RsvpStatus.GOING
    assert await service.status_of(4, event.id) == RsvpStatus.WAITING

    left = await service.withdraw(member(4), event.id)
    assert (left.was, left.promoted) == (RsvpStatus.WAITING, ())
    none = await service.withdraw(member(4), event.id)
    assert none.was == RsvpStatus.NONE


async def test_signup_refused_after_deadline_for_cancelled_and_outsiders(
    service: EventsService, clock: FakeClock
) -> None:
    event = await service.create(SECRETARY, draft(signup_deadline=T0 + timedelta(days=1)))
    with pytest.raises(EventError) as err:
        await service.rsvp(member(9, park=2), event.id)
    assert err.value.code == "not_in_audience"
    clock.set(T0 + timedelta(days=1, seconds=1))
    with pytest.raises(EventError) as err:
        await service.rsvp(member(1), event.id)
    assert err.value.code == "deadline_passed"
    other = await service.create(SECRETARY, draft(signup_deadline=None))
    await service.cancel(SECRETARY, other.id)
    with pytest.raises(EventError) as err:
        await service.rsvp(member(1), other.id)
    assert err.value.code == "cancelled"


async def test_concurrent_signups_never_overbook(service: EventsService) -> None:
    event = await service.create(SECRETARY, draft(capacity=5))
    results = await asyncio.gather(*(service.rsvp(member(u), event.id) for u in range(1, 21)))
    going = [r for r in results if r.status == RsvpStatus.GOING]
    waiting = sorted(r.position for r in results if r.status == RsvpStatus.WAITING)
    assert len(going) == 5
    assert waiting == list(range(1, 16))
    final = await service.get(event.id)
    assert (final.going, final.waiting, final.places_left) == (5, 15, 0)


# -- edit / cancel -------------------------------------------------------------------------


async def test_edit_bumps_sequence_promotes_and_names_everyone_signed_up(
    service: EventsService,
) -> None:
    event = await service.create(SECRETARY, draft(capacity=1))
    for u in (1, 2, 3):
        await service.rsvp(member(u), event.id)
    out = await service.edit(SECRETARY, event.id, capacity=2, place="新地点")
    assert out.event.sequence == 1
    assert out.promoted == (2,)
    assert set(out.notify) == {1, 2, 3}
    assert out.changed == ("place", "capacity")
    with pytest.raises(EventError) as err:
        await service.edit(SECRETARY, event.id, capacity=1)
    assert err.value.code == "capacity_below_going"
    with pytest.raises(AccessDenied):
        await service.edit(actor(7, secretary=(2,)), event.id, title="x")
    cancelled = await service.cancel(SECRETARY, event.id)
    assert cancelled.event.cancelled
    assert cancelled.event.sequence == 2
    with pytest.raises(EventError):
        await service.edit(SECRETARY, event.id, title="late")


# -- reminders -------------------------------------------------------------------------------


async def test_reminders_24h_and_1h_once_each_never_after_start(
    service: EventsService, db: Database, clock: FakeClock
) -> None:
    event = await service.create(SECRETARY, draft(capacity=None))
    await service.rsvp(member(1), event.id)
    await service.rsvp(member(2), event.id)
    start = event.starts_at
    clock.set(start - timedelta(hours=25))
    assert await service.claim_due_reminders() == []
    clock.set(start - timedelta(hours=24))
    [batch] = await service.claim_due_reminders()
    assert (batch.slot, batch.user_ids) == ("24h", (1, 2))
    assert await service.claim_due_reminders() == []
    clock.set(start - timedelta(minutes=59))
    [batch] = await service.claim_due_reminders()
    assert batch.slot == "1h"
    assert await service.claim_due_reminders() == []
    clock.set(start + timedelta(seconds=1))
    assert await service.claim_due_reminders() == []
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(EventReminder)) == 4


async def test_downtime_sends_only_the_latest_slot_late_and_nothing_after_start(
    service: EventsService, clock: FakeClock
) -> None:
    event = await service.create(SECRETARY, draft(capacity=None))
    await service.rsvp(member(1), event.id)
    clock.set(event.starts_at - timedelta(hours=20))  # the 24 h slot was missed while down
    [batch] = await service.claim_due_reminders()
    assert batch.slot == "24h"
    clock.set(event.starts_at - timedelta(minutes=10))
    [batch] = await service.claim_due_reminders()
    assert batch.slot == "1h"

    late = await service.create(SECRETARY, draft(capacity=None))
    await service.rsvp(member(1), late.id)
    clock.set(late.starts_at + timedelta(minutes=5))  # down across both slots and the start
    assert await service.claim_due_reminders() == []


async def test_rescheduling_owes_reminders_again(service: EventsService, clock: FakeClock) -> None:
    event = await service.create(SECRETARY, draft(capacity=None))
    await service.rsvp(member(1), event.id)
    clock.set(event.starts_at - timedelta(hours=23))
    assert len(await service.claim_due_reminders()) == 1
    moved = event.starts_at + timedelta(days=2)
    await service.edit(SECRETARY, event.id, starts_at=moved, ends_at=moved + timedelta(hours=2))
    clock.set(moved - timedelta(hours=23))
    [batch] = await service.claim_due_reminders()
    assert batch.slot == "24h"


async def test_tick_sends_reminders_and_settles_after_erasure(
    service: EventsService, db: Database, clock: FakeClock
) -> None:
    async with db.session() as s:
        s.add_all([User(id=1, name="甲", language="zh"), User(id=2, name="B", language="en")])
    event = await service.create(SECRETARY, draft(capacity=1))
    await service.rsvp(member(1), event.id)
    await service.rsvp(member(2), event.id)
    async with db.session() as s:
        assert await erase_rsvps(s, 1) == 1
    sent = Recorded()
    notices = EventNotices(db, Texts.load(), TZ, sent)
    assert await events_tick(service, notices) == (0, 1)
    assert "A place came free" in sent.to(2)[0]
    clock.set(event.starts_at - timedelta(minutes=30))
    assert await events_tick(service, notices) == (1, 0)
    assert await events_tick(service, notices) == (0, 0)
    assert "within the hour" in sent.to(2)[1]


# -- audience, .ics, export, rendering ----------------------------------------------------


async def test_audience_is_approved_members_of_the_parks_in_the_fields(db: Database) -> None:
    async with db.session() as s:
        pending = approved_member(4, 1, "新材料")
        pending.status = "pending"
        withdrawn = approved_member(5, 2, "材料")
        withdrawn.status = "withdrawn"
        s.add_all(
            [
                approved_member(1, 1, "高分子材料"),
                approved_member(2, 2, "生物医药"),
                approved_member(6, 2, " "),
                pending,
                withdrawn,
                RoleGrant(user_id=3, role="secretary", park_id=1),
                RoleGrant(user_id=7, role="member", park_id=1),  # a grant alone is no member
            ]
        )
    async with db.session() as s:
        assert await event_audience(s, [1], []) == [1]
        assert await event_audience(s, [1, 2], []) == [1, 2, 6]
        assert await event_audience(s, [1, 2], ["材料"]) == [1]
        assert await event_audience(s, [1, 2], ["材料", "医药"]) == [1, 2]
        assert await event_audience(s, [], []) == []


async def test_ics_has_stable_uid_timezone_and_rising_sequence(service: EventsService) -> None:
    event = await service.create(SECRETARY, draft())
    first = Calendar.from_ical(ics_attachment(event, TZ).content or b"")
    edited = (await service.edit(SECRETARY, event.id, title="新标题")).event
    second = Calendar.from_ical(ics_attachment(edited, TZ).content or b"")
    [v1], [v2] = first.walk("VEVENT"), second.walk("VEVENT")
    assert str(v1["UID"]) == str(v2["UID"]) == f"event-{event.id}@parkbot"
    assert (int(v1["SEQUENCE"]), int(v2["SEQUENCE"])) == (0, 1)
    assert v1["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert v1.decoded("DTSTART").astimezone(UTC) == event.starts_at
    assert first.walk("VTIMEZONE")
    cancelled = (await service.cancel(SECRETARY, event.id)).event
    gone = Calendar.from_ical(ics_attachment(cancelled, TZ).content or b"")
    assert str(gone["METHOD"]) == "CANCEL"
    assert str(gone.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"


async def test_attendee_exports(service: EventsService, db: Database) -> None:
    async with db.session() as s:
        s.add(User(id=1, name="张三"))
    event = await service.create(SECRETARY, draft(capacity=1))
    await service.rsvp(member(1), event.id)
    await service.rsvp(member(2), event.id)
    view, people = await service.attendees(SECRETARY, event.id)
    assert [(p.user_id, p.status) for p in people] == [
        (1, RsvpStatus.GOING),
        (2, RsvpStatus.WAITING),
    ]
    texts = Texts.load()
    data = attendees_csv(people, texts, "zh", TZ)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][1] == "姓名"
    assert rows[1][1:4] == ["张三", "1", "已报名"]
    book = load_workbook(io.BytesIO(attendees_xlsx(view, people, texts, "zh", TZ)))
    sheet = book.active
    assert sheet is not None
    assert sheet["B2"].value == "张三"
    assert sheet["D3"].value == "候补中"
    with pytest.raises(AccessDenied):
        await service.attendees(member(1), event.id)


async def test_card_shows_places_left_and_buttons_carry_the_id(service: EventsService) -> None:
    event = await service.create(SECRETARY, draft(capacity=2))
    out = await service.rsvp(member(1), event.id)
    texts = Texts.load()
    card = event_card(out.event, texts, "zh", TZ)
    assert "剩余名额：1 / 2" in card
    assert "2026-11-30 10:00 – 12:00" in card
    attachment = ics_attachment(out.event, TZ)
    assert attachment.filename == f"event-{event.id}.ics"
    from bot.events.render import rsvp_buttons

    [[sign, leave]] = rsvp_buttons(out.event, texts, "en")
    assert (sign.data, leave.data) == (f"{EV_RSVP}{event.id}", f"{EV_WITHDRAW}{event.id}")
    assert len((sign.data or "").encode()) <= 64
