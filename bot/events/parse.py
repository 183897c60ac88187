"""Read the date and time forms secretaries type: 2026-12-05 14:00, 12月5日 14:00, 12/5 14:00."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from bot.content import read_yaml


@dataclass(frozen=True)
class _Grammar:
    date: re.Pattern[str]
    time: re.Pattern[str]
    half_hour: frozenset[str]
    afternoon: frozenset[str]
    noon: frozenset[str]
    separators: re.Pattern[str]


def _alternatives(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@cache
def _grammar() -> _Grammar:
    """Build the patterns from content/events/datetime.yaml (once)."""
    words: dict[str, list[str]] = read_yaml("events", "datetime.yaml")
    year = _alternatives(["-", "/", ".", *words["year_marks"]])
    month = _alternatives(["-", "/", ".", *words["month_marks"]])
    day = _alternatives(words["day_marks"])
    hour = _alternatives([":", *words["hour_marks"]])
    ampm = _alternatives(words["afternoon"] + words["noon"] + words["morning"])
    date = re.compile(
        rf"^(?:(?P<y>\d{{4}})\s*(?:{year})\s*)?(?P<m>\d{{1,2}})\s*(?:{month})\s*"
        rf"(?P<d>\d{{1,2}})\s*(?:{day})?"
    )
    clock = re.compile(
        rf"^(?P<ampm>{ampm})?\s*(?P<h>\d{{1,2}})\s*(?:(?:{hour})\s*"
        rf"(?P<min>\d{{1,2}}|{_alternatives(words['half_hour'])})?\s*"
        rf"(?:{_alternatives(words['minute_marks'])})?)?\s*(?P<ampm2>{ampm})?$",
        re.IGNORECASE,
    )
    return _Grammar(
        date=date,
        time=clock,
        half_hour=frozenset(words["half_hour"]),
        afternoon=frozenset(w.lower() for w in words["afternoon"]),
        noon=frozenset(words["noon"]),
        separators=re.compile(rf"(?:{_alternatives(words['list_separators'])}|\s)+"),
    )


def split_list(text: str) -> list[str]:
    """Split a typed list (commas, enumeration commas, semicolons, spaces) into its items."""
    return [item for item in _grammar().separators.split(text) if item]


class DateTimeFormatError(ValueError):
    """The text is not a date and time we can read."""


def _normalise(text: str) -> str:
    # NFKC folds full-width digits and colons (１４：００) into ASCII.
    return unicodedata.normalize("NFKC", text).strip().lower()


def _read_time(text: str) -> time | None:
    text = text.strip()
    if not text:
        return None
    grammar = _grammar()
    match = grammar.time.match(text)
    if not match:
        raise DateTimeFormatError(text)
    hour = int(match["h"])
    minute_text = match["min"]
    minute = 30 if minute_text in grammar.half_hour else int(minute_text or 0)
    ampm = (match["ampm"] or match["ampm2"] or "").lower()
    if ampm in grammar.afternoon and hour < 12:
        hour += 12
    if ampm in grammar.noon and hour < 11:
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
    match = _grammar().date.match(raw)
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
