"""ReportsService on SQLite and PostgreSQL with a recording Sender: reminders, races, board."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.access import AccessDenied, Actor, Grant, Role
from bot.db import Database
from bot.models.core import City, RoleGrant, User
from bot.models.reports import CalendarNotice, ReportNudge, ReportSend, ReportUpload
from bot.reports.calendar import WorkingCalendar
from bot.reports.schedule import Quarter, ReportsSettings
from bot.reports.service import (
    ACTION_SUBMITTED,
    ACTION_UPLOAD,
    ReportsService,
    parse_ref,
)
from bot.sender import (
    Attachment,
    DeliveryError,
    Limit,
    OutgoingMessage,
    RateLimited,
    SendResult,
    Uncertain,
    Unreachable,
)
from bot.texts import Texts

SHANGHAI = ZoneInfo("Asia/Shanghai")
ADMIN = 900
CC1, CC2, JL = 101, 102, 201  # officials: two of 长春市, one of 吉林市
Q3 = Quarter(2025, 3)  # due 2025-10-21; reminders 10-14, 10-20, 10-21; escalation 10-24


def at(day: str, hhmm: str = "09:00") -> datetime:
    """Return a Shanghai wall-clock time as aware UTC."""
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=SHANGHAI).astimezone(UTC)


@dataclass
class FakeSender:
    """Records every message; `fail` maps an address to errors to raise on its next sends."""

    channel: str = "telegram"
    sent: list[tuple[int, OutgoingMessage]] = field(default_factory=list)
    fail: dict[int, list[DeliveryError]] = field(default_factory=dict)

    def limits(self, address: str) -> tuple[Limit, ...]:
        return ()

    async def send(self, address: str, message: OutgoingMessage) -> SendResult:
        await asyncio.sleep(0)  # let racing ticks interleave
        errors = self.fail.get(int(address))
        if errors:
            raise errors.pop(0)
        self.sent.append((int(address), message))
        return SendResult(str(len(self.sent)))

    def to(self, user_id: int) -> list[str]:
        return [m.text for uid, m in self.sent if uid == user_id]

    def clear(self) -> None:
        self.sent.clear()


def Who(
    user_id: int, *, is_admin: bool = False, official_city_ids: frozenset[int] = frozenset()
) -> Actor:
    """Return an Actor holding admin and/or official grants."""
    grants = {Grant(Role.OFFICIAL, city_id=c) for c in official_city_ids}
    if is_admin:
        grants.add(Grant(Role.ADMIN))
    return Actor(user_id, frozenset(grants))


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """Return the migrated database (SQLite or PostgreSQL) with two cities and their officials."""
    database = Database(db_url)
    async with database.session() as session:
        session.add_all([City(id=1, name="长春市"), City(id=2, name="吉林市")])
        session.add_all(
            [
                User(id=CC1, name="王主任", language="zh"),
                User(id=CC2, name="Li", language="en"),
                User(id=JL, name="赵科长", language="zh"),
                User(id=ADMIN, name="省科协", language="zh"),
            ]
        )
    async with database.session() as session:
        session.add_all(
            [
                RoleGrant(user_id=CC1, role="official", city_id=1),
                RoleGrant(user_id=CC2, role="official", city_id=1),
                RoleGrant(user_id=JL, role="official", city_id=2),
            ]
        )
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def settings() -> ReportsSettings:
    return ReportsSettings.load({"first_quarter": "2025Q3", "city_suffixes": ["市"]})


def make_service(
    db: Database, settings: ReportsSettings, holidays: Path | None = None
) -> ReportsService:
    return ReportsService(
        db,
        Texts.load(),
        admin_ids=[ADMIN],
        settings=settings,
        calendar=WorkingCalendar(holidays or Path("/nonexistent")),
    )


@pytest.fixture
def service(db: Database, settings: ReportsSettings) -> ReportsService:
    return make_service(db, settings)


@pytest.fixture
def sender() -> FakeSender:
    return FakeSender()


async def statuses(db: Database) -> dict[tuple[int, str, int], str]:
    async with db.session() as session:
        rows = (await session.scalars(select(ReportSend))).all()
    return {(r.city_id, r.slot, r.user_id): r.status for r in rows}


# --- reminders at each slot ------------------------------------------------------------------


async def test_reminders_go_out_at_each_slot_exactly_once(
    service: ReportsService, sender: FakeSender
) -> None:
    assert (await service.tick(at("2025-10-14", "08:59"), sender)).sent == 0
    report = await service.tick(at("2025-10-14"), sender)
    assert report.sent == 3
    (text,) = sender.to(CC1)
    assert "长春市" in text
    assert "2025年第3季度" in text
    assert "2025-10-21" in text
    assert "还剩 5 个工作日" in text
    assert "每季度报送一次园区科协组织建设工作进展情况" in text
    assert "Q3 2025" in sender.to(CC2)[0]  # English for the official who chose it
    message = sender.sent[0][1]
    assert [b.data for b in message.buttons[0]] == [
        f"{ACTION_SUBMITTED}1:2025Q3",
        f"{ACTION_UPLOAD}1:2025Q3",
    ]
    assert [b.text for b in message.buttons[0]] == ["已报送", "上传报告"]

    for later in ("09:00", "09:01", "17:00"):
        assert (await service.tick(at("2025-10-14", later), sender)).sent == 0
    assert len(sender.sent) == 3

    await service.tick(at("2025-10-20"), sender)
    assert "还剩 1 个工作日" in sender.to(JL)[-1]
    await service.tick(at("2025-10-21"), sender)
    assert "今天（2025-10-21）截止" in sender.to(JL)[-1]
    assert len(sender.to(JL)) == 3
    assert len(sender.sent) == 9
    assert set((await statuses(service.db)).values()) == {"sent"}


async def test_confirm_stops_the_rest_and_tells_the_other_officials(
    service: ReportsService, sender: FakeSender
) -> None:
    await service.tick(at("2025-10-14"), sender)
    sender.clear()
    result = await service.mark_submitted(
        Who(CC1, official_city_ids=frozenset({1})), 1, Q3, sender
    )
    assert result.created
    assert result.told == 1
    assert result.submitted_by == "王主任"
    assert sender.to(CC2) == [
        "王主任 confirmed that 长春市's Q3 2025 report has been sent;"
        " no more reminders for this quarter."
    ]
    assert sender.to(CC1) == []
    sender.clear()
    again = await service.mark_submitted(Who(CC2, official_city_ids=frozenset({1})), 1, Q3, sender)
    assert not again.created
    assert again.submitted_by == "王主任"
    assert sender.sent == []

    for day in ("2025-10-20", "2025-10-21", "2025-10-22", "2025-10-24"):
        await service.tick(at(day), sender)
    assert sender.to(CC1) == []
    assert sender.to(CC2) == []
    assert len(sender.to(JL)) == 4  # 吉林市 still unconfirmed
    escalations = sender.to(ADMIN)
    assert len(escalations) == 1
    assert "吉林市" in escalations[0]
    assert "长春市" not in escalations[0]


async def test_only_the_citys_officials_or_admins_may_confirm(
    service: ReportsService, sender: FakeSender
) -> None:
    with pytest.raises(AccessDenied):
        await service.mark_submitted(Who(JL, official_city_ids=frozenset({2})), 1, Q3, sender)
    result = await service.mark_submitted(Who(ADMIN, is_admin=True), 1, Q3, sender, via="admin")
    assert result.created
    assert result.told == 2


async def test_overdue_daily_then_escalation_on_third_working_day(
    service: ReportsService, sender: FakeSender
) -> None:
    for day in ("2025-10-14", "2025-10-20", "2025-10-21", "2025-10-22", "2025-10-23"):
        await service.tick(at(day), sender)
    assert "已逾期 2 个工作日" in sender.to(JL)[-1]
    assert sender.to(ADMIN) == []
    await service.tick(at("2025-10-24"), sender)
    assert "已逾期 3 个工作日" in sender.to(JL)[-1]
    escalations = sender.to(ADMIN)
    assert len(escalations) == 2  # one per city
    assert any("吉林市" in t and "已逾期 3 个工作日" in t for t in escalations)
    nudge_button = next(m for uid, m in sender.sent if uid == ADMIN).buttons[0][0]
    assert nudge_button.text == "催办"
    assert parse_ref(nudge_button.data or "", "rp:nudge:") == (1, Q3)
    # Weekend: nothing; Monday: the 4th overdue reminder, no second escalation.
    assert (await service.tick(at("2025-10-25"), sender)).sent == 0
    await service.tick(at("2025-10-27"), sender)
    assert "已逾期 4 个工作日" in sender.to(JL)[-1]
    assert len(sender.to(ADMIN)) == 2


async def test_overdue_reminders_end_when_the_next_quarter_is_due(
    service: ReportsService, sender: FakeSender
) -> None:
    await service.tick(at("2026-01-14"), sender)
    assert any("逾期" in t for t in sender.to(JL))  # 2025Q3 still chased on Jan 14
    sender.clear()
    await service.tick(at("2026-01-15"), sender)
    assert all("2025年第4季度" in t for t in sender.to(JL))  # only 2025Q4's due-day reminder


# --- restarts, outages, clock changes --------------------------------------------------------


async def test_restart_before_at_and_after_a_slot(
    db: Database, settings: ReportsSettings, sender: FakeSender
) -> None:
    first = make_service(db, settings)
    await first.tick(at("2025-10-14", "08:00"), sender)  # before: nothing
    second = make_service(db, settings)  # restart
    await second.tick(at("2025-10-14"), sender)  # at the slot
    assert len(sender.sent) == 3
    third = make_service(db, settings)  # restart right after
    await third.tick(at("2025-10-14"), sender)
    await third.tick(at("2025-10-14", "09:05"), sender)
    assert len(sender.sent) == 3


async def test_down_at_nine_sends_on_start_up_the_same_day(
    service: ReportsService, sender: FakeSender
) -> None:
    await service.tick(at("2025-10-14", "15:30"), sender)
    assert len(sender.to(JL)) == 1


async def test_slot_missed_by_more_than_a_day_is_recorded_not_sent(
    service: ReportsService, sender: FakeSender
) -> None:
    await service.tick(at("2025-10-14"), sender)
    sender.clear()
    # Down from Oct 14 to the evening of Oct 22: before1 and due are superseded, overdue1 is live.
    report = await service.tick(at("2025-10-22", "20:00"), sender)
    assert report.sent == 3
    assert ["已逾期 1 个工作日" in t for t in sender.to(CC1) + sender.to(JL)] == [True, True]
    assert "1 working day(s) overdue" in sender.to(CC2)[0]
    rows = await statuses(service.db)
    assert rows[(2, "before1", JL)] == "missed"
    assert rows[(2, "due", JL)] == "missed"
    assert rows[(2, "overdue1", JL)] == "sent"
    sender.clear()
    # Down again until Saturday morning: overdue3 and the escalation are > 24 h old.
    report = await service.tick(at("2025-10-25", "10:00"), sender)
    assert report.sent == 0
    assert sender.sent == []
    rows = await statuses(service.db)
    assert rows[(2, "overdue3", JL)] == "missed"
    assert rows[(2, "escalate", ADMIN)] == "missed"


async def test_clock_going_back_and_forth_sends_nothing_twice(
    service: ReportsService, sender: FakeSender
) -> None:
    await service.tick(at("2025-10-14"), sender)
    await service.tick(at("2025-10-13"), sender)  # clock set back a day
    await service.tick(at("2025-10-14", "09:30"), sender)
    assert len(sender.sent) == 3
    await service.tick(at("2025-10-21", "09:00"), sender)  # jumps a week ahead
    await service.tick(at("2025-10-20", "09:00"), sender)  # and back: before1 was already missed
    assert len(sender.to(JL)) == 2
    assert (await statuses(service.db))[(2, "before1", JL)] == "missed"


async def test_two_ticks_racing_send_each_reminder_once(
    db: Database, settings: ReportsSettings, sender: FakeSender
) -> None:
    a, b = make_service(db, settings), make_service(db, settings)
    reports = await asyncio.gather(
        a.tick(at("2025-10-24"), sender),
        b.tick(at("2025-10-24"), sender),
        a.tick(at("2025-10-24", "09:01"), sender),
    )
    assert sum(r.sent for r in reports) == 3 + 2  # overdue3 to three officials, 2 escalations
    assert len(sender.sent) == 5
    assert sorted(uid for uid, _ in sender.sent) == [CC1, CC2, JL, ADMIN, ADMIN]


# --- delivery errors -------------------------------------------------------------------------


async def test_rate_limited_send_is_retried_once_uncertain_is_not(
    service: ReportsService, sender: FakeSender
) -> None:
    sender.fail[JL] = [RateLimited("429", retry_after=3)]
    sender.fail[CC2] = [Uncertain("timeout")]
    await service.tick(at("2025-10-14"), sender)
    assert sender.to(JL) == []
    await service.tick(at("2025-10-14", "09:01"), sender)
    assert len(sender.to(JL)) == 1
    await service.tick(at("2025-10-14", "09:02"), sender)
    assert len(sender.to(JL)) == 1
    rows = await statuses(service.db)
    assert rows[(2, "before5", JL)] == "sent"
    assert rows[(1, "before5", CC2)] == "uncertain"
    assert sender.to(CC2) == []


async def test_unreachable_official_is_marked(service: ReportsService, sender: FakeSender) -> None:
    sender.fail[JL] = [Unreachable("blocked")]
    await service.tick(at("2025-10-14"), sender)
    await service.tick(at("2025-10-14", "09:01"), sender)
    async with service.db.session() as session:
        user = await session.get(User, JL)
    assert user is not None
    assert not user.reachable
    assert (await statuses(service.db))[(2, "before5", JL)] == "unreachable"


# --- calendar gaps ---------------------------------------------------------------------------


async def test_missing_calendar_year_is_told_to_admins_once(
    db: Database, sender: FakeSender, tmp_path: Path
) -> None:
    settings = ReportsSettings.load({"first_quarter": "2026Q4"})
    service = make_service(db, settings, tmp_path)
    report = await service.tick(at("2026-11-27"), sender)
    assert report.notices == 1
    (notice,) = sender.to(ADMIN)
    assert "2027" in notice
    assert "content/holidays/2027.yaml" in notice
    await service.tick(at("2026-11-28"), sender)
    await make_service(db, settings, tmp_path).tick(at("2026-11-30"), sender)  # after a restart
    assert len(sender.to(ADMIN)) == 1
    async with db.session() as session:
        (row,) = (await session.scalars(select(CalendarNotice))).all()
    assert (row.year, row.user_id, row.status) == (2027, ADMIN, "sent")


async def test_holiday_file_means_no_notice(
    db: Database, sender: FakeSender, tmp_path: Path
) -> None:
    (tmp_path / "2027.yaml").write_text("holidays: [2027-01-01]\n", encoding="utf-8")
    settings = ReportsSettings.load({"first_quarter": "2026Q4"})
    service = make_service(db, settings, tmp_path)
    assert (await service.tick(at("2026-11-27"), sender)).notices == 0
    assert service.schedule(Quarter(2026, 4)).due.source == "file"


# --- uploads, nudges, /reportsdone -----------------------------------------------------------


async def test_upload_forwards_to_admins_and_counts_as_submitted(
    service: ReportsService, sender: FakeSender
) -> None:
    official = Who(JL, official_city_ids=frozenset({2}))
    file = Attachment("document", file_id="BQACAgIAAx0", filename="2025Q3.docx")
    result = await service.upload(official, 2, Q3, file, sender)
    assert result.forwarded == 1
    assert result.submission.created
    ((admin, message),) = sender.sent
    assert admin == ADMIN
    assert message.attachments == (file,)
    assert "吉林市赵科长上传了2025年第3季度" in message.text
    async with service.db.session() as session:
        (upload,) = (await session.scalars(select(ReportUpload))).all()
    assert (upload.file_id, upload.kind, upload.file_name) == (
        "BQACAgIAAx0",
        "document",
        "2025Q3.docx",
    )
    sender.clear()
    await service.tick(at("2025-10-14"), sender)
    assert sender.to(JL) == []
    with pytest.raises(AccessDenied):
        await service.upload(Who(CC1, official_city_ids=frozenset({1})), 2, Q3, file, sender)


async def test_nudge_is_relayed_to_the_citys_officials(
    service: ReportsService, sender: FakeSender
) -> None:
    count = await service.nudge(Who(ADMIN, is_admin=True), 1, Q3, "请本周内报送", sender)
    assert count == 2
    assert sender.to(CC1) == ["【省科协催办】2025年第3季度报告：请本周内报送"]
    assert sender.to(CC2) == ["[From the provincial association] Q3 2025 report: 请本周内报送"]
    assert sender.to(JL) == []
    async with service.db.session() as session:
        (row,) = (await session.scalars(select(ReportNudge))).all()
    assert (row.admin_id, row.delivered, row.text) == (ADMIN, 2, "请本周内报送")
    with pytest.raises(AccessDenied):
        await service.nudge(Who(CC1, official_city_ids=frozenset({1})), 2, Q3, "x", sender)


async def test_record_submission_by_city_name(service: ReportsService, sender: FakeSender) -> None:
    admin = Who(ADMIN, is_admin=True)
    result = await service.record_submission(admin, Q3, "吉林", sender)
    assert (result.city, result.created) == ("吉林市", True)
    with pytest.raises(LookupError):
        await service.record_submission(admin, Q3, "四平市", sender)
    with pytest.raises(LookupError):
        await service.record_submission(admin, Q3, None, sender)
    own = await service.record_submission(
        Who(CC1, official_city_ids=frozenset({1})), Q3, None, sender
    )
    assert own.city == "长春市"


# --- board and export ------------------------------------------------------------------------


async def test_board_for_admins_and_officials(service: ReportsService, sender: FakeSender) -> None:
    await service.mark_submitted(Who(CC1, official_city_ids=frozenset({1})), 1, Q3, sender)
    now = at("2025-10-24", "10:00")
    board = await service.board(Who(ADMIN, is_admin=True), now)
    assert board.quarters == (Q3, Quarter(2025, 2), Quarter(2025, 1), Quarter(2024, 4))
    assert [r.city for r in board.rows] == sorted(["长春市", "吉林市"])
    by_city = {r.city: r for r in board.rows}
    assert by_city["长春市"].cells[0].state == "submitted"
    assert by_city["长春市"].cells[0].submitted_by == "王主任"
    late = by_city["吉林市"].cells[0]
    assert (late.state, late.workdays) == ("overdue", 3)
    text = service.render_board(board, "zh")
    assert "2025Q3：逾期 3 个工作日（2025-10-21 截止）" in text
    assert "2025Q3：已报送（" in text and "王主任" in text  # noqa: PT018

    early = await service.board(Who(ADMIN, is_admin=True), at("2025-10-15"))
    cell = next(r for r in early.rows if r.city == "吉林市").cells[0]
    assert (cell.state, cell.workdays) == ("due", 4)

    own = await service.board(Who(JL, official_city_ids=frozenset({2})), now)
    assert [r.city for r in own.rows] == ["吉林市"]
    with pytest.raises(AccessDenied):
        await service.board(Who(555), now)

    message = service.board_document(board, "zh")
    (attachment,) = message.attachments
    assert attachment.kind == "document"
    assert attachment.filename == "季度报告-2025-10-24.xlsx"
    sheet = load_workbook(io.BytesIO(attachment.content or b"")).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("城市", "2025Q3", "2025Q2", "2025Q1", "2024Q4")
    jilin = next(r for r in rows if r[0] == "吉林市")
    assert jilin[1] == "逾期 3 个工作日（2025-10-21 截止）"

    # The board's quarters roll over when a quarter ends.
    assert service.board_quarters(date(2026, 1, 1))[0] == Quarter(2025, 4)


async def test_caught_up_reminder_counts_from_the_day_it_goes_out(
    service: ReportsService, sender: FakeSender
) -> None:
    # before5 (Tue Oct 14, 09:00) sent at 08:00 the next morning: 4 working days are left.
    await service.tick(at("2025-10-15", "08:00"), sender)
    assert "还剩 4 个工作日" in sender.to(JL)[0]
    sender.clear()
    # The due-day slot (Oct 21) caught up on Oct 22 before 09:00 says overdue, not "today".
    await service.tick(at("2025-10-22", "08:00"), sender)
    assert "已逾期 1 个工作日" in sender.to(JL)[0]
