"""Read the date and time forms secretaries type: 2026-12-05 14:00, 12月5日 14:00, 12/5 14:00."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_DATE = re.compile(
    r"^(?:(?P<y>\d{4})\s*[-/.年]\s*)?(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?"
)
_TIME = re.compile(
    r"^(?P<ampm>上午|早上|中午|下午|晚上|am|pm)?\s*(?P<h>\d{1,2})\s*(?:[:点时]\s*(?P<min>\d{1,2}|半)?\s*分?)?"
    r"\s*(?P<ampm2>am|pm)?$",
    re.IGNORECASE,
)
_AFTERNOON = {"下午", "晚上", "pm"}


class DateTimeFormatError(ValueError):
    """The text is not a date and time we can read."""


def _normalise(text: str) -> str:
    # NFKC folds full-width digits and colons (１４：００) into ASCII.
    return unicodedata.normalize("NFKC", text).strip().lower()


def _read_time(text: str) -> time | None:
    text = text.strip()
    if not text:
        return None
    match = _TIME.match(text)
    if not match:
        raise DateTimeFormatError(text)
    hour = int(match["h"])
    minute_text = match["min"]
    minute = 30 if minute_text == "半" else int(minute_text or 0)
    ampm = (match["ampm"] or match["ampm2"] or "").lower()
    if ampm in _AFTERNOON and hour < 12:
        hour += 12
    if ampm == "中午" and hour < 11:
        hour += 12
    if hour == 24 and minute == 0:
        return time(23, 59)
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise DateTimeFormatError(text)
    return time(hour, minute)


def parse_local_datetime(
    text: str,
    now: datetime,
    tz: ZoneInfo,
    *,
    default_time: time | None = None,
    base_date: date | None = None,
) -> datetime:
    """Return the aware UTC instant a typed local date-time means; raise DateTimeFormatError.

    Without a year the next such date counting from today is meant; with only a time (e.g. an
    end time) base_date supplies the day; without a time default_time is used if given.
    """
    raw = _normalise(text)
    today = now.astimezone(tz).date()
    match = _DATE.match(raw)
    if match:
        rest = raw[match.end() :]
        try:
            month, day = int(match["m"]), int(match["d"])
            if match["y"]:
                day_of = date(int(match["y"]), month, day)
            else:
                day_of = date(today.year, month, day)
                if day_of < today:
                    day_of = date(today.year + 1, month, day)
        except ValueError as exc:
            raise DateTimeFormatError(text) from exc
    elif base_date is not None:
        day_of, rest = base_date, raw
    else:
        raise DateTimeFormatError(text)
    at = _read_time(rest.lstrip(" ,t")) or default_time
    if at is None:
        raise DateTimeFormatError(text)
    return datetime.combine(day_of, at, tzinfo=tz).astimezone(UTC)


def end_of_previous_day(moment: datetime, tz: ZoneInfo) -> datetime:
    """Return 23:59 local on the day before moment (a natural default sign-up deadline)."""
    local_day = moment.astimezone(tz).date() - timedelta(days=1)
    return datetime.combine(local_day, time(23, 59), tzinfo=tz).astimezone(UTC)
