"""Events with RSVP: /newevent (state diagram in handlers/newevent.mmd), the 报名 / 取消报名
buttons, /events, editing and cancelling, /attendees with CSV and XLSX exports."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.access import AccessDenied, Actor, Role
from bot.events import EventsFeature
from bot.events.export import attendees_csv, attendees_xlsx, export_filename
from bot.events.parse import DateTimeFormatError, parse_local_datetime, split_list
from bot.events.render import (
    EV_RSVP,
    EV_WITHDRAW,
    event_card,
    event_message,
    status_label,
)
from bot.events.service import (
    EventDraft,
    EventError,
    EventKind,
    EventView,
    RsvpStatus,
    validate_draft,
)
from handlers.access import actor_of, refuse, requires
from handlers.context import Ctx, pressed
from handlers.menu import COMMANDS, STAFF, Command

EV_KIND = "ev:kind:"
EV_PARK = "ev:park:"
EV_PARKS_DONE = "ev:parks:ok"
EV_AUDIENCE = "ev:aud:"  # all | fields
EV_PUBLISH = "ev:pub"
EV_DISCARD = "ev:drop"
EV_SKIP = "ev:skip"
EV_EDIT = "ev:edit:"  # <id>
EV_EDIT_FIELD = "ev:ef:"  # <id>:<field>
EV_CANCEL = "ev:cancel:"  # <id>
EV_CANCEL_YES = "ev:cancel!:"  # <id>
EV_ATTENDEES = "ev:att:"  # <id>
EV_CSV = "ev:csv:"  # <id>
EV_XLSX = "ev:xlsx:"  # <id>

(TITLE, KIND, START, END, PLACE, DESCRIPTION, CAPACITY, DEADLINE, PARKS, AUDIENCE, FIELDS,
 PREVIEW) = range(12)  # fmt: skip
EDIT_VALUE = 20
DRAFT = "ev_draft"
EDITING = "ev_edit"
LIST_LIMIT = 10
TEXT_FIELDS = ("title", "place", "description")
TIME_FIELDS = ("starts_at", "ends_at", "signup_deadline")
EDIT_FIELDS = ("title", "starts_at", "ends_at", "place", "description", "capacity",
               "signup_deadline")  # fmt: skip

COMMANDS.extend(
    [
        Command("events"),
        Command("newevent", STAFF),
        Command("attendees", STAFF),
    ]
)


def _events(ctx: Ctx) -> EventsFeature:
    feature = ctx.services.events
    assert feature is not None, "Services.create wires the events feature"
    return feature


def _keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


async def _reply(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_text(text, reply_markup=markup)


def _text(update: Update) -> str:
    message = update.effective_message
    return (message.text or "") if message is not None else ""


def _is_word(ctx: Ctx, text: str, key: str) -> bool:
    return text.strip().lower() in {v.lower() for v in ctx.texts.variants(key)}


def _read_time(ctx: Ctx, text: str, **kw: Any) -> datetime | None:
    try:
        return parse_local_datetime(text, ctx.services.clock.now(), ctx.services.config.tz, **kw)
    except DateTimeFormatError:
        return None


# -- the draft lives in user_data as JSON-safe values (conversations are persisted) ------------


def _user_data(ctx: Ctx) -> dict[Any, Any]:
    data = ctx.user_data
    assert data is not None, "private chats always have user_data"
    return data


def _draft(ctx: Ctx) -> dict[str, Any]:
    draft: dict[str, Any] = _user_data(ctx).setdefault(DRAFT, {})
    return draft


def _to_draft(data: dict[str, Any]) -> EventDraft:
    def when(key: str) -> datetime | None:
        value = data.get(key)
        return datetime.fromisoformat(value) if value else None

    starts_at, ends_at = when("starts_at"), when("ends_at")
    assert starts_at is not None
    assert ends_at is not None
    return EventDraft(
        title=data["title"],
        kind=EventKind(data["kind"]),
        starts_at=starts_at,
        ends_at=ends_at,
        place=data["place"],
        description=data.get("description", ""),
        capacity=data.get("capacity"),
        signup_deadline=when("signup_deadline"),
        park_ids=tuple(data.get("park_ids", ())),
        fields=tuple(data.get("fields", ())),
    )


def _preview_view(draft: EventDraft) -> EventView:
    return EventView(
        id=0, organiser_id=0, title=draft.title, kind=draft.kind, starts_at=draft.starts_at,
        ends_at=draft.ends_at, place=draft.place, description=draft.description,
        capacity=draft.capacity, signup_deadline=draft.signup_deadline, park_ids=draft.park_ids,
        fields=draft.fields, cancelled=False, sequence=0, updated_at=draft.starts_at,
    )  # fmt: skip


# -- /newevent -------------------------------------------------------------------------------


@requires(Role.SECRETARY, Role.ADMIN)
async def on_newevent(update: Update, ctx: Ctx) -> int:
    """Start a new event: ask for the title."""
    _user_data(ctx)[DRAFT] = {}
    await _reply(update, ctx.t("events.new.ask_title"))
    return TITLE


async def on_title(update: Update, ctx: Ctx) -> int:
    """Take the title; ask for the kind."""
    text = " ".join(_text(update).split())
    if not text or len(text) > 200:
        await _reply(update, ctx.t("events.error.title_invalid"))
        return TITLE
    _draft(ctx)["title"] = text
    rows = [[(ctx.t(f"events.kind.{k.value}"), f"{EV_KIND}{k.value}") for k in EventKind]]
    await _reply(update, ctx.t("events.new.ask_kind"), _keyboard(rows))
    return KIND


async def on_kind(update: Update, ctx: Ctx) -> int:
    """Take the kind; ask for the start."""
    query, data = pressed(update)
    await query.answer()
    kind = data.removeprefix(EV_KIND)
    if kind not in {k.value for k in EventKind}:
        return KIND
    _draft(ctx)["kind"] = kind
    await query.edit_message_text(
        ctx.t("events.new.kind_chosen", kind=ctx.t(f"events.kind.{kind}"))
    )
    await _reply(update, ctx.t("events.new.ask_start"))
    return START


async def on_start(update: Update, ctx: Ctx) -> int:
    """Take the start; ask for the end."""
    text = update.effective_message.text if update.effective_message else ""
    starts_at = _read_time(ctx, text or "")
    if starts_at is None:
        await _reply(update, ctx.t("events.error.bad_datetime"))
        return START
    if starts_at <= ctx.services.clock.now():
        await _reply(update, ctx.t("events.error.start_in_past"))
        return START
    _draft(ctx)["starts_at"] = starts_at.isoformat()
    await _reply(update, ctx.t("events.new.ask_end"))
    return END


async def on_end(update: Update, ctx: Ctx) -> int:
    """Take the end (a bare time means the start's day); ask for the place."""
    text = update.effective_message.text if update.effective_message else ""
    starts_at = datetime.fromisoformat(_draft(ctx)["starts_at"])
    day = starts_at.astimezone(ctx.services.config.tz).date()
    ends_at = _read_time(ctx, text or "", base_date=day)
    if ends_at is None:
        await _reply(update, ctx.t("events.error.bad_datetime"))
        return END
    if ends_at <= starts_at:
        await _reply(update, ctx.t("events.error.end_before_start"))
        return END
    _draft(ctx)["ends_at"] = ends_at.isoformat()
    await _reply(update, ctx.t("events.new.ask_place"))
    return PLACE


async def on_place(update: Update, ctx: Ctx) -> int:
    """Take the place; ask for a description."""
    text = " ".join(_text(update).split())
    if not text or len(text) > 300:
        await _reply(update, ctx.t("events.error.place_invalid"))
        return PLACE
    _draft(ctx)["place"] = text
    await _reply(update, ctx.t("events.new.ask_description"), _skip_button(ctx))
    return DESCRIPTION


def _skip_button(ctx: Ctx) -> InlineKeyboardMarkup:
    return _keyboard([[(ctx.t("events.button.skip"), EV_SKIP)]])


async def _typed_or_skipped(update: Update) -> str | None:
    """Return the typed text, or None when the skip button was pressed."""
    if update.callback_query is not None:
        await update.callback_query.answer()
        return None
    message = update.effective_message
    return (message.text or "").strip() if message else None


async def on_description(update: Update, ctx: Ctx) -> int:
    """Take the description (or skip); ask for the capacity."""
    text = await _typed_or_skipped(update)
    if text and len(text) > 2000:
        await _reply(update, ctx.t("events.error.description_too_long"))
        return DESCRIPTION
    _draft(ctx)["description"] = text or ""
    await _reply(update, ctx.t("events.new.ask_capacity"), _skip_button(ctx))
    return CAPACITY


async def on_capacity(update: Update, ctx: Ctx) -> int:
    """Take the capacity (a number, or no limit); ask for the sign-up deadline."""
    text = await _typed_or_skipped(update)
    capacity = _read_capacity(ctx, text)
    if capacity is False:
        await _reply(update, ctx.t("events.error.capacity_invalid"))
        return CAPACITY
    _draft(ctx)["capacity"] = capacity
    await _reply(update, ctx.t("events.new.ask_deadline"), _skip_button(ctx))
    return DEADLINE


def _read_capacity(ctx: Ctx, text: str | None) -> int | bool | None:
    """Return the capacity, None for no limit, or False when unreadable."""
    if text is None or _is_word(ctx, text, "events.input.unlimited"):
        return None
    digits = text.strip()
    if not digits.isdigit() or int(digits) < 1:
        return False
    return int(digits)


async def on_deadline(update: Update, ctx: Ctx) -> int:
    """Take the sign-up deadline (or skip); ask for the parks or the audience."""
    text = await _typed_or_skipped(update)
    draft = _draft(ctx)
    deadline = None
    if text:
        deadline = _read_time(ctx, text, default_time=time(23, 59))
        if deadline is None:
            await _reply(update, ctx.t("events.error.bad_datetime"))
            return DEADLINE
        if deadline <= ctx.services.clock.now():
            await _reply(update, ctx.t("events.error.deadline_in_past"))
            return DEADLINE
        if deadline > datetime.fromisoformat(draft["starts_at"]):
            await _reply(update, ctx.t("events.error.deadline_after_start"))
            return DEADLINE
    draft["signup_deadline"] = deadline.isoformat() if deadline else None
    actor = await actor_of(update, ctx)
    parks = await _parks_in_scope(ctx, actor.is_admin, actor.secretary_park_ids)
    if len(parks) == 1:
        draft["park_ids"] = [next(iter(parks))]
        return await _ask_audience(update, ctx)
    draft["park_ids"] = []
    await _reply(update, ctx.t("events.new.ask_parks"), _parks_keyboard(ctx, parks, set()))
    return PARKS


async def _parks_in_scope(ctx: Ctx, admin: bool, secretary_of: frozenset[int]) -> dict[int, str]:
    park_names, _ = await ctx.services.org.names()
    return {pid: name for pid, name in park_names.items() if admin or pid in secretary_of}


def _parks_keyboard(ctx: Ctx, parks: dict[int, str], chosen: set[int]) -> InlineKeyboardMarkup:
    rows = [
        [(("✅ " if pid in chosen else "") + name, f"{EV_PARK}{pid}")]
        for pid, name in sorted(parks.items(), key=lambda p: p[1])
    ]
    rows.append([(ctx.t("events.button.parks_done"), EV_PARKS_DONE)])
    return _keyboard(rows)


async def on_park_toggle(update: Update, ctx: Ctx) -> int:
    """Add or remove a park of the audience."""
    query, data = pressed(update)
    actor = await actor_of(update, ctx)
    parks = await _parks_in_scope(ctx, actor.is_admin, actor.secretary_park_ids)
    park_id = int(data.removeprefix(EV_PARK))
    chosen = set(_draft(ctx).get("park_ids", []))
    if park_id not in parks:
        await query.answer(ctx.t("core.stale_button"), show_alert=True)
        return PARKS
    chosen ^= {park_id}
    _draft(ctx)["park_ids"] = sorted(chosen)
    await query.answer()
    await query.edit_message_reply_markup(_parks_keyboard(ctx, parks, chosen))
    return PARKS


async def on_parks_done(update: Update, ctx: Ctx) -> int:
    """Finish choosing parks; ask for the audience."""
    query = update.callback_query
    assert query is not None
    if not _draft(ctx).get("park_ids"):
        await query.answer(ctx.t("events.error.no_parks"), show_alert=True)
        return PARKS
    await query.answer()
    return await _ask_audience(update, ctx)


async def _ask_audience(update: Update, ctx: Ctx) -> int:
    rows = [
        [(ctx.t("events.button.audience_all"), f"{EV_AUDIENCE}all")],
        [(ctx.t("events.button.audience_fields"), f"{EV_AUDIENCE}fields")],
    ]
    await _reply(update, ctx.t("events.new.ask_audience"), _keyboard(rows))
    return AUDIENCE


async def on_audience(update: Update, ctx: Ctx) -> int:
    """All members of the parks (preview) or members of given fields (ask which)."""
    query, data = pressed(update)
    await query.answer()
    if data.endswith("fields"):
        await _reply(update, ctx.t("events.new.ask_fields"))
        return FIELDS
    _draft(ctx)["fields"] = []
    return await _preview(update, ctx)


async def on_fields(update: Update, ctx: Ctx) -> int:
    """Take the fields of work (separated by commas); show the preview."""
    text = update.effective_message.text if update.effective_message else ""
    fields = split_list(text or "")
    if not fields:
        await _reply(update, ctx.t("events.new.ask_fields"))
        return FIELDS
    _draft(ctx)["fields"] = fields[:20]
    return await _preview(update, ctx)


async def _preview(update: Update, ctx: Ctx) -> int:
    """Show the notice exactly as members will get it, then publish / discard."""
    draft = _to_draft(_draft(ctx))
    try:
        validate_draft(draft, ctx.services.clock.now())
    except EventError as exc:
        await _reply(update, ctx.t(f"events.error.{exc.code}"))
        return ConversationHandler.END
    view = _preview_view(draft)
    message = event_message(view, ctx.texts, ctx.lang, ctx.services.config.tz,
                            lead_key="events.notice.new")  # fmt: skip
    await _reply(update, ctx.t("events.new.preview_head"))
    # Sent through the same Sender members' copies go through, so it looks exactly the same
    # (text, buttons, .ics); its buttons point at event 0, which does not exist yet.
    if update.effective_chat is not None:
        sender = ctx.services.senders["telegram"]
        await sender.send(str(update.effective_chat.id), message)
    rows = [[(ctx.t("events.button.publish"), EV_PUBLISH),
             (ctx.t("events.button.discard"), EV_DISCARD)]]  # fmt: skip
    await _reply(update, ctx.t("events.new.confirm"), _keyboard(rows))
    return PREVIEW


async def on_publish(update: Update, ctx: Ctx) -> int:
    """Create the event and send it to its audience."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    actor = await actor_of(update, ctx)
    feature = _events(ctx)
    try:
        event = await feature.service.create(actor, _to_draft(_draft(ctx)))
    except EventError as exc:
        await query.edit_message_text(ctx.t(f"events.error.{exc.code}"))
        return ConversationHandler.END
    except AccessDenied:
        await refuse(update, ctx)
        return ConversationHandler.END
    _user_data(ctx).pop(DRAFT, None)
    count = await feature.notices.announce(event, actor.user_id)
    await query.edit_message_text(ctx.t("events.new.published", id=event.id, count=count))
    return ConversationHandler.END


async def on_discard(update: Update, ctx: Ctx) -> int:
    """Drop the draft."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    _user_data(ctx).pop(DRAFT, None)
    await query.edit_message_text(ctx.t("events.new.discarded"))
    return ConversationHandler.END


async def on_cancel(update: Update, ctx: Ctx) -> int:
    """Leave the conversation."""
    _user_data(ctx).pop(DRAFT, None)
    _user_data(ctx).pop(EDITING, None)
    await _reply(update, ctx.t("core.cancelled"))
    return ConversationHandler.END


async def on_not_text(update: Update, ctx: Ctx) -> None:
    """Re-ask for text when something else arrives mid-conversation."""
    await _reply(update, ctx.t("events.new.text_please"))


# -- member buttons ------------------------------------------------------------------------------


def _event_id(data: str, prefix: str) -> int | None:
    tail = data.removeprefix(prefix).split(":", 1)[0]
    return int(tail) if tail.isdigit() else None


async def on_rsvp(update: Update, ctx: Ctx) -> None:
    """Sign up (or join the waiting list) and refresh the card's places left."""
    query, data = pressed(update)
    event_id = _event_id(data, EV_RSVP)
    if event_id is None:
        await query.answer(ctx.t("core.stale_button"), show_alert=True)
        return
    actor = await actor_of(update, ctx)
    try:
        out = await _events(ctx).service.rsvp(actor, event_id)
    except EventError as exc:
        await query.answer(ctx.t(f"events.error.{exc.code}"), show_alert=True)
        return
    if out.status is RsvpStatus.WAITING:
        key = "events.rsvp.already_waiting" if out.already else "events.rsvp.waiting"
        text = ctx.t(key, position=out.position)
    elif out.already:
        text = ctx.t("events.rsvp.already_going")
    elif out.event.capacity is None:
        text = ctx.t("events.rsvp.going_unlimited")
    else:
        text = ctx.t("events.rsvp.going", left=out.event.places_left)
    await query.answer(text, show_alert=True)
    await _refresh_card(update, ctx, out.event, out.status)


async def on_withdraw(update: Update, ctx: Ctx) -> None:
    """Cancel a sign-up; the first waiting member gets the place and is told."""
    query, data = pressed(update)
    event_id = _event_id(data, EV_WITHDRAW)
    if event_id is None:
        await query.answer(ctx.t("core.stale_button"), show_alert=True)
        return
    actor = await actor_of(update, ctx)
    feature = _events(ctx)
    try:
        out = await feature.service.withdraw(actor, event_id)
    except EventError as exc:
        await query.answer(ctx.t(f"events.error.{exc.code}"), show_alert=True)
        return
    key = {
        RsvpStatus.GOING: "events.rsvp.withdrawn",
        RsvpStatus.WAITING: "events.rsvp.withdrawn_waiting",
        RsvpStatus.NONE: "events.rsvp.not_signed_up",
    }[out.was]
    await query.answer(ctx.t(key), show_alert=True)
    if out.promoted:
        await feature.notices.promoted(out.event, out.promoted)
    await _refresh_card(update, ctx, out.event, RsvpStatus.NONE)


async def _refresh_card(update: Update, ctx: Ctx, event: EventView, status: RsvpStatus) -> None:
    """Rewrite the pressed message with the current places left (and the member's status)."""
    query = update.callback_query
    message = query.message if query else None
    if query is None or not isinstance(message, Message):
        return
    # A notice with its .ics is one document whose caption is the text (see tg_sender).
    old = message.text or message.caption
    if not old:
        return
    card = event_card(event, ctx.texts, ctx.lang, ctx.services.config.tz)
    head = card.split("\n", 1)[0]
    if old.startswith(head):  # a /events entry: card, then the member's status
        text = _listing_text(ctx, event, status)
    else:  # a notice: its lead line, then the card
        text = old.partition("\n\n")[0] + "\n\n" + card
    if text == old:
        return
    try:
        if message.text:
            await query.edit_message_text(text, reply_markup=message.reply_markup)
        else:
            await query.edit_message_caption(text, reply_markup=message.reply_markup)
    except BadRequest:  # "message is not modified" or too old to edit: the answer said it all
        return


def _listing_text(ctx: Ctx, event: EventView, status: RsvpStatus) -> str:
    card = event_card(event, ctx.texts, ctx.lang, ctx.services.config.tz)
    label = status_label(status, ctx.texts, ctx.lang)
    return card + "\n\n" + ctx.t("events.list.status", status=label)


# -- /events, edit, cancel --------------------------------------------------------------------


async def on_events(update: Update, ctx: Ctx) -> None:
    """List upcoming events with the member's status; organisers get edit / cancel / list."""
    actor = await actor_of(update, ctx)
    feature = _events(ctx)
    listed = await feature.service.upcoming_for(actor)
    managed = (
        {e.id for e in await feature.service.organised_by(actor)}
        if actor.has(Role.SECRETARY, Role.ADMIN)
        else set()
    )
    if not listed:
        await _reply(update, ctx.t("events.list.empty"))
        return
    for event, status in listed[:LIST_LIMIT]:
        text = _listing_text(ctx, event, status)
        rows = [[(ctx.t("events.button.rsvp"), f"{EV_RSVP}{event.id}"),
                 (ctx.t("events.button.withdraw"), f"{EV_WITHDRAW}{event.id}")]]  # fmt: skip
        if event.id in managed:
            rows.append(
                [
                    (ctx.t("events.button.edit"), f"{EV_EDIT}{event.id}"),
                    (ctx.t("events.button.cancel_event"), f"{EV_CANCEL}{event.id}"),
                    (ctx.t("events.button.attendees"), f"{EV_ATTENDEES}{event.id}"),
                ]
            )
        await _reply(update, text, _keyboard(rows))


async def on_edit(update: Update, ctx: Ctx) -> int | None:
    """Ask which detail of the event to change."""
    query, data = pressed(update)
    event_id = _event_id(data, EV_EDIT)
    actor = await actor_of(update, ctx)
    if event_id is None or not await _may_manage(ctx, actor, event_id):
        await refuse(update, ctx)
        return ConversationHandler.END
    await query.answer()
    rows = [[(ctx.t(f"events.field.{f}"), f"{EV_EDIT_FIELD}{event_id}:{f}")] for f in EDIT_FIELDS]
    await _reply(update, ctx.t("events.edit.choose"), _keyboard(rows))
    return EDIT_VALUE


async def _may_manage(ctx: Ctx, actor: Actor, event_id: int) -> bool:
    return event_id in {e.id for e in await _events(ctx).service.organised_by(actor)}


async def on_edit_field(update: Update, ctx: Ctx) -> int:
    """Remember which detail; ask for its new value."""
    query, data = pressed(update)
    await query.answer()
    event_id_text, _, field = data.removeprefix(EV_EDIT_FIELD).partition(":")
    if field not in EDIT_FIELDS or not event_id_text.isdigit():
        return EDIT_VALUE
    _user_data(ctx)[EDITING] = {"event_id": int(event_id_text), "field": field}
    await _reply(update, ctx.t("events.edit.ask_value", field=ctx.t(f"events.field.{field}")))
    return EDIT_VALUE


async def on_edit_value(update: Update, ctx: Ctx) -> int:
    """Apply the new value, then tell everyone signed up (with the updated .ics)."""
    editing = _user_data(ctx).get(EDITING)
    text = (update.effective_message.text or "").strip() if update.effective_message else ""
    if not editing:  # no detail chosen yet: let the text go to the other features
        return ConversationHandler.END
    feature = _events(ctx)
    field, event_id = editing["field"], editing["event_id"]
    value: object = text
    if field in TIME_FIELDS:
        current = await feature.service.get(event_id)
        day = current.starts_at.astimezone(ctx.services.config.tz).date()
        value = _read_time(ctx, text, base_date=day, default_time=time(23, 59))
        if value is None:
            await _reply(update, ctx.t("events.error.bad_datetime"))
            return EDIT_VALUE
    elif field == "capacity":
        value = _read_capacity(ctx, text)
        if value is False:
            await _reply(update, ctx.t("events.error.capacity_invalid"))
            return EDIT_VALUE
    actor = await actor_of(update, ctx)
    try:
        out = await feature.service.edit(actor, event_id, **{field: value})
    except EventError as exc:
        await _reply(update, ctx.t(f"events.error.{exc.code}"))
        return EDIT_VALUE
    except AccessDenied:
        await refuse(update, ctx)
        return ConversationHandler.END
    _user_data(ctx).pop(EDITING, None)
    if not out.changed:
        await _reply(update, ctx.t("events.edit.unchanged"))
        return ConversationHandler.END
    await feature.notices.changed(out, actor.user_id)
    await _reply(update, ctx.t("events.edit.done", count=len(out.notify)))
    return ConversationHandler.END


async def on_cancel_event(update: Update, ctx: Ctx) -> None:
    """Ask the organiser to confirm the cancellation."""
    query, data = pressed(update)
    event_id = _event_id(data, EV_CANCEL)
    actor = await actor_of(update, ctx)
    if event_id is None or not await _may_manage(ctx, actor, event_id):
        await refuse(update, ctx)
        return
    await query.answer()
    rows = [[(ctx.t("events.button.confirm_cancel"), f"{EV_CANCEL_YES}{event_id}")]]
    await _reply(update, ctx.t("events.cancel.confirm"), _keyboard(rows))


async def on_cancel_confirmed(update: Update, ctx: Ctx) -> None:
    """Cancel the event and tell everyone signed up or waiting."""
    query, data = pressed(update)
    event_id = _event_id(data, EV_CANCEL_YES)
    actor = await actor_of(update, ctx)
    feature = _events(ctx)
    try:
        if event_id is None:
            raise EventError("not_found")
        out = await feature.service.cancel(actor, event_id)
    except EventError as exc:
        await query.answer(ctx.t(f"events.error.{exc.code}"), show_alert=True)
        return
    except AccessDenied:
        await refuse(update, ctx)
        return
    await query.answer()
    await feature.notices.changed(out, actor.user_id)
    await query.edit_message_text(ctx.t("events.cancel.done", count=len(out.notify)))


# -- /attendees --------------------------------------------------------------------------------


@requires(Role.SECRETARY, Role.ADMIN)
async def on_attendees(update: Update, ctx: Ctx) -> None:
    """List an event's sign-ups (/attendees <id>), or offer the organiser's events."""
    arg = ctx.args[0] if ctx.args else ""
    if arg.isdigit():
        await _send_attendees(update, ctx, int(arg))
        return
    actor = await actor_of(update, ctx)
    events = await _events(ctx).service.organised_by(actor)
    if not events:
        await _reply(update, ctx.t("events.attendees.none"))
        return
    rows = [[(e.title[:40], f"{EV_ATTENDEES}{e.id}")] for e in events[:LIST_LIMIT]]
    await _reply(update, ctx.t("events.attendees.choose"), _keyboard(rows))


async def on_attendees_button(update: Update, ctx: Ctx) -> None:
    """Show the attendee list of the pressed event."""
    query, data = pressed(update)
    await query.answer()
    event_id = _event_id(data, EV_ATTENDEES)
    if event_id is not None:
        await _send_attendees(update, ctx, event_id)


async def _send_attendees(update: Update, ctx: Ctx, event_id: int) -> None:
    actor = await actor_of(update, ctx)
    try:
        event, people = await _events(ctx).service.attendees(actor, event_id)
    except EventError as exc:
        await _reply(update, ctx.t(f"events.error.{exc.code}"))
        return
    except AccessDenied:
        await refuse(update, ctx)
        return
    lines = [ctx.t("events.attendees.head", title=event.title, going=event.going,
                   waiting=event.waiting)]  # fmt: skip
    for number, person in enumerate(people, start=1):
        name = person.name or str(person.user_id)
        status = status_label(person.status, ctx.texts, ctx.lang)
        lines.append(ctx.t("events.attendees.line", no=number, name=name, status=status))
    if not people:
        lines.append(ctx.t("events.attendees.empty"))
    rows = [[("CSV", f"{EV_CSV}{event_id}"), ("XLSX", f"{EV_XLSX}{event_id}")]]
    await _reply(update, "\n".join(lines)[:4000], _keyboard(rows))


async def on_export(update: Update, ctx: Ctx) -> None:
    """Send the attendee list as a CSV (UTF-8 BOM) or XLSX file."""
    query = update.callback_query
    assert query is not None
    assert query.data is not None
    as_csv = query.data.startswith(EV_CSV)
    event_id = _event_id(query.data, EV_CSV if as_csv else EV_XLSX)
    actor = await actor_of(update, ctx)
    try:
        if event_id is None:
            raise EventError("not_found")
        event, people = await _events(ctx).service.attendees(actor, event_id)
    except EventError as exc:
        await query.answer(ctx.t(f"events.error.{exc.code}"), show_alert=True)
        return
    except AccessDenied:
        await refuse(update, ctx)
        return
    await query.answer()
    tz = ctx.services.config.tz
    if as_csv:
        data, name = attendees_csv(people, ctx.texts, ctx.lang, tz), export_filename(event, "csv")
    else:
        data = attendees_xlsx(event, people, ctx.texts, ctx.lang, tz)
        name = export_filename(event, "xlsx")
    if update.effective_chat is not None:
        await ctx.bot.send_document(update.effective_chat.id, InputFile(data, filename=name))


def handlers() -> list[BaseHandler]:
    """Return the handlers of this module."""
    typed = filters.TEXT & ~filters.COMMAND
    other = ~filters.COMMAND
    return [
        CommandHandler("events", on_events),
        CommandHandler("attendees", on_attendees),
        ConversationHandler(
            entry_points=[CommandHandler("newevent", on_newevent)],
            states={
                TITLE: [MessageHandler(typed, on_title), MessageHandler(other, on_not_text)],
                KIND: [CallbackQueryHandler(on_kind, pattern=f"^{EV_KIND}")],
                START: [MessageHandler(typed, on_start), MessageHandler(other, on_not_text)],
                END: [MessageHandler(typed, on_end), MessageHandler(other, on_not_text)],
                PLACE: [MessageHandler(typed, on_place), MessageHandler(other, on_not_text)],
                DESCRIPTION: [
                    MessageHandler(typed, on_description),
                    CallbackQueryHandler(on_description, pattern=f"^{EV_SKIP}$"),
                ],
                CAPACITY: [
                    MessageHandler(typed, on_capacity),
                    CallbackQueryHandler(on_capacity, pattern=f"^{EV_SKIP}$"),
                ],
                DEADLINE: [
                    MessageHandler(typed, on_deadline),
                    CallbackQueryHandler(on_deadline, pattern=f"^{EV_SKIP}$"),
                ],
                PARKS: [
                    CallbackQueryHandler(on_park_toggle, pattern=f"^{EV_PARK}"),
                    CallbackQueryHandler(on_parks_done, pattern=f"^{EV_PARKS_DONE}$"),
                ],
                AUDIENCE: [CallbackQueryHandler(on_audience, pattern=f"^{EV_AUDIENCE}")],
                FIELDS: [MessageHandler(typed, on_fields), MessageHandler(other, on_not_text)],
                PREVIEW: [
                    CallbackQueryHandler(on_publish, pattern=f"^{EV_PUBLISH}$"),
                    CallbackQueryHandler(on_discard, pattern=f"^{EV_DISCARD}$"),
                ],
            },
            fallbacks=[CommandHandler("cancel", on_cancel)],
            name="newevent",
            persistent=True,
        ),
        ConversationHandler(
            entry_points=[CallbackQueryHandler(on_edit, pattern=f"^{EV_EDIT}")],
            states={
                EDIT_VALUE: [
                    CallbackQueryHandler(on_edit_field, pattern=f"^{EV_EDIT_FIELD}"),
                    MessageHandler(typed, on_edit_value),
                ],
            },
            fallbacks=[CommandHandler("cancel", on_cancel)],
            name="editevent",
            persistent=True,
        ),
        CallbackQueryHandler(on_rsvp, pattern=f"^{EV_RSVP}"),
        CallbackQueryHandler(on_withdraw, pattern=f"^{EV_WITHDRAW}"),
        CallbackQueryHandler(on_cancel_event, pattern=f"^{EV_CANCEL}\\d"),
        CallbackQueryHandler(on_cancel_confirmed, pattern=f"^{EV_CANCEL_YES}"),
        CallbackQueryHandler(on_attendees_button, pattern=f"^{EV_ATTENDEES}"),
        CallbackQueryHandler(on_export, pattern=f"^({EV_CSV}|{EV_XLSX})"),
    ]
