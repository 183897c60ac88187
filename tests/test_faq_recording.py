"""Asked questions written in batches: nothing a user sees is lost, and /metrics counts them."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import bot.faq.recorder
from bot.access import Role
from bot.faq.questions import erase_questions
from bot.localapi import ApiCall
from bot.models import FaqQuestion
from bot.webhook import build_web_app
from tests.harness import Harness

MEMBER = 5201
OTHER = 5202
FOUND = "园区科协怎么成立"
WEATHER = "明天长春的天气怎么样"


@pytest.fixture(autouse=True)
def slow_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep rows in the buffer for the whole test unless something writes them on purpose."""
    monkeypatch.setattr(bot.faq.recorder, "FLUSH_SECONDS", 60.0)


async def stored(h: Harness) -> list[FaqQuestion]:
    """Return the rows in the database now (without writing the buffer)."""
    async with h.services.db.session() as s:
        return list((await s.scalars(select(FaqQuestion).order_by(FaqQuestion.id))).all())


def data_of(call: ApiCall) -> list[str]:
    return [d for _, d in Harness.buttons_of(call)]


async def test_buttons_work_before_the_row_is_written(harness: Harness) -> None:
    h = harness
    park_id = await h.add_park("长春新区", "长春市")
    await h.grant(MEMBER, Role.MEMBER, park="长春新区")
    (reply,) = [c for c in await h.text(MEMBER, FOUND) if c.method == "sendMessage"]
    assert await stored(h) == []  # still buffered
    up = next(d for d in data_of(reply) if d.startswith("fq:u:"))
    await h.press(MEMBER, up)
    (row,) = await stored(h)
    assert f"fq:u:{row.id}" == up
    assert row.feedback == "up"
    assert row.text == FOUND
    assert row.park_id == park_id  # looked up when the batch was written


async def test_ids_are_unique_and_continue_after_a_restart(harness: Harness) -> None:
    h = harness
    for user in (MEMBER, OTHER, MEMBER):
        await h.text(user, FOUND)
    await h.restart()  # shutdown writes the buffer
    await h.text(OTHER, WEATHER)
    await h.services.questions.flush()
    rows = await stored(h)
    assert [r.user_id for r in rows] == [MEMBER, OTHER, MEMBER, OTHER]
    assert len({r.id for r in rows}) == 4
    assert rows[-1].id > rows[-2].id
    assert rows[-1].status == "open"


async def test_erasing_reaches_questions_not_written_yet(harness: Harness) -> None:
    h = harness
    await h.text(MEMBER, FOUND)
    await h.text(OTHER, FOUND)
    async with h.services.db.session() as s:
        assert await erase_questions(s, MEMBER) == 1
    await h.services.questions.flush()
    first, second = await stored(h)
    assert (first.user_id, first.text) == (None, None)
    assert (second.user_id, second.text) == (OTHER, FOUND)


async def test_a_full_buffer_is_written_without_waiting(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    monkeypatch.setattr(bot.faq.recorder, "FLUSH_ROWS", 3)
    for user in range(3):
        await h.text(6000 + user, FOUND)
    for _ in range(100):
        if len(await stored(h)) == 3:
            break
        await h.services.questions.recorder.flush()  # yields to the writer task
    assert len(await stored(h)) == 3


async def test_metrics_count_faq_questions_matching_and_feedback(harness: Harness) -> None:
    h = harness
    assert h.app is not None
    await h.text(MEMBER, FOUND)
    await h.text(MEMBER, FOUND)
    await h.text(OTHER, WEATHER)
    await h.text(OTHER, "你好")  # small talk: matched, but not a policy question
    await h.services.questions.flush()
    first = (await stored(h))[0]
    await h.press(MEMBER, f"fq:u:{first.id}")
    await h.press(MEMBER, f"fq:d:{first.id}")
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
    assert 'parkbot_faq_questions_total{result="answered"} 2.0' in body
    assert 'parkbot_faq_questions_total{result="not_covered"} 1.0' in body
    assert "parkbot_faq_match_seconds_count 4.0" in body
    assert 'parkbot_faq_feedback_total{verdict="helpful"} 1.0' in body
    assert 'parkbot_faq_feedback_total{verdict="not_helpful"} 1.0' in body


async def test_erasing_reaches_a_question_being_written(harness: Harness) -> None:
    h = harness
    await h.text(MEMBER, FOUND)  # a user row to point at; its question is buffered
    recorder = h.services.questions.recorder
    started, release = asyncio.Event(), asyncio.Event()
    lookup = recorder._parks

    async def slow_parks(session: AsyncSession, users: set[int]) -> dict[int, int | None]:
        started.set()
        await release.wait()
        return await lookup(session, users)

    recorder._parks = slow_parks
    writing = asyncio.create_task(recorder.flush())
    await started.wait()
    async with h.services.db.session() as s:
        assert await erase_questions(s, MEMBER) == 1
    release.set()
    await writing
    (row,) = await stored(h)
    assert (row.user_id, row.text) == (None, None)
