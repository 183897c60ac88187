"""Unit tests of the members and campaigns domain (no Telegram)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import inspect, select, text

from bot.db import Database
from bot.members.campaigns import AttachmentIn, CampaignsService
from bot.members.errors import Conflict, Denied, InvalidInput, NotFound
from bot.members.exports import Exporter, to_csv, to_xlsx
from bot.members.notify import Notifier
from bot.members.privacy import PERSONAL_DATA_ERASERS, PrivacyNotice
from bot.members.service import MembersService, Registration
from bot.members.validation import normalize_phone, validate_field
from bot.models.core import City, Park, RoleGrant, User
from bot.models.members import Member, Suggestion, SuggestionEvent
from bot.sender import Limit, OutgoingMessage, SendResult, Unreachable
from bot.texts import Texts

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


class Clock:
    """A settable clock for the domain."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        """Return the set time."""
        return self.at


@dataclass
class Who:
    """A minimal actor with the attributes the domain reads."""

    user_id: int
    is_admin: bool = False
    secretary_park_ids: frozenset[int] = frozenset()
    official_city_ids: frozenset[int] = frozenset()


@dataclass
class Recorder:
    """A Sender that records what it was asked to deliver."""

    channel: str = "telegram"
    sent: list[tuple[str, str]] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)

    def limits(self, address: str) -> tuple[Limit, ...]:
        """Return no limits."""
        return ()

    async def send(self, address: str, message: OutgoingMessage) -> SendResult:
        """Record the message."""
        if address in self.blocked:
            raise Unreachable("blocked")
        self.sent.append((address, message.text))
        return SendResult()

    def to(self, user_id: int) -> list[str]:
        """Return the texts sent to user_id."""
        return [t for a, t in self.sent if a == str(user_id)]


@dataclass
class World:
    db: Database
    clock: Clock
    sender: Recorder
    members: MembersService
    campaigns: CampaignsService
    exporter: Exporter
    park_a: int
    park_b: int
    city: int
    admin: Who
    sec_a: Who
    sec_b: Who


ADMIN, SEC_A, SEC_B = 900000001, 900000002, 900000003


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[World]:
    """Two parks of one city with a secretary each, on SQLite and on PostgreSQL."""
    db = Database(db_url)
    async with db.session() as s:
        city = City(name="长春市")
        s.add(city)
        await s.flush()
        a, b = Park(name="长春新区", city_id=city.id), Park(name="净月高新区", city_id=city.id)
        s.add_all([a, b])
        await s.flush()
        s.add_all(
            [
                RoleGrant(user_id=SEC_A, role="secretary", park_id=a.id),
                RoleGrant(user_id=SEC_B, role="secretary", park_id=b.id),
            ]
        )
        ids = city.id, a.id, b.id
    clock = Clock(START)
    texts = Texts.load()
    sender = Recorder()
    notifier = Notifier(db, texts, {"telegram": sender})
    members = MembersService(db, clock, notifier, admin_ids=[ADMIN])
    campaigns = CampaignsService(db, clock, notifier)
    yield World(
        db, clock, sender, members, campaigns, Exporter(members, campaigns, texts),
        park_a=ids[1], park_b=ids[2], city=ids[0],
        admin=Who(ADMIN, is_admin=True),
        sec_a=Who(SEC_A, secretary_park_ids=frozenset({ids[1]})),
        sec_b=Who(SEC_B, secretary_park_ids=frozenset({ids[2]})),
    )  # fmt: skip
    await db.dispose()


def reg(
    w: World, park: int, name: str = "王晓明", phone: str = "+86 138-1234-5678"
) -> Registration:
    return Registration(
        name=name, park_id=park, employer="长春光机所", field="光学", title="intermediate",
        phone=phone, consent_version=PrivacyNotice.load().version, consented_at=w.clock.now(),
    )  # fmt: skip


async def approved(w: World, user_id: int, park: int, name: str = "王晓明") -> Member:
    member = await w.members.register(user_id, reg(w, park, name))
    actor = w.sec_a if park == w.park_a else w.sec_b
    return await w.members.approve(actor, member.id)


# -- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "phone"),
    [("13812345678", "13812345678"), ("+86 138 1234 5678", "13812345678"),
     ("8613912345678", "13912345678"), ("199-1234-5678", "19912345678"),
     ("１３８１２３４５６７８", "13812345678")],
)  # fmt: skip
def test_phone_accepts_mainland_mobiles(raw: str, phone: str) -> None:
    assert normalize_phone(raw) == phone


@pytest.mark.parametrize("raw", ["", "12812345678", "1381234567", "138123456789", "+1 555 1234"])
def test_phone_refuses_others(raw: str) -> None:
    with pytest.raises(InvalidInput) as err:
        normalize_phone(raw)
    assert err.value.key == "members.error.phone"


def test_text_fields_refuse_empty_long_and_control() -> None:
    with pytest.raises(InvalidInput, match="empty"):
        validate_field("name", "   ")
    with pytest.raises(InvalidInput, match="too_long") as err:
        validate_field("name", "王" * 65)
    assert err.value.values == {"max": 64}
    with pytest.raises(InvalidInput, match="bad_chars"):
        validate_field("employer", "abc\u200bdef")
    assert validate_field("field", "  光学  ") == "光学"


def test_privacy_notice_says_what_pipl_needs() -> None:
    notice = PrivacyNotice.load()
    zh, en = notice.text("zh"), notice.text("en")
    assert notice.version in zh
    for needle in ("姓名", "目的", "谁能看到", "保存期限", "境外"):
        assert needle in zh
    assert "outside mainland China" in en


# -- registration and approval ----------------------------------------------------------------


async def test_register_approve_grants_member_role_and_notifies(world: World) -> None:
    w = world
    member = await w.members.register(1001001, reg(w, w.park_a))
    assert member.status == "pending"
    assert member.phone == "13812345678"
    assert member.consent_version == PrivacyNotice.load().version
    assert await w.members.reviewers(w.park_a) == [SEC_A]
    assert [m.id for m in await w.members.pending(w.sec_a)] == [member.id]
    assert await w.members.pending(w.sec_b) == []
    with pytest.raises(NotFound):
        await w.members.approve(w.sec_b, member.id)
    await w.members.approve(w.sec_a, member.id)
    async with w.db.session() as s:
        grants = (await s.scalars(select(RoleGrant).where(RoleGrant.user_id == 1001001))).all()
    assert [(g.role, g.park_id) for g in grants] == [("member", w.park_a)]
    assert "欢迎" in w.sender.to(1001001)[0]
    with pytest.raises(Conflict):
        await w.members.approve(w.sec_a, member.id)
    with pytest.raises(Conflict):
        await w.members.register(1001001, reg(w, w.park_a))


async def test_reject_needs_reason_and_allows_new_registration(world: World) -> None:
    w = world
    member = await w.members.register(1001002, reg(w, w.park_b))
    with pytest.raises(InvalidInput):
        await w.members.reject(w.sec_b, member.id, " ")
    await w.members.reject(w.sec_b, member.id, "不在本园区工作")
    assert "不在本园区工作" in w.sender.to(1001002)[0]
    again = await w.members.register(1001002, reg(w, w.park_a))
    assert again.id == member.id
    assert again.status == "pending"
    assert again.reject_reason == ""


async def test_park_a_member_invisible_to_park_b_secretary(world: World) -> None:
    w = world
    member = await approved(w, 1001003, w.park_a)
    with pytest.raises(NotFound):
        await w.members.get(w.sec_b, member.id)
    assert await w.members.members(w.sec_b) == []
    assert [m.id for m in await w.members.members(w.sec_a)] == [member.id]
    official = Who(5, official_city_ids=frozenset({w.city}))
    assert [m.id for m in await w.members.members(official)] == [member.id]
    with pytest.raises(Denied):
        await w.members.approve(official, member.id)
    with pytest.raises(Denied):
        await w.exporter.members_table(Who(1001003))


async def test_edit_park_goes_back_to_pending(world: World) -> None:
    w = world
    await approved(w, 1001004, w.park_a)
    member = await w.members.edit(1001004, "employer", "吉林大学")
    assert member.employer == "吉林大学"
    assert member.status == "approved"
    with pytest.raises(InvalidInput):
        await w.members.edit(1001004, "phone", "12345")
    member = await w.members.edit(1001004, "park", str(w.park_b))
    assert member.status == "pending"
    assert member.park_id == w.park_b
    async with w.db.session() as s:
        assert (await s.scalars(select(RoleGrant).where(RoleGrant.user_id == 1001004))).all() == []


async def test_withdraw_then_erased_after_retention(world: World) -> None:
    w = world
    await approved(w, 1001005, w.park_a)
    await w.members.withdraw(1001005)
    assert (await w.members.find(1001005)).status == "withdrawn"  # type: ignore[union-attr]
    assert await w.members.tick() == 0
    w.clock.at += timedelta(days=PrivacyNotice.load().retention_days, seconds=1)
    assert await w.members.tick() == 1
    assert await w.members.find(1001005) is None


# -- invitations ------------------------------------------------------------------------------


async def test_invites_grant_once_and_refuse_used_expired_forged(world: World) -> None:
    w = world
    with pytest.raises(Denied):
        await w.members.create_invite(w.sec_a, "secretary", park_id=w.park_a)
    with pytest.raises(InvalidInput):
        await w.members.create_invite(w.admin, "secretary", city_id=w.city)
    payload = await w.members.create_invite(w.admin, "secretary", park_id=w.park_b, hours=2)
    assert payload.startswith("inv-")
    assert len(payload) <= 64
    invite = await w.members.redeem_invite(2002001, payload)
    assert invite.role == "secretary"
    assert await w.members.scope_name(invite) == "净月高新区"
    assert 2002001 in await w.members.reviewers(w.park_b)
    with pytest.raises(Conflict) as used:
        await w.members.redeem_invite(2002002, payload)
    assert used.value.key == "members.error.invite_used"
    late = await w.members.create_invite(w.admin, "official", city_id=w.city, hours=1)
    w.clock.at += timedelta(hours=1)
    with pytest.raises(Conflict) as expired:
        await w.members.redeem_invite(2002003, late)
    assert expired.value.key == "members.error.invite_expired"
    with pytest.raises(NotFound) as forged:
        await w.members.redeem_invite(2002003, payload[:-2] + "xx")
    assert forged.value.key == "members.error.invite_invalid"
    async with w.db.session() as s:
        stored = (await s.execute(text("SELECT token_hash FROM member_invites"))).scalars().all()
    assert all(payload[4:] not in h for h in stored)


# -- campaigns --------------------------------------------------------------------------------


async def test_campaign_lifecycle_receipts_history_and_close(world: World) -> None:
    w = world
    await approved(w, 3003001, w.park_a, "张三")
    await approved(w, 3003002, w.park_b, "李四")
    with pytest.raises(Denied):
        await w.campaigns.open_campaign(
            w.sec_a, "t", "d", date(2026, 3, 2), date(2026, 3, 31), [w.park_a, w.park_b]
        )
    campaign = await w.campaigns.open_campaign(
        w.sec_a, "降本增效", "请提出建议", date(2026, 3, 2), date(2026, 3, 31), [w.park_a]
    )
    assert campaign.announced_at is not None
    assert "降本增效" in w.sender.to(3003001)[-1]
    assert not any("降本增效" in t for t in w.sender.to(3003002))
    assert [c.id for c in await w.campaigns.open_for(3003001)] == [campaign.id]
    assert await w.campaigns.open_for(3003002) == []
    with pytest.raises(NotFound):
        await w.campaigns.submit(3003002, campaign.id, "这是一条很长的合理化建议内容")
    with pytest.raises(InvalidInput):
        await w.campaigns.submit(3003001, campaign.id, "太短")
    files = [AttachmentIn("photo", "AgAC-photo-1"), AttachmentIn("document", "BQAC", "a.pdf")]
    first = await w.campaigns.submit(
        3003001, campaign.id, "建议园区建设共享实验平台，降低企业研发成本。", anonymous=True,
        attachments=files,
    )  # fmt: skip
    second = await w.campaigns.submit(3003001, campaign.id, "建议开通园区人才公寓班车线路。")
    assert (first.receipt, second.receipt) == ("HL-2026-0001", "HL-2026-0002")
    assert len(first.attachments) == 2

    with pytest.raises(Denied):
        await w.campaigns.review_queue(Who(3003001))
    with pytest.raises(NotFound):
        await w.campaigns.transition(w.sec_b, first.id, "accepted")
    with pytest.raises(Conflict):
        await w.campaigns.transition(w.sec_a, first.id, "adopted")
    with pytest.raises(InvalidInput):
        await w.campaigns.transition(w.sec_a, second.id, "rejected", "")
    await w.campaigns.transition(w.sec_a, second.id, "rejected", "已有同类项目")
    for step, note in [("accepted", ""), ("forwarded", "省科技厅"), ("adopted", ""),
                       ("implemented", "")]:  # fmt: skip
        w.clock.at += timedelta(hours=1)
        await w.campaigns.transition(w.sec_a, first.id, step, note)
    notes = w.sender.to(3003001)
    assert "HL-2026-0001" in notes[-1]
    assert "已实施" in notes[-1]
    assert any("省科技厅" in n for n in notes)
    history = await w.campaigns.history(w.sec_a, first.id)
    assert [e.to_status for e in history] == [
        "submitted", "accepted", "forwarded", "adopted", "implemented"
    ]  # fmt: skip
    assert [e.actor_id for e in history] == [3003001] + [SEC_A] * 4
    assert history[-1].at - history[1].at == timedelta(hours=3)
    assert await w.campaigns.review_queue(w.sec_a) == []

    stats = await w.campaigns.stats(w.sec_a, campaign.id)
    assert stats.by_status == {"implemented": 1, "rejected": 1}
    assert stats.by_park == {"长春新区": 2}
    with pytest.raises(NotFound):
        await w.campaigns.stats(w.sec_b, campaign.id)

    w.clock.at = datetime(2026, 3, 31, 15, 59, tzinfo=UTC)  # 23:59 in Changchun
    assert (await w.campaigns.tick()).closed == ()
    w.clock.at = datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
    assert (await w.campaigns.tick()).closed == (campaign.id,)
    with pytest.raises(Conflict):
        await w.campaigns.submit(3003001, campaign.id, "关门之后再提交的一条建议内容")


# -- privacy: deletion ------------------------------------------------------------------------


async def scan(db: Database, needles: list[str | int]) -> list[str]:
    """Return table.column names holding any needle (as a value or inside a string)."""
    found = []
    async with db.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
        for table in tables:
            rows = (await conn.execute(text(f'SELECT * FROM "{table}"'))).mappings().all()
            for row in rows:
                for column, value in row.items():
                    for needle in needles:
                        if value == needle or (isinstance(value, str) and str(needle) in value):
                            found.append(f"{table}.{column}={value!r}")
    return found


async def test_delete_leaves_no_personal_data_and_keeps_closed_content(world: World) -> None:
    w = world
    uid = 4004004321
    async with w.db.session() as s:
        s.add(User(id=uid, name="赵六六", language="zh"))
    await approved(w, uid, w.park_a, "赵六六")
    closed = await w.campaigns.open_campaign(
        w.admin, "旧活动", "说明", date(2026, 3, 2), date(2026, 3, 3), [w.park_a]
    )
    running = await w.campaigns.open_campaign(
        w.admin, "新活动", "说明", date(2026, 3, 2), date(2026, 6, 30), [w.park_a]
    )
    kept = await w.campaigns.submit(
        uid,
        closed.id,
        "建议增加园区停车位，缓解高峰拥堵。",
        attachments=[AttachmentIn("photo", "P1")],
    )
    await w.campaigns.submit(uid, running.id, "建议设立青年科技人才沙龙。")
    await w.campaigns.transition(w.sec_a, kept.id, "accepted")
    w.clock.at = datetime(2026, 3, 4, 0, 0, tzinfo=UTC)
    await w.campaigns.tick()
    calls: list[int] = []

    async def other_feature(session: object, user_id: int) -> None:
        calls.append(user_id)

    PERSONAL_DATA_ERASERS.append(other_feature)
    try:
        await w.members.delete_personal_data(uid)
    finally:
        PERSONAL_DATA_ERASERS.remove(other_feature)
    assert calls == [uid]
    assert await scan(w.db, [uid, str(uid), "赵六六", "13812345678", "长春光机所"]) == []
    async with w.db.session() as s:
        left = (await s.scalars(select(Suggestion))).all()
        events = (await s.scalars(select(SuggestionEvent))).all()
    assert [(x.receipt, x.content, x.user_id) for x in left] == [
        ("HL-2026-0001", "建议增加园区停车位，缓解高峰拥堵。", None)
    ]
    assert left[0].attachments == []
    assert {e.actor_id for e in events} == {None, SEC_A}


async def test_unreachable_member_is_marked(world: World) -> None:
    w = world
    async with w.db.session() as s:
        s.add(User(id=5005001, name="x"))
    w.sender.blocked.add("5005001")
    member = await w.members.register(5005001, reg(w, w.park_a))
    await w.members.approve(w.sec_a, member.id)
    async with w.db.session() as s:
        assert (await s.get(User, 5005001)).reachable is False  # type: ignore[union-attr]


# -- exports ----------------------------------------------------------------------------------


async def test_exports_round_trip_and_respect_scope(world: World) -> None:
    w = world
    await approved(w, 6006001, w.park_a, "=HYPERLINK(1)")
    await approved(w, 6006002, w.park_b, "孙七")
    campaign = await w.campaigns.open_campaign(
        w.admin, "活动", "说明", date(2026, 3, 2), date(2026, 3, 31), [w.park_a, w.park_b]
    )
    await w.campaigns.submit(6006002, campaign.id, "建议设立园区知识产权服务站。", anonymous=True)
    table = await w.exporter.members_table(w.sec_b)
    assert [row[1] for row in table.rows] == ["孙七"]
    raw = to_csv(table)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "姓名", "园区"]
    assert rows[1][1:7] == ["孙七", "净月高新区", "长春光机所", "光学", "中级", "13812345678"]
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(await w.exporter.members_table(w.admin))))
    sheet = book.active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert [v[1] for v in values[1:]] == ["'=HYPERLINK(1)", "孙七"]  # formula defused
    sug = await w.exporter.suggestions_table(w.sec_a)
    assert sug.rows == []
    sug = await w.exporter.suggestions_table(w.sec_b, lang="en")
    assert sug.headers[0] == "Receipt"
    assert sug.rows[0][:6] == ["HL-2026-0001", "活动", "净月高新区", "孙七", "13812345678", "yes"]
