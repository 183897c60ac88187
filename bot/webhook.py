"""The HTTP side of a running bot: Telegram's webhook, /healthz and /metrics.

Only the webhook path is meant to be public (deploy/nginx.conf forwards nothing else); /healthz
and /metrics are for the host, the container runtime and Prometheus on the private side.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
from typing import Any
from urllib.parse import urlparse

from aiohttp import web
from telegram import Update

from bot.app import ParkApp, start_application, stop_application
from bot.services import Services
from handlers.context import SERVICES_KEY

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1 << 20  # Telegram's updates are far smaller; refuse anything huge early.
APP_KEY: web.AppKey[Any] = web.AppKey("ptb_application")


def webhook_path(url: str) -> str:
    """Return the path Telegram posts to, from PARKBOT_WEBHOOK_URL (default /telegram)."""
    path = urlparse(url).path if url else ""
    return path if path and path != "/" else "/telegram"


def build_web_app(application: ParkApp) -> web.Application:
    """Return the aiohttp app: POST webhook (when configured), GET /healthz and GET /metrics."""
    services: Services = application.bot_data[SERVICES_KEY]
    web_app = web.Application(client_max_size=MAX_BODY)
    web_app[APP_KEY] = application
    if services.config.webhook_mode:
        web_app.router.add_post(webhook_path(services.config.webhook_url), _on_update)
    web_app.router.add_get("/healthz", _on_healthz)
    web_app.router.add_get("/metrics", _on_metrics)
    return web_app


async def _on_update(request: web.Request) -> web.Response:
    application: ParkApp = request.app[APP_KEY]
    services: Services = application.bot_data[SERVICES_KEY]
    response = await _accept_update(request, application, services)
    services.metrics.webhook_request(response.status)
    return response


async def _accept_update(
    request: web.Request, application: ParkApp, services: Services
) -> web.Response:
    expected = services.config.webhook_secret.encode()
    given = request.headers.get(SECRET_HEADER, "").encode()
    # Constant-time: the secret is the only thing between the internet and our update queue.
    if not expected or not hmac.compare_digest(given, expected):
        return web.json_response({"ok": False, "error": "forbidden"}, status=403)
    try:
        data = json.loads(await request.read())
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise ValueError("not an Update")
        update = Update.de_json(data, application.bot)
    except (ValueError, TypeError, KeyError) as exc:
        log.warning("rejected a webhook body: %s", exc)
        return web.json_response({"ok": False, "error": "bad update"}, status=400)
    # Handled before Telegram hears "200": a process killed mid-update never answers, so
    # Telegram delivers the update again (to whichever process nginx picks). Errors inside
    # handlers are the error handler's (the user gets an apology, Telegram a 200); a failure
    # around them (the database gone while taking the chat lock) is a 500, and a redelivery.
    try:
        processor = application.update_processor
        await processor.process_update(update, application.process_update(update))
    except Exception:
        log.exception(
            "update %s failed outside its handlers; Telegram will resend it", update.update_id
        )
        return web.json_response({"ok": False, "error": "not processed"}, status=500)
    return web.json_response({"ok": True})


async def _on_healthz(request: web.Request) -> web.Response:
    application: ParkApp = request.app[APP_KEY]
    services: Services = application.bot_data[SERVICES_KEY]
    db_ok = await services.db.ping()
    body = {
        "status": "ok" if db_ok else "degraded",
        "database": db_ok,
        "running": application.running,
    }
    return web.json_response(body, status=200 if db_ok else 503)


async def _on_metrics(request: web.Request) -> web.Response:
    application: ParkApp = request.app[APP_KEY]
    services: Services = application.bot_data[SERVICES_KEY]
    body, content_type = services.metrics.render()
    # aiohttp wants the charset apart from the media type.
    media_type, _, params = content_type.partition(";")
    charset = params.split("charset=")[-1].strip() if "charset=" in params else None
    return web.Response(body=body, content_type=media_type.strip(), charset=charset)


async def serve(application: ParkApp, stop: asyncio.Event | None = None) -> None:
    """Run the bot until SIGINT/SIGTERM (or stop): webhook or long polling, plus /healthz."""
    services: Services = application.bot_data[SERVICES_KEY]
    config = services.config
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await start_application(application)
    runner = web.AppRunner(build_web_app(application), access_log=None)
    try:
        await runner.setup()
        await web.TCPSite(runner, config.listen_host, config.listen_port).start()
        log.info("listening on %s:%s", config.listen_host, config.listen_port)
        if config.webhook_mode:
            await application.bot.set_webhook(
                config.webhook_url,
                secret_token=config.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
            log.info("webhook registered at %s", webhook_path(config.webhook_url))
        else:
            # Polling and a webhook exclude each other: Telegram answers getUpdates with 409.
            await application.bot.delete_webhook()
            assert application.updater is not None
            await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
            log.info("long polling started")
        await stop.wait()
    finally:
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        await runner.cleanup()
        await stop_application(application)
