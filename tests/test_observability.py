"""Metrics, /metrics, error records, `parkbot status`, and logs without personal data."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import replace

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import text

from bot.config import Config
from bot.logs import LIBRARY_FLOORS, setup_logging, update_context
from bot.metrics import Metrics
from bot.ops import ErrorLog
from bot.services import Services
from bot.status import STATUS_SECTIONS, masked_url, status_report
from bot.webhook import build_web_app
from tests.harness import Harness


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    """Return one sample's value (0 when never recorded)."""
    value = metrics.registry.get_sample_value(name, labels or None)
    return value or 0.0


async def test_updates_are_counted_and_timed(harness: Harness) -> None:
    m = harness.services.metrics
    await harness.command(7001, "/start")
    await harness.command(7001, "/help")
    await harness.press(7001, "no:such:button")
    assert sample(m, "parkbot_updates_received_total", type="message") == 2
    assert sample(m, "parkbot_updates_handled_total", type="message") == 2
    assert sample(m, "parkbot_updates_handled_total", type="callback_query") == 1
    assert sample(m, "parkbot_update_seconds_count") == 3


async def test_each_process_has_its_own_registry() -> None:
    a, b = Metrics(), Metrics()
    a.faq_answered()
    a.outbox("sent", count=3)
    a.rate_limited(7.5)
    a.reminder("missed")
    with a.faq_matching():
        pass
    assert sample(a, "parkbot_faq_questions_total", result="answered") == 1
    assert sample(a, "parkbot_outbox_messages_total", outcome="sent", channel="telegram") == 3
    assert sample(a, "parkbot_retry_after_seconds_total", channel="telegram") == 7.5
    assert sample(a, "parkbot_reminders_total", outcome="missed") == 1
    assert sample(a, "parkbot_faq_match_seconds_count") == 1
    assert sample(b, "parkbot_faq_questions_total", result="answered") == 0
    with pytest.raises(ValueError, match="outcome"):
        a.outbox("lost")


async def test_metrics_endpoint_serves_prometheus_text(harness: Harness) -> None:
    assert harness.app is not None
    await harness.command(7002, "/start")
    runner = web.AppRunner(build_web_app(harness.app))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as http:
            resp = await http.get(f"http://127.0.0.1:{port}/metrics")
            body = await resp.text()
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        assert 'parkbot_updates_handled_total{type="message"} 1.0' in body
    finally:
        await runner.cleanup()


async def test_handler_error_is_counted_and_kept_for_status(harness: Harness) -> None:
    harness.expect_errors = True
    async with harness.services.db.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE role_grants RENAME TO role_grants_gone"))
    await harness.command(7003, "/start")
    async with harness.services.db.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE role_grants_gone RENAME TO role_grants"))
    m = harness.services.metrics
    assert (
        sum(
            s.value
            for metric in m.registry.collect()
            if metric.name == "parkbot_handler_errors"
            for s in metric.samples
            if s.name.endswith("_total")
        )
        == 1
    )
    [entry] = await harness.services.errors.recent()
    assert entry.user_id == 7003
    assert entry.update_id is not None
    assert entry.location  # where in our code it failed
    lines = await status_report(harness.services)
    assert any(entry.error in line and "user 7003" in line for line in lines)


async def test_error_ring_buffer_keeps_only_the_newest(harness: Harness) -> None:
    log = ErrorLog(harness.services.db, harness.clock, keep=3)
    for i in range(5):
        try:
            raise RuntimeError(f"boom {i}")
        except RuntimeError as exc:
            await log.record(exc, update_id=i)
    assert [e.update_id for e in await log.recent(10)] == [4, 3, 2]
    assert await log.count() == 3


async def test_status_masks_the_password_and_shows_feature_sections(harness: Harness) -> None:
    assert masked_url("postgresql+asyncpg://bot:hunter2@db:5432/parkbot") == (
        "postgresql+asyncpg://bot:***@db:5432/parkbot"
    )

    async def reminders(services: Services) -> list[str]:
        return ["reminders: next 2027-01-10 09:00"]

    STATUS_SECTIONS.append(reminders)
    try:
        lines = await status_report(harness.services)
    finally:
        STATUS_SECTIONS.remove(reminders)
    screen = "\n".join(lines)
    assert "reachable; revision 0009 (code head 0009: up to date)" in screen
    assert "reminders: next 2027-01-10 09:00" in screen
    assert "outbox:    outbox: empty" in screen
    assert "errors:    none recorded" in screen


async def test_status_of_an_unreachable_database(tmp_path: object) -> None:
    config = Config(database_url="postgresql+asyncpg://bot:hunter2@127.0.0.1:1/none")
    services = Services.create(config)
    try:
        lines = await status_report(services)
    finally:
        await services.close()
    assert "NOT reachable" in "\n".join(lines)
    assert "hunter2" not in "\n".join(lines)


@pytest.fixture
def json_debug_log() -> Iterator[io.StringIO]:
    """Route every log record through the production set-up: JSON lines at DEBUG."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    saved_levels = {n: logging.getLogger(n).level for n in LIBRARY_FLOORS}
    stream = io.StringIO()
    setup_logging(Config(log_level="DEBUG", log_format="json"), stream)
    try:
        yield stream
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        for name, lvl in saved_levels.items():
            logging.getLogger(name).setLevel(lvl)


NAME = "王小明"
PHONE = "13812345678"


async def test_logs_carry_ids_but_no_personal_data(
    harness: Harness, json_debug_log: io.StringIO
) -> None:
    u = harness.updates
    await harness.feed(u.text(7004, "/start", name=NAME))
    await harness.feed(u.text(7004, f"我叫{NAME}，手机{PHONE}，想报名入会", name=NAME))
    contact = u.contact(7004, PHONE)
    contact["message"]["contact"]["first_name"] = NAME
    contact["message"]["from"]["first_name"] = NAME
    await harness.feed(contact)
    with update_context(99, 7004):
        logging.getLogger("telegram.ext").info("library says %s", {"text": PHONE})
        logging.getLogger("sqlalchemy.engine.Engine").warning("params %s", 1)

    output = json_debug_log.getvalue()
    records = [json.loads(line) for line in output.splitlines()]
    assert records, "DEBUG logging produced nothing"
    assert NAME not in output
    assert PHONE not in output
    handled = [r for r in records if r["message"].endswith(" ms") and r.get("user_id") == 7004]
    assert len(handled) == 3
    assert all(isinstance(r["update_id"], int) for r in handled)
    assert any(r["message"] == "library says <redacted>" for r in records)


async def test_text_logs_name_the_update(json_debug_log: io.StringIO) -> None:
    setup_logging(replace(Config(), log_level="DEBUG"), json_debug_log)
    with update_context(5, 6):
        logging.getLogger("bot.x").info("hello")
    assert json_debug_log.getvalue().rstrip().endswith("hello [update 5 user 6]")
