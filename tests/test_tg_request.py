"""JsonRequest: Bot API calls go out as one JSON body, uploads as multipart, errors as PTB's."""

from __future__ import annotations

import json

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, TimedOut

from bot.app import LOCAL_TOKEN
from bot.localapi import LocalBotApi
from handlers.tg_request import JsonRequest


class Recorder:
    """An httpx transport in front of the local Bot API that keeps each raw request."""

    def __init__(self) -> None:
        self.api = LocalBotApi()
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.api.handle(request)


def bot_on(transport: httpx.AsyncBaseTransport) -> Bot:
    return Bot(LOCAL_TOKEN, base_url="http://local/bot", request=JsonRequest(transport))


async def test_send_message_posts_json_and_reads_the_answer() -> None:
    rec = Recorder()
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("原文", callback_data="fq:s:1:0")]])
    async with bot_on(httpx.MockTransport(rec)) as bot:
        sent = await bot.send_message(42, "园区科协的主要任务是什么？", reply_markup=markup)
    request = rec.requests[-1]
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.content)
    assert body["chat_id"] == 42
    assert body["text"] == "园区科协的主要任务是什么？"
    assert body["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "fq:s:1:0"
    # UTF-8, not \u escapes: the body is a third of a form's size.
    assert "园区科协".encode() in request.content
    assert sent.text == "园区科协的主要任务是什么？"
    assert sent.reply_markup == markup


async def test_uploads_stay_multipart() -> None:
    rec = Recorder()
    async with bot_on(httpx.MockTransport(rec)) as bot:
        await bot.send_document(42, b"a,b\n1,2\n", filename="members.csv", caption="导出")
    request = rec.requests[-1]
    assert request.headers["content-type"].startswith("multipart/form-data")
    call = rec.api.calls[-1]
    assert call.method == "sendDocument"
    assert call.params["caption"] == "导出"
    assert call.files["document"][1] == b"a,b\n1,2\n"


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (httpx.ReadTimeout("slow"), TimedOut),
        (httpx.PoolTimeout("busy"), TimedOut),
        (httpx.ConnectError("refused"), NetworkError),
    ],
)
async def test_transport_failures_become_ptb_errors(
    failure: Exception, error: type[Exception]
) -> None:
    calls = 0

    async def fail(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if request.url.path.endswith("/getMe"):
            return await LocalBotApi().handle(request)
        raise failure

    async with bot_on(httpx.MockTransport(fail)) as bot:
        with pytest.raises(error):
            await bot.send_message(42, "你好")
    assert calls == 2  # getMe, then the one failed send (no silent retry)


async def test_explicit_timeouts_reach_the_client() -> None:
    seen: list[dict[str, float | None]] = []

    async def keep(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return await LocalBotApi().handle(request)

    async with bot_on(httpx.MockTransport(keep)) as bot:
        await bot.send_message(42, "你好", read_timeout=7.5)
    assert seen[-1]["read"] == 7.5
    assert seen[-1]["connect"] == 5.0  # PTB's default where none was given
