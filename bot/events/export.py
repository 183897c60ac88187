"""Attendee lists as CSV (UTF-8 with BOM, so Excel opens Chinese correctly) and XLSX."""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

from bot.events.render import local_time, status_label
from bot.events.service import Attendee, EventView
from bot.texts import Texts


def attendee_rows(
    attendees: list[Attendee], texts: Texts, lang: str, tz: ZoneInfo
) -> list[list[str | int]]:
    """Return the header and one row per attendee."""
    header: list[str | int] = [
        texts.get("events.export.no", lang),
        texts.get("events.export.name", lang),
        texts.get("events.export.user_id", lang),
        texts.get("events.export.status", lang),
        texts.get("events.export.signed_up_at", lang),
    ]
    rows = [header]
    for number, person in enumerate(attendees, start=1):
        rows.append(
            [
                number,
                person.name,
                person.user_id,
                status_label(person.status, texts, lang),
                local_time(person.signed_up_at, tz),
            ]
        )
    return rows


def attendees_csv(attendees: list[Attendee], texts: Texts, lang: str, tz: ZoneInfo) -> bytes:
    """Return the attendee list as CSV bytes with a UTF-8 BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(attendee_rows(attendees, texts, lang, tz))
    return buffer.getvalue().encode("utf-8-sig")


def attendees_xlsx(
    event: EventView, attendees: list[Attendee], texts: Texts, lang: str, tz: ZoneInfo
) -> bytes:
    """Return the attendee list as an XLSX workbook."""
    from openpyxl import Workbook  # on demand: only exports need it (5 MB)

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new Workbook always has one sheet
    sheet.title = texts.get("events.export.sheet", lang)
    for row in attendee_rows(attendees, texts, lang, tz):
        sheet.append(row)
    sheet.freeze_panes = "A2"
    for column, width in zip("ABCDE", (6, 24, 14, 10, 18), strict=True):
        sheet.column_dimensions[column].width = width
    book.properties.title = event.title
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_filename(event: EventView, suffix: str) -> str:
    """Return the download name of an attendee export."""
    return f"event-{event.id}-attendees.{suffix}"
