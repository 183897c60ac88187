"""A failing handler: traceback to the log with the update id, an apology to the user."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from tests.harness import Harness


async def test_database_hiccup_gets_an_apology_not_a_traceback(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.expect_errors = True
    async with harness.services.db.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE users RENAME TO users_gone"))
    with caplog.at_level(logging.ERROR, logger="parkbot.errors"):
        calls = await harness.command(8008, "/start")
    texts = harness.texts_of(calls)
    assert texts == [harness.services.texts.get("core.error")]
    assert "Traceback" not in texts[0]
    record = harness.errors[0]
    assert record.exc_info is not None
    assert getattr(record, "update_id", None) is not None
    assert getattr(record, "user_id", None) == 8008
    async with harness.services.db.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE users_gone RENAME TO users"))
    # The welcome comes first; features may add newcomer hints after it (members: /register).
    assert harness.texts_of(await harness.command(8008, "/start"))[0] == (
        harness.services.texts.get("core.welcome")
    )


async def test_a_failing_button_press_gets_an_alert(harness: Harness) -> None:
    harness.expect_errors = True
    await harness.command(8009, "/lang")
    async with harness.services.db.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE users RENAME TO users_gone"))
    harness.services.users._cache.clear()
    calls = await harness.press(8009, "lang:en")
    alert = [c for c in calls if c.method == "answerCallbackQuery"]
    assert alert[-1].params["text"] == harness.services.texts.get("core.error")
    async with harness.services.db.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE users_gone RENAME TO users"))


async def test_flood_is_answered_once_then_dropped(harness: Harness) -> None:
    sent = []
    for _ in range(25):
        sent += harness.texts_of(await harness.command(8010, "/help"))
    flood = harness.services.texts.get("core.flood")
    assert sent.count(flood) == 1
    assert len(sent) == 21  # 20 answers, one warning, then silence until the window passes


async def test_a_blocked_user_does_not_crash_the_bot(harness: Harness) -> None:
    from bot.models import User

    harness.expect_errors = True
    harness.api.fail_next("sendMessage", "blocked", chat_id=8011)
    await harness.command(8011, "/start")
    async with harness.services.db.session() as s:
        user = await s.get(User, 8011)
    assert user is not None
    assert user.reachable is False
