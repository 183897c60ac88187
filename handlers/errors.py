"""The global error handler: log the traceback, tell the user something short and kind."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import ApplicationHandlerStop

from handlers.context import Ctx

log = logging.getLogger("parkbot.errors")


async def on_error(update: object, ctx: Ctx) -> None:
    """Log the error with the update id; apologise to the user, never with a traceback."""
    update_id = update.update_id if isinstance(update, Update) else None
    user_id = (
        update.effective_user.id if isinstance(update, Update) and update.effective_user else None
    )
    log.error(
        "handler error (update %s, user %s)",
        update_id,
        user_id,
        exc_info=ctx.error,
        extra={"update_id": update_id, "user_id": user_id},
    )
    if ctx.error is not None:
        ctx.services.metrics.handler_error(ctx.error)
        # Telegram's own error texts say what went wrong and carry no personal data; other
        # exceptions might quote user input, so only their type and code location are kept.
        detail = str(ctx.error) if isinstance(ctx.error, TelegramError) else ""
        await ctx.services.errors.record(
            ctx.error, update_id=update_id, user_id=user_id, detail=detail
        )
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if isinstance(ctx.error, Forbidden) and update.effective_user is not None:
        await ctx.services.users.mark_unreachable(update.effective_user.id)
        raise ApplicationHandlerStop
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(ctx.t("core.error"), show_alert=True)
        else:
            await ctx.bot.send_message(update.effective_chat.id, ctx.t("core.error"))
    except TelegramError:
        log.warning("could not send the apology for update %s", update_id, exc_info=True)
    # One apology per update: later handler groups would most likely fail the same way.
    raise ApplicationHandlerStop
