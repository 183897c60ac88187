"""/me, /withdraw, /deleteme, /pending, /invite, invitation links and approving registrations.

/me edit conversation (name "member_edit"):

    [*] --> VALUE: "edit <field>" button under /me
    VALUE --> VALUE: invalid input (explained, asked again)
    VALUE --> [*]: valid value stored (a new park goes back to pending)
    VALUE --> [*]: /cancel

Reject conversation (name "member_reject"):

    [*] --> REASON: "reject" button under an application
    REASON --> [*]: reason typed (applicant told)
    REASON --> [*]: /cancel
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.access import Role
from bot.members.errors import Conflict, Denied, InvalidInput, MembersError, NotFound
from bot.members.service import PENDING, WITHDRAWN
from bot.members.validation import FIELDS, TITLES
from bot.models.members import Member
from handlers.access import actor_of, requires
from handlers.context import Ctx, pressed
from handlers.menu import COMMANDS, STAFF, Command, sync_user_commands
from handlers.registration import (
    MB_APPROVE,
    MB_REJECT,
    members_of,
    park_keyboard,
    park_name,
    phone_keyboard,
    record_text,
    say,
    tell_reviewers,
    title_keyboard,
)
from handlers.start import START_PAYLOADS

ME_EDIT = "me:edit:"
ME_PARK = "me:park:"
ME_PAGE = "me:page:"
ME_TITLE = "me:title:"
ME_WITHDRAW = "me:withdraw"
ME_DELETE = "me:delete"
VALUE, REASON = range(2)
EDITING = "me_edit"
REJECTING = "mb_reject"
PENDING_SHOWN = 20

COMMANDS.extend(
    [
        Command("me"),
        Command("withdraw"),
        Command("deleteme"),
        Command("pending", STAFF),
        Command("invite", frozenset({Role.ADMIN})),
    ]
)


async def error(update: Update, ctx: Ctx, exc: MembersError) -> None:
    """Explain a refused request where the user acted."""
    text = ctx.t(exc.key, **exc.values)
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await say(update, ctx, text)


# -- /me and editing ---------------------------------------------------------------------------


async def show_me(update: Update, ctx: Ctx, member: Member) -> None:
    """Show the record with one edit button per field."""
    text = record_text(ctx, member, await park_name(ctx, member.park_id))
    status = ctx.t(f"members.status.{member.status}")
    rows = [
        [InlineKeyboardButton(ctx.t(f"reg.edit_{f}"), callback_data=ME_EDIT + f) for f in pair]
        for pair in (FIELDS[0:2], FIELDS[2:4], FIELDS[4:6])
    ]
    await say(
        update,
        ctx,
        ctx.t("reg.your_record", record=text, status=status),
        InlineKeyboardMarkup(rows),
    )


async def on_me(update: Update, ctx: Ctx) -> None:
    """Show the member's record."""
    user = update.effective_user
    assert user is not None
    member = await members_of(ctx).find(user.id)
    if member is None or member.status == WITHDRAWN:
        await say(update, ctx, ctx.t("members.error.not_member"))
        return
    await show_me(update, ctx, member)


async def on_edit_start(update: Update, ctx: Ctx) -> int:
    """Ask the new value of one field."""
    query, data = pressed(update)
    user = update.effective_user
    assert user is not None
    field = data.removeprefix(ME_EDIT)
    member = await members_of(ctx).find(user.id)
    if field not in FIELDS or member is None or member.status == WITHDRAWN:
        await query.answer(ctx.t("core.stale_button"), show_alert=True)
        return ConversationHandler.END
    await query.answer()
    assert ctx.user_data is not None
    ctx.user_data[EDITING] = field
    return await ask_value(update, ctx, field)


async def ask_value(update: Update, ctx: Ctx, field: str, page: int = 0) -> int:
    """Ask for a field's new value with the right keyboard."""
    if field == "park":
        parks = await members_of(ctx).parks()
        markup = park_keyboard(ctx, parks, page, ME_PARK, ME_PAGE)
        await say(update, ctx, ctx.t("reg.ask_park"), markup)
    elif field == "title":
        await say(update, ctx, ctx.t("reg.ask_title"), title_keyboard(ctx, ME_TITLE))
    elif field == "phone":
        await say(update, ctx, ctx.t("reg.ask_phone"), phone_keyboard(ctx))
    else:
        await say(update, ctx, ctx.t(f"reg.ask_{field}"))
    return VALUE


async def store(update: Update, ctx: Ctx, value: str) -> int:
    """Store the value of the field being edited; ask again when it is invalid."""
    user = update.effective_user
    assert user is not None
    assert ctx.user_data is not None
    field = str(ctx.user_data.get(EDITING, ""))
    if field not in FIELDS:
        return ConversationHandler.END
    before = await members_of(ctx).find(user.id)
    try:
        member = await members_of(ctx).edit(user.id, field, value)
    except NotFound as exc:
        # The record went away meanwhile (/deleteme, /withdraw): nothing left to edit.
        ctx.user_data.pop(EDITING, None)
        await error(update, ctx, exc)
        return ConversationHandler.END
    except MembersError as exc:
        await error(update, ctx, exc)
        return await ask_value(update, ctx, field)
    ctx.user_data.pop(EDITING, None)
    await say(update, ctx, ctx.t("members.updated"), ReplyKeyboardRemove())
    if before is not None and before.status != PENDING and member.status == PENDING:
        await say(update, ctx, ctx.t("members.park_changed"))
        await tell_reviewers(ctx, member)
    await show_me(update, ctx, member)
    return ConversationHandler.END


async def on_edit_text(update: Update, ctx: Ctx) -> int:
    """Take a typed value (or a shared contact for the phone)."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None
    assert user is not None
    assert ctx.user_data is not None
    field = ctx.user_data.get(EDITING)
    if field in ("park", "title"):
        await say(update, ctx, ctx.t("reg.use_buttons"))
        return await ask_value(update, ctx, str(field))
    if message.contact is not None:
        if field != "phone" or message.contact.user_id not in (None, user.id):
            await say(update, ctx, ctx.t("reg.not_own_contact"))
            return await ask_value(update, ctx, str(field))
        return await store(update, ctx, message.contact.phone_number)
    return await store(update, ctx, message.text or "")


async def on_edit_button(update: Update, ctx: Ctx) -> int:
    """Take a park or title button, or turn the park page."""
    query = update.callback_query
    assert query is not None
    assert query.data is not None
    assert ctx.user_data is not None
    data = query.data
    field = str(ctx.user_data.get(EDITING, ""))
    if data.startswith(ME_PAGE) and field == "park":
        await query.answer()
        raw = data.removeprefix(ME_PAGE)
        parks = await members_of(ctx).parks()
        markup = park_keyboard(ctx, parks, int(raw) if raw.isdigit() else 0, ME_PARK, ME_PAGE)
        await query.edit_message_reply_markup(markup)
        return VALUE
    if data.startswith(ME_PARK) and field == "park" and data.removeprefix(ME_PARK).isdigit():
        await query.answer()
        return await store(update, ctx, data.removeprefix(ME_PARK))
    if data.startswith(ME_TITLE) and field == "title" and data.removeprefix(ME_TITLE) in TITLES:
        await query.answer()
        return await store(update, ctx, data.removeprefix(ME_TITLE))
    await query.answer(ctx.t("core.stale_button"), show_alert=True)
    return await ask_value(update, ctx, field)


async def on_not_text(update: Update, ctx: Ctx) -> int:
    """Refuse photos, stickers and the like while a value is expected."""
    assert ctx.user_data is not None
    await say(update, ctx, ctx.t("reg.text_expected"))
    return await ask_value(update, ctx, str(ctx.user_data.get(EDITING, "name")))


async def on_edit_cancel(update: Update, ctx: Ctx) -> int:
    """Leave editing without a change."""
    assert ctx.user_data is not None
    ctx.user_data.pop(EDITING, None)
    await say(update, ctx, ctx.t("reg.cancelled"), ReplyKeyboardRemove())
    return ConversationHandler.END


# -- withdraw and delete -----------------------------------------------------------------------


async def on_withdraw(update: Update, ctx: Ctx) -> None:
    """Ask to confirm withdrawing consent."""
    user = update.effective_user
    assert user is not None
    member = await members_of(ctx).find(user.id)
    if member is None or member.status == WITHDRAWN:
        await say(update, ctx, ctx.t("members.error.not_member"))
        return
    days = members_of(ctx).privacy.retention_days
    button = InlineKeyboardButton(ctx.t("members.withdraw_confirm"), callback_data=ME_WITHDRAW)
    await say(
        update, ctx, ctx.t("members.withdraw_ask", days=days), InlineKeyboardMarkup([[button]])
    )


async def on_withdraw_confirmed(update: Update, ctx: Ctx) -> None:
    """Withdraw consent."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None
    assert user is not None
    try:
        await members_of(ctx).withdraw(user.id)
    except MembersError as exc:
        await error(update, ctx, exc)
        return
    await query.answer()
    days = members_of(ctx).privacy.retention_days
    await query.edit_message_text(ctx.t("members.withdrawn", days=days))


async def on_deleteme(update: Update, ctx: Ctx) -> None:
    """Ask to confirm deleting every personal datum."""
    button = InlineKeyboardButton(ctx.t("members.delete_confirm"), callback_data=ME_DELETE)
    await say(update, ctx, ctx.t("members.delete_ask"), InlineKeyboardMarkup([[button]]))


async def on_delete_confirmed(update: Update, ctx: Ctx) -> None:
    """Delete the person's data everywhere, including the bot's memory of their chats."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None
    assert user is not None
    if ctx.user_data is not None:
        # Emptied here so persistence does not write the old draft back after the erasure.
        ctx.user_data.clear()
    await members_of(ctx).delete_personal_data(user.id)
    await query.answer()
    await query.edit_message_text(ctx.t("members.deleted"))


# -- approvals ---------------------------------------------------------------------------------


@requires(Role.SECRETARY, Role.ADMIN)
async def on_pending(update: Update, ctx: Ctx) -> None:
    """List registrations waiting in the secretary's parks, each with its buttons."""
    actor = await actor_of(update, ctx)
    waiting = await members_of(ctx).pending(actor)
    if not waiting:
        await say(update, ctx, ctx.t("members.pending_none"))
        return
    await say(update, ctx, ctx.t("members.pending_title", count=len(waiting)))
    for member in waiting[:PENDING_SHOWN]:
        buttons = InlineKeyboardMarkup(
            [[InlineKeyboardButton(ctx.t("members.approve"),
                                   callback_data=f"{MB_APPROVE}{member.id}"),
              InlineKeyboardButton(ctx.t("members.reject"),
                                   callback_data=f"{MB_REJECT}{member.id}")]]
        )  # fmt: skip
        text = record_text(ctx, member, await park_name(ctx, member.park_id))
        await say(update, ctx, text, buttons)


async def on_approve(update: Update, ctx: Ctx) -> None:
    """Approve the application under the button."""
    query, data = pressed(update)
    raw = data.removeprefix(MB_APPROVE)
    actor = await actor_of(update, ctx)
    try:
        member = await members_of(ctx).approve(actor, int(raw) if raw.isdigit() else 0)
    except MembersError as exc:
        await error(update, ctx, exc)
        return
    await query.answer()
    await query.edit_message_text(ctx.t("members.approved_done", name=member.name))


async def on_reject_start(update: Update, ctx: Ctx) -> int:
    """Ask the reason for rejecting the application under the button."""
    query, data = pressed(update)
    assert ctx.user_data is not None
    raw = data.removeprefix(MB_REJECT)
    actor = await actor_of(update, ctx)
    try:
        member = await members_of(ctx).get(actor, int(raw) if raw.isdigit() else 0)
        if not (actor.is_admin or member.park_id in actor.secretary_park_ids):
            raise Denied()
        if member.status != PENDING:
            raise Conflict("members.error.not_pending")
    except MembersError as exc:
        await error(update, ctx, exc)
        return ConversationHandler.END
    await query.answer()
    ctx.user_data[REJECTING] = member.id
    await say(update, ctx, ctx.t("members.ask_reason", name=member.name))
    return REASON


async def on_reason(update: Update, ctx: Ctx) -> int:
    """Reject with the typed reason and tell the applicant."""
    message = update.effective_message
    assert message is not None
    assert ctx.user_data is not None
    actor = await actor_of(update, ctx)
    try:
        member = await members_of(ctx).reject(
            actor, int(ctx.user_data.get(REJECTING, 0)), message.text or ""
        )
    except InvalidInput as exc:
        await error(update, ctx, exc)
        return REASON
    except MembersError as exc:
        await error(update, ctx, exc)
        ctx.user_data.pop(REJECTING, None)
        return ConversationHandler.END
    ctx.user_data.pop(REJECTING, None)
    await say(update, ctx, ctx.t("members.rejected_done", name=member.name))
    return ConversationHandler.END


async def on_reason_not_text(update: Update, ctx: Ctx) -> int:
    """Ask for the reason as text."""
    await say(update, ctx, ctx.t("members.ask_reason_text"))
    return REASON


async def on_reject_cancel(update: Update, ctx: Ctx) -> int:
    """Leave without rejecting."""
    assert ctx.user_data is not None
    ctx.user_data.pop(REJECTING, None)
    await say(update, ctx, ctx.t("reg.cancelled"))
    return ConversationHandler.END


# -- invitations -------------------------------------------------------------------------------


@requires(Role.ADMIN)
async def on_invite(update: Update, ctx: Ctx) -> None:
    """Create a one-time invitation: /invite secretary <park> [hours] | official <city> [hours]."""
    args = list(ctx.args or [])
    hours = 72
    if len(args) >= 3 and args[-1].isdigit():
        hours = int(args.pop())
    if len(args) < 2 or args[0] not in ("secretary", "official"):
        await say(update, ctx, ctx.t("members.invite_usage"))
        return
    role, scope = args[0], " ".join(args[1:])
    service = members_of(ctx)
    actor = await actor_of(update, ctx)
    try:
        if role == "secretary":
            park = await service.park_by_name(scope)
            payload = await service.create_invite(actor, role, park_id=park.id, hours=hours)
        else:
            city = await service.city_by_name(scope)
            payload = await service.create_invite(actor, role, city_id=city.id, hours=hours)
    except MembersError as exc:
        await error(update, ctx, exc)
        return
    link = f"https://t.me/{ctx.bot.username}?start={payload}"
    role_name = ctx.t(f"members.role.{role}")
    await say(
        update,
        ctx,
        ctx.t("members.invite_link", role=role_name, scope=scope, hours=hours, link=link),
    )


async def on_invite_payload(update: Update, ctx: Ctx, payload: str) -> None:
    """Grant the role of an invitation link opened with /start inv-…."""
    user = update.effective_user
    assert user is not None
    service = members_of(ctx)
    try:
        invite = await service.redeem_invite(user.id, payload)
    except MembersError as exc:
        await error(update, ctx, exc)
        return
    role_name = ctx.t(f"members.role.{invite.role}")
    scope = await service.scope_name(invite)
    await say(update, ctx, ctx.t("members.invite_granted", role=role_name, scope=scope))
    await sync_user_commands(ctx.bot, ctx.services, user.id)


START_PAYLOADS["inv-"] = on_invite_payload


def handlers() -> list[BaseHandler]:
    """Return the members handlers: commands, the edit and reject conversations, approvals."""
    private = filters.ChatType.PRIVATE
    text = filters.TEXT & ~filters.COMMAND
    return [
        CommandHandler("me", on_me, filters=private),
        CommandHandler("withdraw", on_withdraw, filters=private),
        CommandHandler("deleteme", on_deleteme, filters=private),
        CommandHandler("pending", on_pending, filters=private),
        CommandHandler("invite", on_invite, filters=private),
        CallbackQueryHandler(on_withdraw_confirmed, pattern=f"^{ME_WITHDRAW}$"),
        CallbackQueryHandler(on_delete_confirmed, pattern=f"^{ME_DELETE}$"),
        CallbackQueryHandler(on_approve, pattern=f"^{MB_APPROVE}"),
        ConversationHandler(
            name="member_edit",
            persistent=True,
            allow_reentry=True,
            entry_points=[CallbackQueryHandler(on_edit_start, pattern=f"^{ME_EDIT}")],
            states={
                VALUE: [
                    MessageHandler(text | filters.CONTACT, on_edit_text),
                    CallbackQueryHandler(on_edit_button, pattern="^me:(park|page|title):"),
                    MessageHandler(~filters.COMMAND, on_not_text),
                ]
            },
            fallbacks=[CommandHandler("cancel", on_edit_cancel)],
        ),
        ConversationHandler(
            name="member_reject",
            persistent=True,
            allow_reentry=True,
            entry_points=[CallbackQueryHandler(on_reject_start, pattern=f"^{MB_REJECT}")],
            states={
                REASON: [
                    MessageHandler(text, on_reason),
                    MessageHandler(~filters.COMMAND, on_reason_not_text),
                ]
            },
            fallbacks=[CommandHandler("cancel", on_reject_cancel)],
        ),
    ]
