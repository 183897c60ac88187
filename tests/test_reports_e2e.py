"""Quarterly-report reminders end to end: real PTB application, fake Bot API, FakeClock.

2026Q4's report is due on 2027-01-14 (10th working day; 2027 has no holiday data, so Monday–
Friday): reminders 2027-01-07, 01-13, 01-14 at 09:00 Shanghai, overdue daily from 01-15, the
escalation on the 3rd overdue working day, 01-19.
"""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import select

from bot.access import Role
from bot.localapi import ApiCall
from bot.models.reports import ReportSend, ReportSubmission
from bot.services import Services
from tests.harness import ADMIN_ID, Harness

SHANGHAI = ZoneInfo("Asia/Shanghai")
CC1, CC2, JL = 4001, 4002, 4003  # two officials of 长春市, one of 吉林市
MEMBER = 4009
Q = "2026Q4"


def at(day: str, hhmm: str = "09:00") -> datetime:
    """Return a Shanghai wall-clock time as aware UTC."""
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=SHANGHAI).astimezone(UTC)


async def setup(h: Harness) -> tuple[int, int]:
    cc = await h.add_city("长春市")
    jl = await h.add_city("吉林市")
    await h.grant(CC1, Role.OFFICIAL, city="长春市")
    await h.grant(CC2, Role.OFFICIAL, city="长春市")
    await h.grant(JL, Role.OFFICIAL, city="吉林市")
    return cc, jl


async def tick_at(h: Harness, when: datetime) -> None:
    h.clock.set(when)
    await h.tick()


def reminders(h: Harness, user_id: int) -> list[str]:
    return [
        t
        for t in h.api.messages_to(user_id)
        if t.startswith(("【季度报送提醒】", "【逾期提醒】")) and "2026年第4季度" in t
    ]


def escalations(h: Harness) -> list[str]:
    return [t for t in h.api.messages_to(ADMIN_ID) if "【逾期上报】" in t]


def said_to(calls: list[ApiCall], user_id: int) -> list[str]:
    """Return the texts these calls sent to one chat."""
    return Harness.texts_of([c for c in calls if c.chat_id == user_id])


async def sends(h: Harness) -> dict[tuple[int, str, int], str]:
    async with h.services.db.session() as s:
        rows = (await s.scalars(select(ReportSend))).all()
    return {(r.city_id, r.slot, r.user_id): r.status for r in rows}


async def test_reminders_at_each_slot_and_confirm_tells_the_others(harness: Harness) -> None:
    h = harness
    cc, _ = await setup(h)
    await tick_at(h, at("2026-12-01"))
    notices = h.api.messages_to(ADMIN_ID)
    assert len(notices) == 1  # 2027's holiday calendar is missing: told once
    assert "2027" in notices[0]

    await tick_at(h, at("2027-01-07", "08:59"))
    assert reminders(h, JL) == []
    await tick_at(h, at("2027-01-07"))
    for user in (CC1, CC2, JL):
        (text,) = reminders(h, user)
        assert "2027-01-14" in text
        assert "还剩 5 个工作日" in text
        assert "各设区市科协要向省科协每季度报送一次园区科协组织建设工作进展情况" in text
    last = h.api.last_message(CC1)
    buttons = [
        (b["text"], b["callback_data"])
        for row in last["reply_markup"]["inline_keyboard"]
        for b in row
    ]
    assert buttons == [("已报送", f"rp:done:{cc}:{Q}"), ("上传报告", f"rp:up:{cc}:{Q}")]
    await tick_at(h, at("2027-01-07", "09:30"))
    assert len(reminders(h, CC1)) == 1

    calls = await h.press(CC1, f"rp:done:{cc}:{Q}")
    assert any(c.method == "editMessageReplyMarkup" for c in calls)
    assert said_to(calls, CC1) == [
        h.services.texts.get("reports.submitted.ok", city="长春市", quarter="2026年第4季度")
    ]
    told = h.api.messages_to(CC2)[-1]
    assert told == h.services.texts.get(
        "reports.submitted.others", who="Tester", city="长春市", quarter="2026年第4季度"
    )
    again = said_to(await h.press(CC2, f"rp:done:{cc}:{Q}"), CC2)
    assert "已于" in again[0]

    await tick_at(h, at("2027-01-13"))
    await tick_at(h, at("2027-01-14"))
    assert len(reminders(h, CC1)) == 1
    assert len([t for t in reminders(h, CC2) if "截止" in t]) == 1
    jl = reminders(h, JL)
    assert len(jl) == 3
    assert "还剩 1 个工作日" in jl[1]
    assert "今天（2027-01-14）截止" in jl[2]
    assert len(h.api.messages_to(ADMIN_ID)) == 1  # no second calendar notice


async def test_upload_forwards_the_file_and_stops_reminders(harness: Harness) -> None:
    h = harness
    _, jl = await setup(h)
    await tick_at(h, at("2027-01-07"))
    prompt = h.texts_of(await h.press(JL, f"rp:up:{jl}:{Q}"))
    assert prompt == [
        h.services.texts.get("reports.upload.prompt", city="吉林市", quarter="2026年第4季度")
    ]
    assert h.texts_of(await h.text(JL, "稍后发")) == [
        h.services.texts.get("reports.upload.not_a_file")
    ]
    calls = await h.document(JL, "BQACAgIAAxkBAAIB", "吉林市2026Q4.docx")
    assert said_to(calls, JL) == [
        h.services.texts.get("reports.upload.ok", city="吉林市", quarter="2026年第4季度")
    ]
    forwarded = [c for c in calls if c.chat_id == ADMIN_ID and c.method == "sendDocument"]
    assert [c.params["document"] for c in forwarded] == ["BQACAgIAAxkBAAIB"]
    assert any("吉林市" in t and "上传了" in t for t in h.api.messages_to(ADMIN_ID))
    async with h.services.db.session() as s:
        sub = await s.scalar(select(ReportSubmission).where(ReportSubmission.city_id == jl))
    assert sub is not None
    assert (sub.via, sub.submitted_by) == ("upload", JL)

    # A photo works too, and a restart between the button and the file loses nothing.
    cc = await h.services.org.city_id("长春市")
    await h.press(CC1, f"rp:up:{cc}:{Q}")
    await h.restart()
    calls = await h.photo(CC1, "AgACAgIAAxkBAAIC")
    assert [c.params["photo"] for c in calls if c.method == "sendPhoto"] == ["AgACAgIAAxkBAAIC"]

    await tick_at(h, at("2027-01-13"))
    assert len(reminders(h, JL)) == 1
    assert len(reminders(h, CC2)) == 1


async def test_outsider_cannot_use_a_citys_buttons(harness: Harness) -> None:
    h = harness
    cc, _ = await setup(h)
    calls = await h.press(JL, f"rp:done:{cc}:{Q}")
    answer = next(c for c in calls if c.method == "answerCallbackQuery")
    assert answer.params["text"] == h.services.texts.get("reports.denied")
    await h.press(JL, f"rp:up:{cc}:{Q}")
    async with h.services.db.session() as s:
        assert (await s.scalars(select(ReportSubmission))).all() == []


async def test_overdue_escalation_and_nudge_relay(harness: Harness) -> None:
    h = harness
    cc, jl = await setup(h)
    await h.press(CC1, f"rp:done:{cc}:{Q}")
    for day in ("2027-01-07", "2027-01-13", "2027-01-14", "2027-01-15", "2027-01-18"):
        await tick_at(h, at(day))
    assert "已逾期 2 个工作日" in reminders(h, JL)[-1]
    assert escalations(h) == []
    await tick_at(h, at("2027-01-19"))
    assert "已逾期 3 个工作日" in reminders(h, JL)[-1]
    (escalation,) = escalations(h)
    assert "吉林市" in escalation
    assert "长春市" not in escalation
    markup = h.api.last_message(ADMIN_ID)["reply_markup"]
    assert markup["inline_keyboard"][0][0] == {
        "text": "催办",
        "callback_data": f"rp:nudge:{jl}:{Q}",
    }

    await tick_at(h, at("2027-01-20"))
    assert len(escalations(h)) == 1  # once
    assert len([t for t in reminders(h, JL) if "逾期" in t]) == 4

    prompt = h.texts_of(await h.press(ADMIN_ID, f"rp:nudge:{jl}:{Q}"))
    assert prompt == [
        h.services.texts.get("reports.nudge.prompt", city="吉林市", quarter="2026年第4季度")
    ]
    calls = await h.text(ADMIN_ID, "请今天下班前报送")
    assert h.api.messages_to(JL)[-1] == "【省科协催办】2026年第4季度报告：请今天下班前报送"
    assert said_to(calls, ADMIN_ID) == [
        h.services.texts.get("reports.nudge.sent", city="吉林市", count=1)
    ]
    assert not any("请今天下班前报送" in t for t in h.api.messages_to(CC1))

    # An official cannot start a nudge.
    calls = await h.press(JL, f"rp:nudge:{jl}:{Q}")
    assert any(c.method == "answerCallbackQuery" and c.params.get("show_alert") for c in calls)


async def test_restart_before_at_and_after_a_slot(harness: Harness) -> None:
    h = harness
    await setup(h)
    await tick_at(h, at("2027-01-07", "08:59"))
    await h.restart()
    await tick_at(h, at("2027-01-07"))  # first tick after start-up, right at the slot
    await h.restart()
    await tick_at(h, at("2027-01-07"))
    await tick_at(h, at("2027-01-07", "09:01"))
    for user in (CC1, CC2, JL):
        assert len(reminders(h, user)) == 1


async def test_bot_down_across_slots(harness: Harness) -> None:
    h = harness
    cc, jl = await setup(h)
    await tick_at(h, at("2027-01-06"))
    await h.stop()
    # Down until the afternoon of the due date: that day's reminder goes out on start-up, the
    # two earlier ones are recorded as missed, not sent late.
    h.clock.set(at("2027-01-14", "15:00"))
    await h.start()
    await h.tick()
    jl_texts = reminders(h, JL)
    assert len(jl_texts) == 1
    assert "今天（2027-01-14）截止" in jl_texts[0]
    rows = await sends(h)
    assert rows[(jl, "before5", JL)] == "missed"
    assert rows[(jl, "before1", JL)] == "missed"
    assert rows[(jl, "due", JL)] == "sent"

    # Down again from before the escalation (01-19 09:00) until 25 hours after it.
    await h.stop()
    h.clock.set(at("2027-01-20", "10:00"))
    await h.start()
    await h.tick()
    assert escalations(h) == []
    rows = await sends(h)
    assert rows[(cc, "escalate", ADMIN_ID)] == "missed"
    assert rows[(jl, "overdue3", JL)] == "missed"
    assert rows[(jl, "overdue4", JL)] == "sent"
    assert "已逾期 4 个工作日" in reminders(h, JL)[-1]


async def test_two_processes_ticking_at_once_send_once(harness: Harness) -> None:
    h = harness
    await setup(h)
    other = Services.create(h.config, clock=h.clock)
    other.senders["telegram"] = h.services.senders["telegram"]
    try:
        h.clock.set(at("2027-01-19"))
        await asyncio.gather(h.services.tick(), other.tick(), h.services.tick(), other.tick())
    finally:
        await other.close()
    for user in (CC1, CC2, JL):
        assert len(reminders(h, user)) == 1
    assert len(escalations(h)) == 2  # one per city
    notices = [t for t in h.api.messages_to(ADMIN_ID) if "2027" in t and "节假日" in t]
    assert len(notices) == 1


async def test_reports_board_and_xlsx_export(harness: Harness) -> None:
    h = harness
    cc, _ = await setup(h)
    await h.press(CC1, f"rp:done:{cc}:{Q}")
    h.clock.set(at("2027-01-20", "10:00"))
    calls = await h.command(ADMIN_ID, "/reports")
    (board,) = h.texts_of(calls)
    assert "长春市" in board
    assert "吉林市" in board
    assert "2026Q4：逾期 4 个工作日（2027-01-14 截止）" in board
    assert "2026Q4：已报送（" in board
    assert "2026Q1" in board  # the last four quarters
    assert h.buttons_of(calls[-1]) == [("导出 Excel", "rp:xlsx")]

    calls = await h.press(ADMIN_ID, "rp:xlsx")
    (doc,) = [c for c in calls if c.method == "sendDocument"]
    name, content = doc.files["document"]
    assert name.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("城市", "2026Q4", "2026Q3", "2026Q2", "2026Q1")
    assert {r[0] for r in rows[1:]} == {"长春市", "吉林市"}

    own = h.texts_of(await h.command(JL, "/reports"))[0]
    assert "吉林市" in own
    assert "长春市" not in own
    refused = h.texts_of(await h.command(MEMBER, "/reports"))
    assert refused == [h.services.texts.get("core.no_permission")]


async def test_reportsdone_records_a_submission_by_other_means(harness: Harness) -> None:
    h = harness
    await setup(h)
    t = h.services.texts
    assert h.texts_of(await h.command(ADMIN_ID, "/reportsdone")) == [t.get("reports.done.usage")]
    assert h.texts_of(await h.command(ADMIN_ID, "/reportsdone 2026Q9 吉林市")) == [
        t.get("reports.done.bad_quarter", text="2026Q9")
    ]
    assert h.texts_of(await h.command(ADMIN_ID, "/reportsdone 2026Q4 四平市")) == [
        t.get("reports.done.unknown_city", city="四平市")
    ]
    done = said_to(await h.command(ADMIN_ID, "/reportsdone 2026q4 吉林"), ADMIN_ID)
    assert done[-1] == t.get("reports.submitted.ok", city="吉林市", quarter="2026年第4季度")
    assert h.api.messages_to(JL)[-1].startswith("Tester")  # the official is told
    assert h.texts_of(await h.command(JL, "/reportsdone 2026Q4 吉林市")) == [
        t.get("core.no_permission")
    ]
    await tick_at(h, at("2027-01-07"))
    assert [t for t in reminders(h, JL) if "截止" in t] == []
    assert len(reminders(h, CC1)) == 1
