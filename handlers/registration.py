"""/register: privacy consent, then name, park, employer, field, title, phone, summary, submit.

The state diagram is in registration.mmd beside this file. The draft lives in user_data (which
DbPersistence stores), so a half-finished registration survives a restart.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.members.errors import MembersError
from bot.members.service import APPROVED, PENDING, MembersService, Registration
from bot.members.validation import TITLES, normalize_phone, validate_field
from bot.models.core import Park
from bot.models.members import Member
from handlers.context import Ctx, pressed
from handlers.menu import COMMANDS, Command
from handlers.start import NEWCOMER_HINTS

REG_START = "reg:start"
REG_AGREE = "reg:agree"
REG_DECLINE = "reg:decline"
REG_PARK = "reg:park:"
REG_PAGE = "reg:page:"
REG_TITLE = "reg:title:"
REG_EDIT = "reg:edit:"
REG_SUBMIT = "reg:submit"
MB_APPROVE = "mb:ok:"
MB_REJECT = "mb:no:"

CONSENT, NAME, PARK, EMPLOYER, FIELD, TITLE, PHONE, CONFIRM = range(8)
STATE_OF = {
    "name": NAME, "park": PARK, "employer": EMPLOYER, "field": FIELD, "title": TITLE,
    "phone": PHONE,
}  # fmt: skip
NEXT = {CONSENT: NAME, NAME: PARK, PARK: EMPLOYER, EMPLOYER: FIELD, FIELD: TITLE, TITLE: PHONE}
PAGE_SIZE = 8
DRAFT = "reg"

COMMANDS.append(Command("register"))

Step = Callable[[Update, Ctx], Coroutine[Any, Any, int]]


def members_of(ctx: Ctx) -> MembersService:
    """Return the members service (configured at start-up)."""
    service = ctx.services.members
    assert service is not None, "Services.members is not configured"
    return service


def draft_of(ctx: Ctx) -> dict[str, Any]:
    """Return the registration draft in user_data."""
    assert ctx.user_data is not None
    draft: dict[str, Any] = ctx.user_data.setdefault(DRAFT, {})
    return draft


async def say(update: Update, ctx: Ctx, text: str, markup: Any = None) -> None:
    """Send text to the chat of the update (message or button press alike)."""
    chat = update.effective_chat
    if chat is not None:
        await ctx.bot.send_message(chat.id, text, reply_markup=markup)


# -- keyboards shared with /me ------------------------------------------------------------------


def park_keyboard(
    ctx: Ctx, parks: Sequence[Park], page: int, pick: str, turn: str
) -> InlineKeyboardMarkup:
    """Return one page of park buttons (PAGE_SIZE per page) with previous/next buttons."""
    pages = max(1, (len(parks) + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(max(page, 0), pages - 1)
    shown = parks[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    rows = [[InlineKeyboardButton(p.name, callback_data=f"{pick}{p.id}")] for p in shown]
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton(ctx.t("reg.prev"), callback_data=f"{turn}{page - 1}"))
    if page < pages - 1:
        nav.append(InlineKeyboardButton(ctx.t("reg.next"), callback_data=f"{turn}{page + 1}"))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(rows)


def title_keyboard(ctx: Ctx, prefix: str) -> InlineKeyboardMarkup:
    """Return the professional title buttons."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(ctx.t(f"members.title.{code}"), callback_data=prefix + code)]
         for code in TITLES]
    )  # fmt: skip


def phone_keyboard(ctx: Ctx) -> ReplyKeyboardMarkup:
    """Return the reply keyboard with Telegram's share-contact button."""
    button = KeyboardButton(ctx.t("reg.share_contact"), request_contact=True)
    return ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)


def record_text(ctx: Ctx, member: Member | dict[str, Any], park_name: str) -> str:
    """Return a member record (or draft) as lines of text."""
    get = member.get if isinstance(member, dict) else lambda k, d="": getattr(member, k, d)
    title = get("title", "")
    return ctx.t(
        "reg.record",
        name=get("name", ""),
        park=park_name,
        employer=get("employer", ""),
        field=get("field", ""),
        title=ctx.t(f"members.title.{title}") if title in TITLES else "",
        phone=get("phone", ""),
    )


async def park_name(ctx: Ctx, park_id: int | None) -> str:
    """Return a park's name, or an empty string."""
    if park_id is None:
        return ""
    try:
        return (await members_of(ctx).park(int(park_id))).name
    except MembersError:
        return ""


async def show_record(update: Update, ctx: Ctx, member: Member) -> None:
    """Show a member their stored record and its status."""
    text = record_text(ctx, member, await park_name(ctx, member.park_id))
    status = ctx.t(f"members.status.{member.status}")
    await say(update, ctx, ctx.t("reg.your_record", record=text, status=status))


# -- asking -------------------------------------------------------------------------------------


async def ask(update: Update, ctx: Ctx, state: int, page: int = 0) -> int:
    """Ask the question of a state and return the state."""
    if state == PARK:
        parks = await members_of(ctx).parks()
        markup = park_keyboard(ctx, parks, page, REG_PARK, REG_PAGE)
        await say(update, ctx, ctx.t("reg.ask_park"), markup)
    elif state == TITLE:
        await say(update, ctx, ctx.t("reg.ask_title"), title_keyboard(ctx, REG_TITLE))
    elif state == PHONE:
        await say(update, ctx, ctx.t("reg.ask_phone"), phone_keyboard(ctx))
    elif state == CONFIRM:
        await show_summary(update, ctx)
    elif state == CONSENT:
        notice = members_of(ctx).privacy.text(ctx.lang)
        buttons = InlineKeyboardMarkup(
            [[InlineKeyboardButton(ctx.t("reg.agree"), callback_data=REG_AGREE),
              InlineKeyboardButton(ctx.t("reg.decline"), callback_data=REG_DECLINE)]]
        )  # fmt: skip
        await say(update, ctx, notice, buttons)
    else:
        key = {NAME: "reg.ask_name", EMPLOYER: "reg.ask_employer", FIELD: "reg.ask_field"}[state]
        await say(update, ctx, ctx.t(key))
    return state


async def show_summary(update: Update, ctx: Ctx) -> None:
    """Show the draft with one edit button per field and the submit button."""
    draft = draft_of(ctx)
    text = record_text(ctx, draft, await park_name(ctx, draft.get("park_id")))
    rows = [
        [InlineKeyboardButton(ctx.t(f"reg.edit_{f}"), callback_data=REG_EDIT + f)
         for f in pair]
        for pair in (("name", "park"), ("employer", "field"), ("title", "phone"))
    ]  # fmt: skip
    rows.append([InlineKeyboardButton(ctx.t("reg.submit"), callback_data=REG_SUBMIT)])
    await say(update, ctx, ctx.t("reg.summary", record=text), InlineKeyboardMarkup(rows))


async def advance(update: Update, ctx: Ctx, state: int) -> int:
    """Go to the next question, or back to the summary when a field was being corrected."""
    draft = draft_of(ctx)
    if draft.get("editing") or state == PHONE:
        draft["editing"] = True
        return await ask(update, ctx, CONFIRM)
    return await ask(update, ctx, NEXT[state])


# -- entry and consent --------------------------------------------------------------------------


async def on_register(update: Update, ctx: Ctx) -> int:
    """Start registering, or show the record of someone already registered."""
    user = update.effective_user
    if update.callback_query is not None:
        await update.callback_query.answer()
    if user is None:
        return ConversationHandler.END
    member = await members_of(ctx).find(user.id)
    if member is not None and member.status in (PENDING, APPROVED):
        await show_record(update, ctx, member)
        return ConversationHandler.END
    assert ctx.user_data is not None
    ctx.user_data[DRAFT] = {}
    return await ask(update, ctx, CONSENT)


async def on_agree(update: Update, ctx: Ctx) -> int:
    """Record the consent (version and time) and ask for the name."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    draft = draft_of(ctx)
    draft["consent_version"] = members_of(ctx).privacy.version
    draft["consented_at"] = ctx.services.clock.now().isoformat()
    return await ask(update, ctx, NAME)


async def on_decline(update: Update, ctx: Ctx) -> int:
    """End without storing anything."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    return await end(update, ctx, "reg.declined")


async def end(update: Update, ctx: Ctx, key: str) -> int:
    """Forget the draft, say key, and leave the conversation."""
    assert ctx.user_data is not None
    ctx.user_data.pop(DRAFT, None)
    await say(update, ctx, ctx.t(key), ReplyKeyboardRemove())
    return ConversationHandler.END


async def on_cancel(update: Update, ctx: Ctx) -> int:
    """Leave the registration at any step."""
    return await end(update, ctx, "reg.cancelled")


# -- steps --------------------------------------------------------------------------------------


def text_step(field: str, state: int) -> Step:
    """Return the handler storing a validated free-text field."""

    async def on_text(update: Update, ctx: Ctx) -> int:
        message = update.effective_message
        assert message is not None
        try:
            draft_of(ctx)[field] = validate_field(field, message.text)
        except MembersError as exc:
            await say(update, ctx, ctx.t(exc.key, **exc.values))
            return await ask(update, ctx, state)
        return await advance(update, ctx, state)

    on_text.__doc__ = f"Store the {field} and go on."
    return on_text


def reask(state: int, key: str) -> Step:
    """Return a handler that explains key and asks the state's question again."""

    async def on_wrong(update: Update, ctx: Ctx) -> int:
        if update.callback_query is not None:
            await update.callback_query.answer(ctx.t(key), show_alert=True)
        else:
            await say(update, ctx, ctx.t(key))
        return await ask(update, ctx, state)

    on_wrong.__doc__ = "Explain what was wrong and ask again."
    return on_wrong


async def on_park(update: Update, ctx: Ctx) -> int:
    """Store the chosen park (a stale or forged id asks again)."""
    query, data = pressed(update)
    raw = data.removeprefix(REG_PARK)
    try:
        park = await members_of(ctx).park(int(raw))
    except (ValueError, MembersError):
        await query.answer(ctx.t("core.stale_button"), show_alert=True)
        return await ask(update, ctx, PARK)
    await query.answer()
    draft_of(ctx)["park_id"] = park.id
    return await advance(update, ctx, PARK)


async def on_park_page(update: Update, ctx: Ctx) -> int:
    """Show another page of parks in the same message."""
    query, data = pressed(update)
    await query.answer()
    raw = data.removeprefix(REG_PAGE)
    page = int(raw) if raw.isdigit() else 0
    parks = await members_of(ctx).parks()
    await query.edit_message_reply_markup(park_keyboard(ctx, parks, page, REG_PARK, REG_PAGE))
    return PARK


async def on_title(update: Update, ctx: Ctx) -> int:
    """Store the chosen title."""
    query, data = pressed(update)
    code = data.removeprefix(REG_TITLE)
    if code not in TITLES:
        await query.answer(ctx.t("core.stale_button"), show_alert=True)
        return await ask(update, ctx, TITLE)
    await query.answer()
    draft_of(ctx)["title"] = code
    return await advance(update, ctx, TITLE)


async def on_phone(update: Update, ctx: Ctx) -> int:
    """Store a typed or shared mainland mobile number."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None
    assert user is not None
    contact = message.contact
    if contact is not None and contact.user_id not in (None, user.id):
        await say(update, ctx, ctx.t("reg.not_own_contact"))
        return await ask(update, ctx, PHONE)
    raw = contact.phone_number if contact is not None else message.text
    try:
        draft_of(ctx)["phone"] = normalize_phone(raw)
    except MembersError as exc:
        await say(update, ctx, ctx.t(exc.key, **exc.values))
        return await ask(update, ctx, PHONE)
    await say(update, ctx, ctx.t("reg.phone_ok"), ReplyKeyboardRemove())
    return await advance(update, ctx, PHONE)


async def on_edit(update: Update, ctx: Ctx) -> int:
    """Ask one field again from the summary."""
    query, data = pressed(update)
    field = data.removeprefix(REG_EDIT)
    if field not in STATE_OF:
        await query.answer(ctx.t("core.stale_button"), show_alert=True)
        return await ask(update, ctx, CONFIRM)
    await query.answer()
    draft_of(ctx)["editing"] = True
    return await ask(update, ctx, STATE_OF[field])


async def on_submit(update: Update, ctx: Ctx) -> int:
    """Store the registration as pending and tell the park's secretaries."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None
    assert user is not None
    await query.answer()
    draft = draft_of(ctx)
    missing = [f for f in ("name", "park_id", "employer", "field", "title", "phone")
               if f not in draft]  # fmt: skip
    if missing or "consent_version" not in draft:
        return await ask(update, ctx, CONSENT if "consent_version" not in draft else NAME)
    registration = Registration(
        name=draft["name"], park_id=int(draft["park_id"]), employer=draft["employer"],
        field=draft["field"], title=draft["title"], phone=draft["phone"],
        consent_version=draft["consent_version"],
        consented_at=datetime.fromisoformat(draft["consented_at"]),
    )  # fmt: skip
    try:
        member = await members_of(ctx).register(user.id, registration)
    except MembersError as exc:
        return await end(update, ctx, exc.key)
    await tell_reviewers(ctx, member)
    return await end(update, ctx, "reg.submitted")


async def tell_reviewers(ctx: Ctx, member: Member) -> None:
    """Send the park's secretaries the application with approve and reject buttons."""
    park = await park_name(ctx, member.park_id)
    for reviewer in await members_of(ctx).reviewers(member.park_id):
        lang = await ctx.services.users.language(reviewer)
        t = ctx.services.texts
        record = record_text(ctx, member, park)
        buttons = InlineKeyboardMarkup(
            [[InlineKeyboardButton(t.get("members.approve", lang),
                                   callback_data=f"{MB_APPROVE}{member.id}"),
              InlineKeyboardButton(t.get("members.reject", lang),
                                   callback_data=f"{MB_REJECT}{member.id}")]]
        )  # fmt: skip
        text = t.get("members.review_request", lang, record=record, park=park)
        try:
            await ctx.bot.send_message(reviewer, text, reply_markup=buttons)
        except Exception:  # one unreachable secretary must not stop the others
            await ctx.services.users.mark_unreachable(reviewer)


async def offer_registration(update: Update, ctx: Ctx) -> None:
    """Offer /register to someone /start does not know."""
    user = update.effective_user
    if user is None or await members_of(ctx).find(user.id) is not None:
        return
    button = InlineKeyboardMarkup(
        [[InlineKeyboardButton(ctx.t("reg.start_button"), callback_data=REG_START)]]
    )
    await say(update, ctx, ctx.t("reg.newcomer"), button)


NEWCOMER_HINTS.append(offer_registration)


def handlers() -> list[BaseHandler]:
    """Return the registration conversation."""
    text = filters.TEXT & ~filters.COMMAND
    other = ~filters.COMMAND

    def text_state(field: str, state: int) -> list[BaseHandler]:
        return [
            MessageHandler(text, text_step(field, state)),
            MessageHandler(other, reask(state, "reg.text_expected")),
            CallbackQueryHandler(reask(state, "core.stale_button"), pattern="^reg:"),
        ]

    def button_state(state: int, *own: BaseHandler) -> list[BaseHandler]:
        return [
            *own,
            MessageHandler(other, reask(state, "reg.use_buttons")),
            CallbackQueryHandler(reask(state, "core.stale_button"), pattern="^reg:"),
        ]

    private = filters.ChatType.PRIVATE
    return [
        ConversationHandler(
            name="registration",
            persistent=True,
            allow_reentry=True,
            entry_points=[
                CommandHandler("register", on_register, filters=private),
                CallbackQueryHandler(on_register, pattern=f"^{REG_START}$"),
            ],
            states={
                CONSENT: button_state(
                    CONSENT,
                    CallbackQueryHandler(on_agree, pattern=f"^{REG_AGREE}$"),
                    CallbackQueryHandler(on_decline, pattern=f"^{REG_DECLINE}$"),
                ),
                NAME: text_state("name", NAME),
                PARK: button_state(
                    PARK,
                    CallbackQueryHandler(on_park, pattern=f"^{REG_PARK}"),
                    CallbackQueryHandler(on_park_page, pattern=f"^{REG_PAGE}"),
                ),
                EMPLOYER: text_state("employer", EMPLOYER),
                FIELD: text_state("field", FIELD),
                TITLE: button_state(
                    TITLE, CallbackQueryHandler(on_title, pattern=f"^{REG_TITLE}")
                ),
                PHONE: [
                    MessageHandler(filters.CONTACT | text, on_phone),
                    MessageHandler(other, reask(PHONE, "reg.phone_expected")),
                    CallbackQueryHandler(reask(PHONE, "core.stale_button"), pattern="^reg:"),
                ],
                CONFIRM: button_state(
                    CONFIRM,
                    CallbackQueryHandler(on_edit, pattern=f"^{REG_EDIT}"),
                    CallbackQueryHandler(on_submit, pattern=f"^{REG_SUBMIT}$"),
                ),
            },
            fallbacks=[CommandHandler("cancel", on_cancel)],
        )
    ]
