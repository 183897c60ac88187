"""Build the iCalendar (.ics) file members import: stable UID, SEQUENCE bumped on each change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

PRODID = "-//parkbot//events//ZH"


@dataclass(frozen=True)
class IcsEvent:
    """What a calendar entry needs to know about an event."""

    id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str
    description: str
    sequence: int
    cancelled: bool
    stamp: datetime


def event_uid(event_id: int) -> str:
    """Return the UID that identifies an event across every update of its .ics."""
    return f"event-{event_id}@parkbot"


def build_ics(event: IcsEvent, tz: ZoneInfo) -> bytes:
    """Return the .ics bytes of event with times in tz (VTIMEZONE included)."""
    # On demand: only the .ics download needs icalendar (3 MB).
    from icalendar import Calendar
    from icalendar import Event as VEvent

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    # A cancellation must be METHOD:CANCEL so calendar apps remove the entry they imported.
    cal.add("method", "CANCEL" if event.cancelled else "PUBLISH")
    vevent = VEvent()
    vevent.add("uid", event_uid(event.id))
    vevent.add("sequence", event.sequence)
    vevent.add("dtstamp", event.stamp)
    vevent.add("dtstart", event.starts_at.astimezone(tz))
    vevent.add("dtend", event.ends_at.astimezone(tz))
    vevent.add("summary", event.title)
    vevent.add("location", event.place)
    if event.description:
        vevent.add("description", event.description)
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    cal.add_component(vevent)
    cal.add_missing_timezones()
    return cal.to_ical()


def ics_filename(event_id: int) -> str:
    """Return the attachment name of an event's calendar file."""
    return f"event-{event_id}.ics"
