"""The policy FAQ in chat: free-text questions, their buttons, hand-off, /notice, inline mode.

Answering from /unanswered (state diagram):

    [*] --> ANSWERING: "answer #id" button (secretary of the park, or admin)
    ANSWERING --> [*]: answer typed (relayed to the asker)
    ANSWERING --> [*]: /cancel
"""

from __future__ import annotations

from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    Update,
)
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.access import AccessDenied, Role
from bot.faq.questions import Reply
from bot.faq.render import fit, render_clause
from bot.notice import Clause
from handlers.access import actor_of, refuse, requires
from handlers.context import Ctx

# Callback data: prefix + question row id (+ ":" + index). Row ids keep them far below 64 bytes.
FQ_RELATED = "fq:r:"
FQ_UP = "fq:u:"
FQ_DOWN = "fq:d:"
FQ_SOURCE = "fq:s:"
FQ_FORWARD = "fq:f:"
FQ_ANSWER = "fq:a:"
NT_HOME = "nt:h"
NT_SECTION = "nt:s:"
NT_CLAUSE = "nt:c:"

ANSWERING = 0
ANSWER_KEY = "faq_answer_question"
CONVERSATIONS_KEY = "faq_conversation_handlers"
UNANSWERED_QUOTE = 80
BUTTON_LABEL = 60

# -- questions ------------------------------------------------------------------------------


def _reply_markup(reply: Reply, ctx: Ctx) -> InlineKeyboardMarkup | None:
    """Return the buttons under an answer or a not-covered reply."""
    qid = reply.question_id
    if qid is None:
        return None
    rows = [
        [
            InlineKeyboardButton(
                ctx.t("faqchat.related_label", question=entry.question)[:BUTTON_LABEL],
                callback_data=f"{FQ_RELATED}{qid}:{n}",
            )
        ]
        for n, entry in enumerate(reply.offered)
    ]
    if reply.kind == "answer":
        rows.append(
            [
                InlineKeyboardButton(ctx.t("faqchat.btn_up"), callback_data=f"{FQ_UP}{qid}"),
                InlineKeyboardButton(ctx.t("faqchat.btn_down"), callback_data=f"{FQ_DOWN}{qid}"),
            ]
        )
        if len(reply.clauses) == 1:
            label = ctx.t("faqchat.btn_source")
            rows.append([InlineKeyboardButton(label, callback_data=f"{FQ_SOURCE}{qid}:0")])
        else:
            rows += [
                [
                    InlineKeyboardButton(
                        ctx.t("faqchat.btn_source_cite", cite=clause.cite),
                        callback_data=f"{FQ_SOURCE}{qid}:{n}",
                    )
                ]
                for n, clause in enumerate(reply.clauses)
            ]
    else:
        label = ctx.t("faqchat.btn_forward")
        rows.append([InlineKeyboardButton(label, callback_data=f"{FQ_FORWARD}{qid}")])
    return InlineKeyboardMarkup(rows)


async def _send_reply(message: Message, reply: Reply, ctx: Ctx) -> None:
    await message.reply_text(reply.text, reply_markup=_reply_markup(reply, ctx))


def _in_conversation(update: Update, ctx: Ctx) -> bool:
    """Return whether the user is inside a conversation that did not claim this message."""
    for handler in _conversations(ctx):
        # PTB has no public "is this key in a conversation" call; _get_key and
        # _conversations are the same data its check_update reads.
        try:
            key = handler._get_key(update)
        except RuntimeError:
            continue
        if key in handler._conversations:
            return True
    return False


def _conversations(ctx: Ctx) -> list[ConversationHandler[Any]]:
    """Return the application's conversation handlers (found once: handlers are fixed at start)."""
    found: list[ConversationHandler[Any]] | None = ctx.bot_data.get(CONVERSATIONS_KEY)
    if found is None:
        found = [
            h
            for group in ctx.application.handlers.values()
            for h in group
            if isinstance(h, ConversationHandler)
        ]
        ctx.bot_data[CONVERSATIONS_KEY] = found
    return found


async def on_text(update: Update, ctx: Ctx) -> None:
    """Treat free text as a question, or a reply to a forwarded question as its answer."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or message.text is None:
        return
    if await _is_forward_answer(update, ctx, message):
        return
    if _in_conversation(update, ctx):
        await message.reply_text(ctx.t("faqchat.in_conversation"))
        return
    for reply in await ctx.services.questions.ask_all(user.id, message.text, ctx.lang):
        await _send_reply(message, reply, ctx)


async def _is_forward_answer(update: Update, ctx: Ctx, message: Message) -> bool:
    """Relay a secretary's Telegram reply to a forwarded question; return whether it was one."""
    original = message.reply_to_message
    if original is None or original.from_user is None or original.from_user.id != ctx.bot.id:
        return False
    questions = ctx.services.questions
    question_id = await questions.forwarded_question(message.chat_id, original.message_id)
    if question_id is None:
        return False
    await _relay(update, ctx, message, question_id, message.text or "")
    return True


async def _relay(update: Update, ctx: Ctx, message: Message, question_id: int, text: str) -> None:
    actor = await actor_of(update, ctx)
    try:
        result = await ctx.services.questions.answer(actor, question_id, text)
    except AccessDenied:
        await refuse(update, ctx)
        return
    if result.already_resolved:
        await message.reply_text(ctx.t("faqchat.already_resolved"))
    elif result.delivered:
        await message.reply_text(ctx.t("faqchat.relay_done"))
    else:
        await message.reply_text(ctx.t("faqchat.relay_failed"))


def _ids(data: str, prefix: str) -> list[int]:
    """Return the numbers after prefix in callback data ("12:0" -> [12, 0])."""
    return [int(part) for part in data.removeprefix(prefix).split(":")]


async def on_related(update: Update, ctx: Ctx) -> None:
    """Answer a related or suggested question from its button."""
    query = update.callback_query
    if query is None or query.data is None or query.message is None:
        return
    question_id, index = _ids(query.data, FQ_RELATED)
    try:
        reply = await ctx.services.questions.ask_offered(
            query.from_user.id, question_id, index, ctx.lang
        )
    except LookupError:
        await query.answer(ctx.t("core.stale_button"), show_alert=True)
        return
    await query.answer()
    await ctx.bot.send_message(
        query.message.chat.id, reply.text, reply_markup=_reply_markup(reply, ctx)
    )


async def on_feedback(update: Update, ctx: Ctx) -> None:
    """Store 👍 or 👎; after 👎 offer to pass the question to a person."""
    query = update.callback_query
    if query is None or query.data is None or query.message is None:
        return
    good = query.data.startswith(FQ_UP)
    (question_id,) = _ids(query.data, FQ_UP if good else FQ_DOWN)
    stored = await ctx.services.questions.feedback(
        query.from_user.id, question_id, "up" if good else "down"
    )
    if not stored:
        await query.answer(ctx.t("core.stale_button"), show_alert=True)
        return
    if good:
        await query.answer(ctx.t("faqchat.feedback_up"))
    else:
        await query.answer()
        button = InlineKeyboardButton(
            ctx.t("faqchat.btn_forward"), callback_data=f"{FQ_FORWARD}{question_id}"
        )
        await ctx.bot.send_message(
            query.message.chat.id,
            ctx.t("faqchat.feedback_down"),
            reply_markup=InlineKeyboardMarkup([[button]]),
        )


async def on_source(update: Update, ctx: Ctx) -> None:
    """Show the whole clause an answer rests on."""
    query = update.callback_query
    if query is None or query.data is None or query.message is None:
        return
    question_id, index = _ids(query.data, FQ_SOURCE)
    try:
        clause = await ctx.services.questions.clause(question_id, index)
    except LookupError:
        await query.answer(ctx.t("core.stale_button"), show_alert=True)
        return
    await query.answer()
    await ctx.bot.send_message(query.message.chat.id, render_clause(clause, ctx.texts, ctx.lang))


async def on_forward(update: Update, ctx: Ctx) -> None:
    """Pass the asker's question to their park's secretaries (they pressed: their consent)."""
    query = update.callback_query
    if query is None or query.data is None or query.message is None:
        return
    (question_id,) = _ids(query.data, FQ_FORWARD)
    try:
        result = await ctx.services.questions.forward(query.from_user.id, question_id)
    except LookupError:
        await query.answer(ctx.t("core.stale_button"), show_alert=True)
        return
    await query.answer()
    if result.already:
        text = ctx.t("faqchat.forward_already")
    elif not result.reached:
        text = ctx.t("faqchat.forward_failed")
    elif result.to_admins:
        text = ctx.t("faqchat.forward_done_admins", count=len(result.reached))
    else:
        text = ctx.t("faqchat.forward_done", count=len(result.reached))
    await ctx.bot.send_message(query.message.chat.id, text)


# -- secretaries: /unanswered and answering -------------------------------------------------


@requires(Role.SECRETARY, Role.ADMIN)
async def on_unanswered(update: Update, ctx: Ctx) -> None:
    """List the questions waiting for a person, each with an "answer" button."""
    message = update.effective_message
    if message is None:
        return
    actor = await actor_of(update, ctx)
    pending = await ctx.services.questions.unanswered(actor)
    if not pending:
        await message.reply_text(ctx.t("faqchat.unanswered_none"))
        return
    lines = [ctx.t("faqchat.unanswered_title", count=len(pending))]
    for item in pending:
        if item.feedback == "down" and item.entry_question is not None:
            why = ctx.t("faqchat.why_down", question=item.entry_question)
        elif item.status == "forwarded":
            why = ctx.t("faqchat.why_forwarded")
        else:
            why = ctx.t("faqchat.why_open")
        park = item.park or ctx.t("faqchat.no_park")
        quote = item.text[:UNANSWERED_QUOTE]
        lines.append(
            ctx.t("faqchat.unanswered_line", id=item.id, park=park, question=quote, why=why)
        )
    buttons = [
        InlineKeyboardButton(
            ctx.t("faqchat.answer_button", id=item.id), callback_data=f"{FQ_ANSWER}{item.id}"
        )
        for item in pending
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    await message.reply_text(
        fit("\n".join(lines), ctx.texts, ctx.lang), reply_markup=InlineKeyboardMarkup(rows)
    )


@requires(Role.SECRETARY, Role.ADMIN)
async def on_answer_start(update: Update, ctx: Ctx) -> int | None:
    """Ask the secretary to type the answer to the chosen question."""
    query = update.callback_query
    if query is None or query.data is None or query.message is None:
        return None
    (question_id,) = _ids(query.data, FQ_ANSWER)
    try:
        text = await ctx.services.questions.question_text(question_id)
    except LookupError:
        await query.answer(ctx.t("core.stale_button"), show_alert=True)
        return None
    await query.answer()
    ctx.data[ANSWER_KEY] = question_id
    await ctx.bot.send_message(
        query.message.chat.id, ctx.t("faqchat.ask_answer", id=question_id, question=text)
    )
    return ANSWERING


async def on_answer_text(update: Update, ctx: Ctx) -> int:
    """Relay the typed answer to the asker."""
    message = update.effective_message
    question_id = ctx.data.pop(ANSWER_KEY, None)
    if message is None or question_id is None:
        return ConversationHandler.END
    await _relay(update, ctx, message, int(question_id), message.text or "")
    return ConversationHandler.END


async def on_answer_not_text(update: Update, ctx: Ctx) -> int:
    """Re-ask when something other than text arrives."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(ctx.t("faqchat.answer_empty"))
    return ANSWERING


async def on_answer_cancel(update: Update, ctx: Ctx) -> int:
    """Leave the answering conversation."""
    ctx.data.pop(ANSWER_KEY, None)
    if update.effective_message is not None:
        await update.effective_message.reply_text(ctx.t("core.cancelled"))
    return ConversationHandler.END


# -- /notice --------------------------------------------------------------------------------


def _home(ctx: Ctx) -> tuple[str, InlineKeyboardMarkup]:
    notice = ctx.services.faq.notice
    title = notice.clause("title").text if notice.has("title") else ""
    rows = []
    if notice.has("preamble"):
        preamble = notice.clause("preamble")
        rows.append([_clause_button(ctx, preamble, f"{NT_CLAUSE}{preamble.id}")])
    for section in notice.sections():
        data = f"{NT_SECTION}{section.clause.number}"
        rows.append([_clause_button(ctx, section.clause, data)])
    return ctx.t("faqchat.notice_home", title=title), InlineKeyboardMarkup(rows)


def _clause_button(ctx: Ctx, clause: Clause, data: str) -> InlineKeyboardButton:
    label = ctx.t("faqchat.notice_entry", cite=clause.cite, title=clause.title)
    return InlineKeyboardButton(label[:BUTTON_LABEL], callback_data=data)


async def on_notice(update: Update, ctx: Ctx) -> None:
    """Show the notice's parts as buttons."""
    if update.effective_message is None:
        return
    text, markup = _home(ctx)
    await update.effective_message.reply_text(text, reply_markup=markup)


async def on_notice_button(update: Update, ctx: Ctx) -> None:
    """Move through the notice (contents, section, clause), editing the message in place."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    notice = ctx.services.faq.notice
    data = query.data
    back = InlineKeyboardButton(ctx.t("faqchat.notice_home_button"), callback_data=NT_HOME)
    if data == NT_HOME:
        text, markup = _home(ctx)
    elif data.startswith(NT_SECTION):
        number = data.removeprefix(NT_SECTION)
        section = next((s for s in notice.sections() if str(s.clause.number) == number), None)
        if section is None:
            await query.answer(ctx.t("core.stale_button"), show_alert=True)
            return
        text = ctx.t("faqchat.notice_entry", cite=section.clause.cite, title=section.clause.title)
        rows = [[_clause_button(ctx, c, f"{NT_CLAUSE}{c.id}")] for c in section.children]
        markup = InlineKeyboardMarkup([*rows, [back]])
    else:
        clause_id = data.removeprefix(NT_CLAUSE)
        if not notice.has(clause_id):
            await query.answer(ctx.t("core.stale_button"), show_alert=True)
            return
        clause = notice.clause(clause_id)
        text = render_clause(clause, ctx.texts, ctx.lang)
        row = [back]
        if clause.section is not None and clause.kind != "section":
            up = InlineKeyboardButton(
                ctx.t("faqchat.notice_back"), callback_data=f"{NT_SECTION}{clause.section}"
            )
            row = [up, back]
        markup = InlineKeyboardMarkup([row])
    await query.answer()
    await query.edit_message_text(text, reply_markup=markup)


# -- inline mode ----------------------------------------------------------------------------


async def on_inline(update: Update, ctx: Ctx) -> None:
    """Offer the best answers (at most three) for `@bot question` in any chat."""
    query = update.inline_query
    if query is None:
        return
    if query.from_user is not None:
        ctx.lang = await ctx.services.users.language(query.from_user.id)
    replies = ctx.services.questions.top_answers(query.query, ctx.lang)
    results = [
        InlineQueryResultArticle(
            id=reply.offered[0].id[:64],
            title=reply.offered[0].question,
            description=reply.offered[0].answer[:120],
            input_message_content=InputTextMessageContent(reply.text),
        )
        for reply in replies
    ]
    if not results and query.query.strip():
        results.append(
            InlineQueryResultArticle(
                id="not-covered",
                title=ctx.t("faqchat.inline_not_covered_title"),
                input_message_content=InputTextMessageContent(ctx.t("faq.not_covered")),
            )
        )
    await query.answer(results, cache_time=60, is_personal=False)


def handlers() -> list[BaseHandler]:
    """Return the FAQ chat handlers except the free-text catch-all (see question_handlers)."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("notice", on_notice),
        CommandHandler("unanswered", on_unanswered),
        ConversationHandler(
            entry_points=[CallbackQueryHandler(on_answer_start, pattern=f"^{FQ_ANSWER}")],
            states={
                ANSWERING: [
                    MessageHandler(private & filters.TEXT & ~filters.COMMAND, on_answer_text),
                    MessageHandler(private & ~filters.COMMAND, on_answer_not_text),
                ]
            },
            fallbacks=[CommandHandler("cancel", on_answer_cancel)],
            name="faq_answer",
            persistent=True,
            allow_reentry=True,
        ),
        CallbackQueryHandler(on_related, pattern=rf"^{FQ_RELATED}\d+:\d+$"),
        CallbackQueryHandler(on_feedback, pattern=rf"^(?:{FQ_UP}|{FQ_DOWN})\d+$"),
        CallbackQueryHandler(on_source, pattern=rf"^{FQ_SOURCE}\d+:\d+$"),
        CallbackQueryHandler(on_forward, pattern=rf"^{FQ_FORWARD}\d+$"),
        CallbackQueryHandler(
            on_notice_button, pattern=rf"^(?:{NT_HOME}$|{NT_SECTION}|{NT_CLAUSE})"
        ),
        InlineQueryHandler(on_inline),
    ]


def question_handlers() -> list[BaseHandler]:
    """Return the catch-all: new private text that no command or conversation claimed."""
    # UpdateType.MESSAGE leaves edited messages out: editing a question is not a new one.
    question = (
        filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
    )
    return [MessageHandler(question, on_text)]
