"""Provincial admins in chat: /orgs lists cities, parks and role holders; /addpark adds a park.

/addpark conversation (state diagram):

    [*] --> CITY: /addpark
    CITY --> NAME: city button
    CITY --> NEW_CITY: "new city" button
    NEW_CITY --> NAME: city name typed
    NAME --> [*]: park name typed (park created)
    CITY --> [*]: /cancel
    NEW_CITY --> [*]: /cancel
    NAME --> [*]: /cancel
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.access import Role
from handlers.access import requires
from handlers.context import Ctx
from handlers.menu import COMMANDS, Command

CITY_PREFIX = "ap:city:"
NEW_CITY = "ap:new"
CITY, NEW_CITY_NAME, NAME = range(3)
NAME_LIMIT = 64

COMMANDS.extend(
    [Command("orgs", frozenset({Role.ADMIN})), Command("addpark", frozenset({Role.ADMIN}))]
)


@requires(Role.ADMIN)
async def on_orgs(update: Update, ctx: Ctx) -> None:
    """List every city with its parks and how many people hold each role."""
    if update.effective_message is None:
        return
    cities = await ctx.services.org.cities()
    grants = await ctx.services.access.all_grants()
    lines = [ctx.t("admin.orgs_title")]
    for city in cities:
        officials = sum(1 for _, g in grants if g.role is Role.OFFICIAL and g.city_id == city.id)
        lines.append(ctx.t("admin.orgs_city", city=city.name, officials=officials))
        for park in city.parks:
            secretaries = sum(
                1 for _, g in grants if g.role is Role.SECRETARY and g.park_id == park.id
            )
            lines.append(ctx.t("admin.orgs_park", park=park.name, secretaries=secretaries))
    if not cities:
        lines.append(ctx.t("admin.orgs_empty"))
    await update.effective_message.reply_text("\n".join(lines))


@requires(Role.ADMIN)
async def on_addpark(update: Update, ctx: Ctx) -> int | None:
    """Ask which city the new park belongs to."""
    if update.effective_message is None:
        return None
    cities = await ctx.services.org.cities()
    rows = [[InlineKeyboardButton(c.name, callback_data=f"{CITY_PREFIX}{c.id}")] for c in cities]
    rows.append([InlineKeyboardButton(ctx.t("admin.new_city_button"), callback_data=NEW_CITY)])
    await update.effective_message.reply_text(
        ctx.t("admin.ask_city"), reply_markup=InlineKeyboardMarkup(rows)
    )
    return CITY


async def on_city_chosen(update: Update, ctx: Ctx) -> int:
    """Remember the city and ask for the park's name."""
    query = update.callback_query
    assert query is not None
    assert query.data is not None
    await query.answer()
    city_id = int(query.data.removeprefix(CITY_PREFIX))
    _, cities = await ctx.services.org.names()
    if city_id not in cities:
        await query.edit_message_text(ctx.t("core.stale_button"))
        return CITY
    ctx.data["addpark_city"] = cities[city_id]
    await query.edit_message_text(ctx.t("admin.ask_park_name", city=cities[city_id]))
    return NAME


async def on_new_city(update: Update, ctx: Ctx) -> int:
    """Ask for the new city's name."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(ctx.t("admin.ask_city_name"))
    return NEW_CITY_NAME


async def on_city_name(update: Update, ctx: Ctx) -> int:
    """Create the city and ask for the park's name."""
    message = update.effective_message
    assert message is not None
    name = _clean(message.text)
    if name is None:
        await message.reply_text(ctx.t("admin.bad_name", limit=NAME_LIMIT))
        return NEW_CITY_NAME
    await ctx.services.org.add_city(name)
    ctx.data["addpark_city"] = name
    await message.reply_text(ctx.t("admin.ask_park_name", city=name))
    return NAME


async def on_park_name(update: Update, ctx: Ctx) -> int:
    """Create the park and finish."""
    message = update.effective_message
    assert message is not None
    name = _clean(message.text)
    if name is None:
        await message.reply_text(ctx.t("admin.bad_name", limit=NAME_LIMIT))
        return NAME
    city = str(ctx.data.pop("addpark_city", ""))
    await ctx.services.org.add_park(name, city)
    await message.reply_text(ctx.t("admin.park_added", park=name, city=city))
    return ConversationHandler.END


async def on_not_text(update: Update, ctx: Ctx) -> None:
    """Re-ask when something other than a name arrives."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(ctx.t("admin.bad_name", limit=NAME_LIMIT))


async def on_cancel(update: Update, ctx: Ctx) -> int:
    """Leave the conversation."""
    ctx.data.pop("addpark_city", None)
    if update.effective_message is not None:
        await update.effective_message.reply_text(ctx.t("core.cancelled"))
    return ConversationHandler.END


def _clean(text: str | None) -> str | None:
    name = " ".join((text or "").split())
    if not name or len(name) > NAME_LIMIT or name.startswith("/"):
        return None
    return name


def handlers() -> list[BaseHandler]:
    """Return the handlers of this module."""
    typed = filters.TEXT & ~filters.COMMAND
    other = ~filters.COMMAND
    return [
        CommandHandler("orgs", on_orgs),
        ConversationHandler(
            entry_points=[CommandHandler("addpark", on_addpark)],
            states={
                CITY: [
                    CallbackQueryHandler(on_city_chosen, pattern=f"^{CITY_PREFIX}"),
                    CallbackQueryHandler(on_new_city, pattern=f"^{NEW_CITY}$"),
                ],
                NEW_CITY_NAME: [
                    MessageHandler(typed, on_city_name),
                    MessageHandler(other, on_not_text),
                ],
                NAME: [MessageHandler(typed, on_park_name), MessageHandler(other, on_not_text)],
            },
            fallbacks=[CommandHandler("cancel", on_cancel)],
            name="addpark",
            persistent=True,
        ),
    ]
