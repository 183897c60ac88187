"""The composition root: one PTB Application with our services, persistence and handlers."""

from __future__ import annotations

import logging
import os
from typing import Any

import httpx
from telegram import Update
from telegram.ext import AIORateLimiter, Application, ContextTypes
from telegram.request import BaseRequest

from bot.services import Services
from handlers import build_handlers
from handlers.context import SERVICES_KEY, Ctx
from handlers.errors import on_error
from handlers.jobs import tick
from handlers.menu import sync_all_commands
from handlers.notify import OUTBOX_LOOP_KEY, start_outbox_loop, stop_outbox_loop
from handlers.persistence import DbPersistence
from handlers.processing import PerChatUpdateProcessor
from handlers.tg_request import JsonRequest
from handlers.tg_sender import TelegramSender

log = logging.getLogger(__name__)

# PTB 22 warns on every 429 it parses unless time periods are opted in to timedelta; our code
# (handlers/tg_sender.py) reads both shapes, so opt in and keep 429s quiet (and tests green).
os.environ.setdefault("PTB_TIMEDELTA", "true")

# Used when no token is configured (console chat, tests): the local Bot API accepts anything.
LOCAL_TOKEN = "123456:LOCAL-parkbot-console-token-0000"

ParkApp = Application[Any, Ctx, Any, Any, Any, Any]
# Concurrent Bot API connections (PTB's own default for the Application's bot).
REQUEST_POOL = 256


def build_application(
    services: Services,
    *,
    request: BaseRequest | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    run_clock: bool = True,
    rate_limiter: bool = True,
) -> ParkApp:
    """Build the Application: typed context, DB persistence, rate limiter, ordered updates.

    Bot API calls go out as JSON (JsonRequest) over transport when given (the offline Bot API
    of the console, tests and benchmarks), else over the network; request replaces both.
    """
    config = services.config
    processor = PerChatUpdateProcessor()
    builder = (
        Application.builder()
        .token(config.token or LOCAL_TOKEN)
        .base_url(config.api_base_url)
        .base_file_url(config.file_base_url)
        .context_types(ContextTypes(context=Ctx))
        .persistence(DbPersistence(services.db))
        .concurrent_updates(processor)
    )
    if rate_limiter:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=0))  # type: ignore[arg-type]
    if request is None:
        request = JsonRequest(transport, connection_pool_size=REQUEST_POOL)
        if transport is not None:
            builder = builder.get_updates_request(JsonRequest(transport))
        builder = builder.request(request)
    else:
        builder = builder.request(request).get_updates_request(request)
    app: ParkApp = builder.build()
    processor.application = app
    app.bot_data[SERVICES_KEY] = services
    for group, handler in build_handlers():
        app.add_handler(handler, group=group)
    app.add_error_handler(on_error)
    if run_clock and app.job_queue is not None:
        app.job_queue.run_repeating(tick, interval=config.tick_seconds, first=1, name="clock")
    # Broadcasts go out from a background loop in real runs; tests drain them on h.tick().
    app.bot_data[OUTBOX_LOOP_KEY] = run_clock
    return app


async def start_application(app: ParkApp) -> None:
    """Migrate, initialise and start the application (without fetching updates)."""
    services: Services = app.bot_data[SERVICES_KEY]
    await services.start()
    await app.initialize()
    await _post_init(app)
    await app.start()


async def stop_application(app: ParkApp) -> None:
    """Stop processing, save state, and release every resource."""
    services: Services = app.bot_data[SERVICES_KEY]
    await stop_outbox_loop(app)  # before the bot closes: a send in flight finishes first
    if app.running:
        await app.stop()
    await app.shutdown()
    await _post_shutdown(app)
    await services.close()


async def _post_init(app: ParkApp) -> None:
    services: Services = app.bot_data[SERVICES_KEY]
    services.senders["telegram"] = TelegramSender(app.bot)
    await sync_all_commands(app.bot, services)
    start_outbox_loop(app)


async def _post_shutdown(app: ParkApp) -> None:
    services: Services = app.bot_data[SERVICES_KEY]
    if services.leader is not None:
        await services.leader.release()


ALLOWED_UPDATES = Update.ALL_TYPES
