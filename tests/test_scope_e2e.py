"""A secretary of park B never sees park A's members through any feature."""

from __future__ import annotations

from datetime import timedelta

from bot.events.service import EventDraft, EventKind
from tests.harness import Harness
from tests.test_members_e2e import NAME, PHONE, member_of, parks, register

MEMBER = 7123456789
SEC_A, SEC_B = 5100001, 5100002
WEATHER = "明天长春的天气怎么样"


async def test_secretary_of_another_park_sees_nothing_of_ours(harness: Harness) -> None:
    h = harness
    a, _ = await parks(h)
    await register(h, MEMBER, a)
    # Pending already: the FAQ hand-off goes to the park's own secretary.
    await h.text(MEMBER, WEATHER)
    member = await member_of(h, MEMBER)
    assert member is not None
    await h.press(SEC_A, f"mb:ok:{member.id}")
    events = h.services.events
    assert events is not None
    now = h.clock.now()
    event = await events.service.create(
        await h.services.access.actor(SEC_A),
        EventDraft("讲座", EventKind.ACADEMIC, now + timedelta(days=3),
                   now + timedelta(days=3, hours=1), "报告厅", park_ids=(a,)),
    )  # fmt: skip
    await events.notices.announce(event, SEC_A)
    await h.tick()
    await h.press(MEMBER, f"ev:rsvp:{event.id}")

    seen_by_a = " ".join(h.texts_of(await h.command(SEC_A, "/unanswered")))
    seen_by_a += " ".join(h.texts_of(await h.command(SEC_A, f"/attendees {event.id}")))
    assert WEATHER in seen_by_a
    assert NAME in seen_by_a

    before = len(h.api.calls)
    for command in ("/unanswered", f"/attendees {event.id}", "/pending", "/export", "/review",
                    "/campaigns", "/broadcasts", "/events"):  # fmt: skip
        await h.command(SEC_B, command)
    for call in h.api.calls[before:]:
        shown = str(call.params) + "".join(str(f) for f in getattr(call, "files", {}).values())
        for secret in (NAME, PHONE, WEATHER, str(MEMBER)):
            assert secret not in shown, (call.method, secret)


async def test_start_and_help_for_a_pending_member(harness: Harness) -> None:
    h = harness
    a, _ = await parks(h)
    await register(h, MEMBER, a)
    started = " ".join(h.texts_of(await h.command(MEMBER, "/start")))
    # A pending member is not offered registration again.
    assert "/register" not in started or "审核" in started
    helped = " ".join(h.texts_of(await h.command(MEMBER, "/help")))
    assert "/notify" not in helped
    assert "/pending" not in helped
