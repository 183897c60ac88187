"""Turn events into the words and messages members see (texts from content/texts/events.yaml)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.events.ics import IcsEvent, build_ics, ics_filename
from bot.events.service import EventView, RsvpStatus
from bot.sender import Attachment, Button, OutgoingMessage
from bot.texts import Texts

# Callback data of the member buttons; handlers/events.py routes on the same constants.
EV_RSVP = "ev:rsvp:"
EV_WITHDRAW = "ev:unrsvp:"


def local_time(moment: datetime, tz: ZoneInfo) -> str:
    """Return moment as local 'YYYY-MM-DD HH:MM'."""
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def when_text(event: EventView, tz: ZoneInfo) -> str:
    """Return 'start – end', leaving out the end's date when it is the same day."""
    start, end = event.starts_at.astimezone(tz), event.ends_at.astimezone(tz)
    end_text = end.strftime("%H:%M") if end.date() == start.date() else local_time(end, tz)
    return f"{local_time(start, tz)} – {end_text}"


def event_card(event: EventView, texts: Texts, lang: str, tz: ZoneInfo) -> str:
    """Return the event as members see it: title, kind, time, place, places, deadline."""
    t = texts.get
    lines = []
    if event.cancelled:
        lines.append(t("events.card.cancelled", lang))
    lines.append(
        t("events.card.head", lang, title=event.title, kind=kind_label(event, texts, lang))
    )
    lines.append(t("events.card.when", lang, when=when_text(event, tz)))
    lines.append(t("events.card.place", lang, place=event.place))
    if event.capacity is None:
        lines.append(t("events.card.unlimited", lang, going=event.going))
    else:
        lines.append(
            t("events.card.places_left", lang, left=event.places_left, capacity=event.capacity)
        )
        if event.waiting:
            lines.append(t("events.card.waiting", lang, count=event.waiting))
    if event.signup_deadline is not None:
        lines.append(
            t("events.card.deadline", lang, deadline=local_time(event.signup_deadline, tz))
        )
    if event.description:
        lines.append("")
        lines.append(event.description)
    return "\n".join(lines)


def kind_label(event: EventView, texts: Texts, lang: str) -> str:
    """Return the kind of event in lang (学术交流 / 培训 / 科普 / 其他)."""
    return texts.get(f"events.kind.{event.kind.value}", lang)


def status_label(status: RsvpStatus, texts: Texts, lang: str) -> str:
    """Return a member's status in lang."""
    return texts.get(f"events.status.{status.value}", lang)


def rsvp_buttons(event: EventView, texts: Texts, lang: str) -> tuple[tuple[Button, ...], ...]:
    """Return the 报名 / 取消报名 row of a notice."""
    if event.cancelled:
        return ()
    return (
        (
            Button(texts.get("events.button.rsvp", lang), data=f"{EV_RSVP}{event.id}"),
            Button(texts.get("events.button.withdraw", lang), data=f"{EV_WITHDRAW}{event.id}"),
        ),
    )


def ics_attachment(event: EventView, tz: ZoneInfo) -> Attachment:
    """Return the event's calendar file as a document attachment."""
    data = build_ics(
        IcsEvent(
            id=event.id,
            title=event.title,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            place=event.place,
            description=event.description,
            sequence=event.sequence,
            cancelled=event.cancelled,
            stamp=event.updated_at,
        ),
        tz,
    )
    return Attachment(kind="document", content=data, filename=ics_filename(event.id))


def event_message(
    event: EventView,
    texts: Texts,
    lang: str,
    tz: ZoneInfo,
    *,
    lead_key: str = "",
    **values: object,
) -> OutgoingMessage:
    """Return a notice about event: an optional lead line, the card, buttons and the .ics."""
    body = event_card(event, texts, lang, tz)
    if lead_key:
        body = texts.get(lead_key, lang, **values) + "\n\n" + body
    return OutgoingMessage(
        text=body,
        buttons=rsvp_buttons(event, texts, lang),
        attachments=(ics_attachment(event, tz),),
        title=event.title,
        kind="event",
    )
