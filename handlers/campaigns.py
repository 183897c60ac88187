"""合理化建议 in chat: /newcampaign, /suggest, /mysuggestions, /review, /campaigns, /export.

/newcampaign (conversation "new_campaign"):

    [*] --> TITLE --> DESCRIPTION --> OPENS --> CLOSES --> PARKS --> [*]: "open" pressed
    each state re-asks on bad input; /cancel leaves from any state

/suggest (conversation "suggest"):

    [*] --> CAMPAIGN: /suggest (one button per open campaign of the member's park)
    CAMPAIGN --> TEXT: campaign button
    TEXT --> FILES: 10–2,000 characters
    FILES --> FILES: photo or document
    FILES --> ANONYMOUS: "done" button
    ANONYMOUS --> CONFIRM: yes/no button
    CONFIRM --> [*]: "submit" (receipt number shown)
    any state --> [*]: /cancel

Review notes (conversation "review_note"): a "reject" or "forward" button asks for the reason or
the department/expert; the typed text completes the step.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.access import Role
from bot.members.campaigns import (
    DESCRIPTION_MAX,
    NOTE_REQUIRED,
    TITLE_MAX,
    AttachmentIn,
    CampaignsService,
    allowed_transitions,
    is_open,
)
from bot.members.errors import InvalidInput, MembersError
from bot.members.exports import FORMATS, KINDS, Exporter, filename, render
from bot.members.validation import SUGGESTION_MAX, validate_suggestion
from bot.models.members import Campaign, Suggestion
from handlers.access import actor_of, requires
from handlers.context import Ctx, pressed
from handlers.members import error
from handlers.menu import COMMANDS, STAFF, Command
from handlers.registration import members_of, say

NC_TODAY = "cp:today"
NC_PARK = "cp:park:"
NC_ALL = "cp:all"
NC_DONE = "cp:done"
SG_CAMPAIGN = "sg:c:"
SG_FILES_DONE = "sg:files"
SG_ANON = "sg:anon:"
SG_SEND = "sg:send"
RV = "rv:"
RV_FILES = "rv:files:"
EX = "ex:"

TITLE, DESCRIPTION, OPENS, CLOSES, PARKS = range(5)
CAMPAIGN, TEXT, FILES, ANONYMOUS, CONFIRM = range(10, 15)
NOTE = 20
NEW = "nc"
SUGGEST = "sg"
REVIEWING = "rv"
MAX_FILES = 10
SHOWN = 10
# Also accepts 2026年3月31日 (year/month/day characters written as escapes: no Han in code).
_DATE = re.compile(
    r"^\s*(\d{4})\s*[-/.\u5e74]\s*(\d{1,2})\s*[-/.\u6708]\s*(\d{1,2})\s*\u65e5?\s*$"
)

READERS = frozenset({Role.SECRETARY, Role.ADMIN, Role.OFFICIAL})
COMMANDS.extend(
    [
        Command("suggest"),
        Command("mysuggestions"),
        Command("newcampaign", STAFF),
        Command("review", STAFF),
        Command("campaigns", READERS),
        Command("export", READERS),
    ]
)


def campaigns_of(ctx: Ctx) -> CampaignsService:
    """Return the campaigns service (configured at start-up)."""
    service = ctx.services.campaigns
    assert service is not None, "Services.campaigns is not configured"
    return service


def user_data(ctx: Ctx) -> dict[Any, Any]:
    """Return user_data (always present in private chats)."""
    assert ctx.user_data is not None
    return ctx.user_data


def parse_day(text: str | None) -> date:
    """Return the date typed as 2026-03-31 (or 2026/3/31, 2026年3月31日)."""
    match = _DATE.match(text or "")
    if match is None:
        raise InvalidInput("campaigns.error.date_format")
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError as exc:
        raise InvalidInput("campaigns.error.date_format") from exc


async def cancel(update: Update, ctx: Ctx) -> int:
    """Leave any campaigns conversation."""
    for key in (NEW, SUGGEST, REVIEWING):
        user_data(ctx).pop(key, None)
    await say(update, ctx, ctx.t("reg.cancelled"))
    return ConversationHandler.END


async def stale(update: Update, ctx: Ctx) -> None:
    """Answer an unknown or outdated button."""
    if update.callback_query is not None:
        await update.callback_query.answer(ctx.t("core.stale_button"), show_alert=True)


# -- /newcampaign -------------------------------------------------------------------------------


@requires(Role.SECRETARY, Role.ADMIN)
async def on_newcampaign(update: Update, ctx: Ctx) -> int:
    """Start a new campaign: ask its title."""
    user_data(ctx)[NEW] = {"parks": []}
    await say(update, ctx, ctx.t("campaigns.ask_title"))
    return TITLE


async def on_title(update: Update, ctx: Ctx) -> int:
    """Store the title; ask the description."""
    text = (update.effective_message.text if update.effective_message else "") or ""
    if not text.strip() or len(text.strip()) > TITLE_MAX:
        await say(update, ctx, ctx.t("campaigns.bad_title"))
        return TITLE
    user_data(ctx)[NEW]["title"] = text.strip()
    await say(update, ctx, ctx.t("campaigns.ask_description"))
    return DESCRIPTION


async def on_description(update: Update, ctx: Ctx) -> int:
    """Store the description; ask the opening day."""
    text = (update.effective_message.text if update.effective_message else "") or ""
    if not text.strip() or len(text.strip()) > DESCRIPTION_MAX:
        await say(update, ctx, ctx.t("campaigns.bad_description"))
        return DESCRIPTION
    user_data(ctx)[NEW]["description"] = text.strip()
    today = InlineKeyboardMarkup(
        [[InlineKeyboardButton(ctx.t("campaigns.today"), callback_data=NC_TODAY)]]
    )
    await say(update, ctx, ctx.t("campaigns.ask_opens"), today)
    return OPENS


async def on_opens(update: Update, ctx: Ctx) -> int:
    """Store the opening day (typed, or today's button); ask the closing day."""
    tz = ctx.services.config.tz
    if update.callback_query is not None:
        await update.callback_query.answer()
        day = ctx.services.clock.now().astimezone(tz).date()
    else:
        try:
            day = parse_day(update.effective_message.text if update.effective_message else "")
        except InvalidInput as exc:
            await error(update, ctx, exc)
            return OPENS
    user_data(ctx)[NEW]["opens"] = day.isoformat()
    await say(update, ctx, ctx.t("campaigns.ask_closes"))
    return CLOSES


async def on_closes(update: Update, ctx: Ctx) -> int:
    """Store the closing day; show the park choice."""
    try:
        day = parse_day(update.effective_message.text if update.effective_message else "")
    except InvalidInput as exc:
        await error(update, ctx, exc)
        return CLOSES
    draft = user_data(ctx)[NEW]
    if day < date.fromisoformat(draft["opens"]):
        await say(update, ctx, ctx.t("campaigns.error.dates"))
        return CLOSES
    draft["closes"] = day.isoformat()
    await say(update, ctx, ctx.t("campaigns.ask_parks"), await parks_keyboard(update, ctx))
    return PARKS


async def manageable_parks(update: Update, ctx: Ctx) -> list[tuple[int, str]]:
    """Return (id, name) of the parks the actor may open a campaign for."""
    actor = await actor_of(update, ctx)
    parks = await members_of(ctx).parks()
    return [(p.id, p.name) for p in parks if actor.is_admin or p.id in actor.secretary_park_ids]


async def parks_keyboard(update: Update, ctx: Ctx) -> InlineKeyboardMarkup:
    """Return toggle buttons for the parks, ticked when chosen, plus "all" and "open"."""
    chosen = set(user_data(ctx)[NEW]["parks"])
    rows = [
        [InlineKeyboardButton(
            ctx.t("campaigns.park_on", park=name) if pid in chosen else name,
            callback_data=f"{NC_PARK}{pid}",
        )]
        for pid, name in await manageable_parks(update, ctx)
    ]  # fmt: skip
    rows.append(
        [InlineKeyboardButton(ctx.t("campaigns.all_parks"), callback_data=NC_ALL),
         InlineKeyboardButton(ctx.t("campaigns.open_button"), callback_data=NC_DONE)]
    )  # fmt: skip
    return InlineKeyboardMarkup(rows)


async def on_park_toggle(update: Update, ctx: Ctx) -> int:
    """Tick or untick one park (or all of them)."""
    query, data = pressed(update)
    allowed = [pid for pid, _ in await manageable_parks(update, ctx)]
    draft = user_data(ctx)[NEW]
    if data == NC_ALL:
        draft["parks"] = allowed
    else:
        raw = data.removeprefix(NC_PARK)
        pid = int(raw) if raw.isdigit() else -1
        if pid not in allowed:
            await stale(update, ctx)
            return PARKS
        chosen = set(draft["parks"])
        chosen.symmetric_difference_update({pid})
        draft["parks"] = sorted(chosen)
    await query.answer()
    await query.edit_message_reply_markup(await parks_keyboard(update, ctx))
    return PARKS


async def on_open(update: Update, ctx: Ctx) -> int:
    """Open the campaign (members of its parks are told)."""
    query = update.callback_query
    assert query is not None
    draft = user_data(ctx)[NEW]
    actor = await actor_of(update, ctx)
    try:
        campaign = await campaigns_of(ctx).open_campaign(
            actor,
            draft["title"],
            draft["description"],
            date.fromisoformat(draft["opens"]),
            date.fromisoformat(draft["closes"]),
            draft["parks"],
        )
    except InvalidInput as exc:
        await error(update, ctx, exc)
        return PARKS
    except MembersError as exc:
        await error(update, ctx, exc)
        user_data(ctx).pop(NEW, None)
        return ConversationHandler.END
    await query.answer()
    user_data(ctx).pop(NEW, None)
    await query.edit_message_text(
        ctx.t(
            "campaigns.opened", title=campaign.title, opens=draft["opens"], closes=draft["closes"]
        )
    )
    return ConversationHandler.END


async def on_wrong_input(update: Update, ctx: Ctx) -> None:
    """Explain that a button or a text is expected."""
    if update.callback_query is not None:
        await stale(update, ctx)
    else:
        await say(update, ctx, ctx.t("reg.text_expected"))


def again(state: int) -> Any:
    """Return a handler that explains the wrong input and stays in state."""

    async def on_again(update: Update, ctx: Ctx) -> int:
        await on_wrong_input(update, ctx)
        return state

    on_again.__doc__ = "Explain the wrong input and stay."
    return on_again


# -- /suggest -----------------------------------------------------------------------------------


async def on_suggest(update: Update, ctx: Ctx) -> int:
    """Offer the open campaigns of the member's park."""
    user = update.effective_user
    assert user is not None
    try:
        open_now = await campaigns_of(ctx).open_for(user.id)
    except MembersError as exc:
        await error(update, ctx, exc)
        return ConversationHandler.END
    if not open_now:
        await say(update, ctx, ctx.t("campaigns.none_open"))
        return ConversationHandler.END
    user_data(ctx)[SUGGEST] = {"files": []}
    rows = [
        [InlineKeyboardButton(c.title, callback_data=f"{SG_CAMPAIGN}{c.id}")] for c in open_now
    ]
    await say(update, ctx, ctx.t("campaigns.pick"), InlineKeyboardMarkup(rows))
    return CAMPAIGN


async def on_pick(update: Update, ctx: Ctx) -> int:
    """Remember the campaign; ask for the suggestion."""
    query, data = pressed(update)
    user = update.effective_user
    assert user is not None
    raw = data.removeprefix(SG_CAMPAIGN)
    open_ids = {c.id for c in await campaigns_of(ctx).open_for(user.id)}
    if not raw.isdigit() or int(raw) not in open_ids:
        await stale(update, ctx)
        return CAMPAIGN
    await query.answer()
    campaign = await campaigns_of(ctx).campaign(int(raw))
    user_data(ctx)[SUGGEST]["campaign_id"] = campaign.id
    await say(update, ctx, ctx.t("campaigns.ask_text", title=campaign.title, max=SUGGESTION_MAX))
    return TEXT


async def on_text(update: Update, ctx: Ctx) -> int:
    """Check and keep the suggestion text; invite attachments."""
    try:
        content = validate_suggestion(
            update.effective_message.text if update.effective_message else ""
        )
    except InvalidInput as exc:
        await error(update, ctx, exc)
        return TEXT
    user_data(ctx)[SUGGEST]["content"] = content
    done = InlineKeyboardMarkup(
        [[InlineKeyboardButton(ctx.t("campaigns.files_done"), callback_data=SG_FILES_DONE)]]
    )
    await say(update, ctx, ctx.t("campaigns.ask_files", max=MAX_FILES), done)
    return FILES


async def on_file(update: Update, ctx: Ctx) -> int:
    """Keep a photo or document by its Telegram file id."""
    message = update.effective_message
    assert message is not None
    files: list[list[str]] = user_data(ctx)[SUGGEST]["files"]
    if len(files) >= MAX_FILES:
        await say(update, ctx, ctx.t("campaigns.error.attachments", max=MAX_FILES))
        return FILES
    if message.photo:
        files.append(["photo", message.photo[-1].file_id, ""])
    elif message.document is not None:
        files.append(["document", message.document.file_id, message.document.file_name or ""])
    done = InlineKeyboardMarkup(
        [[InlineKeyboardButton(ctx.t("campaigns.files_done"), callback_data=SG_FILES_DONE)]]
    )
    await say(update, ctx, ctx.t("campaigns.file_kept", count=len(files)), done)
    return FILES


async def on_files_done(update: Update, ctx: Ctx) -> int:
    """Ask whether to stay anonymous to other members."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    rows = [
        [InlineKeyboardButton(ctx.t("campaigns.anon_yes"), callback_data=f"{SG_ANON}1"),
         InlineKeyboardButton(ctx.t("campaigns.anon_no"), callback_data=f"{SG_ANON}0")]
    ]  # fmt: skip
    await say(update, ctx, ctx.t("campaigns.ask_anonymous"), InlineKeyboardMarkup(rows))
    return ANONYMOUS


async def on_anonymous(update: Update, ctx: Ctx) -> int:
    """Store the choice; show the summary to confirm."""
    query, data = pressed(update)
    await query.answer()
    draft = user_data(ctx)[SUGGEST]
    draft["anonymous"] = data == f"{SG_ANON}1"
    campaign = await campaigns_of(ctx).campaign(int(draft["campaign_id"]))
    text = ctx.t(
        "campaigns.confirm",
        title=campaign.title,
        content=draft["content"],
        files=len(draft["files"]),
        anonymous=ctx.t("campaigns.anon_yes" if draft["anonymous"] else "campaigns.anon_no"),
    )
    send = InlineKeyboardMarkup(
        [[InlineKeyboardButton(ctx.t("reg.submit"), callback_data=SG_SEND)]]
    )
    await say(update, ctx, text, send)
    return CONFIRM


async def on_send(update: Update, ctx: Ctx) -> int:
    """Store the suggestion and give the receipt number."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None
    assert user is not None
    draft = user_data(ctx).pop(SUGGEST, {})
    try:
        suggestion = await campaigns_of(ctx).submit(
            user.id,
            int(draft["campaign_id"]),
            draft["content"],
            anonymous=bool(draft.get("anonymous")),
            attachments=[AttachmentIn(k, f, n) for k, f, n in draft.get("files", [])],
        )
    except MembersError as exc:
        await error(update, ctx, exc)
        return ConversationHandler.END
    await query.answer()
    await query.edit_message_text(ctx.t("campaigns.receipt", receipt=suggestion.receipt))
    return ConversationHandler.END


async def on_mysuggestions(update: Update, ctx: Ctx) -> None:
    """List the member's suggestions with their status."""
    user = update.effective_user
    assert user is not None
    mine = await campaigns_of(ctx).mine(user.id)
    if not mine:
        await say(update, ctx, ctx.t("campaigns.mine_none"))
        return
    tz = ctx.services.config.tz
    lines = [ctx.t("campaigns.mine_title")]
    for s in mine:
        lines.append(
            ctx.t(
                "campaigns.mine_line",
                receipt=s.receipt,
                status=ctx.t(f"campaigns.status.{s.status}"),
                date=s.created_at.astimezone(tz).date().isoformat(),
                excerpt=s.content[:40],
            )
        )
    await say(update, ctx, "\n".join(lines))


# -- /review ------------------------------------------------------------------------------------


def review_buttons(ctx: Ctx, suggestion: Suggestion) -> InlineKeyboardMarkup | None:
    """Return one button per allowed next status (and one to see the attachments)."""
    rows = [
        [
            InlineKeyboardButton(
                ctx.t(f"campaigns.do.{to}"), callback_data=f"{RV}{suggestion.id}:{to}"
            )
        ]
        for to in allowed_transitions(suggestion.status)
    ]
    if suggestion.attachments:
        rows.append(
            [InlineKeyboardButton(ctx.t("campaigns.show_files", count=len(suggestion.attachments)),
                                  callback_data=f"{RV_FILES}{suggestion.id}")]
        )  # fmt: skip
    return InlineKeyboardMarkup(rows) if rows else None


async def review_text(ctx: Ctx, suggestion: Suggestion) -> str:
    """Return a suggestion as a secretary sees it (the author is named even if anonymous)."""
    author = "-"
    if suggestion.user_id is not None:
        member = await members_of(ctx).find(suggestion.user_id)
        author = f"{member.name} {member.phone}" if member is not None else "-"
    return ctx.t(
        "campaigns.review_item",
        receipt=suggestion.receipt,
        status=ctx.t(f"campaigns.status.{suggestion.status}"),
        author=author,
        anonymous=ctx.t("campaigns.anon_yes" if suggestion.anonymous else "campaigns.anon_no"),
        content=suggestion.content,
        forwarded=suggestion.forwarded_to or "-",
    )


@requires(Role.SECRETARY, Role.ADMIN)
async def on_review(update: Update, ctx: Ctx) -> None:
    """List suggestions still under review, each with its next-step buttons."""
    actor = await actor_of(update, ctx)
    queue = await campaigns_of(ctx).review_queue(actor)
    if not queue:
        await say(update, ctx, ctx.t("campaigns.review_none"))
        return
    await say(
        update,
        ctx,
        ctx.t("campaigns.review_title", count=len(queue), shown=min(len(queue), SHOWN)),
    )
    for suggestion in queue[:SHOWN]:
        await say(update, ctx, await review_text(ctx, suggestion), review_buttons(ctx, suggestion))


def parse_review(data: str) -> tuple[int, str]:
    """Return (suggestion id, target status) of rv:<id>:<status>."""
    sid, _, to = data.removeprefix(RV).partition(":")
    return (int(sid) if sid.isdigit() else 0), to


async def on_step(update: Update, ctx: Ctx) -> None:
    """Move a suggestion one step (steps without a note)."""
    query, data = pressed(update)
    sid, to = parse_review(data)
    actor = await actor_of(update, ctx)
    try:
        suggestion = await campaigns_of(ctx).transition(actor, sid, to)
    except MembersError as exc:
        await error(update, ctx, exc)
        return
    await query.answer()
    await query.edit_message_text(
        await review_text(ctx, suggestion), reply_markup=review_buttons(ctx, suggestion)
    )


async def on_note_step(update: Update, ctx: Ctx) -> int:
    """Ask the reason (reject) or the department/expert (forward)."""
    query, data = pressed(update)
    sid, to = parse_review(data)
    actor = await actor_of(update, ctx)
    try:
        suggestion = await campaigns_of(ctx).suggestion(actor, sid)
        if not (actor.is_admin or suggestion.park_id in actor.secretary_park_ids):
            raise MembersError("members.error.denied")
        if to not in allowed_transitions(suggestion.status):
            raise MembersError("campaigns.error.transition")
    except MembersError as exc:
        await error(update, ctx, exc)
        return ConversationHandler.END
    await query.answer()
    user_data(ctx)[REVIEWING] = [sid, to]
    await say(update, ctx, ctx.t(f"campaigns.ask_note.{to}", receipt=suggestion.receipt))
    return NOTE


async def on_note(update: Update, ctx: Ctx) -> int:
    """Complete the step with the typed note."""
    message = update.effective_message
    assert message is not None
    sid, to = user_data(ctx).get(REVIEWING, [0, ""])
    actor = await actor_of(update, ctx)
    try:
        suggestion = await campaigns_of(ctx).transition(
            actor, int(sid), str(to), message.text or ""
        )
    except InvalidInput as exc:
        await error(update, ctx, exc)
        return NOTE
    except MembersError as exc:
        await error(update, ctx, exc)
        user_data(ctx).pop(REVIEWING, None)
        return ConversationHandler.END
    user_data(ctx).pop(REVIEWING, None)
    await say(update, ctx, await review_text(ctx, suggestion), review_buttons(ctx, suggestion))
    return ConversationHandler.END


async def on_files(update: Update, ctx: Ctx) -> None:
    """Send a suggestion's photos and documents to the reviewer."""
    query, data = pressed(update)
    chat = update.effective_chat
    assert chat is not None
    raw = data.removeprefix(RV_FILES)
    actor = await actor_of(update, ctx)
    try:
        suggestion = await campaigns_of(ctx).suggestion(actor, int(raw) if raw.isdigit() else 0)
    except MembersError as exc:
        await error(update, ctx, exc)
        return
    await query.answer()
    for item in suggestion.attachments:
        if item.kind == "photo":
            await ctx.bot.send_photo(chat.id, item.file_id, caption=suggestion.receipt)
        else:
            await ctx.bot.send_document(chat.id, item.file_id, caption=suggestion.receipt)


# -- /campaigns and /export -----------------------------------------------------------------------


def campaign_state(ctx: Ctx, campaign: Campaign) -> str:
    """Return the campaign's state label: upcoming, open or closed."""
    now = ctx.services.clock.now()
    if is_open(campaign, now):
        return ctx.t("campaigns.state.open")
    if campaign.closed_at is not None or campaign.closes_at <= now:
        return ctx.t("campaigns.state.closed")
    return ctx.t("campaigns.state.upcoming")


@requires(Role.SECRETARY, Role.ADMIN, Role.OFFICIAL)
async def on_campaigns(update: Update, ctx: Ctx) -> None:
    """Show each campaign with its suggestion counts by status and by park."""
    actor = await actor_of(update, ctx)
    service = campaigns_of(ctx)
    found = await service.campaigns(actor)
    if not found:
        await say(update, ctx, ctx.t("campaigns.list_none"))
        return
    tz = ctx.services.config.tz
    for campaign in found[:SHOWN]:
        stats = await service.stats(actor, campaign.id)
        by_status = ", ".join(
            f"{ctx.t(f'campaigns.status.{s}')} {n}" for s, n in sorted(stats.by_status.items())
        )
        by_park = ", ".join(f"{p} {n}" for p, n in stats.by_park.items())
        closes = campaign.closes_at.astimezone(tz).date().toordinal() - 1
        await say(
            update,
            ctx,
            ctx.t(
                "campaigns.list_item",
                title=campaign.title,
                state=campaign_state(ctx, campaign),
                opens=campaign.opens_at.astimezone(tz).date().isoformat(),
                closes=date.fromordinal(closes).isoformat(),
                total=stats.total,
                by_status=by_status or "-",
                by_park=by_park or "-",
            ),
        )


@requires(Role.SECRETARY, Role.ADMIN, Role.OFFICIAL)
async def on_export(update: Update, ctx: Ctx) -> None:
    """Offer the four exports."""
    rows = [
        [InlineKeyboardButton(ctx.t(f"campaigns.export.{kind}", format=fmt.upper()),
                              callback_data=f"{EX}{kind}:{fmt}") for fmt in FORMATS]
        for kind in KINDS
    ]  # fmt: skip
    await say(update, ctx, ctx.t("campaigns.export.ask"), InlineKeyboardMarkup(rows))


async def on_export_chosen(update: Update, ctx: Ctx) -> None:
    """Build the export of the actor's scope and send it as a document."""
    query, data = pressed(update)
    chat = update.effective_chat
    assert chat is not None
    kind, _, fmt = data.removeprefix(EX).partition(":")
    if kind not in KINDS or fmt not in FORMATS:
        await stale(update, ctx)
        return
    actor = await actor_of(update, ctx)
    services = ctx.services
    exporter = Exporter(members_of(ctx), campaigns_of(ctx), services.texts, services.config.tz)
    try:
        table = await exporter.table(kind, actor, None, ctx.lang)
    except MembersError as exc:
        await error(update, ctx, exc)
        return
    await query.answer()
    name = filename(kind, fmt, services.clock.now(), services.config.tz)
    # Rendering a large XLSX takes seconds: keep the event loop answering other chats meanwhile.
    content = await asyncio.to_thread(render, table, fmt, kind)
    document = InputFile(content, filename=name)
    await ctx.bot.send_document(
        chat.id, document, caption=ctx.t("campaigns.export.done", count=len(table.rows))
    )


def handlers() -> list[BaseHandler]:
    """Return the campaign conversations, then the plain commands and buttons."""
    private = filters.ChatType.PRIVATE
    text = filters.TEXT & ~filters.COMMAND
    other = ~filters.COMMAND
    return [
        ConversationHandler(
            name="new_campaign",
            persistent=True,
            allow_reentry=True,
            entry_points=[CommandHandler("newcampaign", on_newcampaign, filters=private)],
            states={
                TITLE: [MessageHandler(text, on_title), MessageHandler(other, again(TITLE))],
                DESCRIPTION: [
                    MessageHandler(text, on_description),
                    MessageHandler(other, again(DESCRIPTION)),
                ],
                OPENS: [
                    MessageHandler(text, on_opens),
                    CallbackQueryHandler(on_opens, pattern=f"^{NC_TODAY}$"),
                    MessageHandler(other, again(OPENS)),
                ],
                CLOSES: [MessageHandler(text, on_closes), MessageHandler(other, again(CLOSES))],
                PARKS: [
                    CallbackQueryHandler(on_park_toggle, pattern=f"^({NC_PARK}|{NC_ALL}$)"),
                    CallbackQueryHandler(on_open, pattern=f"^{NC_DONE}$"),
                    MessageHandler(other, again(PARKS)),
                ],
            },
            fallbacks=[CommandHandler("cancel", cancel)],
        ),
        ConversationHandler(
            name="suggest",
            persistent=True,
            allow_reentry=True,
            entry_points=[CommandHandler("suggest", on_suggest, filters=private)],
            states={
                CAMPAIGN: [
                    CallbackQueryHandler(on_pick, pattern=f"^{SG_CAMPAIGN}"),
                    MessageHandler(other, again(CAMPAIGN)),
                ],
                TEXT: [MessageHandler(text, on_text), MessageHandler(other, again(TEXT))],
                FILES: [
                    MessageHandler(filters.PHOTO | filters.Document.ALL, on_file),
                    CallbackQueryHandler(on_files_done, pattern=f"^{SG_FILES_DONE}$"),
                    MessageHandler(other, again(FILES)),
                ],
                ANONYMOUS: [
                    CallbackQueryHandler(on_anonymous, pattern=f"^{SG_ANON}[01]$"),
                    MessageHandler(other, again(ANONYMOUS)),
                ],
                CONFIRM: [
                    CallbackQueryHandler(on_send, pattern=f"^{SG_SEND}$"),
                    MessageHandler(other, again(CONFIRM)),
                ],
            },
            fallbacks=[CommandHandler("cancel", cancel)],
        ),
        ConversationHandler(
            name="review_note",
            persistent=True,
            allow_reentry=True,
            entry_points=[
                CallbackQueryHandler(
                    on_note_step, pattern=rf"^{RV}\d+:({'|'.join(sorted(NOTE_REQUIRED))})$"
                )
            ],
            states={NOTE: [MessageHandler(text, on_note), MessageHandler(other, again(NOTE))]},
            fallbacks=[CommandHandler("cancel", cancel)],
        ),
        CommandHandler("mysuggestions", on_mysuggestions, filters=private),
        CommandHandler("review", on_review, filters=private),
        CommandHandler("campaigns", on_campaigns, filters=private),
        CommandHandler("export", on_export, filters=private),
        CallbackQueryHandler(on_files, pattern=f"^{RV_FILES}"),
        CallbackQueryHandler(on_step, pattern=rf"^{RV}\d+:"),
        CallbackQueryHandler(on_export_chosen, pattern=f"^{EX}"),
    ]
