"""Members through the real PTB application: registration, approval, self-service, invites."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import inspect, select, text

from bot.access import Role
from bot.db import Database
from bot.models import RoleGrant
from bot.models.events import Event, Rsvp
from bot.models.members import Member
from handlers.tracking import FloodGate
from tests.harness import ADMIN_ID, Harness

APPLICANT = 7123456789
SEC_A, SEC_B = 5100001, 5100002
NAME, PHONE, EMPLOYER = "赵六六", "13912345678", "长春应用化学研究所"


def relax(h: Harness) -> None:
    """Let one user walk a whole conversation in a second (the flood gate counts real time)."""
    assert h.app is not None
    h.app.bot_data["flood_gate"] = FloodGate(limit=10_000)


async def restart(h: Harness) -> None:
    """Restart the application on the same database."""
    await h.restart()
    relax(h)


async def parks(h: Harness) -> tuple[int, int]:
    """Create two parks with one secretary each."""
    relax(h)
    a = await h.add_park("长春新区", "长春市")
    b = await h.add_park("净月高新区", "长春市")
    await h.grant(SEC_A, Role.SECRETARY, park="长春新区")
    await h.grant(SEC_B, Role.SECRETARY, park="净月高新区")
    return a, b


def t(h: Harness, key: str, **values: object) -> str:
    return h.services.texts.get(key, "zh", **values)


async def register(h: Harness, uid: int, park: int, name: str = NAME) -> list[str]:
    """Walk the whole conversation with valid input; return what the bot said at the end."""
    await h.command(uid, "/register")
    await h.press(uid, "reg:agree")
    await h.text(uid, name)
    await h.press(uid, f"reg:park:{park}")
    await h.text(uid, EMPLOYER)
    await h.text(uid, "高分子材料")
    await h.press(uid, "reg:title:associate_senior")
    await h.contact(uid, "+86 " + PHONE)
    return h.texts_of(await h.press(uid, "reg:submit"))


async def member_of(h: Harness, uid: int) -> Member | None:
    async with h.services.db.session() as s:
        return await s.scalar(select(Member).where(Member.user_id == uid))


async def test_full_registration_and_approval(harness: Harness) -> None:
    h = harness
    a, _ = await parks(h)
    calls = await h.command(APPLICANT, "/register")
    notice = h.texts_of(calls)[0]
    assert h.services.members is not None
    assert h.services.members.privacy.version in notice
    assert "境外" in notice
    assert h.buttons_of(calls[-1]) == [(t(h, "reg.agree"), "reg:agree"),
                                        (t(h, "reg.decline"), "reg:decline")]  # fmt: skip
    assert h.texts_of(await h.press(APPLICANT, "reg:agree")) == [t(h, "reg.ask_name")]
    calls = await h.text(APPLICANT, NAME)
    assert ("长春新区", f"reg:park:{a}") in h.buttons_of(calls[-1])
    assert h.texts_of(await h.press(APPLICANT, f"reg:park:{a}")) == [t(h, "reg.ask_employer")]
    assert h.texts_of(await h.text(APPLICANT, EMPLOYER)) == [t(h, "reg.ask_field")]
    calls = await h.text(APPLICANT, "高分子材料")
    assert [d for _, d in h.buttons_of(calls[-1])] == [
        "reg:title:junior", "reg:title:intermediate", "reg:title:associate_senior",
        "reg:title:senior", "reg:title:none",
    ]  # fmt: skip
    calls = await h.press(APPLICANT, "reg:title:associate_senior")
    keyboard = calls[-1].params["reply_markup"]["keyboard"]
    assert keyboard[0][0]["request_contact"] is True
    calls = await h.contact(APPLICANT, "+86 " + PHONE)
    summary = h.texts_of(calls)[-1]
    for part in (NAME, "长春新区", EMPLOYER, "高分子材料", "副高", PHONE):
        assert part in summary
    assert ("提交", "reg:submit") in h.buttons_of(calls[-1])

    calls = await h.press(APPLICANT, "reg:submit")
    assert h.texts_of(calls)[-1] == t(h, "reg.submitted")
    to_secretary = [c for c in calls if c.chat_id == SEC_A]
    assert len(to_secretary) == 1
    assert NAME in to_secretary[0].params["text"]
    member = await member_of(h, APPLICANT)
    assert member is not None
    assert member.status == "pending"
    assert member.consent_version == h.services.members.privacy.version
    assert member.consented_at == h.clock.now()
    assert not [c for c in calls if c.chat_id == SEC_B]

    calls = await h.press(SEC_A, f"mb:ok:{member.id}", message_id=_id(to_secretary[0], h))
    assert t(h, "members.notify.approved", park="长春新区") in h.api.messages_to(APPLICANT)
    assert (await member_of(h, APPLICANT)).status == "approved"  # type: ignore[union-attr]
    actor = await h.services.access.actor(APPLICANT)
    assert actor.member_park_ids == {a}

    # A second /register shows the record instead of starting again.
    shown = h.texts_of(await h.command(APPLICANT, "/register"))
    assert len(shown) == 1
    assert NAME in shown[0]
    assert t(h, "members.status.approved") in shown[0]


def _id(call: object, h: Harness) -> int:
    """Return the message id the fake API gave to a sent message."""
    chat = call.chat_id  # type: ignore[attr-defined]
    ids = [mid for (cid, mid), m in h.api.messages.items()
           if cid == chat and m.get("text") == call.params["text"]]  # type: ignore[attr-defined]  # fmt: skip
    return max(ids)


async def test_every_step_validates_and_reasks(harness: Harness) -> None:
    h = harness
    a, _ = await parks(h)
    uid = 7000001
    await h.command(uid, "/register")
    # Typing instead of pressing at the consent step.
    said = h.texts_of(await h.text(uid, "好的"))
    assert said[0] == t(h, "reg.use_buttons")
    await h.press(uid, "reg:agree")
    assert h.texts_of(await h.text(uid, "   ")) == [
        t(h, "members.error.empty"),
        t(h, "reg.ask_name"),
    ]
    assert h.texts_of(await h.text(uid, "王" * 65))[0] == t(h, "members.error.too_long", max=64)
    assert h.texts_of(await h.photo(uid, "ph1")) == [
        t(h, "reg.text_expected"),
        t(h, "reg.ask_name"),
    ]
    sticker = {"file_id": "st1", "file_unique_id": "ust1", "type": "regular", "width": 512,
               "height": 512, "is_animated": False, "is_video": False}  # fmt: skip
    update = h.updates.wrap("message", h.updates._message(uid, None, "x", sticker=sticker))
    assert h.texts_of(await h.feed(update))[0] == t(h, "reg.text_expected")
    # A stale button from an earlier step, then a forged park id.
    assert h.texts_of(await h.press(uid, "reg:title:senior")) == [t(h, "reg.ask_name")]
    assert h.api.calls_to("answerCallbackQuery")[-1].params["show_alert"] is True
    await h.text(uid, "钱七")
    assert h.texts_of(await h.press(uid, "reg:park:999999")) == [t(h, "reg.ask_park")]
    assert h.texts_of(await h.text(uid, "长春新区"))[0] == t(h, "reg.use_buttons")
    await h.press(uid, f"reg:park:{a}")
    await h.text(uid, "吉林大学")
    await h.text(uid, "化学")
    assert h.texts_of(await h.press(uid, "reg:title:professor")) == [t(h, "reg.ask_title")]
    await h.press(uid, "reg:title:none")
    for bad in ("12345", "23812345678", "+1 555 123 4567"):
        said = h.texts_of(await h.text(uid, bad))
        assert said == [t(h, "members.error.phone"), t(h, "reg.ask_phone")]
    said = h.texts_of(await h.contact(uid, "13800000000", own=False))
    assert said[0] == t(h, "reg.not_own_contact")
    said = h.texts_of(await h.text(uid, "+86 139-0000-1111"))
    assert "13900001111" in said[-1]
    # Correct one field from the summary: back to the summary, not to the next question.
    assert h.texts_of(await h.press(uid, "reg:edit:employer")) == [t(h, "reg.ask_employer")]
    said = h.texts_of(await h.text(uid, "东北师范大学"))
    assert "东北师范大学" in said[0]
    assert "reg:submit" in [d for _, d in h.buttons_of(h.api.calls_to("sendMessage")[-1])]
    await h.press(uid, "reg:submit")
    member = await member_of(h, uid)
    assert member is not None
    assert (member.employer, member.phone, member.title) == ("东北师范大学", "13900001111", "none")


async def test_parks_are_paged_by_eight(harness: Harness) -> None:
    h = harness
    relax(h)
    ids = [await h.add_park(f"园区{i:02d}", "吉林市") for i in range(11)]
    await h.command(7000002, "/register")
    await h.press(7000002, "reg:agree")
    calls = await h.text(7000002, "孙八")
    buttons = h.buttons_of(calls[-1])
    assert len(buttons) == 9
    assert buttons[-1][1] == "reg:page:1"
    await h.press(7000002, "reg:page:1")
    page = h.api.last_message(7000002)["reply_markup"]["inline_keyboard"]
    datas = [b["callback_data"] for row in page for b in row]
    assert datas == [f"reg:park:{i}" for i in ids[8:]] + ["reg:page:0"]


async def test_cancel_and_restart_mid_conversation(harness: Harness) -> None:
    h = harness
    a, _ = await parks(h)
    uid = 7000003
    await h.command(uid, "/register")
    await h.press(uid, "reg:agree")
    await h.text(uid, "周九")
    await restart(h)
    assert h.texts_of(await h.press(uid, f"reg:park:{a}")) == [t(h, "reg.ask_employer")]
    await h.text(uid, "一汽集团")
    await restart(h)
    assert h.texts_of(await h.text(uid, "汽车工程")) == [t(h, "reg.ask_title")]
    assert h.texts_of(await h.command(uid, "/cancel")) == [t(h, "reg.cancelled")]
    assert await member_of(h, uid) is None
    assert h.texts_of(await h.command(uid, "/cancel")) == [t(h, "core.nothing_to_cancel")]
    # Declining consent stores nothing either.
    await h.command(uid, "/register")
    assert h.texts_of(await h.press(uid, "reg:decline")) == [t(h, "reg.declined")]
    assert await member_of(h, uid) is None


async def test_start_offers_registration_to_newcomers_only(harness: Harness) -> None:
    h = harness
    a, _ = await parks(h)
    calls = await h.command(7000004, "/start")
    assert h.texts_of(calls)[-1] == t(h, "reg.newcomer")
    assert h.buttons_of(calls[-1]) == [(t(h, "reg.start_button"), "reg:start")]
    assert h.texts_of(await h.press(7000004, "reg:start"))[0].startswith("【")
    await register(h, 7000005, a)
    assert t(h, "reg.newcomer") not in h.texts_of(await h.command(7000005, "/start"))


async def test_rejection_with_reason_and_reregistration(harness: Harness) -> None:
    h = harness
    _, b = await parks(h)
    await register(h, APPLICANT, b)
    member = await member_of(h, APPLICANT)
    assert member is not None
    said = h.texts_of(await h.press(SEC_B, f"mb:no:{member.id}"))
    assert said == [t(h, "members.ask_reason", name=NAME)]
    assert h.texts_of(await h.photo(SEC_B, "p")) == [t(h, "members.ask_reason_text")]
    said = h.texts_of(await h.text(SEC_B, "不在本园区工作"))
    assert said[-1] == t(h, "members.rejected_done", name=NAME)
    assert h.api.messages_to(APPLICANT)[-1] == t(
        h, "members.notify.rejected", reason="不在本园区工作"
    )
    # A rejected person may register again; the same buttons no longer work on the old one.
    await h.press(SEC_B, f"mb:ok:{member.id}")
    alert = h.api.calls_to("answerCallbackQuery")[-1].params
    assert alert["text"] == t(h, "members.error.not_pending")
    await register(h, APPLICANT, b)
    assert (await member_of(h, APPLICANT)).status == "pending"  # type: ignore[union-attr]


async def test_pending_lists_only_own_park(harness: Harness) -> None:
    h = harness
    a, b = await parks(h)
    await register(h, 7000006, a, "吴一")
    await register(h, 7000007, b, "郑二")
    text_a = "\n".join(h.texts_of(await h.command(SEC_A, "/pending")))
    assert "吴一" in text_a
    assert "郑二" not in text_a
    text_admin = "\n".join(h.texts_of(await h.command(ADMIN_ID, "/pending")))
    assert "吴一" in text_admin
    assert "郑二" in text_admin
    other = await member_of(h, 7000007)
    assert other is not None
    await h.press(SEC_A, f"mb:ok:{other.id}")
    assert h.api.calls_to("answerCallbackQuery")[-1].params["text"] == t(
        h, "members.error.not_found"
    )
    await h.press(SEC_A, f"mb:no:{other.id}")
    assert (await member_of(h, 7000007)).status == "pending"  # type: ignore[union-attr]


async def test_member_is_refused_secretary_commands(harness: Harness) -> None:
    h = harness
    a, _ = await parks(h)
    await register(h, 7000008, a)
    member = await member_of(h, 7000008)
    assert member is not None
    await h.services.members.approve(await h.services.access.actor(SEC_A), member.id)  # type: ignore[union-attr]
    for command in ("/pending", "/invite secretary 长春新区", "/review", "/export",
                    "/newcampaign", "/campaigns"):  # fmt: skip
        assert h.texts_of(await h.command(7000008, command)) == [t(h, "core.no_permission")]
    await h.press(7000008, f"mb:ok:{member.id}")
    assert h.api.calls_to("answerCallbackQuery")[-1].params["text"] == t(
        h, "members.error.not_found"
    )


async def test_me_edit_fields_and_change_park(harness: Harness) -> None:
    h = harness
    a, b = await parks(h)
    await register(h, APPLICANT, a)
    member = await member_of(h, APPLICANT)
    assert member is not None
    await h.press(SEC_A, f"mb:ok:{member.id}")
    calls = await h.command(APPLICANT, "/me")
    assert ("改单位", "me:edit:employer") in h.buttons_of(calls[-1])
    await h.press(APPLICANT, "me:edit:employer")
    assert h.texts_of(await h.text(APPLICANT, "  "))[0] == t(h, "members.error.empty")
    said = h.texts_of(await h.text(APPLICANT, "吉林大学"))
    assert said[0] == t(h, "members.updated")
    await h.press(APPLICANT, "me:edit:phone")
    await h.contact(APPLICANT, "13700001111")
    assert (await member_of(h, APPLICANT)).phone == "13700001111"  # type: ignore[union-attr]
    await h.press(APPLICANT, "me:edit:title")
    await h.press(APPLICANT, "me:title:senior")
    await h.press(APPLICANT, "me:edit:park")
    calls = await h.press(APPLICANT, f"me:park:{b}")
    assert t(h, "members.park_changed") in h.texts_of(calls)
    assert any(c.chat_id == SEC_B for c in calls)
    member = await member_of(h, APPLICANT)
    assert member is not None
    assert (member.park_id, member.status, member.title) == (b, "pending", "senior")
    assert (await h.services.access.actor(APPLICANT)).member_park_ids == frozenset()


async def test_withdraw_consent(harness: Harness) -> None:
    h = harness
    a, _ = await parks(h)
    await register(h, APPLICANT, a)
    calls = await h.command(APPLICANT, "/withdraw")
    assert h.buttons_of(calls[-1])[0][1] == "me:withdraw"
    await h.press(APPLICANT, "me:withdraw")
    assert (await member_of(h, APPLICANT)).status == "withdrawn"  # type: ignore[union-attr]
    assert h.texts_of(await h.command(APPLICANT, "/me")) == [t(h, "members.error.not_member")]
    h.clock.advance(timedelta(days=31))
    await h.tick()
    assert await member_of(h, APPLICANT) is None


async def scan(db: Database, needles: list[str | int]) -> list[str]:
    """Return every table.column holding one of the needles (as a value or inside text)."""
    found = []
    async with db.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
        for table in tables:
            rows = (await conn.execute(text(f'SELECT * FROM "{table}"'))).mappings().all()
            for row in rows:
                for column, value in row.items():
                    for needle in needles:
                        as_text = value if isinstance(value, str) else repr(value)
                        if value == needle or str(needle) in as_text:
                            found.append(f"{table}.{column}={value!r}")
    return found


async def test_deleteme_leaves_nothing_personal(harness: Harness) -> None:
    h = harness
    a, _ = await parks(h)
    await register(h, APPLICANT, a)
    member = await member_of(h, APPLICANT)
    assert member is not None
    await h.press(SEC_A, f"mb:ok:{member.id}")
    # A delivered campaign announcement (outbox rows) and a suggestion in a running campaign.
    campaigns = h.services.campaigns
    assert campaigns is not None
    admin = await h.services.access.actor(ADMIN_ID)
    today = h.clock.now().date()
    campaign = await campaigns.open_campaign(admin, "活动", "说明", today, today, [a])
    await h.tick()
    assert any("活动" in m for m in h.api.messages_to(APPLICANT))
    await campaigns.submit(APPLICANT, campaign.id, "建议增加园区停车位，缓解高峰拥堵。")
    # And an event sign-up (the events feature's table).
    async with h.services.db.session() as s:
        event = Event(organiser_id=SEC_A, title="讲座", kind="academic", starts_at=h.clock.now(),
                      ends_at=h.clock.now(), place="报告厅")  # fmt: skip
        s.add(event)
        await s.flush()
        s.add(Rsvp(event_id=event.id, user_id=APPLICANT, status="going"))
    # Leave a half-finished conversation behind too: it is personal state.
    await h.press(APPLICANT, "me:edit:employer")
    assert await scan(h.services.db, [APPLICANT, NAME, PHONE, EMPLOYER]) != []
    calls = await h.command(APPLICANT, "/deleteme")
    assert h.buttons_of(calls[-1])[0][1] == "me:delete"
    await h.press(APPLICANT, "me:delete")
    assert h.api.last_message(APPLICANT)["text"] == t(h, "members.deleted")
    assert await scan(h.services.db, [APPLICANT, NAME, PHONE, EMPLOYER]) == []
    async with h.services.db.session() as s:
        assert (
            await s.scalars(select(RoleGrant).where(RoleGrant.user_id == APPLICANT))
        ).all() == []
    # The edit left open before the deletion is gone with it: free text edits nothing.
    await h.text(APPLICANT, "新单位")
    assert await member_of(h, APPLICANT) is None
    assert h.texts_of(await h.command(APPLICANT, "/cancel")) == [t(h, "core.nothing_to_cancel")]


async def test_invites_valid_used_expired_forged(harness: Harness) -> None:
    h = harness
    await parks(h)
    link = h.texts_of(await h.command(ADMIN_ID, "/invite secretary 长春新区 2"))[0]
    match = re.search(r"https://t\.me/\w+\?start=(inv-[A-Za-z0-9_-]+)", link)
    assert match is not None
    payload = match.group(1)
    assert len(payload) <= 64
    said = h.texts_of(await h.command(6000001, f"/start {payload}"))
    assert said == [t(h, "members.invite_granted", role=t(h, "members.role.secretary"),
                         scope="长春新区")]  # fmt: skip
    assert (await h.services.access.actor(6000001)).secretary_park_ids
    assert h.texts_of(await h.command(6000001, "/pending")) == [t(h, "members.pending_none")]
    said = h.texts_of(await h.command(6000002, f"/start {payload}"))
    assert said == [t(h, "members.error.invite_used")]
    link = h.texts_of(await h.command(ADMIN_ID, "/invite official 长春市 1"))[0]
    late = re.search(r"start=(inv-[A-Za-z0-9_-]+)", link)
    assert late is not None
    h.clock.advance(timedelta(hours=1, seconds=1))
    said = h.texts_of(await h.command(6000002, f"/start {late.group(1)}"))
    assert said == [t(h, "members.error.invite_expired")]
    said = h.texts_of(await h.command(6000002, "/start inv-forgedforgedforgedforgedforged00"))
    assert said == [t(h, "members.error.invite_invalid")]
    assert (await h.services.access.actor(6000002)).roles == frozenset()
    assert h.texts_of(await h.command(ADMIN_ID, "/invite"))[0] == t(h, "members.invite_usage")
    said = h.texts_of(await h.command(ADMIN_ID, "/invite secretary 不存在的园区"))
    assert said == [t(h, "members.error.no_park")]
    assert h.texts_of(await h.command(SEC_A, "/invite secretary 长春新区")) == [
        t(h, "core.no_permission")
    ]
