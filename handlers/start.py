"""/start, /help, /lang, and the /cancel answer for when no conversation is active."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.texts import LANGUAGES
from handlers.access import actor_of
from handlers.context import Ctx
from handlers.menu import commands_for, sync_user_commands

LANG_PREFIX = "lang:"

# Deep-link payloads of /start, by prefix (e.g. "inv-" for invitations); features register here.
PayloadHandler = Callable[[Update, Ctx, str], Awaitable[None]]
START_PAYLOADS: dict[str, PayloadHandler] = {}

# What /start adds for someone with no role yet (e.g. an offer to register); features set it.
NEWCOMER_HINTS: list[Callable[[Update, Ctx], Awaitable[None]]] = []


async def on_start(update: Update, ctx: Ctx) -> None:
    """Greet, or act on a deep-link payload."""
    message = update.effective_message
    if message is None:
        return
    payload = ctx.args[0] if ctx.args else ""
    for prefix, handler in START_PAYLOADS.items():
        if payload.startswith(prefix):
            await handler(update, ctx, payload)
            return
    actor = await actor_of(update, ctx)
    await message.reply_text(ctx.t("core.welcome"))
    if not actor.roles:
        for hint in NEWCOMER_HINTS:
            await hint(update, ctx)


async def on_help(update: Update, ctx: Ctx) -> None:
    """List what this user's roles can do."""
    message = update.effective_message
    if message is None:
        return
    actor = await actor_of(update, ctx)
    lines = [ctx.t("core.help_intro")]
    lines += [f"/{c.name} — {ctx.t(f'cmd.{c.name}')}" for c in commands_for(actor)]
    lines.append(ctx.t("core.help_ask"))
    await message.reply_text("\n".join(lines))


async def on_lang(update: Update, ctx: Ctx) -> None:
    """Offer the languages."""
    if update.effective_message is None:
        return
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    ctx.t(f"core.lang_name_{code}"), callback_data=LANG_PREFIX + code
                )
                for code in LANGUAGES
            ]
        ]
    )
    await update.effective_message.reply_text(ctx.t("core.lang_choose"), reply_markup=keyboard)


async def on_lang_chosen(update: Update, ctx: Ctx) -> None:
    """Store the chosen language and answer in it."""
    query = update.callback_query
    if query is None or query.data is None or update.effective_user is None:
        return
    code = query.data.removeprefix(LANG_PREFIX)
    if code not in LANGUAGES:
        await query.answer(ctx.t("core.stale_button"), show_alert=True)
        return
    await ctx.services.users.set_language(update.effective_user.id, code)
    ctx.lang = code
    await query.answer()
    await query.edit_message_text(ctx.t("core.lang_set"))
    await sync_user_commands(ctx.bot, ctx.services, update.effective_user.id)


async def on_cancel(update: Update, ctx: Ctx) -> None:
    """Say there is nothing to cancel (conversations catch /cancel themselves first)."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(ctx.t("core.nothing_to_cancel"))


def handlers() -> list[BaseHandler]:
    """Return the handlers of this module."""
    return [
        CommandHandler("start", on_start),
        CommandHandler("help", on_help),
        CommandHandler("lang", on_lang),
        CallbackQueryHandler(on_lang_chosen, pattern=f"^{LANG_PREFIX}"),
    ]
