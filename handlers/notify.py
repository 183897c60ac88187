"""/notify (a plain notice to members), /broadcasts (recent ones), cancel buttons, progress.

/notify conversation (state diagram):

    [*] --> PARKS: /notify (admin, or secretary of several parks)
    [*] --> CONTENT: /notify (secretary of one park)
    PARKS --> PARKS: park button (toggles it)
    PARKS --> CONTENT: "next" (at least one park) or "all members" (admins)
    CONTENT --> CONFIRM: text, photo or document (preview shown)
    CONTENT --> CONTENT: too long / empty (asked again)
    CONFIRM --> [*]: "send" (broadcast stored; the outbox delivers it)
    CONFIRM --> [*]: "discard"
    PARKS --> [*]: /cancel
    CONTENT --> [*]: /cancel
    CONFIRM --> [*]: /cancel
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.access import Actor, Role
from bot.outbox.notices import NoticeDraft, NoticeInvalid, NoticeService
from bot.outbox.progress import progress_text
from bot.outbox.service import BroadcastDenied, BroadcastStatus, Outbox, UnknownBroadcast
from bot.sender import Attachment
from bot.services import Services
from bot.texts import DEFAULT_LANGUAGE
from handlers.access import actor_of, refuse, requires
from handlers.context import SERVICES_KEY, Ctx, pressed
from handlers.menu import COMMANDS, STAFF, Command

log = logging.getLogger(__name__)

NT_PARK = "nt:park:"
NT_ALL = "nt:all"
NT_NEXT = "nt:next"
NT_SEND = "nt:send"
NT_DROP = "nt:drop"
BC_CANCEL = "bc:cancel:"
PARKS, CONTENT, CONFIRM = range(3)
DRAFT_KEY = "notify"
OUTBOX_LOOP_KEY = "outbox_loop"
_LOOP_TASK = "outbox_loop_task"
_LOOP_STOP = "outbox_loop_stop"

COMMANDS.extend([Command("notify", STAFF), Command("broadcasts", STAFF)])


# -- progress: one message per broadcast, edited in place ------------------------------------


class TelegramProgress:
    """Show a broadcast's progress to its creator by editing one message."""

    def __init__(self, bot: Bot, services: Services) -> None:
        self.bot = bot
        self.services = services

    async def update(self, status: BroadcastStatus) -> None:
        """Send the progress message the first time, edit it afterwards."""
        if status.progress_chat is None:
            return
        text, markup = await render_progress(self.services, status)
        if status.progress_message_id is None:
            sent = await self.bot.send_message(status.progress_chat, text, reply_markup=markup)
            await _outbox(self.services).set_progress_message(status.id, sent.message_id)
            return
        await _edit(self.bot, status.progress_chat, status.progress_message_id, text, markup)


async def render_progress(
    services: Services, status: BroadcastStatus
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Return the creator's progress text and, while running, a cancel button."""
    lang = DEFAULT_LANGUAGE
    if status.created_by is not None:
        lang = await services.users.language(status.created_by)
    text = progress_text(services.texts, lang, status)
    if status.finished:
        return text, None
    button = InlineKeyboardButton(
        services.texts.get("outbox.cancel_button", lang), callback_data=f"{BC_CANCEL}{status.id}"
    )
    return text, InlineKeyboardMarkup([[button]])


async def _edit(
    bot: Bot, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    try:
        await bot.edit_message_text(
            text, chat_id=chat_id, message_id=message_id, reply_markup=markup
        )
    except BadRequest as exc:
        # Same counts as last time: Telegram refuses an edit that changes nothing.
        if "not modified" not in exc.message.lower():
            raise


def start_outbox_loop(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Give the worker its progress sink and, in real runs, start its background loop."""
    services: Services = app.bot_data[SERVICES_KEY]
    worker = services.outbox_worker
    if worker is None:
        return
    worker.progress = TelegramProgress(app.bot, services)
    if app.bot_data.get(OUTBOX_LOOP_KEY) and _LOOP_TASK not in app.bot_data:
        stop = asyncio.Event()
        app.bot_data[_LOOP_STOP] = stop
        app.bot_data[_LOOP_TASK] = asyncio.create_task(worker.run_forever(stop), name="outbox")


async def stop_outbox_loop(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Let the background loop finish its current send and stop."""
    stop: asyncio.Event | None = app.bot_data.pop(_LOOP_STOP, None)
    task: asyncio.Task[None] | None = app.bot_data.pop(_LOOP_TASK, None)
    if stop is None or task is None:
        return
    stop.set()
    try:
        await asyncio.wait_for(task, timeout=15)
    except TimeoutError:
        log.warning("outbox loop did not stop in time; unfinished rows resume at next start")
    except Exception:
        log.exception("outbox loop failed")


# -- /notify ----------------------------------------------------------------------------------


@requires(Role.SECRETARY, Role.ADMIN)
async def on_notify(update: Update, ctx: Ctx) -> int:
    """Start a notice: choose parks (admins, multi-park secretaries) or go straight to content."""
    message = update.effective_message
    assert message is not None
    actor = await actor_of(update, ctx)
    allowed = _notices(ctx).allowed_parks(actor)
    if allowed is not None and not allowed:
        await message.reply_text(ctx.t("notify.no_parks"))
        return ConversationHandler.END
    if allowed is not None and len(allowed) == 1:
        ctx.data[DRAFT_KEY] = {"parks": sorted(allowed)}
        await message.reply_text(ctx.t("notify.ask_content"))
        return CONTENT
    ctx.data[DRAFT_KEY] = {"parks": []}
    await message.reply_text(
        ctx.t("notify.choose_parks"), reply_markup=await _park_keyboard(ctx, actor, set())
    )
    return PARKS


async def on_park_toggled(update: Update, ctx: Ctx) -> int:
    """Add or remove a park from the audience."""
    query = update.callback_query
    assert query is not None
    assert query.data is not None
    actor = await actor_of(update, ctx)
    park_id = int(query.data.removeprefix(NT_PARK))
    allowed = _notices(ctx).allowed_parks(actor)
    if allowed is not None and park_id not in allowed:
        await refuse(update, ctx, "notify.denied")
        return PARKS
    await query.answer()
    chosen = set(ctx.data.get(DRAFT_KEY, {}).get("parks") or [])
    chosen ^= {park_id}
    ctx.data[DRAFT_KEY] = {"parks": sorted(chosen)}
    await query.edit_message_reply_markup(await _park_keyboard(ctx, actor, chosen))
    return PARKS


async def on_all_members(update: Update, ctx: Ctx) -> int:
    """Address every member (admins only)."""
    query = update.callback_query
    assert query is not None
    actor = await actor_of(update, ctx)
    if not actor.is_admin:
        await refuse(update, ctx, "notify.denied")
        return PARKS
    await query.answer()
    ctx.data[DRAFT_KEY] = {"parks": None}
    await query.edit_message_text(ctx.t("notify.ask_content"))
    return CONTENT


async def on_parks_done(update: Update, ctx: Ctx) -> int:
    """Go on to the content once at least one park is chosen."""
    query = update.callback_query
    assert query is not None
    if not ctx.data.get(DRAFT_KEY, {}).get("parks"):
        await query.answer(ctx.t("notify.pick_one"), show_alert=True)
        return PARKS
    await query.answer()
    await query.edit_message_text(ctx.t("notify.ask_content"))
    return CONTENT


async def on_content(update: Update, ctx: Ctx) -> int:
    """Take the notice (text, photo or document), show a preview and ask for confirmation."""
    message = update.effective_message
    assert message is not None
    draft_data = dict(ctx.data.get(DRAFT_KEY) or {"parks": []})
    draft_data.update(_content_of(message))
    draft = _draft(draft_data)
    try:
        NoticeService.validate(draft)
    except NoticeInvalid as exc:
        key = "notify.too_long" if str(exc) == "too long" else "notify.empty"
        await message.reply_text(ctx.t(key))
        return CONTENT
    actor = await actor_of(update, ctx)
    try:
        recipients = await _notices(ctx).recipients(actor, draft.park_ids)
    except BroadcastDenied:
        await refuse(update, ctx, "notify.denied")
        return _end(ctx)
    if not recipients:
        await message.reply_text(ctx.t("notify.no_recipients"))
        return _end(ctx)
    ctx.data[DRAFT_KEY] = draft_data
    await _show_preview(message, draft)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(ctx.t("notify.confirm"), callback_data=NT_SEND),
                InlineKeyboardButton(ctx.t("notify.discard"), callback_data=NT_DROP),
            ]
        ]
    )
    scope = await _scope_text(ctx, draft.park_ids)
    await message.reply_text(
        ctx.t("notify.preview", count=len(recipients), scope=scope), reply_markup=keyboard
    )
    return CONFIRM


async def on_send(update: Update, ctx: Ctx) -> int:
    """Store the broadcast; the outbox worker delivers it and reports progress."""
    query = update.callback_query
    assert query is not None
    draft_data = ctx.data.get(DRAFT_KEY)
    if not draft_data or "text" not in draft_data:
        await query.answer(ctx.t("core.stale_button"), show_alert=True)
        return _end(ctx)
    actor = await actor_of(update, ctx)
    chat = update.effective_chat
    try:
        await _notices(ctx).send(
            actor, _draft(draft_data), progress_chat=chat.id if chat else actor.user_id
        )
    except BroadcastDenied:
        await refuse(update, ctx, "notify.denied")
        return _end(ctx)
    await query.answer()
    await query.edit_message_text(ctx.t("notify.started"))
    return _end(ctx)


async def on_discard(update: Update, ctx: Ctx) -> int:
    """Drop the draft."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(ctx.t("notify.discarded"))
    return _end(ctx)


async def on_cancel(update: Update, ctx: Ctx) -> int:
    """Leave the conversation."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(ctx.t("core.cancelled"))
    return _end(ctx)


async def on_other(update: Update, ctx: Ctx) -> None:
    """Re-ask for the notice when something else arrives (a sticker, a voice note)."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(ctx.t("notify.ask_content"))


# -- /broadcasts and the cancel button ---------------------------------------------------------


@requires(Role.SECRETARY, Role.ADMIN)
async def on_broadcasts(update: Update, ctx: Ctx) -> None:
    """List the newest broadcasts the user may see, with a cancel button for running ones."""
    message = update.effective_message
    assert message is not None
    actor = await actor_of(update, ctx)
    statuses = await _outbox(ctx.services).recent(actor)
    if not statuses:
        await message.reply_text(ctx.t("outbox.recent_empty"))
        return
    tz = ctx.services.config.tz
    lines = [ctx.t("outbox.recent_title")]
    buttons = []
    for st in statuses:
        kind_key = f"outbox.kind_{st.kind}"
        lines.append(
            ctx.t(
                "outbox.recent_item",
                id=st.id,
                kind=ctx.t(kind_key) if ctx.texts.has(kind_key) else st.kind,
                state=ctx.t(f"outbox.state_{st.state}"),
                created=st.created_at.astimezone(tz).strftime("%m-%d %H:%M"),
                sent=st.sent,
                total=st.total,
                failed=st.failed,
                unreachable=st.unreachable,
                uncertain=st.uncertain,
                preview=st.preview,
            )
        )
        if not st.finished:
            label = ctx.t("outbox.cancel_button_id", id=st.id)
            buttons.append([InlineKeyboardButton(label, callback_data=f"{BC_CANCEL}{st.id}")])
    await message.reply_text(
        "\n".join(lines), reply_markup=InlineKeyboardMarkup(buttons) if buttons else None
    )


async def on_cancel_broadcast(update: Update, ctx: Ctx) -> None:
    """Cancel a running broadcast (its creator or an admin)."""
    query, data = pressed(update)
    try:
        broadcast_id = int(data.removeprefix(BC_CANCEL))
    except ValueError:
        await query.answer(ctx.t("core.stale_button"), show_alert=True)
        return
    actor: Actor = await actor_of(update, ctx)
    outbox = _outbox(ctx.services)
    try:
        cancelled = await outbox.cancel(broadcast_id, actor)
    except BroadcastDenied:
        await refuse(update, ctx, "outbox.cancel_denied")
        return
    except UnknownBroadcast:
        await query.answer(ctx.t("core.stale_button"), show_alert=True)
        return
    key = "outbox.cancel_done" if cancelled else "outbox.cancel_too_late"
    await query.answer(ctx.t(key, id=broadcast_id), show_alert=True)
    status = await outbox.status(broadcast_id)
    if status.progress_chat is not None and status.progress_message_id is not None:
        text, markup = await render_progress(ctx.services, status)
        await _edit(ctx.bot, status.progress_chat, status.progress_message_id, text, markup)


# -- helpers ----------------------------------------------------------------------------------


def _outbox(services: Services) -> Outbox:
    assert services.outbox is not None, "Services.create sets the outbox"
    return services.outbox


def _notices(ctx: Ctx) -> NoticeService:
    assert ctx.services.notices is not None, "Services.create sets the notices"
    return ctx.services.notices


def _end(ctx: Ctx) -> int:
    ctx.data.pop(DRAFT_KEY, None)
    return ConversationHandler.END


def _content_of(message: Message) -> dict[str, Any]:
    if message.photo:
        return {
            "text": message.caption or "",
            "file": {"kind": "photo", "file_id": message.photo[-1].file_id},
        }
    if message.document:
        return {
            "text": message.caption or "",
            "file": {
                "kind": "document",
                "file_id": message.document.file_id,
                "filename": message.document.file_name,
            },
        }
    return {"text": message.text or "", "file": None}


def _draft(data: dict[str, Any]) -> NoticeDraft:
    file = data.get("file")
    attachment = (
        Attachment(kind=file["kind"], file_id=file["file_id"], filename=file.get("filename"))
        if file
        else None
    )
    parks = data.get("parks")
    return NoticeDraft(
        text=data.get("text", ""),
        park_ids=None if parks is None else tuple(parks),
        attachment=attachment,
    )


async def _show_preview(message: Message, draft: NoticeDraft) -> None:
    att = draft.attachment
    caption = draft.text or None
    if att is None:
        await message.reply_text(draft.text)
    elif att.kind == "photo":
        await message.reply_photo(att.file_id or "", caption=caption)
    else:
        await message.reply_document(att.file_id or "", caption=caption)


async def _park_keyboard(ctx: Ctx, actor: Actor, chosen: set[int]) -> InlineKeyboardMarkup:
    allowed = _notices(ctx).allowed_parks(actor)
    parks = [p for p in await ctx.services.org.parks() if allowed is None or p.id in allowed]
    rows = [
        [
            InlineKeyboardButton(
                ctx.t("notify.picked", name=p.name) if p.id in chosen else p.name,
                callback_data=f"{NT_PARK}{p.id}",
            )
        ]
        for p in parks
    ]
    last = [InlineKeyboardButton(ctx.t("notify.next"), callback_data=NT_NEXT)]
    if actor.is_admin:
        last.insert(0, InlineKeyboardButton(ctx.t("notify.all_members"), callback_data=NT_ALL))
    rows.append(last)
    return InlineKeyboardMarkup(rows)


async def _scope_text(ctx: Ctx, park_ids: tuple[int, ...] | None) -> str:
    if park_ids is None:
        return ctx.t("notify.scope_all")
    names, _ = await ctx.services.org.names()
    return ctx.t("notify.scope_sep").join(names.get(i, str(i)) for i in park_ids)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Return the handlers of this module."""
    content = (filters.TEXT & ~filters.COMMAND) | filters.PHOTO | filters.Document.ALL
    return [
        ConversationHandler(
            entry_points=[CommandHandler("notify", on_notify)],
            states={
                PARKS: [
                    CallbackQueryHandler(on_park_toggled, pattern=f"^{NT_PARK}"),
                    CallbackQueryHandler(on_all_members, pattern=f"^{NT_ALL}$"),
                    CallbackQueryHandler(on_parks_done, pattern=f"^{NT_NEXT}$"),
                ],
                CONTENT: [
                    MessageHandler(content, on_content),
                    MessageHandler(~filters.COMMAND, on_other),
                ],
                CONFIRM: [
                    CallbackQueryHandler(on_send, pattern=f"^{NT_SEND}$"),
                    CallbackQueryHandler(on_discard, pattern=f"^{NT_DROP}$"),
                ],
            },
            fallbacks=[CommandHandler("cancel", on_cancel)],
            name="notify",
            persistent=True,
        ),
        CommandHandler("broadcasts", on_broadcasts),
        CallbackQueryHandler(on_cancel_broadcast, pattern=f"^{BC_CANCEL}"),
    ]
