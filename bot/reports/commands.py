"""`parkbot reports schedule`: print due dates and reminder dates with their calendar source."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from bot.reports.calendar import Day, WorkingCalendar
from bot.reports.schedule import Quarter, ReportsSettings, schedule_for
from bot.texts import DEFAULT_LANGUAGE, LANGUAGES, Texts


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the `reports` command (with its `schedule` subcommand) on a CLI's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "reports", help="quarterly reports of the city associations"
    )
    sub = parser.add_subparsers(dest="reports_command", required=True)
    schedule = sub.add_parser("schedule", help="print due and reminder dates of quarters")
    which = schedule.add_mutually_exclusive_group(required=True)
    which.add_argument("--year", type=int, help="every quarter of this year, e.g. 2027")
    which.add_argument("--quarter", type=Quarter.parse, help="one quarter, e.g. 2026Q4")
    schedule.add_argument(
        "--holidays-dir",
        type=Path,
        default=None,
        help="folder of <year>.yaml holiday files (default: content/holidays)",
    )
    schedule.add_argument("--lang", choices=LANGUAGES, default=DEFAULT_LANGUAGE)
    schedule.set_defaults(handler=run_schedule, func=_cmd_schedule)
    return parser


def register(subparsers: Any, _admin_subparsers: Any) -> None:
    """Add `reports` to the parkbot CLI (bot.cli.FEATURE_PARSERS calls this)."""
    add_parser(subparsers)


async def _cmd_schedule(args: argparse.Namespace, _config: object) -> int:
    return run_schedule(args)


def run_schedule(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print the schedule the parsed arguments ask for; return the exit status."""
    out = sys.stdout if out is None else out
    quarters = (
        [args.quarter]
        if args.quarter is not None
        else [Quarter(args.year, n) for n in range(1, 5)]
    )
    calendar = WorkingCalendar(args.holidays_dir)
    lines = render_schedule(quarters, ReportsSettings.load(), calendar, Texts.load(), args.lang)
    out.write("\n".join(lines) + "\n")
    return 0


def render_schedule(
    quarters: Sequence[Quarter],
    settings: ReportsSettings,
    calendar: WorkingCalendar,
    texts: Texts,
    lang: str,
) -> list[str]:
    """Return the printed lines: per quarter the due date, each slot, and missing-year warnings."""
    weekdays = texts.get("reports.weekdays", lang).split()
    time_text = settings.send_time.strftime("%H:%M")

    def fields(day: Day) -> dict[str, str]:
        return {
            "date": day.day.isoformat(),
            "weekday": weekdays[day.day.weekday()],
            "time": time_text,
            "source": day.source,
        }

    lines: list[str] = []
    for quarter in quarters:
        plan = schedule_for(quarter, settings, calendar)
        due = fields(plan.due)
        lines.append(
            texts.get(
                "reports.cli.quarter",
                lang,
                quarter=str(quarter),
                due=due["date"],
                weekday=due["weekday"],
                source=due["source"],
            )
        )
        for slot in plan.reminders:
            label = (
                texts.get("reports.cli.label_due", lang)
                if slot.workdays_left == 0
                else texts.get("reports.cli.label_before", lang, n=slot.workdays_left)
            )
            lines.append(texts.get("reports.cli.reminder", lang, label=label, **fields(slot.day)))
        if settings.overdue_daily:
            lines.append(
                texts.get(
                    "reports.cli.overdue",
                    lang,
                    time=time_text,
                    until=plan.overdue_until.isoformat(),
                )
            )
        lines.append(
            texts.get(
                "reports.cli.escalation",
                lang,
                n=settings.escalate_on_overdue_workday,
                **fields(plan.escalation.day),
            )
        )
    lines.extend(
        texts.get("reports.cli.missing", lang, year=year)
        for year in sorted(calendar.missing_years)
    )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Run `reports …` on its own: `python -m bot.reports.commands schedule --year 2027`."""
    parser = argparse.ArgumentParser(prog="python -m bot.reports.commands")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_parser(subparsers)
    args = parser.parse_args(["reports", *(sys.argv[1:] if argv is None else argv)])
    return int(args.handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
