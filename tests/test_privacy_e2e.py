"""Privacy end to end: after /deleteme no column of any table holds anything about the member."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.access import Role
from bot.db import Base, Database
from bot.events.service import EventDraft, EventKind
from bot.models.faq import FaqQuestion
from bot.models.members import Suggestion
from tests.harness import ADMIN_ID, Harness
from tests.test_members_e2e import EMPLOYER, NAME, PHONE, member_of, parks, register

MEMBER = 7123456789
FIELD = "高分子材料"  # what register() enters
WEATHER = "明天长春的天气怎么样"
SUGGESTION = "建议在园区增设共享实验仪器预约平台。"
SEC_A = 5100001


def t(h: Harness, key: str, **values: object) -> str:
    return h.services.texts.get(key, "zh", **values)


async def scan(db: Database, needles: list[str | int]) -> list[str]:
    """Return every table.column (from Base.metadata, so no table is missed) holding a needle."""
    found: list[str] = []
    async with db.session() as s:
        for table in Base.metadata.sorted_tables:
            for row in (await s.execute(select(table))).mappings():
                for column, value in row.items():
                    shown = value if isinstance(value, str) else repr(value)
                    for needle in needles:
                        if value == needle or str(needle) in shown:
                            found.append(f"{table.name}.{column}={value!r}")
    return found


async def test_deleteme_leaves_nothing_in_any_column(harness: Harness) -> None:
    h = harness
    a, _ = await parks(h)
    await register(h, MEMBER, a)
    member = await member_of(h, MEMBER)
    assert member is not None
    await h.press(SEC_A, f"mb:ok:{member.id}")

    # FAQ: one answered question, one not covered and handed to the park's secretary.
    await h.text(MEMBER, "园区科协怎么成立")
    await h.text(MEMBER, f"我是{NAME}，{WEATHER}")
    await h.services.questions.flush()  # asked questions are written in batches
    async with h.services.db.session() as s:
        asked = list(await s.scalars(select(FaqQuestion).where(FaqQuestion.user_id == MEMBER)))
    assert {q.park_id for q in asked} == {a}
    open_q = next(q for q in asked if q.status == "open")
    await h.press(MEMBER, f"fq:f:{open_q.id}")
    assert any(NAME in m for m in h.api.messages_to(SEC_A))

    # An event in their field, announced through the outbox, and their sign-up by button.
    events = h.services.events
    assert events is not None
    secretary = await h.services.access.actor(SEC_A)
    now = h.clock.now()
    event = await events.service.create(
        secretary,
        EventDraft(
            "材料学术沙龙",
            EventKind.ACADEMIC,
            now + timedelta(days=3),
            now + timedelta(days=3, hours=2),
            "报告厅",
            park_ids=(a,),
            fields=("材料",),
        ),
    )
    assert await events.notices.announce(event, SEC_A) == 1
    await h.tick()
    await h.press(MEMBER, f"ev:rsvp:{event.id}")

    # A suggestion in a campaign that then closes, and a broadcast to the park.
    campaigns = h.services.campaigns
    assert campaigns is not None
    admin = await h.services.access.actor(ADMIN_ID)
    today = h.clock.now().date()
    campaign = await campaigns.open_campaign(admin, "合理化建议", "说明", today, today, [a])
    await h.tick()
    suggestion = await campaigns.submit(MEMBER, campaign.id, SUGGESTION)
    await h.command(SEC_A, "/notify")
    await h.text(SEC_A, "周五开会。")
    await h.press(SEC_A, "nt:send")
    h.clock.advance(timedelta(days=2))
    await h.tick()
    assert "周五开会。" in h.api.messages_to(MEMBER)
    # A half-finished edit leaves conversation state and user data behind.
    await h.press(MEMBER, "me:edit:employer")

    needles: list[str | int] = [MEMBER, str(MEMBER), NAME, PHONE, EMPLOYER, FIELD]
    before = await scan(h.services.db, needles)
    for table in (
        "members.",
        "faq_questions.",
        "event_rsvps.",
        "outbox.",
        "suggestions.",
        "users.",
    ):
        assert any(f.startswith(table) for f in before), table

    await h.command(MEMBER, "/deleteme")
    await h.press(MEMBER, "me:delete")
    assert h.api.last_message(MEMBER)["text"] == t(h, "members.deleted")

    assert await scan(h.services.db, needles) == []
    async with h.services.db.session() as s:
        kept = await s.get(Suggestion, suggestion.id)
        assert kept is not None
        assert (kept.content, kept.user_id) == (SUGGESTION, None)
        stats = list(await s.scalars(select(FaqQuestion)))
        assert [q.text for q in stats] == [None, None]
    assert campaign.id  # the closed campaign itself stays


async def test_withdrawn_member_gets_no_notices_and_is_erased_after_retention(
    harness: Harness,
) -> None:
    h = harness
    a, _ = await parks(h)
    await h.grant(MEMBER, Role.MEMBER, park="长春新区")
    stays = 7000001
    await h.grant(stays, Role.MEMBER, park="长春新区")
    events = h.services.events
    assert events is not None
    assert h.services.members is not None
    secretary = await h.services.access.actor(SEC_A)
    now = h.clock.now()
    first = await events.service.create(
        secretary,
        EventDraft("讲座", EventKind.ACADEMIC, now + timedelta(days=3),
                   now + timedelta(days=3, hours=1), "报告厅", park_ids=(a,)),
    )  # fmt: skip
    await events.notices.announce(first, SEC_A)
    await h.tick()
    await h.press(MEMBER, f"ev:rsvp:{first.id}")

    await h.command(MEMBER, "/withdraw")
    await h.press(MEMBER, "me:withdraw")
    assert (await h.services.access.actor(MEMBER)).member_park_ids == frozenset()
    seen = len(h.api.messages_to(MEMBER))

    second = await events.service.create(
        secretary,
        EventDraft("培训", EventKind.TRAINING, now + timedelta(days=4),
                   now + timedelta(days=4, hours=1), "报告厅", park_ids=(a,)),
    )  # fmt: skip
    assert await events.notices.announce(second, SEC_A) == 1
    await h.command(SEC_A, "/notify")
    await h.text(SEC_A, "周五开会。")
    await h.press(SEC_A, "nt:send")
    assert h.services.campaigns is not None
    admin = await h.services.access.actor(ADMIN_ID)
    today = h.clock.now().date()
    await h.services.campaigns.open_campaign(admin, "建议征集", "说明", today, today, [a])
    h.clock.advance(timedelta(days=3, hours=1))  # past the first event's reminders too
    await h.tick()
    await h.tick()
    assert len(h.api.messages_to(MEMBER)) == seen
    assert "周五开会。" in h.api.messages_to(stays)

    # The notice promises deletion within retention_days of withdrawing.
    retention = h.services.members.privacy.retention_days
    h.clock.advance(timedelta(days=retention))
    await h.tick()
    assert await member_of(h, MEMBER) is None
    assert await scan(h.services.db, [MEMBER, str(MEMBER), "m7123456789"]) == []
