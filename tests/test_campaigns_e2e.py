"""合理化建议 campaigns through the real PTB application, from opening to export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import openpyxl
from sqlalchemy import select

from bot.access import Role
from bot.members.privacy import PrivacyNotice
from bot.members.service import Registration
from bot.models.members import Campaign, Member, Suggestion, SuggestionEvent
from handlers.tracking import FloodGate
from tests.harness import ADMIN_ID, Harness

SEC_A, SEC_B = 5200001, 5200002
AUTHOR, NEIGHBOUR, OTHER_PARK = 7200001, 7200002, 7200003
IDEA = "建议园区建设共享中试平台，降低中小企业研发成本。"


def t(h: Harness, key: str, **values: object) -> str:
    return h.services.texts.get(key, "zh", **values)


async def setup(h: Harness) -> tuple[int, int]:
    """Two parks, a secretary each, approved members (two in park A, one in park B)."""
    assert h.app is not None
    h.app.bot_data["flood_gate"] = FloodGate(limit=10_000)
    a = await h.add_park("长春新区", "长春市")
    b = await h.add_park("净月高新区", "长春市")
    await h.grant(SEC_A, Role.SECRETARY, park="长春新区")
    await h.grant(SEC_B, Role.SECRETARY, park="净月高新区")
    members = h.services.members
    assert members is not None
    for uid, park, name, phone in [
        (AUTHOR, a, "冯十", "13811112222"),
        (NEIGHBOUR, a, "陈十一", "13811113333"),
        (OTHER_PARK, b, "褚十二", "13811114444"),
    ]:
        reg = Registration(name, park, "吉林大学", "材料", "senior", phone,
                           PrivacyNotice.load().version, h.clock.now())  # fmt: skip
        member = await members.register(uid, reg)
        secretary = SEC_A if park == a else SEC_B
        await members.approve(await h.services.access.actor(secretary), member.id)
    return a, b


async def open_campaign(h: Harness, park: int) -> Campaign:
    """Open a campaign for park A through /newcampaign, checking each step."""
    assert h.texts_of(await h.command(SEC_A, "/newcampaign")) == [t(h, "campaigns.ask_title")]
    await h.text(SEC_A, "降本增效金点子")
    calls = await h.text(SEC_A, "征集降低企业成本、提高效率的建议。")
    assert h.buttons_of(calls[-1]) == [(t(h, "campaigns.today"), "cp:today")]
    assert h.texts_of(await h.photo(SEC_A, "x")) == [t(h, "reg.text_expected")]
    assert h.texts_of(await h.press(SEC_A, "cp:today")) == [t(h, "campaigns.ask_closes")]
    said = h.texts_of(await h.text(SEC_A, "明年"))
    assert said == [t(h, "campaigns.error.date_format")]
    said = h.texts_of(await h.text(SEC_A, "2026-11-30"))
    assert said == [t(h, "campaigns.error.dates")]
    calls = await h.text(SEC_A, "2026年12月31日")
    # A secretary is offered only their own parks.
    assert [d for _, d in h.buttons_of(calls[-1])] == [f"cp:park:{park}", "cp:all", "cp:done"]
    await h.press(SEC_A, f"cp:park:{park}")
    marked = h.api.last_message(SEC_A)["reply_markup"]["inline_keyboard"][0][0]["text"]
    assert marked == t(h, "campaigns.park_on", park="长春新区")
    calls = await h.press(SEC_A, "cp:done")
    await h.tick()  # the announcement waits in the outbox until the clock job drains it
    assert h.api.last_message(SEC_A)["text"] == t(
        h, "campaigns.opened", title="降本增效金点子", opens="2026-12-01", closes="2026-12-31"
    )
    async with h.services.db.session() as s:
        campaign = await s.scalar(select(Campaign))
    assert campaign is not None
    return campaign


async def test_campaign_from_opening_to_automatic_close(harness: Harness) -> None:
    h = harness
    a, _ = await setup(h)
    campaign = await open_campaign(h, a)
    description = "征集降低企业成本、提高效率的建议。"
    announced = t(
        h, "campaigns.notify.opened", title="降本增效金点子", description=description,
        closes="2026-12-31",
    )  # fmt: skip
    assert announced in h.api.messages_to(AUTHOR)
    assert announced in h.api.messages_to(NEIGHBOUR)
    assert announced not in h.api.messages_to(OTHER_PARK)
    assert h.texts_of(await h.command(OTHER_PARK, "/suggest")) == [t(h, "campaigns.none_open")]

    # /suggest with an attachment of each kind.
    calls = await h.command(AUTHOR, "/suggest")
    assert h.buttons_of(calls[-1]) == [("降本增效金点子", f"sg:c:{campaign.id}")]
    await h.press(AUTHOR, f"sg:c:{campaign.id}")
    said = h.texts_of(await h.text(AUTHOR, "太短了"))
    assert said == [t(h, "campaigns.error.too_short", min=10)]
    said = h.texts_of(await h.text(AUTHOR, "长" * 2001))
    assert said == [t(h, "campaigns.error.too_long", max=2000)]
    await h.text(AUTHOR, IDEA)
    assert h.texts_of(await h.photo(AUTHOR, "AgACphoto1")) == [
        t(h, "campaigns.file_kept", count=1)
    ]
    await h.document(AUTHOR, "BQACdoc1", "方案.pdf")
    await h.press(AUTHOR, "sg:files")
    await h.press(AUTHOR, "sg:anon:1")
    confirm = h.api.last_message(AUTHOR)["text"]
    assert IDEA in confirm
    assert t(h, "campaigns.anon_yes") in confirm
    await h.press(AUTHOR, "sg:send")
    assert h.api.last_message(AUTHOR)["text"] == t(h, "campaigns.receipt", receipt="HL-2026-0001")
    async with h.services.db.session() as s:
        suggestion = await s.scalar(select(Suggestion))
    assert suggestion is not None
    assert (suggestion.content, suggestion.anonymous, suggestion.user_id) == (IDEA, True, AUTHOR)
    assert [(x.kind, x.file_id, x.file_name) for x in suggestion.attachments] == [
        ("photo", "AgACphoto1", ""), ("document", "BQACdoc1", "方案.pdf")
    ]  # fmt: skip

    # Park B's secretary sees nothing; park A's reviews each step; the author hears of each.
    assert h.texts_of(await h.command(SEC_B, "/review")) == [t(h, "campaigns.review_none")]
    await h.press(SEC_B, f"rv:{suggestion.id}:accepted")
    assert h.api.calls_to("answerCallbackQuery")[-1].params["text"] == t(
        h, "members.error.not_found"
    )
    calls = await h.command(SEC_A, "/review")
    item = calls[-1]
    assert "冯十" in item.params["text"]  # never anonymous to the secretary
    assert [d for _, d in h.buttons_of(item)] == [
        f"rv:{suggestion.id}:accepted", f"rv:{suggestion.id}:rejected",
        f"rv:files:{suggestion.id}",
    ]  # fmt: skip
    files = await h.press(SEC_A, f"rv:files:{suggestion.id}")
    assert [c.method for c in files if c.method.startswith("send")] == [
        "sendPhoto",
        "sendDocument",
    ]
    assert [c.params.get("photo") or c.params.get("document") for c in files
            if c.method.startswith("send")] == ["AgACphoto1", "BQACdoc1"]  # fmt: skip

    steps = [("accepted", None), ("forwarded", "省科学技术厅成果转化处"), ("adopted", None),
             ("implemented", None)]  # fmt: skip
    for status, note in steps:
        calls = await h.press(SEC_A, f"rv:{suggestion.id}:{status}")
        if note is not None:
            assert h.texts_of(calls) == [
                t(h, "campaigns.ask_note.forwarded", receipt="HL-2026-0001")
            ]
            await h.text(SEC_A, note)
        told = h.api.messages_to(AUTHOR)[-1]
        assert told == t(h, "campaigns.notify.status", receipt="HL-2026-0001",
                         status=t(h, f"campaigns.status.{status}"), note=note or "-")  # fmt: skip
    async with h.services.db.session() as s:
        history = (await s.scalars(select(SuggestionEvent).order_by(SuggestionEvent.id))).all()
    assert [(e.to_status, e.actor_id) for e in history] == [
        ("submitted", AUTHOR), ("accepted", SEC_A), ("forwarded", SEC_A), ("adopted", SEC_A),
        ("implemented", SEC_A),
    ]  # fmt: skip
    assert all(e.at == h.clock.now() for e in history)
    mine = h.texts_of(await h.command(AUTHOR, "/mysuggestions"))[0]
    assert "HL-2026-0001" in mine
    assert t(h, "campaigns.status.implemented") in mine

    # A second suggestion is rejected with a reason.
    await h.command(NEIGHBOUR, "/suggest")
    await h.press(NEIGHBOUR, f"sg:c:{campaign.id}")
    await h.text(NEIGHBOUR, "建议在园区设立青年科技人才沙龙。")
    await h.press(NEIGHBOUR, "sg:files")
    await h.press(NEIGHBOUR, "sg:anon:0")
    await h.press(NEIGHBOUR, "sg:send")
    async with h.services.db.session() as s:
        second = await s.scalar(select(Suggestion).where(Suggestion.user_id == NEIGHBOUR))
    assert second is not None
    assert second.receipt == "HL-2026-0002"
    await h.press(SEC_A, f"rv:{second.id}:rejected")
    assert h.texts_of(await h.text(SEC_A, "  ")) == [t(h, "members.error.empty")]
    await h.text(SEC_A, "已有同类活动")
    assert "已有同类活动" in h.api.messages_to(NEIGHBOUR)[-1]
    await h.press(SEC_A, f"rv:{second.id}:accepted")
    assert h.api.calls_to("answerCallbackQuery")[-1].params["text"] == t(
        h, "campaigns.error.transition"
    )

    # Counts by status and by park.
    listing = h.texts_of(await h.command(SEC_A, "/campaigns"))[0]
    assert t(h, "campaigns.state.open") in listing
    assert f"{t(h, 'campaigns.status.implemented')} 1" in listing
    assert f"{t(h, 'campaigns.status.rejected')} 1" in listing
    assert "长春新区 2" in listing

    # The campaign closes by itself after its last day (Changchun time); review goes on.
    h.clock.set(datetime(2026, 12, 31, 15, 59, tzinfo=UTC))
    await h.tick()
    assert h.texts_of(await h.command(NEIGHBOUR, "/suggest"))[0] == t(h, "campaigns.pick")
    await h.command(NEIGHBOUR, "/cancel")
    h.clock.set(datetime(2026, 12, 31, 16, 0, tzinfo=UTC))
    await h.tick()
    async with h.services.db.session() as s:
        closed = await s.get(Campaign, campaign.id)
    assert closed is not None
    assert closed.closed_at == h.clock.now()
    assert h.texts_of(await h.command(NEIGHBOUR, "/suggest")) == [t(h, "campaigns.none_open")]
    assert t(h, "campaigns.state.closed") in h.texts_of(await h.command(SEC_A, "/campaigns"))[0]


async def test_member_cannot_open_or_review(harness: Harness) -> None:
    h = harness
    await setup(h)
    for command in ("/newcampaign", "/review", "/campaigns", "/export"):
        assert h.texts_of(await h.command(AUTHOR, command)) == [t(h, "core.no_permission")]
    assert h.texts_of(await h.command(9999999, "/suggest")) == [t(h, "campaigns.error.not_member")]


async def test_exports_open_back_and_match_the_database(harness: Harness) -> None:
    h = harness
    a, b = await setup(h)
    campaigns = h.services.campaigns
    assert campaigns is not None
    admin = await h.services.access.actor(ADMIN_ID)
    campaign = await campaigns.open_campaign(
        admin, "全省活动", "说明", date(2026, 12, 1), date(2026, 12, 31), [a, b]
    )
    await campaigns.submit(AUTHOR, campaign.id, IDEA, anonymous=True)
    await campaigns.submit(OTHER_PARK, campaign.id, "=建议开通园区班车，方便职工通勤。")

    calls = await h.command(SEC_A, "/export")
    assert [d for _, d in h.buttons_of(calls[-1])] == [
        "ex:members:csv", "ex:members:xlsx", "ex:suggestions:csv", "ex:suggestions:xlsx"
    ]  # fmt: skip
    calls = await h.press(SEC_A, "ex:members:xlsx")
    [doc] = [c for c in calls if c.method == "sendDocument"]
    name, content = doc.files["document"]
    assert name.startswith("members-")
    assert name.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    async with h.services.db.session() as s:
        in_a = (
            await s.scalars(select(Member).where(Member.park_id == a).order_by(Member.name))
        ).all()
    assert rows[0][:3] == ("编号", "姓名", "园区")
    assert sorted(r[1] for r in rows[1:]) == sorted(m.name for m in in_a)  # park B absent
    by_id = {m.id: m for m in in_a}
    for row in rows[1:]:
        m = by_id[int(row[0])]
        assert (row[3], row[4], row[6]) == (m.employer, m.field, m.phone)

    calls = await h.press(SEC_B, "ex:suggestions:csv")
    [doc] = [c for c in calls if c.method == "sendDocument"]
    name, content = doc.files["document"]
    assert content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert table[0][0] == "回执编号"
    assert len(table) == 2  # park B's secretary gets park B's suggestion only
    assert table[1][:5] == ["HL-2026-0002", "全省活动", "净月高新区", "褚十二", "13811114444"]
    assert table[1][6] == "'=建议开通园区班车，方便职工通勤。"  # formula defused

    calls = await h.press(ADMIN_ID, "ex:suggestions:xlsx")
    [doc] = [c for c in calls if c.method == "sendDocument"]
    sheet = openpyxl.load_workbook(io.BytesIO(doc.files["document"][1])).active
    assert sheet is not None
    receipts = [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)]
    async with h.services.db.session() as s:
        stored = (await s.scalars(select(Suggestion).order_by(Suggestion.seq))).all()
    assert receipts == [x.receipt for x in stored]
