"""What is left after every feature: stale buttons, unknown commands, unsupported messages."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from handlers.context import Ctx
from handlers.start import on_cancel


async def on_stale_button(update: Update, ctx: Ctx) -> None:
    """Answer a button nobody handles (old message, removed feature, forged data)."""
    if update.callback_query is not None:
        await update.callback_query.answer(ctx.t("core.stale_button"), show_alert=True)


async def on_unknown_command(update: Update, ctx: Ctx) -> None:
    """Point to /help."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(ctx.t("core.unknown_command"))


async def on_unsupported(update: Update, ctx: Ctx) -> None:
    """Say which kinds of message the bot reads."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(ctx.t("core.unsupported"))


def handlers() -> list[BaseHandler]:
    """Return the handlers of this module."""
    private = filters.ChatType.PRIVATE
    return [
        # Active conversations catch /cancel themselves (they sit earlier in the table).
        CommandHandler("cancel", on_cancel),
        CallbackQueryHandler(on_stale_button),
        MessageHandler(private & filters.COMMAND, on_unknown_command),
        MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, on_unsupported),
    ]
