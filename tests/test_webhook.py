"""The webhook endpoint and /healthz over real HTTP on a loopback port."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import text

from bot.webhook import SECRET_HEADER, build_web_app
from tests.harness import Harness

SECRET = "s3cr3t-token_ABC"


@pytest.fixture
async def hooked(db_url: str, tmp_path: Path) -> AsyncIterator[tuple[Harness, str]]:
    h = Harness(db_url, tmp_path)
    h.config = replace(
        h.config, webhook_url="https://bot.example.org/tg/hook", webhook_secret=SECRET
    )
    await h.start()
    assert h.app is not None
    runner = web.AppRunner(build_web_app(h.app))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield h, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
        await h.stop()


async def test_update_with_the_right_secret_is_processed(hooked: tuple[Harness, str]) -> None:
    h, base = hooked
    update = h.updates.text(6006, "/start")
    async with aiohttp.ClientSession() as http:
        resp = await http.post(f"{base}/tg/hook", json=update, headers={SECRET_HEADER: SECRET})
        assert resp.status == 200
    # Answered before the 200 (nothing to wait for): the next test shows it cannot be otherwise.
    assert h.api.messages_to(6006)[0] == h.services.texts.get("core.welcome")


async def test_telegram_hears_200_only_once_the_update_is_handled(
    hooked: tuple[Harness, str],
) -> None:
    """A process killed mid-update never says 200, so Telegram delivers the update again."""
    h, base = hooked
    gate = h.api.hold("sendMessage")  # Telegram slow to take the answer
    async with aiohttp.ClientSession() as http:
        post = asyncio.create_task(
            http.post(
                f"{base}/tg/hook",
                json=h.updates.text(6007, "/start"),
                headers={SECRET_HEADER: SECRET},
            )
        )
        try:
            await asyncio.sleep(0.3)
            assert not post.done()  # still handling: no 200 yet
        finally:
            gate.set()
        resp = await post
        assert resp.status == 200
    assert h.api.messages_to(6007)[0] == h.services.texts.get("core.welcome")


@pytest.mark.parametrize("header", [None, "wrong", SECRET + "x", ""])
async def test_missing_or_wrong_secret_is_403(
    hooked: tuple[Harness, str], header: str | None
) -> None:
    h, base = hooked
    headers = {SECRET_HEADER: header} if header is not None else {}
    async with aiohttp.ClientSession() as http:
        resp = await http.post(
            f"{base}/tg/hook", json=h.updates.text(6006, "/start"), headers=headers
        )
        assert resp.status == 403
    assert h.api.messages_to(6006) == []


@pytest.mark.parametrize(
    "body", [b"not json", b"[1,2]", b'{"no_update_id": 1}', b'{"update_id": "x"}']
)
async def test_bad_body_is_400(hooked: tuple[Harness, str], body: bytes) -> None:
    _, base = hooked
    async with aiohttp.ClientSession() as http:
        resp = await http.post(
            f"{base}/tg/hook",
            data=body,
            headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"},
        )
        assert resp.status == 400


async def test_healthz_reports_the_database(hooked: tuple[Harness, str]) -> None:
    h, base = hooked
    async with aiohttp.ClientSession() as http:
        resp = await http.get(f"{base}/healthz")
        assert resp.status == 200
        assert json.loads(await resp.text())["database"] is True
        await h.services.db.dispose()
        h.services.db.engine = _broken_engine()
        resp = await http.get(f"{base}/healthz")
        assert resp.status == 503
        assert (await resp.json())["database"] is False


def _broken_engine():  # type: ignore[no-untyped-def]
    from sqlalchemy.ext.asyncio import create_async_engine

    return create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")


async def test_polling_mode_serves_no_webhook_path(harness: Harness) -> None:
    assert harness.app is not None
    app = build_web_app(harness.app)
    paths = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
    assert paths == {"/healthz", "/metrics"}
    async with harness.services.db.engine.connect() as conn:
        assert (await conn.execute(text("SELECT 1"))).scalar() == 1
