"""/robots: admins and secretaries list, add, test and remove their groups' robots.

/robots shows each robot with "test", "receives" and "remove" buttons and an "add" button.
"receives" shows one toggle per message kind (notice, event, campaign, report), saved at each
press, so it needs no conversation state. "add" starts the add conversation (state diagram):

    [*] --> WHERE: "add" button
    WHERE --> KIND: park or city button
    KIND --> URL: platform button
    URL --> URL: address refused (asked again)
    URL --> [*]: address typed, WeCom (robot added)
    URL --> SECRET: address typed, DingTalk or Feishu
    SECRET --> [*]: secret typed or skipped, Feishu (robot added)
    SECRET --> KEYWORD: secret typed or skipped, DingTalk
    KEYWORD --> [*]: keyword typed or skipped (robot added)
    WHERE, KIND, URL, SECRET, KEYWORD --> [*]: /cancel
"""

from __future__ import annotations

import contextlib

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.access import Role
from bot.models.robots import MESSAGE_KINDS, ROBOT_KINDS
from bot.robots.sender import RobotSender
from bot.robots.service import RobotError, RobotsService, RobotView, check_url
from handlers.access import actor_of, refuse, requires
from handlers.context import Ctx, pressed
from handlers.menu import COMMANDS, STAFF, Command

ADD = "rb:add"
TEST = "rb:test:"
REMOVE = "rb:del:"
AT_PARK = "rb:at:p:"
AT_CITY = "rb:at:c:"
KIND = "rb:kind:"
SKIP = "rb:skip"
KINDS = "rb:kinds:"  # + robot id: show the message-kind toggles
TOGGLE = "rb:kt:"  # + robot id + ":" + message kind
WHERE, CHOOSE_KIND, URL, SECRET, KEYWORD = range(5)
DRAFT = "robot_draft"
TEXT_LIMIT = 1024

COMMANDS.append(Command("robots", STAFF))


def _service(ctx: Ctx) -> RobotsService:
    robots = ctx.services.robots
    if robots is None:
        raise RuntimeError("robots service not configured")
    return robots


def _row(ctx: Ctx, view: RobotView) -> str:
    state = ctx.t("robots.cli.broken", reason=view.broken_reason) if view.broken else ""
    return ctx.t(
        "robots.chat.row",
        id=view.id,
        kind=ctx.t(f"robots.kind.{view.kind}"),
        scope_name=view.scope_name,
        kinds=", ".join(view.kinds),
        state=state,
    ).rstrip()


@requires(Role.SECRETARY, Role.ADMIN)
async def on_robots(update: Update, ctx: Ctx) -> None:
    """List the robots the user manages, with test, remove and add buttons."""
    if update.effective_message is None:
        return
    views = await _service(ctx).list(await actor_of(update, ctx))
    lines = [ctx.t("robots.chat.title")] + [_row(ctx, v) for v in views]
    if not views:
        lines.append(ctx.t("robots.chat.none"))
    rows = [
        [
            InlineKeyboardButton(
                ctx.t("robots.chat.test", id=v.id), callback_data=f"{TEST}{v.id}"
            ),
            InlineKeyboardButton(
                ctx.t("robots.chat.kinds", id=v.id), callback_data=f"{KINDS}{v.id}"
            ),
            InlineKeyboardButton(
                ctx.t("robots.chat.remove", id=v.id), callback_data=f"{REMOVE}{v.id}"
            ),
        ]
        for v in views
    ]
    rows.append([InlineKeyboardButton(ctx.t("robots.chat.add"), callback_data=ADD)])
    await update.effective_message.reply_text(
        "\n".join(lines), reply_markup=InlineKeyboardMarkup(rows)
    )


async def on_test(update: Update, ctx: Ctx) -> None:
    """Send a test message through one robot and show what it answered."""
    query, data = pressed(update)
    await query.answer()
    sender = ctx.services.senders.get("robot")
    if not isinstance(sender, RobotSender):
        raise RuntimeError("robot sender not configured")
    robot_id = int(data.removeprefix(TEST))
    try:
        outcome = await _service(ctx).test_send(await actor_of(update, ctx), robot_id, sender)
    except RobotError as exc:
        await _reply(update, ctx.t(exc.key, **exc.values))
        return
    key = "robots.cli.test_ok" if outcome.ok else "robots.cli.test_failed"
    await _reply(update, ctx.t(key, answer=outcome.answer))


def _kinds_names(ctx: Ctx, kinds: tuple[str, ...]) -> str:
    return ", ".join(ctx.t(f"robots.msgkind.{k}") for k in kinds)


def _kinds_keyboard(ctx: Ctx, view: RobotView) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                ("✅ " if kind in view.kinds else "▫️ ") + ctx.t(f"robots.msgkind.{kind}"),
                callback_data=f"{TOGGLE}{view.id}:{kind}",
            )
        ]
        for kind in MESSAGE_KINDS
    ]
    return InlineKeyboardMarkup(rows)


async def on_kinds(update: Update, ctx: Ctx) -> None:
    """Show which kinds of message one robot receives, as toggles."""
    query, data = pressed(update)
    robot_id = int(data.removeprefix(KINDS))
    try:
        view = await _service(ctx).get(await actor_of(update, ctx), robot_id)
    except RobotError as exc:
        await query.answer(ctx.t(exc.key, **exc.values), show_alert=True)
        return
    await query.answer()
    text = ctx.t("robots.chat.ask_kinds", id=view.id, kinds=_kinds_names(ctx, view.kinds))
    await _reply(update, text, _kinds_keyboard(ctx, view))


async def on_toggle(update: Update, ctx: Ctx) -> None:
    """Switch one kind of message on or off for a robot and save it at once."""
    query, data = pressed(update)
    robot_id_text, _, kind = data.removeprefix(TOGGLE).partition(":")
    service = _service(ctx)
    actor = await actor_of(update, ctx)
    try:
        view = await service.get(actor, int(robot_id_text))
        chosen = [k for k in MESSAGE_KINDS if (k in view.kinds) != (k == kind)]
        # A robot receiving nothing would be a removed robot: keep at least one kind.
        if chosen:
            view = await service.set_kinds(actor, view.id, chosen)
    except RobotError as exc:
        await query.answer(ctx.t(exc.key, **exc.values), show_alert=True)
        return
    await query.answer()
    text = ctx.t("robots.chat.kinds_saved", id=view.id, kinds=_kinds_names(ctx, view.kinds))
    with contextlib.suppress(TelegramError):  # unchanged text and keyboard: nothing to edit
        await query.edit_message_text(text, reply_markup=_kinds_keyboard(ctx, view))


async def on_remove(update: Update, ctx: Ctx) -> None:
    """Remove one robot."""
    query, data = pressed(update)
    robot_id = int(data.removeprefix(REMOVE))
    try:
        await _service(ctx).remove(await actor_of(update, ctx), robot_id)
    except RobotError as exc:
        await query.answer(ctx.t(exc.key, **exc.values), show_alert=True)
        return
    await query.answer()
    await query.edit_message_text(ctx.t("robots.cli.removed", id=robot_id))


async def on_add(update: Update, ctx: Ctx) -> int | None:
    """Ask where the new robot belongs: the user's parks, and for admins every city too."""
    query = update.callback_query
    assert query is not None
    actor = await actor_of(update, ctx)
    if not actor.has(Role.SECRETARY, Role.ADMIN):
        await refuse(update, ctx)
        return ConversationHandler.END
    await query.answer()
    rows = []
    for city in await ctx.services.org.cities():
        if actor.is_admin:
            label = ctx.t("robots.chat.city_button", city=city.name)
            rows.append([InlineKeyboardButton(label, callback_data=f"{AT_CITY}{city.id}")])
        for park in city.parks:
            if actor.is_admin or park.id in actor.secretary_park_ids:
                rows.append([InlineKeyboardButton(park.name, callback_data=f"{AT_PARK}{park.id}")])
    ctx.data[DRAFT] = {}
    await query.edit_message_text(
        ctx.t("robots.chat.ask_where"), reply_markup=InlineKeyboardMarkup(rows)
    )
    return WHERE


async def on_where(update: Update, ctx: Ctx) -> int:
    """Remember the park or city and ask which platform."""
    query = update.callback_query
    assert query is not None
    assert query.data is not None
    await query.answer()
    scope = "park_id" if query.data.startswith(AT_PARK) else "city_id"
    ctx.data[DRAFT] = {scope: int(query.data.rsplit(":", 1)[1])}
    rows = [
        [InlineKeyboardButton(ctx.t(f"robots.kind.{kind}"), callback_data=f"{KIND}{kind}")]
        for kind in ROBOT_KINDS
    ]
    await query.edit_message_text(
        ctx.t("robots.chat.ask_kind"), reply_markup=InlineKeyboardMarkup(rows)
    )
    return CHOOSE_KIND


async def on_kind(update: Update, ctx: Ctx) -> int:
    """Remember the platform and ask for the webhook address."""
    query = update.callback_query
    assert query is not None
    assert query.data is not None
    await query.answer()
    kind = query.data.removeprefix(KIND)
    if kind not in ROBOT_KINDS or DRAFT not in ctx.data:
        await query.edit_message_text(ctx.t("core.stale_button"))
        return ConversationHandler.END
    ctx.data[DRAFT]["kind"] = kind
    await query.edit_message_text(ctx.t(f"robots.chat.ask_url.{kind}"))
    return URL


async def _forget_message(update: Update) -> None:
    # The webhook address and secret let anyone post into the group: keep them out of the chat
    # history once stored (bots may delete incoming messages in private chats).
    message = update.effective_message
    if message is not None:
        with contextlib.suppress(TelegramError):
            await message.delete()


async def on_url(update: Update, ctx: Ctx) -> int:
    """Check the address; ask for the secret where the platform signs requests."""
    message = update.effective_message
    assert message is not None
    draft = ctx.data.get(DRAFT) or {}
    url = (message.text or "").strip()[:TEXT_LIMIT]
    try:
        check_url(str(draft.get("kind")), url)
    except RobotError as exc:
        await message.reply_text(ctx.t(exc.key, **exc.values))
        return URL
    await _forget_message(update)
    draft["url"] = url
    if draft["kind"] == "wecom":
        return await _create(update, ctx)
    skip = InlineKeyboardMarkup(
        [[InlineKeyboardButton(ctx.t("robots.chat.skip"), callback_data=SKIP)]]
    )
    await message.reply_text(ctx.t("robots.chat.ask_secret"), reply_markup=skip)
    return SECRET


async def on_secret(update: Update, ctx: Ctx) -> int:
    """Store the secret (or none) and ask DingTalk's keyword, else create the robot."""
    draft = ctx.data.get(DRAFT) or {}
    if update.callback_query is not None:
        await update.callback_query.answer()
    elif update.effective_message is not None:
        draft["secret"] = (update.effective_message.text or "").strip()[:256]
        await _forget_message(update)
    if draft.get("kind") != "dingtalk":
        return await _create(update, ctx)
    skip = InlineKeyboardMarkup(
        [[InlineKeyboardButton(ctx.t("robots.chat.skip"), callback_data=SKIP)]]
    )
    await _reply(update, ctx.t("robots.chat.ask_keyword"), skip)
    return KEYWORD


async def on_keyword(update: Update, ctx: Ctx) -> int:
    """Store DingTalk's security keyword (or none) and create the robot."""
    draft = ctx.data.get(DRAFT) or {}
    if update.callback_query is not None:
        await update.callback_query.answer()
    elif update.effective_message is not None:
        draft["keyword"] = (update.effective_message.text or "").strip()[:64]
    return await _create(update, ctx)


async def _reply(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    chat = update.effective_chat
    if chat is not None:
        await chat.send_message(text, reply_markup=markup)


async def _create(update: Update, ctx: Ctx) -> int:
    draft = ctx.data.pop(DRAFT, None) or {}
    user = update.effective_user
    try:
        view = await _service(ctx).add(
            await actor_of(update, ctx),
            kind=str(draft.get("kind")),
            url=str(draft.get("url")),
            park_id=draft.get("park_id"),
            city_id=draft.get("city_id"),
            secret=draft.get("secret"),
            keyword=draft.get("keyword"),
            created_by=user.id if user else None,
        )
    except RobotError as exc:
        await _reply(update, ctx.t(exc.key, **exc.values))
        return ConversationHandler.END
    test = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    ctx.t("robots.chat.test", id=view.id), callback_data=f"{TEST}{view.id}"
                )
            ]
        ]
    )
    await _reply(update, ctx.t("robots.chat.added", id=view.id, scope_name=view.scope_name), test)
    return ConversationHandler.END


async def on_not_text(update: Update, ctx: Ctx) -> None:
    """Re-ask when something other than text arrives."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(ctx.t("robots.chat.need_text"))


async def on_cancel(update: Update, ctx: Ctx) -> int:
    """Leave the conversation and forget the draft (it may hold a secret)."""
    ctx.data.pop(DRAFT, None)
    if update.effective_message is not None:
        await update.effective_message.reply_text(ctx.t("core.cancelled"))
    return ConversationHandler.END


def handlers() -> list[BaseHandler]:
    """Return the handlers of this module."""
    typed = filters.TEXT & ~filters.COMMAND
    other = ~filters.COMMAND
    return [
        CommandHandler("robots", on_robots),
        CallbackQueryHandler(on_test, pattern=f"^{TEST}\\d+$"),
        CallbackQueryHandler(on_remove, pattern=f"^{REMOVE}\\d+$"),
        CallbackQueryHandler(on_kinds, pattern=f"^{KINDS}\\d+$"),
        CallbackQueryHandler(on_toggle, pattern=f"^{TOGGLE}\\d+:[a-z]+$"),
        ConversationHandler(
            entry_points=[CallbackQueryHandler(on_add, pattern=f"^{ADD}$")],
            states={
                WHERE: [CallbackQueryHandler(on_where, pattern=f"^({AT_PARK}|{AT_CITY})\\d+$")],
                CHOOSE_KIND: [CallbackQueryHandler(on_kind, pattern=f"^{KIND}")],
                URL: [MessageHandler(typed, on_url), MessageHandler(other, on_not_text)],
                SECRET: [
                    MessageHandler(typed, on_secret),
                    CallbackQueryHandler(on_secret, pattern=f"^{SKIP}$"),
                    MessageHandler(other, on_not_text),
                ],
                KEYWORD: [
                    MessageHandler(typed, on_keyword),
                    CallbackQueryHandler(on_keyword, pattern=f"^{SKIP}$"),
                    MessageHandler(other, on_not_text),
                ],
            },
            fallbacks=[CommandHandler("cancel", on_cancel)],
            name="robots_add",
            persistent=True,
        ),
    ]
