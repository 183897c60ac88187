"""Deadline and reminder-date math: package years, holiday-file years, fallback years, CLI."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.content import list_files, read_yaml
from bot.reports import commands
from bot.reports.calendar import HolidayFileError, WorkingCalendar
from bot.reports.schedule import (
    Quarter,
    ReportsSettings,
    SettingsError,
    active_quarters,
    schedule_for,
)
from bot.texts import Texts

SETTINGS = ReportsSettings.load()


def dates(plan_slots: object) -> list[date]:
    return [s.day.day for s in plan_slots]  # type: ignore[attr-defined]


@pytest.fixture
def calendar(tmp_path: Path) -> WorkingCalendar:
    return WorkingCalendar(tmp_path)


def write_year(folder: Path, year: int, text: str) -> None:
    (folder / f"{year}.yaml").write_text(text, encoding="utf-8")


# --- quarters --------------------------------------------------------------------------------


def test_quarter_parse_and_neighbours() -> None:
    q = Quarter.parse("2026Q4")
    assert (q.year, q.number, str(q)) == (2026, 4, "2026Q4")
    assert Quarter.parse(" 2026-q1 ") == Quarter(2026, 1)
    assert q.next() == Quarter(2027, 1)
    assert Quarter(2027, 1).prev() == q
    assert q.first_day == date(2026, 10, 1)
    assert q.last_day == date(2026, 12, 31)
    assert Quarter(2024, 1).last_day == date(2024, 3, 31)
    assert Quarter.containing(date(2026, 5, 20)) == Quarter(2026, 2)
    for bad in ("2026Q5", "Q1", "2026", ""):
        with pytest.raises(ValueError, match="quarter"):
            Quarter.parse(bad)


def test_active_quarters_are_the_last_two_ended() -> None:
    every = ReportsSettings.load({})
    assert active_quarters(date(2026, 1, 15), every) == [Quarter(2025, 3), Quarter(2025, 4)]
    assert active_quarters(date(2026, 5, 1), every) == [Quarter(2025, 4), Quarter(2026, 1)]
    # The shipped content starts with 2026Q4, the quarter the bot went live in.
    assert active_quarters(date(2027, 1, 10), SETTINGS) == [Quarter(2026, 4)]
    late = ReportsSettings.load({"first_quarter": "2026Q1"})
    assert active_quarters(date(2026, 5, 1), late) == [Quarter(2026, 1)]


# --- package years (2025/2026) ---------------------------------------------------------------


def test_national_day_2025_with_saturday_make_up_day(calendar: WorkingCalendar) -> None:
    plan = schedule_for(Quarter(2025, 3), SETTINGS, calendar)
    # Oct 1–8 off; Oct 9, 10, Sat 11 (调休), 13–17, 20, 21 → the 10th working day is Oct 21.
    assert plan.due.day == date(2025, 10, 21)
    assert plan.due.source == "package"
    assert dates(plan.reminders) == [date(2025, 10, 14), date(2025, 10, 20), date(2025, 10, 21)]
    assert [s.key for s in plan.reminders] == ["before5", "before1", "due"]
    assert plan.escalation.day.day == date(2025, 10, 24)
    assert plan.reminders[0].at == datetime(2025, 10, 14, 1, 0, tzinfo=UTC)  # 09:00 Shanghai


def test_national_day_2026(calendar: WorkingCalendar) -> None:
    plan = schedule_for(Quarter(2026, 3), SETTINGS, calendar)
    # Oct 1–7 off; Oct 8, 9, Sat 10 (调休), 12–16, 19, 20.
    assert plan.due.day == date(2026, 10, 20)
    assert calendar.is_workday(date(2026, 10, 10))
    assert dates(plan.reminders) == [date(2026, 10, 13), date(2026, 10, 19), date(2026, 10, 20)]


def test_year_boundary_counts_sunday_make_up_day_of_2026(calendar: WorkingCalendar) -> None:
    plan = schedule_for(Quarter(2025, 4), SETTINGS, calendar)
    # Jan 1–3 off, Sunday Jan 4 is a working day: 4, 5–9, 12–15.
    assert plan.due.day == date(2026, 1, 15)
    assert dates(plan.reminders) == [date(2026, 1, 8), date(2026, 1, 14), date(2026, 1, 15)]
    assert {s.day.source for s in plan.reminders} == {"package"}


def test_qingming_2026(calendar: WorkingCalendar) -> None:
    plan = schedule_for(Quarter(2026, 1), SETTINGS, calendar)
    assert plan.due.day == date(2026, 4, 15)  # Apr 1–3, (4–6 off), 7–10, 13–15


def test_spring_festival_2026_and_its_make_up_days(calendar: WorkingCalendar) -> None:
    assert calendar.shift(date(2026, 2, 13), 1).day == date(2026, 2, 14)  # Saturday, 调休
    assert calendar.shift(date(2026, 2, 14), 1).day == date(2026, 2, 24)  # Feb 15–23 off
    assert calendar.shift(date(2026, 2, 24), -1).day == date(2026, 2, 14)
    assert calendar.workdays_between(date(2026, 2, 13), date(2026, 2, 24)) == 2
    assert calendar.workdays_between(date(2026, 2, 24), date(2026, 2, 13)) == -2
    # A 33-working-day deadline after 2025Q4 lands right after the festival.
    long = ReportsSettings.load({"schedule": {"due_workdays_after_quarter": 33}})
    plan = schedule_for(Quarter(2025, 4), long, calendar)
    assert plan.due.day == date(2026, 2, 24)
    assert dates(plan.reminders) == [date(2026, 2, 10), date(2026, 2, 14), date(2026, 2, 24)]


def test_overdue_slots_skip_holidays_and_stop_at_next_due(calendar: WorkingCalendar) -> None:
    plan = schedule_for(Quarter(2025, 3), SETTINGS, calendar)
    overdue = list(plan.overdue(date(2025, 10, 28)))
    assert [s.day.day for s in overdue] == [
        date(2025, 10, 22),
        date(2025, 10, 23),
        date(2025, 10, 24),
        date(2025, 10, 27),
        date(2025, 10, 28),
    ]
    assert [s.key for s in overdue][:2] == ["overdue1", "overdue2"]
    assert overdue[0].workdays_left == -1
    everything = list(plan.overdue(date(2026, 12, 31)))
    assert everything[-1].day.day < date(2026, 1, 15) == plan.overdue_until
    slots = plan.slots(date(2025, 10, 24))
    assert [s.key for s in slots][-2:] == ["overdue3", "escalate"]


# --- holiday-file years ----------------------------------------------------------------------


def test_year_from_holiday_file(tmp_path: Path) -> None:
    write_year(
        tmp_path,
        2027,
        """
year: 2027
source: test data, not the real 2027 schedule
holidays:
  - 2027-01-01
  - {from: 2027-10-01, to: 2027-10-07, name: National Day}
workdays:
  - {date: 2027-10-09, name: make-up}
""",
    )
    calendar = WorkingCalendar(tmp_path)
    q3 = schedule_for(Quarter(2027, 3), SETTINGS, calendar)
    # Oct 8, Sat 9, 11–15, 18–20.
    assert q3.due.day == date(2027, 10, 20)
    assert q3.due.source == "file"
    assert dates(q3.reminders) == [date(2027, 10, 13), date(2027, 10, 19), date(2027, 10, 20)]
    # 2026Q4 spans the boundary: 2026 from the package, 2027 from the file (Jan 1 off).
    q4 = schedule_for(Quarter(2026, 4), SETTINGS, calendar)
    assert q4.due.day == date(2027, 1, 15)
    assert q4.due.source == "file"
    assert calendar.day(date(2026, 12, 31)).source == "package"
    assert 2027 not in calendar.missing_years


def test_package_years_ignore_holiday_files(tmp_path: Path) -> None:
    write_year(tmp_path, 2026, "holidays: [2026-10-20]\n")
    calendar = WorkingCalendar(tmp_path)
    assert calendar.day(date(2026, 10, 20)).workday
    assert calendar.source(2026) == "package"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("year: 2026\n", "file name says 2027"),
        ("holidays: [2026-12-31]\n", "not in 2027"),
        ("holidays: [2027-05-01]\nworkdays: [2027-05-01]\n", "both"),
        ("holidays: [first of may]\n", "not a date"),
        ("holidays: [{from: 2027-05-05, to: 2027-05-01}]\n", "ends before"),
        ("holiday: [2027-05-01]\n", "unknown keys"),
        ("- 2027-05-01\n", "mapping"),
        ("holidays: [2027-05-01\n", "YAML"),
    ],
)
def test_bad_holiday_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    write_year(tmp_path, 2027, text)
    with pytest.raises(HolidayFileError, match=message):
        WorkingCalendar(tmp_path).is_workday(date(2027, 5, 1))


def test_shipped_content_does_not_invent_future_years() -> None:
    # The package covers up to 2026; a file for a later year must come from the State Council.
    assert [name for name in list_files("holidays", ".yaml") if name >= "2027"] == []
    assert "README.md" in list_files("holidays", ".md")


# --- uncovered years -------------------------------------------------------------------------


def test_uncovered_year_falls_back_to_weekdays_and_warns_once(
    calendar: WorkingCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.reports.calendar"):
        q3 = schedule_for(Quarter(2027, 3), SETTINGS, calendar)
        schedule_for(Quarter(2027, 2), SETTINGS, calendar)
    assert q3.due.day == date(2027, 10, 14)  # no National Day known: Oct 1, 4–8, 11–14
    assert q3.due.source == "fallback"
    assert not calendar.is_workday(date(2027, 10, 9))
    # 2028 too: overdue reminders of 2027Q3 run until 2027Q4's report is due in January 2028.
    assert calendar.missing_years == {2027, 2028}
    warnings = [r for r in caplog.records if "for 2027" in r.getMessage()]
    assert len(warnings) == 1


def test_2026q4_is_due_in_an_uncovered_year(calendar: WorkingCalendar) -> None:
    plan = schedule_for(Quarter(2026, 4), SETTINGS, calendar)
    assert plan.due.day == date(2027, 1, 14)
    assert plan.due.source == "fallback"
    assert 2027 in calendar.missing_years


# --- settings --------------------------------------------------------------------------------


def test_settings_from_content() -> None:
    assert SETTINGS.due_workdays_after_quarter == 10
    assert SETTINGS.reminder_workdays_before == (5, 1, 0)
    assert SETTINGS.send_time.strftime("%H:%M") == "09:00"
    assert SETTINGS.timezone == "Asia/Shanghai"
    assert SETTINGS.escalate_on_overdue_workday == 3


@pytest.mark.parametrize(
    "data",
    [
        {"schedule": {"due_workdays_after_quarter": 0}},
        {"schedule": {"reminders": [12]}},
        {"schedule": {"send_time": "nine"}},
        {"schedule": {"timezone": "Mars/Olympus"}},
        {"overdue": {"escalate_on_overdue_workday": 0}},
        {"first_quarter": "soon"},
    ],
)
def test_bad_settings_are_refused(data: dict[str, object]) -> None:
    with pytest.raises(SettingsError):
        ReportsSettings.load(data)


def test_custom_reminders_and_time(calendar: WorkingCalendar) -> None:
    custom = ReportsSettings.load(
        {"schedule": {"reminders": [3, 0], "send_time": "14:30"}, "overdue": {"daily": False}}
    )
    plan = schedule_for(Quarter(2025, 3), custom, calendar)
    assert [s.key for s in plan.reminders] == ["before3", "due"]
    assert plan.reminders[1].at == datetime(2025, 10, 21, 6, 30, tzinfo=UTC)
    assert list(plan.overdue(date(2025, 12, 1))) == []


# --- CLI -------------------------------------------------------------------------------------


def test_cli_year_2027_marks_fallback(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert commands.main(["schedule", "--year", "2027", "--holidays-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("[fallback]") >= 4 * 5
    assert "2027Q1" in out
    assert "2027Q4" in out
    assert "2027-10-14" in out
    assert "2027" in out.splitlines()[-2]  # the missing-year warnings close the listing


def test_cli_quarter_with_file_and_package(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write_year(tmp_path, 2027, "holidays: [2027-01-01]\n")
    argv = ["schedule", "--quarter", "2026Q4", "--holidays-dir", str(tmp_path), "--lang", "en"]
    assert commands.main(argv) == 0
    out = capsys.readouterr().out
    assert "2026Q4  due 2027-01-15 Fri  [file]" in out
    assert "[fallback]" not in out.split("overdue reminders")[0]
    assert "Warning" not in out


def test_cli_package_year(capsys: pytest.CaptureFixture[str]) -> None:
    assert commands.main(["schedule", "--quarter", "2025Q3"]) == 0
    out = capsys.readouterr().out
    assert "2025-10-21" in out
    assert "[package]" in out
    assert "[fallback]" not in out


# --- content guards --------------------------------------------------------------------------


def test_reminder_quotes_item_10_of_the_notice_verbatim() -> None:
    notice = read_yaml("notice", "notice.yaml")
    (item,) = [c for c in notice["clauses"] if c["id"] == "i10"]
    texts = Texts.load()
    assert texts.get("reports.wording", "zh") in item["text"]
    assert item["cite"] in texts.get("reports.clause", "zh")
