"""China's working-day calendar: the chinesecalendar package, admins' holiday files, or Mon–Fri."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

import chinese_calendar
import yaml

from bot.content import content_root

log = logging.getLogger(__name__)

Source = Literal["package", "file", "fallback"]

# Longest run of consecutive days off we accept before assuming a broken calendar.
_MAX_GAP = 60


class HolidayFileError(ValueError):
    """A content/holidays/<year>.yaml file is malformed; the message names the file and entry."""


@dataclass(frozen=True)
class Day:
    """One date: whether people work on it and which calendar said so."""

    day: date
    workday: bool
    source: Source


@dataclass(frozen=True)
class YearFile:
    """The days off and make-up working days (调休) of one year, from a holiday file."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]


def default_holidays_dir() -> Traversable:
    """Return content/holidays as shipped with the code."""
    return content_root() / "holidays"


class WorkingCalendar:
    """Answer "is this a working day" and count working days, remembering each answer's source.

    A year the package covers comes from the package; otherwise from `<holidays_dir>/<year>.yaml`;
    otherwise Monday–Friday with a warning logged once per year (see `missing_years`).
    """

    def __init__(
        self, holidays_dir: Traversable | Path | None = None, *, use_package: bool = True
    ) -> None:
        self.holidays_dir: Traversable | Path = (
            default_holidays_dir() if holidays_dir is None else holidays_dir
        )
        self.use_package = use_package
        self._sources: dict[int, Source] = {}
        self._files: dict[int, YearFile] = {}
        self.missing_years: set[int] = set()

    def source(self, year: int) -> Source:
        """Return which calendar answers for year (loaded once, then cached)."""
        known = self._sources.get(year)
        if known is not None:
            return known
        found: Source
        if self.use_package and _package_covers(year):
            found = "package"
        else:
            year_file = self._read_file(year)
            if year_file is not None:
                self._files[year] = year_file
                found = "file"
            else:
                found = "fallback"
                self.missing_years.add(year)
                log.warning(
                    "no holiday calendar for %s: neither chinesecalendar nor %s/%s.yaml knows it;"
                    " counting Monday-Friday as working days",
                    year,
                    self.holidays_dir,
                    year,
                )
        self._sources[year] = found
        return found

    def day(self, d: date) -> Day:
        """Return whether d is a working day and the calendar that said so."""
        source = self.source(d.year)
        if source == "package":
            workday = bool(chinese_calendar.is_workday(d))
        elif source == "file":
            year_file = self._files[d.year]
            if d in year_file.workdays:
                workday = True
            elif d in year_file.holidays:
                workday = False
            else:
                workday = d.weekday() < 5
        else:
            workday = d.weekday() < 5
        return Day(d, workday, source)

    def is_workday(self, d: date) -> bool:
        """Return whether d is a working day."""
        return self.day(d).workday

    def shift(self, start: date, workdays: int) -> Day:
        """Return the n-th working day after start (n > 0), before it (n < 0), or start (n = 0)."""
        if workdays == 0:
            return self.day(start)
        step = timedelta(days=1 if workdays > 0 else -1)
        remaining = abs(workdays)
        current = start
        gap = 0
        while True:
            current += step
            info = self.day(current)
            if info.workday:
                remaining -= 1
                gap = 0
                if remaining == 0:
                    return info
            else:
                gap += 1
                if gap > _MAX_GAP:
                    raise HolidayFileError(f"more than {_MAX_GAP} days off in a row at {current}")

    def workdays_between(self, start: date, end: date) -> int:
        """Return the working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.workdays_between(end, start)
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_workday(current):
                count += 1
        return count

    def _read_file(self, year: int) -> YearFile | None:
        node = self.holidays_dir / f"{year}.yaml"
        if not node.is_file():
            return None
        name = f"{self.holidays_dir}/{year}.yaml"
        try:
            data = yaml.safe_load(node.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise HolidayFileError(f"{name}: not valid YAML: {exc}") from exc
        return parse_year_file(year, data, name)


def parse_year_file(year: int, data: Any, name: str = "holiday file") -> YearFile:
    """Validate a parsed holiday file (format in content/holidays/README.md) for year."""
    if not isinstance(data, dict):
        raise HolidayFileError(f"{name}: expected a mapping with 'holidays' and 'workdays'")
    if "year" in data and data["year"] != year:
        raise HolidayFileError(f"{name}: says year {data['year']}, file name says {year}")
    unknown = set(data) - {"year", "source", "holidays", "workdays"}
    if unknown:
        raise HolidayFileError(f"{name}: unknown keys {sorted(unknown)}")
    holidays = _dates(data.get("holidays") or [], year, f"{name}: holidays")
    workdays = _dates(data.get("workdays") or [], year, f"{name}: workdays")
    both = holidays & workdays
    if both:
        raise HolidayFileError(f"{name}: both a holiday and a workday: {sorted(map(str, both))}")
    return YearFile(year, frozenset(holidays), frozenset(workdays))


def _dates(entries: Any, year: int, where: str) -> set[date]:
    if not isinstance(entries, list):
        raise HolidayFileError(f"{where}: expected a list")
    days: set[date] = set()
    for entry in entries:
        if isinstance(entry, date):
            first = last = entry
        elif isinstance(entry, dict) and isinstance(entry.get("date"), date):
            first = last = entry["date"]
        elif (
            isinstance(entry, dict)
            and isinstance(entry.get("from"), date)
            and isinstance(entry.get("to"), date)
        ):
            first, last = entry["from"], entry["to"]
        else:
            raise HolidayFileError(
                f"{where}: {entry!r} is not a date (YYYY-MM-DD), {{date: …}} or {{from: …, to: …}}"
            )
        if last < first:
            raise HolidayFileError(f"{where}: {entry!r} ends before it starts")
        current = first
        while current <= last:
            if current.year != year:
                raise HolidayFileError(f"{where}: {current} is not in {year}")
            days.add(current)
            current += timedelta(days=1)
    return days


def _package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True
