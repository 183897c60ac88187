"""Group robots get what Telegram users get: events, /notify, campaigns, quarterly reminders.

Everything goes through the PTB application (tests.harness) and the loopback fake WeCom,
DingTalk and Feishu webhooks (tests.fake_robots); the outbox worker and the reports tick are
the real ones.
"""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.access import Role
from bot.models.outbox import Broadcast, OutboxRow, RowState
from bot.models.reports import ReportSend
from bot.outbox.worker import OutboxWorker
from bot.reports.status import next_reminders
from bot.status import STATUS_SECTIONS, status_report
from bot.webhook import build_web_app
from tests import test_campaigns_e2e as campaigns_e2e
from tests import test_events_e2e as events_e2e
from tests import test_reports_e2e as reports_e2e
from tests.fake_robots import FakeRobot, FakeRobotServer
from tests.harness import ADMIN_ID, Harness

PARK = "长春新区"
OTHER_PARK = "净月"
SECRETARY = 2001
MEMBERS = (3001, 3002)


@pytest.fixture
async def server(harness: Harness) -> AsyncIterator[FakeRobotServer]:
    """Yield the fake robot webhooks, on the harness's clock (signatures carry timestamps)."""
    fake = FakeRobotServer(now=harness.clock.now)
    await fake.start()
    yield fake
    await fake.close()


async def attach(
    h: Harness,
    server: FakeRobotServer,
    platform: str,
    *,
    park: str | None = None,
    city: str | None = None,
    secret: str | None = None,
    keyword: str | None = None,
    kinds: str | None = None,
) -> tuple[FakeRobot, int]:
    """Create a fake robot and register it, as an admin, for a park or a city."""
    fake = server.add(platform, secret=secret, keyword=keyword)
    robots = h.services.robots
    assert robots is not None
    view = await robots.add(
        await h.services.access.actor(ADMIN_ID),
        kind=platform,
        url=server.url(fake),
        park_id=await h.services.org.park_id(park) if park else None,
        city_id=await h.services.org.city_id(city) if city else None,
        secret=secret,
        keyword=keyword,
        kinds=kinds,
    )
    return fake, view.id


async def deliver(h: Harness, *, horizon: timedelta = timedelta(hours=1)) -> None:
    """Run the real outbox worker on the fake clock until nothing is due within horizon."""

    async def sleep(seconds: float) -> None:
        h.clock.advance(timedelta(seconds=seconds))

    end = h.clock.now() + horizon
    worker = OutboxWorker(
        h.services.db,
        h.services.senders,
        h.clock,
        "robots-e2e",
        sleep=sleep,
        timer=lambda: h.clock.now().timestamp(),
        metrics=h.services.metrics,
    )
    for _ in range(200):
        if await worker.run_once():
            continue
        async with h.services.db.session() as s:
            later = await s.scalar(
                select(func.min(OutboxRow.next_attempt_at)).where(
                    OutboxRow.state == RowState.PENDING.value
                )
            )
        if later is None or later > end:
            return
        h.clock.set(max(h.clock.now(), later))


async def robot_rows(h: Harness) -> list[tuple[int, str, str]]:
    """Return (broadcast id, robot id, state) of every robot delivery."""
    async with h.services.db.session() as s:
        rows = await s.execute(
            select(OutboxRow.broadcast_id, OutboxRow.address, OutboxRow.state)
            .where(OutboxRow.channel == "robot")
            .order_by(OutboxRow.id)
        )
        return [(b, a, st) for b, a, st in rows.all()]


def t(h: Harness, key: str, **values: object) -> str:
    return h.services.texts.get(key, "zh", **values)


async def notify(h: Harness, user: int, text: str) -> None:
    await h.command(user, "/notify")
    await h.text(user, text)
    await h.press(user, "nt:send")


@pytest.fixture
async def parks(harness: Harness) -> Harness:
    """Two parks, a secretary and two members in the first, one member in the second."""
    h = harness
    await h.add_park(PARK, "长春市")
    await h.add_park(OTHER_PARK, "长春市")
    await h.grant(SECRETARY, Role.SECRETARY, park=PARK)
    for member in MEMBERS:
        await h.grant(member, Role.MEMBER, park=PARK)
    await h.grant(3101, Role.MEMBER, park=OTHER_PARK)
    return h


# --- events ------------------------------------------------------------------------------------


async def test_published_event_reaches_the_parks_wecom_and_dingtalk_robots(
    harness: Harness, server: FakeRobotServer
) -> None:
    h = harness
    h.clock.set(datetime(2026, 12, 1, 1, 0, tzinfo=events_e2e.START.tzinfo))
    await events_e2e.setup(h)
    wecom, _ = await attach(h, server, "wecom", park=events_e2e.PARK)
    dingtalk, _ = await attach(
        h, server, "dingtalk", park=events_e2e.PARK, secret="SECev0123456789", keyword="科协"
    )
    elsewhere, _ = await attach(h, server, "wecom", park="净月")
    notices_only, _ = await attach(h, server, "feishu", park=events_e2e.PARK, kinds="notice")

    event_id = await events_e2e.create_event(h)

    how = t(h, "robots.render.how.event")
    for fake in (wecom, dingtalk):
        [text] = fake.texts()
        assert "人工智能学术交流会" in text
        assert "2026-12-05 14:00 – 16:00" in text  # when
        assert "科创中心 301" in text  # where
        assert how in text  # how to sign up: in Telegram or through the secretary
        assert "ev:rsvp" not in text
    assert dingtalk.posts[0]["markdown"]["title"].startswith("科协")  # the security keyword
    assert elsewhere.posts == []
    assert notices_only.posts == []
    # One broadcast per language: the robots' rows sit in the members' (zh) broadcast.
    rows = await robot_rows(h)
    assert len({b for b, _, _ in rows}) == 1
    assert [s for _, _, s in rows] == ["sent", "sent"]
    status = await h.services.outbox.status(rows[0][0])  # type: ignore[union-attr]
    assert status.total == len(events_e2e.MEMBERS) + 2
    assert status.sent == status.total

    # A cancellation is park-wide news too: the robots hear it, once.
    await h.command(events_e2e.SEC, "/events")
    await h.press(events_e2e.SEC, f"ev:cancel:{event_id}")
    await h.press(events_e2e.SEC, f"ev:cancel!:{event_id}")
    await deliver(h)
    cancelled = t(h, "events.notice.cancelled", title="人工智能学术交流会")
    for fake in (wecom, dingtalk):
        assert len(fake.posts) == 2
        assert cancelled in fake.texts()[1]
        assert how not in fake.texts()[1]  # nothing left to sign up for


async def test_event_reaches_an_english_robot_once_even_with_no_english_member(
    harness: Harness, server: FakeRobotServer
) -> None:
    h = harness
    await events_e2e.setup(h)
    zh, _ = await attach(h, server, "wecom", park=events_e2e.PARK)
    en, en_id = await attach(h, server, "wecom", park=events_e2e.PARK)
    async with h.services.db.session() as s:
        from bot.models.robots import Robot

        robot = await s.get(Robot, en_id)
        assert robot is not None
        robot.language = "en"
    await events_e2e.create_event(h)
    assert len(zh.posts) == 1
    assert len(en.posts) == 1
    assert h.services.texts.get("robots.render.how.event", "en") in en.texts()[0]
    assert t(h, "robots.render.how.event") in zh.texts()[0]


# --- /notify -----------------------------------------------------------------------------------


async def test_notify_reaches_the_parks_robots_in_the_same_broadcast(
    parks: Harness, server: FakeRobotServer
) -> None:
    h = parks
    wecom, _ = await attach(h, server, "wecom", park=PARK)
    dingtalk, _ = await attach(h, server, "dingtalk", park=PARK, secret="SECnt0123456789")
    other, _ = await attach(h, server, "feishu", park=OTHER_PARK)
    events_only, _ = await attach(h, server, "wecom", park=PARK, kinds="event")

    await notify(h, SECRETARY, "周五下午三点在园区会议室开会。")
    await h.tick()

    for fake in (wecom, dingtalk):
        assert fake.texts()
        assert "周五下午三点在园区会议室开会。" in fake.texts()[0]
    assert other.posts == []
    assert events_only.posts == []
    [(bid, _, _), _] = await robot_rows(h)
    outbox = h.services.outbox
    assert outbox is not None
    status = await outbox.status(bid)
    assert status.finished
    assert status.sent == len(MEMBERS) + 2 == status.total
    # The sender's summary counts the robots with the members.
    summary = h.api.messages_to(SECRETARY)[-1]
    assert str(len(MEMBERS) + 2) in summary

    # A second tick, a restart and another tick send nothing again.
    await h.tick()
    await h.restart()
    await h.tick()
    assert len(wecom.posts) == 1
    assert len(dingtalk.posts) == 1


# --- campaigns -----------------------------------------------------------------------------------


async def test_campaign_announcement_reaches_the_parks_robots(
    harness: Harness, server: FakeRobotServer
) -> None:
    h = harness
    park_a, _ = await campaigns_e2e.setup(h)
    feishu, _ = await attach(h, server, "feishu", park="长春新区", secret="feishu-camp-0123")
    wecom, _ = await attach(h, server, "wecom", park="长春新区", kinds="campaign,event")
    notices_only, _ = await attach(h, server, "wecom", park="长春新区", kinds="notice")
    neighbour, _ = await attach(h, server, "wecom", park="净月高新区")

    await campaigns_e2e.open_campaign(h, park_a)

    for fake in (feishu, wecom):
        [text] = fake.texts()
        assert "降本增效金点子" in text
    assert notices_only.posts == []
    assert neighbour.posts == []
    rows = await robot_rows(h)
    assert sorted(s for _, _, s in rows) == ["sent", "sent"]


# --- quarterly reports ---------------------------------------------------------------------------


async def test_quarterly_reminder_reaches_the_citys_feishu_robot_once(
    harness: Harness, server: FakeRobotServer
) -> None:
    h = harness
    await reports_e2e.setup(h)
    feishu, robot_id = await attach(h, server, "feishu", city="长春市", secret="feishu-rep-0123")
    park_robot, _ = await attach(h, server, "wecom", park=None, city="吉林市", kinds="notice")

    await reports_e2e.tick_at(h, reports_e2e.at("2027-01-07"))
    await reports_e2e.tick_at(h, reports_e2e.at("2027-01-07", "09:10"))
    await h.restart()
    await reports_e2e.tick_at(h, reports_e2e.at("2027-01-07", "09:20"))

    [text] = feishu.texts()
    assert "长春市" in text
    assert "2026年第4季度" in text
    assert "/reportsdone 2026Q4 长春市" in text  # how to confirm
    assert "吉林市" not in text
    assert park_robot.posts == []  # it does not take reports
    async with h.services.db.session() as s:
        statuses = (
            await s.scalars(select(ReportSend.status).where(ReportSend.user_id == -robot_id))
        ).all()
    assert statuses == ["sent"]
    # Officials still get their Telegram reminder with the buttons.
    assert len(reports_e2e.reminders(h, reports_e2e.CC1)) == 1

    # Recorded by the admin: the robot hears nothing more about that quarter.
    await h.command(ADMIN_ID, "/reportsdone 2026Q4 长春市")
    await reports_e2e.tick_at(h, reports_e2e.at("2027-01-13"))
    assert len(feishu.posts) == 1
    # And the reminder count reached /metrics' counter.
    value = h.services.metrics.registry.get_sample_value(
        "parkbot_reminders_total", {"outcome": "sent"}
    )
    assert value
    assert value >= 1


async def test_status_shows_the_next_reminder_slots(harness: Harness) -> None:
    h = harness
    h.clock.set(reports_e2e.at("2027-01-05"))
    assert next_reminders in STATUS_SECTIONS
    lines = await status_report(h.services)
    start = lines.index("reports:   next reminder slots")
    assert "2027-01-07 09:00  2026Q4  before5 (reminder)" in lines[start + 1]


# --- rate limits, broken webhooks --------------------------------------------------------------


async def test_a_blocked_dingtalk_robot_does_not_hold_back_the_others(
    parks: Harness, server: FakeRobotServer
) -> None:
    h = parks
    blocked, blocked_id = await attach(h, server, "dingtalk", park=PARK)
    free, free_id = await attach(h, server, "dingtalk", park=PARK)
    wecom, _ = await attach(h, server, "wecom", park=PARK)
    # The group of `blocked` posted 20 messages in the last minute (someone else's robot).
    now = h.clock.now().timestamp()
    blocked.sent_at.extend([now - 1] * 20)
    start = h.clock.now()

    await notify(h, SECRETARY, "第一条通知")
    await deliver(h, horizon=timedelta(seconds=30))
    await notify(h, SECRETARY, "第二条通知")
    await deliver(h, horizon=timedelta(seconds=30))

    # Within seconds the other robots have both notices; the blocked one has none yet.
    assert h.clock.now() - start < timedelta(seconds=60)
    assert [len(free.posts), len(wecom.posts), len(blocked.posts)] == [2, 2, 0]
    rows = await robot_rows(h)
    assert {s for _, a, s in rows if a == str(blocked_id)} == {"pending"}
    assert {s for _, a, s in rows if a == str(free_id)} == {"sent"}

    # After DingTalk's ten minutes it gets both, once each, in order.
    await deliver(h, horizon=timedelta(minutes=15))
    assert [len(free.posts), len(wecom.posts), len(blocked.posts)] == [2, 2, 2]
    assert "第一条通知" in blocked.texts()[0]
    assert "第二条通知" in blocked.texts()[1]
    assert {s for _, _, s in await robot_rows(h)} == {"sent"}
    async with h.services.db.session() as s:
        limited = await s.scalar(select(func.sum(Broadcast.rate_limited)))
    assert limited
    assert limited >= 1
    m = h.services.metrics.registry
    assert (m.get_sample_value("parkbot_rate_limited_total", {"channel": "robot"}) or 0) >= 1


async def test_a_broken_webhook_is_reported_to_admins_once(
    parks: Harness, server: FakeRobotServer
) -> None:
    h = parks
    gone, gone_id = await attach(h, server, "wecom", park=PARK)
    fine, _ = await attach(h, server, "feishu", park=PARK)
    gone.removed = True  # the group removed the robot

    # The clock job runs every few seconds; a robot's pacing (20/min) defers its next post.
    await notify(h, SECRETARY, "第一条通知")
    for _ in range(2):
        h.clock.advance(timedelta(seconds=5))
        await h.tick()
    await notify(h, SECRETARY, "第二条通知")
    await h.tick()
    await h.restart()
    h.clock.advance(timedelta(seconds=5))
    await h.tick()

    reports = [m for m in h.api.messages_to(ADMIN_ID) if f"机器人 {gone_id}" in m]
    assert len(reports) == 1
    assert PARK in reports[0]
    assert len(fine.posts) == 2
    assert gone.posts == []
    states = [(a, s) for _, a, s in await robot_rows(h) if a == str(gone_id)]
    assert states == [(str(gone_id), RowState.UNREACHABLE.value)]  # skipped once broken


# --- logs and metrics ----------------------------------------------------------------------------


async def test_secrets_never_appear_in_the_apps_logs(
    parks: Harness, server: FakeRobotServer, real_logging: io.StringIO
) -> None:
    h = parks
    assert logging.getLogger("aiosqlite").getEffectiveLevel() >= logging.INFO
    assert logging.getLogger("sqlalchemy.engine").getEffectiveLevel() >= logging.INFO
    dingtalk, _ = await attach(h, server, "dingtalk", park=PARK, secret="SECdebug0123456789")
    feishu, _ = await attach(h, server, "feishu", park=PARK, secret="feishu-debug-0123456")
    wecom, _ = await attach(h, server, "wecom", park=PARK)
    await notify(h, SECRETARY, "日志里不能有密钥。")
    wecom.removed = True
    await notify(h, SECRETARY, "第二条。")
    await h.tick()
    logged = real_logging.getvalue()
    assert "robot" in logged  # DEBUG was on and the robot code did log
    for secret in (dingtalk.secret, feishu.secret, dingtalk.token, feishu.token, wecom.token):
        assert secret
        assert secret not in logged


async def test_metrics_endpoint_shows_outbox_outcomes_after_a_broadcast(
    parks: Harness, server: FakeRobotServer
) -> None:
    h = parks
    await attach(h, server, "wecom", park=PARK)
    gone, _ = await attach(h, server, "feishu", park=PARK)
    gone.removed = True
    await notify(h, SECRETARY, "指标。")
    await h.tick()
    assert h.app is not None
    runner = web.AppRunner(build_web_app(h.app))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as http:
            body = await (await http.get(f"http://127.0.0.1:{port}/metrics")).text()
    finally:
        await runner.cleanup()
    expected = [
        'parkbot_outbox_messages_total{channel="telegram",outcome="queued"} 2.0',
        'parkbot_outbox_messages_total{channel="robot",outcome="queued"} 2.0',
        'parkbot_outbox_messages_total{channel="telegram",outcome="sent"} 2.0',
        'parkbot_outbox_messages_total{channel="robot",outcome="sent"} 1.0',
        'parkbot_outbox_messages_total{channel="robot",outcome="unreachable"} 1.0',
    ]
    for line in expected:
        assert line in body, line


# --- choosing what a robot receives, in chat -----------------------------------------------------


async def test_secretary_chooses_in_chat_which_kinds_a_robot_receives(
    parks: Harness, server: FakeRobotServer
) -> None:
    h = parks
    await h.grant(2002, Role.SECRETARY, park=OTHER_PARK)
    wecom, robot_id = await attach(h, server, "wecom", park=PARK)
    robots = h.services.robots
    assert robots is not None
    park_id = await h.services.org.park_id(PARK)

    listing = await h.command(SECRETARY, "/robots")
    assert (t(h, "robots.chat.kinds", id=robot_id), f"rb:kinds:{robot_id}") in h.buttons_of(
        listing[-1]
    )
    shown = await h.press(SECRETARY, f"rb:kinds:{robot_id}")
    toggles = h.buttons_of(shown[-1])
    assert [d for _, d in toggles] == [
        f"rb:kt:{robot_id}:{k}" for k in ("notice", "event", "campaign", "report")
    ]
    assert all(label.startswith("✅") for label, _ in toggles)

    saved = await h.press(SECRETARY, f"rb:kt:{robot_id}:notice")
    assert h.texts_of(saved)[-1] == t(
        h, "robots.chat.kinds_saved", id=robot_id, kinds="活动, 征集, 季度报送"
    )
    assert await robots.robots_for_parks([park_id], "notice") == []
    assert await robots.robots_for_parks([park_id], "event") == [robot_id]
    # Another park's secretary may not change it.
    refused = await h.press(2002, f"rb:kt:{robot_id}:event")
    assert t(h, "robots.error.denied") in [str(c.params.get("text")) for c in refused]
    assert await robots.robots_for_parks([park_id], "event") == [robot_id]

    await notify(h, SECRETARY, "这条通知不进群。")
    await h.tick()
    assert wecom.posts == []
    await h.press(SECRETARY, f"rb:kt:{robot_id}:notice")
    assert await robots.robots_for_parks([park_id], "notice") == [robot_id]
