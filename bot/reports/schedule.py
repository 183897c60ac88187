"""Quarters, their report due dates and the reminder slots around them (all from reports.yaml)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from bot.content import read_yaml
from bot.reports.calendar import Day, WorkingCalendar

SlotKind = Literal["reminder", "overdue", "escalation"]

_QUARTER_RE = re.compile(r"^\s*(\d{4})\s*[-/ ]?\s*[Qq]\s*([1-4])\s*$")


class SettingsError(ValueError):
    """content/reports.yaml is malformed; the message names the setting."""


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter, written 2026Q4."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """Read "2026Q4" (also "2026-q4", "2026 Q4"); raise ValueError otherwise."""
        match = _QUARTER_RE.match(text)
        if not match:
            raise ValueError(f"not a quarter: {text!r} (expected e.g. 2026Q4)")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, day: date) -> Quarter:
        """Return the quarter day falls in."""
        return cls(day.year, (day.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def first_day(self) -> date:
        """Return the quarter's first day."""
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> date:
        """Return the quarter's last day."""
        return self.next().first_day - timedelta(days=1)

    def next(self) -> Quarter:
        """Return the following quarter."""
        return (
            Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)
        )

    def prev(self) -> Quarter:
        """Return the preceding quarter."""
        return (
            Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)
        )


@dataclass(frozen=True)
class ReportsSettings:
    """The schedule rules of content/reports.yaml."""

    due_workdays_after_quarter: int = 10
    reminder_workdays_before: tuple[int, ...] = (5, 1, 0)
    send_time: time = time(9, 0)
    timezone: str = "Asia/Shanghai"
    overdue_daily: bool = True
    escalate_on_overdue_workday: int = 3
    catch_up_hours: float = 24.0
    board_quarters: int = 4
    first_quarter: Quarter | None = None
    clause: str = ""
    city_suffixes: tuple[str, ...] = ()

    @property
    def tz(self) -> ZoneInfo:
        """Return the time zone the send time is read in."""
        return ZoneInfo(self.timezone)

    @property
    def catch_up(self) -> timedelta:
        """Return how late a slot may still be sent; later it is recorded as missed."""
        return timedelta(hours=self.catch_up_hours)

    @classmethod
    def load(cls, data: dict[str, Any] | None = None) -> ReportsSettings:
        """Read content/reports.yaml (or the given mapping) and validate it."""
        raw = read_yaml("reports.yaml") if data is None else data
        if not isinstance(raw, dict):
            raise SettingsError("reports.yaml: expected a mapping")
        schedule = raw.get("schedule") or {}
        overdue = raw.get("overdue") or {}
        try:
            due = int(schedule.get("due_workdays_after_quarter", 10))
            before = tuple(
                sorted({int(n) for n in schedule.get("reminders", [5, 1, 0])}, reverse=True)
            )
            hour, minute = (int(p) for p in str(schedule.get("send_time", "09:00")).split(":"))
            send_time = time(hour, minute)
            tz = str(schedule.get("timezone", "Asia/Shanghai"))
            ZoneInfo(tz)
            escalate = int(overdue.get("escalate_on_overdue_workday", 3))
            catch_up = float(schedule.get("catch_up_hours", 24))
            board = int(raw.get("board_quarters", 4))
            first = raw.get("first_quarter")
            first_quarter = Quarter.parse(str(first)) if first else None
        except (TypeError, ValueError, KeyError) as exc:
            raise SettingsError(f"reports.yaml: {exc}") from exc
        if due < 1:
            raise SettingsError("reports.yaml: schedule.due_workdays_after_quarter must be ≥ 1")
        if any(n < 0 or n >= due for n in before):
            raise SettingsError(
                "reports.yaml: schedule.reminders are working days before the due date,"
                " each ≥ 0 and less than due_workdays_after_quarter"
            )
        if escalate < 1 or catch_up <= 0 or board < 1:
            raise SettingsError(
                "reports.yaml: escalate_on_overdue_workday, catch_up_hours, board_quarters > 0"
            )
        return cls(
            due_workdays_after_quarter=due,
            reminder_workdays_before=before,
            send_time=send_time,
            timezone=tz,
            overdue_daily=bool(overdue.get("daily", True)),
            escalate_on_overdue_workday=escalate,
            catch_up_hours=catch_up,
            board_quarters=board,
            first_quarter=first_quarter,
            clause=str(raw.get("clause", "")),
            city_suffixes=tuple(str(x) for x in raw.get("city_suffixes") or ()),
        )


@dataclass(frozen=True)
class Slot:
    """One moment at which a quarter's reminder (or escalation) goes out."""

    key: str  # unique within a quarter: "before5", "before1", "due", "overdue3", "escalate"
    kind: SlotKind
    day: Day
    at: datetime  # aware, UTC
    workdays_left: int  # working days until the due date; negative once overdue


@dataclass(frozen=True)
class QuarterSchedule:
    """A quarter's due date and every slot derived from it."""

    quarter: Quarter
    due: Day
    reminders: tuple[Slot, ...]
    escalation: Slot
    overdue_until: date  # overdue reminders stop before the next quarter's due date
    settings: ReportsSettings
    calendar: WorkingCalendar

    def overdue(self, upto: date) -> Iterator[Slot]:
        """Yield the daily overdue slots from the first working day after due up to upto."""
        if not self.settings.overdue_daily:
            return
        n = 1
        while True:
            day = self.calendar.shift(self.due.day, n)
            if day.day > upto or day.day >= self.overdue_until:
                return
            yield Slot(f"overdue{n}", "overdue", day, slot_at(day.day, self.settings), -n)
            n += 1

    def slots(self, upto: date) -> list[Slot]:
        """Return every slot (reminders, overdue, escalation) on or before upto, by time."""
        found = [s for s in self.reminders if s.day.day <= upto]
        found.extend(self.overdue(upto))
        if self.escalation.day.day <= upto and self.escalation.day.day < self.overdue_until:
            found.append(self.escalation)
        return sorted(found, key=lambda s: (s.at, s.kind == "escalation"))


def slot_at(day: date, settings: ReportsSettings) -> datetime:
    """Return the UTC instant of the send time on day in the association's zone."""
    return datetime.combine(day, settings.send_time, tzinfo=settings.tz).astimezone(UTC)


def due_date(quarter: Quarter, settings: ReportsSettings, calendar: WorkingCalendar) -> Day:
    """Return the day the quarter's report is due."""
    return calendar.shift(quarter.last_day, settings.due_workdays_after_quarter)


def schedule_for(
    quarter: Quarter, settings: ReportsSettings, calendar: WorkingCalendar
) -> QuarterSchedule:
    """Compute a quarter's due date, reminder slots and escalation slot."""
    due = due_date(quarter, settings, calendar)
    reminders = []
    for n in settings.reminder_workdays_before:
        day = calendar.shift(due.day, -n)
        key = "due" if n == 0 else f"before{n}"
        reminders.append(Slot(key, "reminder", day, slot_at(day.day, settings), n))
    esc_n = settings.escalate_on_overdue_workday
    esc_day = calendar.shift(due.day, esc_n)
    escalation = Slot("escalate", "escalation", esc_day, slot_at(esc_day.day, settings), -esc_n)
    return QuarterSchedule(
        quarter=quarter,
        due=due,
        reminders=tuple(reminders),
        escalation=escalation,
        overdue_until=due_date(quarter.next(), settings, calendar).day,
        settings=settings,
        calendar=calendar,
    )


def active_quarters(today: date, settings: ReportsSettings) -> list[Quarter]:
    """Return the quarters whose reminders may fall on today (the last two ended quarters)."""
    current = Quarter.containing(today)
    quarters = [current.prev().prev(), current.prev()]
    if settings.first_quarter is not None:
        quarters = [q for q in quarters if q >= settings.first_quarter]
    return quarters
