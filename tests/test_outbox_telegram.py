"""TelegramSender through a real PTB Bot against the loopback fake Bot API, and with the worker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.db import Database
from bot.models.outbox import RowState
from bot.outbox.service import Outbox, Recipient
from bot.outbox.worker import OutboxWorker, WorkerSettings
from bot.sender import (
    Attachment,
    Button,
    Limit,
    OutgoingMessage,
    PermanentError,
    RateLimited,
    TransientError,
    Uncertain,
    Unreachable,
)
from handlers.tg_sender import TelegramSender
from tests.benchmarks.fake_bot_api import FakeBotApi

TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"


@pytest.fixture
async def api(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeBotApi]:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB 22 warns on retry_after otherwise
    server = FakeBotApi(slow_seconds=0.5)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    request = HTTPXRequest(read_timeout=0.2, connect_timeout=1.0)
    async with Bot(TOKEN, base_url=api.base_url, request=request) as b:
        yield b


def test_limits_follow_telegram_defaults() -> None:
    sender = TelegramSender(Bot(TOKEN))
    assert sender.limits("42") == (Limit("telegram", 25, 1.0), Limit("telegram:42", 1, 1.0))
    _, group = sender.limits("-1001")
    assert group == Limit("telegram:-1001", 20, 60.0)
    assert TelegramSender(Bot(TOKEN), overall=10).limits("1")[0] == Limit("telegram", 10, 1.0)


async def test_text_with_buttons(api: FakeBotApi, bot: Bot) -> None:
    msg = OutgoingMessage(
        text="会议通知",
        buttons=((Button("报名", data="ev:rsvp:3"), Button("Web", url="https://x.org")),),
    )
    result = await TelegramSender(bot).send("42", msg)
    method, params = api.requests[-1]
    assert method == "sendMessage"
    assert params["text"] == "会议通知"
    keyboard = params["reply_markup"]["inline_keyboard"][0]
    assert keyboard[0]["callback_data"] == "ev:rsvp:3"
    assert keyboard[1]["url"] == "https://x.org"
    assert result.message_id
    assert api.deliveries[42] == 1


async def test_photo_by_file_id_carries_text_as_caption(api: FakeBotApi, bot: Bot) -> None:
    msg = OutgoingMessage(text="见附件", attachments=(Attachment("photo", file_id="AgAD1"),))
    await TelegramSender(bot).send("42", msg)
    method, params = api.requests[-1]
    assert (method, params["photo"], params["caption"]) == ("sendPhoto", "AgAD1", "见附件")


async def test_document_bytes_upload(api: FakeBotApi, bot: Bot) -> None:
    msg = OutgoingMessage(
        text="x" * 2000,
        attachments=(Attachment("document", content=b"%PDF-1.4", filename="notice.pdf"),),
    )
    await TelegramSender(bot).send("42", msg)
    assert [m for m, _ in api.requests[-2:]] == ["sendMessage", "sendDocument"]
    assert api.requests[-1][1]["document"] == "notice.pdf"


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("blocked", Unreachable),
        ("chat_not_found", Unreachable),
        ("bad_request", PermanentError),
        ("server_error", TransientError),
        ("retry_after", RateLimited),
        ("timeout", Uncertain),
    ],
)
async def test_errors_map_to_delivery_errors(
    api: FakeBotApi, bot: Bot, fault: str, error: type[Exception]
) -> None:
    api.fail_next(42, fault)
    with pytest.raises(error) as caught:
        await TelegramSender(bot).send("42", OutgoingMessage(text="hi"))
    if isinstance(caught.value, RateLimited):
        assert caught.value.retry_after == 3


async def test_network_down_is_transient(bot: Bot, api: FakeBotApi) -> None:
    await api.stop()
    with pytest.raises(TransientError):
        await TelegramSender(bot).send("42", OutgoingMessage(text="hi"))


async def test_worker_through_telegram_records_every_outcome(
    api: FakeBotApi, bot: Bot, tmp_path: Path
) -> None:
    class Clock:
        def now(self) -> datetime:
            return datetime.now(UTC)

    db = Database(f"sqlite+aiosqlite:///{tmp_path}/tg.db")
    await db.upgrade()
    clock = Clock()
    outbox = Outbox(db, clock)
    api.fail_next(2, "blocked")
    api.fail_next(3, "timeout")
    api.fail_next(4, "bad_request")
    bid = await outbox.create_broadcast(
        kind="notice",
        created_by=1,
        message=OutgoingMessage(text="hi"),
        recipients=[Recipient("telegram", str(i), i) for i in range(1, 7)],
    )
    sender = TelegramSender(bot, overall=100, per_chat=100)
    w = OutboxWorker(db, {"telegram": sender}, clock, "w", settings=WorkerSettings())
    assert await w.run_once() == 6
    st = await outbox.status(bid)
    assert (st.sent, st.unreachable, st.uncertain, st.failed) == (3, 1, 1, 1)
    assert st.count(RowState.PENDING) == 0
    assert api.deliveries[3] == 1  # the timed-out send did arrive: it must not go again
    assert api.duplicated == 0
    await db.dispose()
