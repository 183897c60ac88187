"""Events end to end through the PTB application: create, RSVP, waiting list, edit, reminders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar
from sqlalchemy import func, select

from bot.access import Role
from bot.localapi import ApiCall
from bot.models.events import Event, EventReminder
from bot.models.outbox import OutboxRow, RowState
from bot.outbox.worker import OutboxWorker
from tests.harness import Harness

PARK = "长春新区"
SEC = 2001
MEMBERS = (3001, 3002, 3003)
OUTSIDER = 4001
START = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)  # 12月5日 14:00 in Shanghai


async def deliver(h: Harness) -> None:
    """Run the real outbox worker until nothing is due (its pacing waits move the fake clock)."""

    async def sleep(seconds: float) -> None:
        h.clock.advance(timedelta(seconds=seconds))

    worker = OutboxWorker(h.services.db, h.services.senders, h.clock, "e2e", sleep=sleep)
    for _ in range(100):
        if await worker.run_once() == 0:
            async with h.services.db.session() as s:
                later = await s.scalar(
                    select(func.min(OutboxRow.next_attempt_at)).where(
                        OutboxRow.state == RowState.PENDING.value
                    )
                )
            if later is None:
                return
            h.clock.set(max(h.clock.now(), later))


def t(h: Harness, key: str, **values: object) -> str:
    return h.services.texts.get(key, "zh", **values)


async def setup(h: Harness) -> None:
    await h.add_park(PARK, "长春市")
    await h.add_park("净月", "长春市")
    await h.grant(SEC, Role.SECRETARY, park=PARK)
    for user in MEMBERS:
        await h.grant(user, Role.MEMBER, park=PARK)
        await h.command(user, "/start")
    await h.grant(OUTSIDER, Role.MEMBER, park="净月")


async def create_event(h: Harness, *, capacity: str = "2", deadline: str = "12/4") -> int:
    await h.command(SEC, "/newevent")
    await h.text(SEC, "人工智能学术交流会")
    await h.press(SEC, "ev:kind:academic")
    await h.text(SEC, "12月5日 14:00")
    await h.text(SEC, "16:00")
    await h.text(SEC, "科创中心 301")
    await h.text(SEC, "邀请吉林大学专家分享。")
    await h.text(SEC, capacity)
    await h.text(SEC, deadline)
    preview = await h.press(SEC, "ev:aud:all")
    card = h.texts_of(preview)[1]
    # The preview is what members get: one document (.ics) carrying the text and the buttons.
    [shown] = [c for c in preview if c.method == "sendDocument"]
    assert shown.params["caption"] == card
    assert [d for _, d in h.buttons_of(shown)] == ["ev:rsvp:0", "ev:unrsvp:0"]
    assert "人工智能学术交流会（学术交流）" in card
    assert "2026-12-05 14:00 – 16:00" in card
    published = await h.press(SEC, "ev:pub")
    await deliver(h)
    async with h.services.db.session() as s:
        event_id = int(await s.scalar(select(func.max(Event.id))) or 0)
    assert t(h, "events.new.published", id=event_id, count=len(MEMBERS)) in h.texts_of(published)
    return event_id


def notice_id(h: Harness, user: int, event_id: int) -> int:
    """Return the message id of the newest message to user carrying the event's 报名 button."""
    ids = [
        mid
        for (chat, mid), message in h.api.messages.items()
        if chat == user
        and any(
            b.get("callback_data") == f"ev:rsvp:{event_id}"
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
            for b in row
        )
    ]
    assert ids, "no notice"
    return max(ids)


def answers(calls: list[ApiCall]) -> list[str]:
    return [str(c.params.get("text", "")) for c in calls if c.method == "answerCallbackQuery"]


def ics_of(h: Harness, user: int) -> Calendar:
    docs = [c for c in h.api.calls if c.method == "sendDocument" and c.chat_id == user]
    name, data = docs[-1].files["document"]
    assert name.endswith(".ics")
    return Calendar.from_ical(data)


async def test_event_lifecycle(harness: Harness) -> None:
    h = harness
    h.clock.set(datetime(2026, 12, 1, 1, 0, tzinfo=UTC))
    await setup(h)
    event_id = await create_event(h)
    # Only members of the park get the notice, with buttons and the calendar file.
    assert h.api.messages_to(OUTSIDER) == []
    cal = ics_of(h, 3001)
    [vevent] = cal.walk("VEVENT")
    assert str(vevent["UID"]) == f"event-{event_id}@parkbot"
    assert int(vevent["SEQUENCE"]) == 0
    assert vevent["DTSTART"].params["TZID"] == "Asia/Shanghai"

    first = await h.press(3001, f"ev:rsvp:{event_id}", message_id=notice_id(h, 3001, event_id))
    assert answers(first) == [t(h, "events.rsvp.going", left=1)]
    assert any("剩余名额：1 / 2" in x for x in h.texts_of(first))
    await h.press(3002, f"ev:rsvp:{event_id}", message_id=notice_id(h, 3002, event_id))
    full = await h.press(3003, f"ev:rsvp:{event_id}", message_id=notice_id(h, 3003, event_id))
    assert answers(full) == [t(h, "events.rsvp.waiting", position=1)]
    refused = await h.press(OUTSIDER, f"ev:rsvp:{event_id}")
    assert answers(refused) == [t(h, "events.error.not_in_audience")]

    left = await h.press(3001, f"ev:unrsvp:{event_id}", message_id=notice_id(h, 3001, event_id))
    assert answers(left) == [t(h, "events.rsvp.withdrawn")]
    await deliver(h)
    promoted = t(h, "events.notice.promoted", title="人工智能学术交流会")
    assert promoted in h.api.messages_to(3003)[-1]

    # /events shows the member's status; the organiser edits the place.
    listing = h.texts_of(await h.command(3003, "/events"))
    assert t(h, "events.list.status", status="已报名") in listing[0]
    organiser = await h.command(SEC, "/events")
    assert ("✏️ 修改", f"ev:edit:{event_id}") in h.buttons_of(organiser[-1])
    await h.press(SEC, f"ev:edit:{event_id}")
    await h.press(SEC, f"ev:ef:{event_id}:place")
    done = await h.text(SEC, "新地点 502")
    await deliver(h)
    assert t(h, "events.edit.done", count=2) in h.texts_of(done)
    for user in (3002, 3003):
        assert "新地点 502" in h.api.messages_to(user)[-1]
        assert int(ics_of(h, user).walk("VEVENT")[0]["SEQUENCE"]) == 1
    assert not any("新地点" in x for x in h.api.messages_to(3001))

    # Attendee list and CSV export for the organiser.
    listed = h.texts_of(await h.command(SEC, f"/attendees {event_id}"))[0]
    assert "报名 2 人，候补 0 人" in listed
    exported = await h.press(SEC, f"ev:csv:{event_id}")
    [doc] = [c for c in exported if c.method == "sendDocument"]
    assert doc.files["document"][1].startswith(b"\xef\xbb\xbf")

    # Reminders: 24 h before, once; the bot is down across the 1 h slot and catches up late.
    h.clock.set(START - timedelta(hours=24))
    before = len(h.api.messages_to(3002))
    await h.tick()
    await h.tick()
    await deliver(h)
    assert h.api.messages_to(3002)[before:] == [
        m for m in h.api.messages_to(3002)[before:] if t(h, "events.reminder.24h") in m
    ]
    assert len(h.api.messages_to(3002)) == before + 1
    await h.stop()
    h.clock.set(START - timedelta(minutes=20))
    await h.start()
    await h.tick()
    await h.restart()
    await h.tick()
    await deliver(h)
    reminders_1h = [m for m in h.api.messages_to(3003) if t(h, "events.reminder.1h") in m]
    assert len(reminders_1h) == 1
    h.clock.set(START + timedelta(minutes=1))
    sent = len(h.api.calls)
    await h.tick()
    await deliver(h)
    assert h.api.calls[sent:] == []
    async with h.services.db.session() as s:
        rows = await s.scalar(select(func.count()).select_from(EventReminder))
    assert rows == 4


async def test_deadline_cancel_and_access(harness: Harness) -> None:
    h = harness
    h.clock.set(datetime(2026, 12, 1, 1, 0, tzinfo=UTC))
    await setup(h)
    refused = h.texts_of(await h.command(3001, "/newevent"))
    assert refused == [t(h, "core.no_permission")]
    event_id = await create_event(h, capacity="不限", deadline="12/3 18:00")
    await h.press(3001, f"ev:rsvp:{event_id}", message_id=notice_id(h, 3001, event_id))
    h.clock.set(datetime(2026, 12, 3, 10, 1, tzinfo=UTC))  # 18:01 in Shanghai
    late = await h.press(3002, f"ev:rsvp:{event_id}", message_id=notice_id(h, 3002, event_id))
    assert answers(late) == [t(h, "events.error.deadline_passed")]

    await h.command(SEC, "/events")
    await h.press(SEC, f"ev:cancel:{event_id}")
    done = await h.press(SEC, f"ev:cancel!:{event_id}")
    await deliver(h)
    assert t(h, "events.cancel.done", count=1) in h.texts_of(done)
    assert (
        t(h, "events.notice.cancelled", title="人工智能学术交流会") in h.api.messages_to(3001)[-1]
    )
    cal = ics_of(h, 3001)
    assert str(cal["METHOD"]) == "CANCEL"
    assert not any(
        t(h, "events.notice.cancelled", title="人工智能学术交流会") in m
        for m in h.api.messages_to(3002)
    )
    again = await h.press(3002, f"ev:rsvp:{event_id}")
    assert answers(again) == [t(h, "events.error.cancelled")]


async def test_bad_times_are_asked_again(harness: Harness) -> None:
    h = harness
    h.clock.set(datetime(2026, 12, 1, 1, 0, tzinfo=UTC))
    await setup(h)
    await h.command(SEC, "/newevent")
    await h.text(SEC, "培训")
    await h.press(SEC, "ev:kind:training")
    assert h.texts_of(await h.text(SEC, "下周")) == [t(h, "events.error.bad_datetime")]
    assert h.texts_of(await h.text(SEC, "2026-11-30 10:00")) == [
        t(h, "events.error.start_in_past")
    ]
    await h.text(SEC, "12/5 14:00")
    assert h.texts_of(await h.text(SEC, "13:00")) == [t(h, "events.error.end_before_start")]
    await h.restart()  # the conversation is persisted
    assert h.texts_of(await h.text(SEC, "12/5 16:00")) == [t(h, "events.new.ask_place")]
    assert h.texts_of(await h.command(SEC, "/cancel")) == [t(h, "core.cancelled")]
