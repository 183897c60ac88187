"""One place that turns roles into a polite refusal."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Update

from bot.access import Actor, Role
from handlers.context import Ctx

Handler = TypeVar("Handler", bound=Callable[[Update, Ctx], Awaitable[object]])


async def actor_of(update: Update, ctx: Ctx) -> Actor:
    """Return the acting user with their roles."""
    user = update.effective_user
    if user is None:
        return Actor(0)
    return await ctx.services.access.actor(user.id)


async def refuse(update: Update, ctx: Ctx, key: str = "core.no_permission") -> None:
    """Tell the user they may not do this, wherever they pressed or typed."""
    text = ctx.t(key)
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)


def requires(*roles: Role) -> Callable[[Handler], Handler]:
    """Let only holders of one of roles through; refuse everyone else politely."""

    def decorate(func: Handler) -> Handler:
        @functools.wraps(func)
        async def wrapper(update: Update, ctx: Ctx) -> object:
            actor = await actor_of(update, ctx)
            if not actor.has(*roles):
                await refuse(update, ctx)
                return None
            return await func(update, ctx)

        return wrapper  # type: ignore[return-value]

    return decorate
