"""Quarterly reports in chat: reminder buttons, report upload, nudges, /reports, /reportsdone.

Upload conversation (state diagram):

    [*] --> FILE: "upload report" button under a reminder
    FILE --> [*]: document or photo (forwarded to the admins, recorded as submitted)
    FILE --> FILE: anything else (asked again)
    FILE --> [*]: /cancel

Nudge conversation (state diagram):

    [*] --> TEXT: "nudge" button under an escalation (admins)
    TEXT --> [*]: text typed (relayed to the city's officials)
    TEXT --> [*]: /cancel
"""

from __future__ import annotations

import contextlib

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.access import AccessDenied, Role
from bot.reports.schedule import Quarter
from bot.reports.service import (
    ACTION_NUDGE,
    ACTION_SUBMITTED,
    ACTION_UPLOAD,
    ReportsService,
    SubmitResult,
    parse_ref,
)
from bot.sender import Attachment, Sender
from handlers.access import actor_of, refuse, requires
from handlers.context import Ctx
from handlers.menu import COMMANDS, Command

# Callback data prefixes (the domain builds the reminder buttons, so it owns the values).
RP_DONE = ACTION_SUBMITTED
RP_UPLOAD = ACTION_UPLOAD
RP_NUDGE = ACTION_NUDGE
RP_XLSX = "rp:xlsx"

FILE, TEXT = range(2)
UPLOAD_KEY = "reports_upload"
NUDGE_KEY = "reports_nudge"
NUDGE_LIMIT = 1000

COMMANDS.extend(
    [
        Command("reports", frozenset({Role.ADMIN, Role.OFFICIAL})),
        Command("reportsdone", frozenset({Role.ADMIN})),
    ]
)


def _service(ctx: Ctx) -> ReportsService:
    service = ctx.services.reports
    assert service is not None, "Services.create builds the reports service"
    return service


def _sender(ctx: Ctx) -> Sender:
    return ctx.services.senders["telegram"]


def _ref(data: str | None, prefix: str) -> tuple[int, Quarter] | None:
    try:
        return parse_ref(data or "", prefix)
    except ValueError:
        return None


async def _say(update: Update, ctx: Ctx, text: str) -> None:
    if update.effective_chat is not None:
        await ctx.bot.send_message(update.effective_chat.id, text)


async def _await_reply(
    update: Update, ctx: Ctx, key: str, ref: tuple[int, Quarter], prompt: str
) -> None:
    """Remember which city and quarter the next message is about, and ask for it."""
    service = _service(ctx)
    ctx.data[key] = [ref[0], str(ref[1])]
    city = await service.city_name(ref[0])
    quarter = service.quarter_label(ref[1], ctx.lang)
    await _say(update, ctx, ctx.t(prompt, city=city, quarter=quarter))


def _submitted_text(ctx: Ctx, service: ReportsService, result: SubmitResult) -> str:
    quarter = service.quarter_label(result.quarter, ctx.lang)
    if result.created:
        return ctx.t("reports.submitted.ok", city=result.city, quarter=quarter)
    when = result.submitted_at.astimezone(service.settings.tz).strftime("%Y-%m-%d %H:%M")
    return ctx.t(
        "reports.submitted.already",
        city=result.city,
        quarter=quarter,
        when=when,
        who=result.submitted_by,
    )


@requires(Role.ADMIN, Role.OFFICIAL)
async def on_reports(update: Update, ctx: Ctx) -> None:
    """Show the board: every city (admins) or the official's own city × the last quarters."""
    if update.effective_message is None:
        return
    service = _service(ctx)
    board = await service.board(await actor_of(update, ctx), ctx.services.clock.now())
    button = InlineKeyboardButton(ctx.t("reports.button.export"), callback_data=RP_XLSX)
    await update.effective_message.reply_text(
        service.render_board(board, ctx.lang), reply_markup=InlineKeyboardMarkup([[button]])
    )


async def on_export(update: Update, ctx: Ctx) -> None:
    """Send the board as an XLSX document."""
    query = update.callback_query
    assert query is not None
    actor = await actor_of(update, ctx)
    if not actor.has(Role.ADMIN, Role.OFFICIAL):
        await refuse(update, ctx, "reports.board.not_official")
        return
    await query.answer()
    service = _service(ctx)
    board = await service.board(actor, ctx.services.clock.now())
    await _sender(ctx).send(str(actor.user_id), service.board_document(board, ctx.lang))


@requires(Role.ADMIN)
async def on_reportsdone(update: Update, ctx: Ctx) -> None:
    """Record a report that arrived by other means: /reportsdone QUARTER [CITY]."""
    message = update.effective_message
    if message is None:
        return
    args = ctx.args or []
    if not args:
        await message.reply_text(ctx.t("reports.done.usage"))
        return
    try:
        quarter = Quarter.parse(args[0])
    except ValueError:
        await message.reply_text(ctx.t("reports.done.bad_quarter", text=args[0]))
        return
    city = " ".join(args[1:]).strip() or None
    service = _service(ctx)
    try:
        result = await service.record_submission(
            await actor_of(update, ctx), quarter, city, _sender(ctx)
        )
    except LookupError:
        if city is None:
            await message.reply_text(ctx.t("reports.done.need_city", quarter=str(quarter)))
        else:
            await message.reply_text(ctx.t("reports.done.unknown_city", city=city))
        return
    await message.reply_text(_submitted_text(ctx, service, result))


async def on_submitted(update: Update, ctx: Ctx) -> None:
    """已报送 under a reminder: record the submission and drop the buttons."""
    query = update.callback_query
    assert query is not None
    ref = _ref(query.data, RP_DONE)
    if ref is None:
        await query.answer(ctx.t("core.stale_button"))
        return
    service = _service(ctx)
    try:
        result = await service.mark_submitted(await actor_of(update, ctx), *ref, _sender(ctx))
    except AccessDenied:
        await refuse(update, ctx, "reports.denied")
        return
    except KeyError:
        await query.answer(ctx.t("core.stale_button"))
        return
    await query.answer()
    # Already without buttons (pressed twice, on another device) or too old to edit: the
    # confirmation below is what matters.
    with contextlib.suppress(BadRequest):
        await query.edit_message_reply_markup(None)
    await _say(update, ctx, _submitted_text(ctx, service, result))


async def on_upload(update: Update, ctx: Ctx) -> int | None:
    """上传报告 under a reminder: ask for the file."""
    query = update.callback_query
    assert query is not None
    ref = _ref(query.data, RP_UPLOAD)
    if ref is None:
        await query.answer(ctx.t("core.stale_button"))
        return ConversationHandler.END
    actor = await actor_of(update, ctx)
    try:
        actor.require_official(ref[0])
    except AccessDenied:
        await refuse(update, ctx, "reports.denied")
        return ConversationHandler.END
    await query.answer()
    await _await_reply(update, ctx, UPLOAD_KEY, ref, "reports.upload.prompt")
    return FILE


async def on_file(update: Update, ctx: Ctx) -> int:
    """Keep the report file, forward it to the admins and confirm."""
    message = update.effective_message
    assert message is not None
    stored = ctx.data.pop(UPLOAD_KEY, None)
    if not stored:
        return ConversationHandler.END
    city_id, quarter = int(stored[0]), Quarter.parse(str(stored[1]))
    if message.document is not None:
        attachment = Attachment(
            "document", file_id=message.document.file_id, filename=message.document.file_name
        )
    else:
        attachment = Attachment("photo", file_id=message.photo[-1].file_id)
    service = _service(ctx)
    try:
        result = await service.upload(
            await actor_of(update, ctx), city_id, quarter, attachment, _sender(ctx)
        )
    except AccessDenied:
        await refuse(update, ctx, "reports.denied")
        return ConversationHandler.END
    await message.reply_text(
        ctx.t(
            "reports.upload.ok",
            city=result.submission.city,
            quarter=service.quarter_label(quarter, ctx.lang),
        )
    )
    return ConversationHandler.END


async def on_not_a_file(update: Update, ctx: Ctx) -> int:
    """Ask again for a document or a photo."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(ctx.t("reports.upload.not_a_file"))
    return FILE


async def on_nudge(update: Update, ctx: Ctx) -> int | None:
    """催办 under an escalation: ask the admin for the message."""
    query = update.callback_query
    assert query is not None
    ref = _ref(query.data, RP_NUDGE)
    if ref is None:
        await query.answer(ctx.t("core.stale_button"))
        return ConversationHandler.END
    if not (await actor_of(update, ctx)).is_admin:
        await refuse(update, ctx)
        return ConversationHandler.END
    await query.answer()
    await _await_reply(update, ctx, NUDGE_KEY, ref, "reports.nudge.prompt")
    return TEXT


async def on_nudge_text(update: Update, ctx: Ctx) -> int:
    """Relay the admin's text to the city's officials."""
    message = update.effective_message
    assert message is not None
    stored = ctx.data.pop(NUDGE_KEY, None)
    if not stored or not message.text:
        return ConversationHandler.END
    city_id, quarter = int(stored[0]), Quarter.parse(str(stored[1]))
    service = _service(ctx)
    count = await service.nudge(
        await actor_of(update, ctx), city_id, quarter, message.text[:NUDGE_LIMIT], _sender(ctx)
    )
    city = await service.city_name(city_id)
    await message.reply_text(ctx.t("reports.nudge.sent", city=city, count=count))
    return ConversationHandler.END


async def on_cancel(update: Update, ctx: Ctx) -> int:
    """Leave the upload or nudge conversation."""
    ctx.data.pop(UPLOAD_KEY, None)
    ctx.data.pop(NUDGE_KEY, None)
    if update.effective_message is not None:
        await update.effective_message.reply_text(ctx.t("reports.cancelled"))
    return ConversationHandler.END


def handlers() -> list[BaseHandler]:
    """Return the reports handlers: commands, the two conversations, then plain buttons."""
    upload = ConversationHandler(
        entry_points=[CallbackQueryHandler(on_upload, pattern=f"^{RP_UPLOAD}")],
        states={
            FILE: [
                MessageHandler(filters.Document.ALL | filters.PHOTO, on_file),
                MessageHandler(~filters.COMMAND, on_not_a_file),
            ]
        },
        fallbacks=[CommandHandler("cancel", on_cancel)],
        name="reports_upload",
        persistent=True,
    )
    nudge = ConversationHandler(
        entry_points=[CallbackQueryHandler(on_nudge, pattern=f"^{RP_NUDGE}")],
        states={TEXT: [MessageHandler(filters.TEXT & ~filters.COMMAND, on_nudge_text)]},
        fallbacks=[CommandHandler("cancel", on_cancel)],
        name="reports_nudge",
        persistent=True,
    )
    return [
        CommandHandler("reports", on_reports),
        CommandHandler("reportsdone", on_reportsdone),
        upload,
        nudge,
        CallbackQueryHandler(on_submitted, pattern=f"^{RP_DONE}"),
        CallbackQueryHandler(on_export, pattern=f"^{RP_XLSX}$"),
    ]
