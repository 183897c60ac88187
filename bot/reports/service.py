"""Quarterly reports as a domain service: what is due is read from the DB on every tick."""

from __future__ import annotations

import io
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Literal, Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.access import AccessDenied, Actor
from bot.db import Database
from bot.erasure import personal_data_eraser
from bot.metrics import Metrics
from bot.models.core import City, RoleGrant, User
from bot.models.reports import (
    CalendarNotice,
    ReportNudge,
    ReportSend,
    ReportSubmission,
    ReportUpload,
)
from bot.reports.calendar import WorkingCalendar
from bot.reports.schedule import (
    Quarter,
    QuarterSchedule,
    ReportsSettings,
    Slot,
    active_quarters,
    due_date,
    schedule_for,
)
from bot.sender import (
    Attachment,
    Button,
    DeliveryError,
    OutgoingMessage,
    RateLimited,
    Sender,
    TransientError,
    Uncertain,
    Unreachable,
)
from bot.texts import DEFAULT_LANGUAGE, Texts

log = logging.getLogger(__name__)


class CityRobots(Protocol):
    """Where reports find a city's group robots (bot.robots.service.RobotsService)."""

    async def city_robots(self, city_id: int, kind: str) -> list[tuple[int, str]]:
        """Return (robot id, language) of the city's working robots that receive kind."""
        ...


def robot_key(robot_id: int) -> int:
    """Return the report_sends.user_id that stands for a robot (negative: never a person)."""
    # Reusing the UNIQUE (city, quarter, slot, user_id) row keeps each robot's copy to one send
    # without a table of its own; Telegram user ids are positive.
    return -robot_id


# Callback data of the reminder buttons: prefix + "<city_id>:<quarter>" (well under 64 bytes).
ACTION_SUBMITTED = "rp:done:"
ACTION_UPLOAD = "rp:up:"
ACTION_NUDGE = "rp:nudge:"

# Rows per INSERT when recording missed slots (well under SQLite's bound-parameter limit).
_BATCH = 500

# A send that hit a rate limit or a server error is tried again on later ticks, this often.
MAX_ATTEMPTS = 5

CellState = Literal["submitted", "due", "overdue"]


@dataclass
class TickReport:
    """What one tick did: counts per outcome, for logs and tests."""

    sent: int = 0
    missed: int = 0
    failed: int = 0
    skipped: int = 0
    notices: int = 0

    def add(self, status: str) -> None:
        """Count one send by its final status."""
        if status == "sent":
            self.sent += 1
        elif status == "missed":
            self.missed += 1
        else:
            self.failed += 1


@dataclass(frozen=True)
class Cell:
    """A city's report state for one quarter on the board."""

    quarter: Quarter
    state: CellState
    due: date
    workdays: int  # left until due (state "due") or overdue by (state "overdue")
    submitted_at: datetime | None = None
    submitted_by: str = ""


@dataclass(frozen=True)
class BoardRow:
    """One city's line of the board."""

    city_id: int
    city: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Board:
    """Cities × the last quarters, as of a day."""

    today: date
    quarters: tuple[Quarter, ...]
    rows: tuple[BoardRow, ...]


@dataclass(frozen=True)
class SubmitResult:
    """Outcome of marking a report submitted."""

    city: str
    quarter: Quarter
    created: bool  # False: it was already recorded (by submitted_by at submitted_at)
    submitted_at: datetime
    submitted_by: str
    told: int = 0  # other officials told


@dataclass(frozen=True)
class UploadResult:
    """Outcome of an upload: forwarded to how many admins, and the submission it recorded."""

    forwarded: int
    submission: SubmitResult


@dataclass
class _Recipients:
    officials: dict[int, list[int]] = field(default_factory=dict)
    admins: list[int] = field(default_factory=list)
    languages: dict[int, str] = field(default_factory=dict)

    def lang(self, user_id: int) -> str:
        return self.languages.get(user_id, DEFAULT_LANGUAGE)


class ReportsService:
    """Deadlines, reminders, submissions, uploads, board and nudges of the quarterly reports."""

    def __init__(
        self,
        db: Database,
        texts: Texts,
        *,
        admin_ids: Iterable[int] = (),
        settings: ReportsSettings | None = None,
        calendar: WorkingCalendar | None = None,
        robots: CityRobots | None = None,
        robot_sender: Sender | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.db = db
        self.robots = robots
        self.robot_sender = robot_sender
        self.metrics = metrics
        self.texts = texts
        self.admin_ids = frozenset(admin_ids)
        self.settings = settings or ReportsSettings.load()
        self.calendar = calendar or WorkingCalendar()
        self._noticed_years: set[int] = set()

    # --- schedule ------------------------------------------------------------------------------

    def today(self, now: datetime) -> date:
        """Return the association's local date at now."""
        return now.astimezone(self.settings.tz).date()

    def schedule(self, quarter: Quarter) -> QuarterSchedule:
        """Return the quarter's due date and slots."""
        return schedule_for(quarter, self.settings, self.calendar)

    # --- the clock -----------------------------------------------------------------------------

    async def tick(self, now: datetime, sender: Sender) -> TickReport:
        """Send every reminder and escalation due at now that no one has sent yet.

        Derived from the database alone, so a restart, a late start-up or a second process just
        runs the same question again; the UNIQUE row claimed before each send keeps it once.
        """
        report = TickReport()
        today = self.today(now)
        # The current quarter's deadline is computed early so a missing calendar is noticed
        # a quarter ahead (2026Q4 is due in January 2027).
        due_date(Quarter.containing(today), self.settings, self.calendar)
        plans = [self.schedule(q) for q in active_quarters(today, self.settings)]
        async with self.db.session() as session:
            people = await self._recipients(session)
            cities = {c.id: c.name for c in (await session.scalars(select(City))).all()}
            quarters = [str(p.quarter) for p in plans]
            done = {
                (s.city_id, s.quarter)
                for s in await session.scalars(
                    select(ReportSubmission).where(ReportSubmission.quarter.in_(quarters))
                )
            }
            rows = {
                (r.city_id, r.quarter, r.slot, r.user_id): r
                for r in await session.scalars(
                    select(ReportSend).where(ReportSend.quarter.in_(quarters))
                )
            }
        await self._notice_missing_years(now, sender, people, report)
        missed: list[tuple[tuple[int, str, str, int], datetime]] = []
        for plan in plans:
            due_slots = [s for s in plan.slots(today) if s.at <= now]
            city_slots = [s for s in due_slots if s.kind != "escalation"]
            escalations = [s for s in due_slots if s.kind == "escalation"]
            # Only the newest slot may still go out (within the catch-up window); older ones a
            # restart or an outage skipped are recorded as missed, never sent late.
            live = city_slots[-1] if city_slots else None
            if live is not None and now - live.at > self.settings.catch_up:
                live = None
            q = str(plan.quarter)
            for city_id, city in sorted(cities.items()):
                if (city_id, q) in done or not due_slots:
                    continue
                robots = await self._city_robots(city_id)
                for slot in city_slots:
                    for user_id in people.officials.get(city_id, []):
                        key = (city_id, q, slot.key, user_id)
                        await self._due(
                            key,
                            slot,
                            slot is live,
                            rows.get(key),
                            partial(
                                self._reminder, plan, today, city_id, city, people.lang(user_id)
                            ),
                            sender,
                            report,
                            missed,
                        )
                    for robot_id, lang in robots:
                        key = (city_id, q, slot.key, robot_key(robot_id))
                        await self._due(
                            key,
                            slot,
                            slot is live,
                            rows.get(key),
                            partial(self._robot_reminder, plan, today, city_id, city, lang),
                            self.robot_sender or sender,
                            report,
                            missed,
                        )
                for slot in escalations:
                    fresh = now - slot.at <= self.settings.catch_up
                    for user_id in people.admins:
                        key = (city_id, q, slot.key, user_id)
                        await self._due(
                            key,
                            slot,
                            fresh,
                            rows.get(key),
                            partial(
                                self._escalation, plan, today, city_id, city, people.lang(user_id)
                            ),
                            sender,
                            report,
                            missed,
                        )
                    for robot_id, lang in robots:
                        key = (city_id, q, slot.key, robot_key(robot_id))
                        await self._due(
                            key,
                            slot,
                            fresh,
                            rows.get(key),
                            partial(self._robot_escalation, plan, today, city, lang),
                            self.robot_sender or sender,
                            report,
                            missed,
                        )
        report.missed += await self._record_missed(missed)
        if self.metrics is not None:
            if report.sent:
                self.metrics.reminder("sent", count=report.sent)
            if report.missed:
                self.metrics.reminder("missed", count=report.missed)
        if report.sent or report.missed or report.failed:
            log.info("reports tick at %s: %s", now.isoformat(), report)
        return report

    async def _due(
        self,
        key: tuple[int, str, str, int],
        slot: Slot,
        live: bool,
        existing: ReportSend | None,
        build: Callable[[], OutgoingMessage],
        sender: Sender,
        report: TickReport,
        missed: list[tuple[tuple[int, str, str, int], datetime]],
    ) -> None:
        """Send one due slot to one person if it is live and unclaimed, else note it missed."""
        if live and (existing is None or existing.status == "retry"):
            status = await self._deliver(key, slot.at, existing, sender, build())
            if status is None:
                report.skipped += 1
            else:
                report.add(status)
        elif not live and existing is None:
            missed.append((key, slot.at))

    def standing(self, plan: QuarterSchedule, today: date) -> int:
        """Return working days left until due (≥ 0), or minus the working days overdue (≤ -1)."""
        if today <= plan.due.day:
            return self.calendar.workdays_between(today, plan.due.day)
        return -max(1, self.calendar.workdays_between(plan.due.day, today))

    def _reminder(
        self,
        plan: QuarterSchedule,
        today: date,
        city_id: int,
        city: str,
        lang: str,
    ) -> OutgoingMessage:
        values = self._common(plan, city, lang)
        # Counted from the day it goes out, not from the slot: a reminder caught up after a
        # restart must not claim a day more than is left.
        left = self.standing(plan, today)
        if left < 0:
            text = self.texts.get("reports.reminder.overdue", lang, days=-left, **values)
        elif left == 0:
            text = self.texts.get("reports.reminder.due", lang, **values)
        else:
            text = self.texts.get("reports.reminder.before", lang, left=left, **values)
        ref = f"{city_id}:{plan.quarter}"
        buttons = (
            (
                Button(self.texts.get("reports.button.submitted", lang), ACTION_SUBMITTED + ref),
                Button(self.texts.get("reports.button.upload", lang), ACTION_UPLOAD + ref),
            ),
        )
        return OutgoingMessage(text=text, buttons=buttons, kind="report")

    def _escalation(
        self,
        plan: QuarterSchedule,
        today: date,
        city_id: int,
        city: str,
        lang: str,
    ) -> OutgoingMessage:
        text = self.texts.get(
            "reports.escalation",
            lang,
            city=city,
            quarter=self.quarter_label(plan.quarter, lang),
            due=plan.due.day.isoformat(),
            days=max(1, -self.standing(plan, today)),
        )
        button = Button(
            self.texts.get("reports.button.nudge", lang), f"{ACTION_NUDGE}{city_id}:{plan.quarter}"
        )
        return OutgoingMessage(text=text, buttons=((button,),), kind="report")

    async def _city_robots(self, city_id: int) -> list[tuple[int, str]]:
        if self.robots is None or self.robot_sender is None:
            return []
        return await self.robots.city_robots(city_id, "report")

    def _robot_reminder(
        self, plan: QuarterSchedule, today: date, city_id: int, city: str, lang: str
    ) -> OutgoingMessage:
        """Return the reminder for a city's group robot: no buttons, but how to confirm."""
        values = self._common(plan, city, lang)
        left = self.standing(plan, today)
        if left < 0:
            text = self.texts.get("robots.report.overdue", lang, days=-left, **values)
        elif left == 0:
            text = self.texts.get("robots.report.due", lang, **values)
        else:
            text = self.texts.get("robots.report.before", lang, left=left, **values)
        how = self.texts.get("robots.report.confirm", lang, code=str(plan.quarter), city=city)
        return OutgoingMessage(text=f"{text}\n{how}", kind="report")

    def _robot_escalation(
        self, plan: QuarterSchedule, today: date, city: str, lang: str
    ) -> OutgoingMessage:
        """Return the escalation as a city's group robot shows it, with how to confirm."""
        text = self.texts.get(
            "robots.report.escalation",
            lang,
            city=city,
            quarter=self.quarter_label(plan.quarter, lang),
            due=plan.due.day.isoformat(),
            days=max(1, -self.standing(plan, today)),
        )
        how = self.texts.get("robots.report.confirm", lang, code=str(plan.quarter), city=city)
        return OutgoingMessage(text=f"{text}\n{how}", kind="report")

    def _common(self, plan: QuarterSchedule, city: str, lang: str) -> dict[str, object]:
        return {
            "city": city,
            "quarter": self.quarter_label(plan.quarter, lang),
            "due": plan.due.day.isoformat(),
            "wording": self.texts.get("reports.wording", lang),
            "clause": self.texts.get("reports.clause", lang),
        }

    def quarter_label(self, quarter: Quarter, lang: str) -> str:
        """Return "2026年第4季度" / "Q4 2026"."""
        return self.texts.get("reports.quarter", lang, year=quarter.year, number=quarter.number)

    async def _notice_missing_years(
        self, now: datetime, sender: Sender, people: _Recipients, report: TickReport
    ) -> None:
        for year in sorted(self.calendar.missing_years - self._noticed_years):
            for user_id in people.admins:
                if not await self._claim_notice(year, user_id):
                    continue
                message = OutgoingMessage(
                    self.texts.get("reports.calendar_missing", people.lang(user_id), year=year),
                    kind="report",
                )
                status = await self._send(sender, user_id, message)
                async with self.db.session() as session:
                    await session.execute(
                        update(CalendarNotice)
                        .where(CalendarNotice.year == year, CalendarNotice.user_id == user_id)
                        .values(status=status)
                    )
                report.notices += 1
            self._noticed_years.add(year)

    async def _claim_notice(self, year: int, user_id: int) -> bool:
        async with self.db.session() as session:
            stmt = (
                self._insert(CalendarNotice)
                .values(year=year, user_id=user_id, status="pending", created_at=_now())
                .on_conflict_do_nothing(index_elements=["year", "user_id"])
                .returning(CalendarNotice.id)
            )
            return (await session.execute(stmt)).scalar_one_or_none() is not None

    # --- exactly-once sends --------------------------------------------------------------------

    def _insert(self, table: type[object]) -> postgresql.Insert | sqlite.Insert:
        return sqlite.insert(table) if self.db.is_sqlite else postgresql.insert(table)

    async def _record(
        self, key: tuple[int, str, str, int], due_at: datetime, status: str
    ) -> int | None:
        """Insert the send row for key with status unless one exists; return its id if new."""
        city_id, quarter, slot, user_id = key
        async with self.db.session() as session:
            stmt = (
                self._insert(ReportSend)
                .values(
                    city_id=city_id,
                    quarter=quarter,
                    slot=slot,
                    user_id=user_id,
                    status=status,
                    attempts=1 if status == "pending" else 0,
                    due_at=due_at,
                    created_at=_now(),
                    updated_at=_now(),
                    detail="",
                )
                .on_conflict_do_nothing(index_elements=["city_id", "quarter", "slot", "user_id"])
                .returning(ReportSend.id)
            )
            return (await session.execute(stmt)).scalar_one_or_none()

    async def _record_missed(
        self, missed: list[tuple[tuple[int, str, str, int], datetime]]
    ) -> int:
        """Record slots that will never be sent, in batches; return how many rows were new."""
        created = 0
        now = _now()
        for start in range(0, len(missed), _BATCH):
            values = [
                {
                    "city_id": city_id,
                    "quarter": quarter,
                    "slot": slot,
                    "user_id": user_id,
                    "status": "missed",
                    "attempts": 0,
                    "due_at": due_at,
                    "created_at": now,
                    "updated_at": now,
                    "detail": "",
                }
                for (city_id, quarter, slot, user_id), due_at in missed[start : start + _BATCH]
            ]
            async with self.db.session() as session:
                stmt = (
                    self._insert(ReportSend)
                    .values(values)
                    .on_conflict_do_nothing(
                        index_elements=["city_id", "quarter", "slot", "user_id"]
                    )
                    .returning(ReportSend.id)
                )
                created += len((await session.execute(stmt)).all())
        return created

    async def _claim_retry(self, row: ReportSend) -> bool:
        """Take a send row back from "retry" for one more attempt; False if another process did."""
        if row.attempts >= MAX_ATTEMPTS:
            return False
        async with self.db.session() as session:
            result = await session.execute(
                update(ReportSend)
                .where(
                    ReportSend.id == row.id,
                    ReportSend.status == "retry",
                    ReportSend.attempts == row.attempts,
                )
                .values(status="pending", attempts=row.attempts + 1, updated_at=_now())
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def _deliver(
        self,
        key: tuple[int, str, str, int],
        due_at: datetime,
        existing: ReportSend | None,
        sender: Sender,
        message: OutgoingMessage,
    ) -> str | None:
        """Claim the row for key, send, store the outcome; None when someone else has it."""
        if existing is None:
            row_id = await self._record(key, due_at, "pending")
            if row_id is None:
                return None
        else:
            if not await self._claim_retry(existing):
                return None
            row_id = existing.id
        status, detail = await self._send_detailed(sender, key[3], message)
        async with self.db.session() as session:
            await session.execute(
                update(ReportSend)
                .where(ReportSend.id == row_id)
                .values(status=status, detail=detail[:256], updated_at=_now())
            )
        return status

    async def _send(self, sender: Sender, user_id: int, message: OutgoingMessage) -> str:
        status, _ = await self._send_detailed(sender, user_id, message)
        return status

    async def _send_detailed(
        self, sender: Sender, user_id: int, message: OutgoingMessage
    ) -> tuple[str, str]:
        # A robot's key is its negative id; its sender marks it broken when it is gone.
        address = str(-user_id) if user_id < 0 else str(user_id)
        try:
            await sender.send(address, message)
        except (RateLimited, TransientError) as exc:
            return "retry", exc.reason
        except Uncertain as exc:
            # The message may have arrived; a second copy is worse than a missing one here.
            return "uncertain", exc.reason
        except Unreachable as exc:
            if user_id > 0:
                async with self.db.session() as session:
                    await session.execute(
                        update(User).where(User.id == user_id).values(reachable=False)
                    )
            return "unreachable", exc.reason
        except DeliveryError as exc:
            log.warning("report message to %s failed: %s", user_id, exc.reason)
            return "failed", exc.reason
        return "sent", ""

    # --- people --------------------------------------------------------------------------------

    async def _recipients(self, session: AsyncSession) -> _Recipients:
        people = _Recipients(admins=sorted(self.admin_ids))
        grants = (
            await session.scalars(
                select(RoleGrant).where(RoleGrant.role.in_(("official", "admin")))
            )
        ).all()
        officials: dict[int, set[int]] = defaultdict(set)
        admins = set(self.admin_ids)
        for grant in grants:
            if grant.role == "official" and grant.city_id is not None:
                officials[grant.city_id].add(grant.user_id)
            elif grant.role == "admin":
                admins.add(grant.user_id)
        people.officials = {city: sorted(users) for city, users in officials.items()}
        people.admins = sorted(admins)
        ids = admins.union(*officials.values())
        if ids:
            users = await session.scalars(select(User).where(User.id.in_(ids)))
            people.languages = {u.id: u.language for u in users}
        return people

    async def _names(self, session: AsyncSession, ids: Iterable[int]) -> dict[int, str]:
        wanted = set(ids)
        if not wanted:
            return {}
        users = await session.scalars(select(User).where(User.id.in_(wanted)))
        return {u.id: u.name or str(u.id) for u in users}

    async def city_name(self, city_id: int) -> str:
        """Return a city's name; KeyError if there is none."""
        async with self.db.session() as session:
            city = await session.get(City, city_id)
        if city is None:
            raise KeyError(city_id)
        return city.name

    async def city_by_name(self, name: str) -> City | None:
        """Return the city called name (exact, then ignoring suffixes such as 市 or 州)."""
        wanted = name.strip()
        async with self.db.session() as session:
            cities = (await session.scalars(select(City))).all()
        for city in cities:
            if city.name == wanted:
                return city
        for city in cities:
            if _bare(city.name, self.settings.city_suffixes) == _bare(
                wanted, self.settings.city_suffixes
            ):
                return city
        return None

    # --- submissions and uploads ---------------------------------------------------------------

    async def mark_submitted(
        self,
        actor: Actor,
        city_id: int,
        quarter: Quarter,
        sender: Sender,
        *,
        via: str = "button",
    ) -> SubmitResult:
        """Record the city's report as sent (stopping its reminders); tell its other officials."""
        actor.require_official(city_id)
        q = str(quarter)
        async with self.db.session() as session:
            city = await session.get(City, city_id)
            if city is None:
                raise KeyError(city_id)
            created = (
                await session.execute(
                    self._insert(ReportSubmission)
                    .values(
                        city_id=city_id,
                        quarter=q,
                        submitted_at=_now(),
                        submitted_by=actor.user_id,
                        via=via,
                    )
                    .on_conflict_do_nothing(index_elements=["city_id", "quarter"])
                    .returning(ReportSubmission.id)
                )
            ).scalar_one_or_none() is not None
            row = (
                await session.scalars(
                    select(ReportSubmission).where(
                        ReportSubmission.city_id == city_id, ReportSubmission.quarter == q
                    )
                )
            ).one()
            names = await self._names(session, [row.submitted_by])
            people = await self._recipients(session)
        who = names.get(row.submitted_by, str(row.submitted_by))
        result = SubmitResult(city.name, quarter, created, row.submitted_at, who)
        if not created:
            return result
        told = 0
        for user_id in people.officials.get(city_id, []):
            if user_id == actor.user_id:
                continue
            key = (city_id, q, "submitted", user_id)
            lang = people.lang(user_id)
            message = OutgoingMessage(
                self.texts.get(
                    "reports.submitted.others",
                    lang,
                    who=who,
                    city=city.name,
                    quarter=self.quarter_label(quarter, lang),
                ),
                kind="report",
            )
            if await self._deliver(key, row.submitted_at, None, sender, message) == "sent":
                told += 1
        return SubmitResult(city.name, quarter, True, row.submitted_at, who, told)

    async def upload(
        self,
        actor: Actor,
        city_id: int,
        quarter: Quarter,
        attachment: Attachment,
        sender: Sender,
    ) -> UploadResult:
        """Keep the report file, forward it to the provincial admins and record the submission."""
        actor.require_official(city_id)
        if attachment.file_id is None:
            raise ValueError("an uploaded report is kept by its file id")
        async with self.db.session() as session:
            session.add(
                ReportUpload(
                    city_id=city_id,
                    quarter=str(quarter),
                    user_id=actor.user_id,
                    kind=attachment.kind,
                    file_id=attachment.file_id,
                    file_name=attachment.filename or "",
                    uploaded_at=_now(),
                )
            )
            city = await session.get(City, city_id)
            if city is None:
                raise KeyError(city_id)
            people = await self._recipients(session)
            who = (await self._names(session, [actor.user_id])).get(
                actor.user_id, str(actor.user_id)
            )
        forwarded = 0
        for admin_id in people.admins:
            lang = people.lang(admin_id)
            caption = self.texts.get(
                "reports.upload.forward",
                lang,
                city=city.name,
                who=who,
                quarter=self.quarter_label(quarter, lang),
            )
            message = OutgoingMessage(caption, attachments=(attachment,), kind="report")
            if await self._send(sender, admin_id, message) == "sent":
                forwarded += 1
        submission = await self.mark_submitted(actor, city_id, quarter, sender, via="upload")
        return UploadResult(forwarded, submission)

    async def nudge(
        self, actor: Actor, city_id: int, quarter: Quarter, text: str, sender: Sender
    ) -> int:
        """Relay a provincial admin's text to the city's officials; return how many got it."""
        actor.require_admin()
        async with self.db.session() as session:
            if await session.get(City, city_id) is None:
                raise KeyError(city_id)
            people = await self._recipients(session)
        delivered = 0
        for user_id in people.officials.get(city_id, []):
            lang = people.lang(user_id)
            message = OutgoingMessage(
                self.texts.get(
                    "reports.nudge.relay",
                    lang,
                    quarter=self.quarter_label(quarter, lang),
                    text=text,
                ),
                kind="report",
            )
            if await self._send(sender, user_id, message) == "sent":
                delivered += 1
        async with self.db.session() as session:
            session.add(
                ReportNudge(
                    city_id=city_id,
                    quarter=str(quarter),
                    admin_id=actor.user_id,
                    text=text,
                    delivered=delivered,
                    sent_at=_now(),
                )
            )
        return delivered

    # --- the board -----------------------------------------------------------------------------

    def board_quarters(self, today: date) -> tuple[Quarter, ...]:
        """Return the last ended quarters shown on the board, newest first."""
        quarters = [Quarter.containing(today).prev()]
        while len(quarters) < self.settings.board_quarters:
            quarters.append(quarters[-1].prev())
        return tuple(quarters)

    async def board(self, actor: Actor, now: datetime) -> Board:
        """Return every city (admins) or the actor's cities (officials) × the last quarters."""
        if not actor.is_admin and not actor.official_city_ids:
            raise AccessDenied(f"user {actor.user_id} is neither admin nor official")
        today = self.today(now)
        quarters = self.board_quarters(today)
        async with self.db.session() as session:
            query = select(City).order_by(City.name)
            if not actor.is_admin:
                query = query.where(City.id.in_(actor.official_city_ids))
            cities = (await session.scalars(query)).all()
            submissions = {
                (s.city_id, s.quarter): s
                for s in await session.scalars(
                    select(ReportSubmission).where(
                        ReportSubmission.quarter.in_([str(q) for q in quarters])
                    )
                )
            }
            names = await self._names(session, {s.submitted_by for s in submissions.values()})
        dues = {q: due_date(q, self.settings, self.calendar).day for q in quarters}
        rows = []
        for city in cities:
            cells = []
            for q in quarters:
                due = dues[q]
                sub = submissions.get((city.id, str(q)))
                if sub is not None:
                    who = names.get(sub.submitted_by, str(sub.submitted_by))
                    cells.append(Cell(q, "submitted", due, 0, sub.submitted_at, who))
                elif today <= due:
                    left = self.calendar.workdays_between(today, due)
                    cells.append(Cell(q, "due", due, left))
                else:
                    late = self.calendar.workdays_between(due, today)
                    cells.append(Cell(q, "overdue", due, late))
            rows.append(BoardRow(city.id, city.name, tuple(cells)))
        return Board(today, quarters, tuple(rows))

    def cell_text(self, cell: Cell, lang: str, *, with_quarter: bool = True) -> str:
        """Return a board cell in words."""
        quarter = str(cell.quarter) if with_quarter else ""
        if cell.state == "submitted":
            when = (
                cell.submitted_at.astimezone(self.settings.tz).strftime("%Y-%m-%d %H:%M")
                if cell.submitted_at
                else ""
            )
            text = self.texts.get(
                "reports.board.submitted", lang, quarter=quarter, when=when, who=cell.submitted_by
            )
        elif cell.state == "due":
            text = self.texts.get("reports.board.due", lang, quarter=quarter, due=cell.due)
        else:
            text = self.texts.get(
                "reports.board.overdue", lang, quarter=quarter, due=cell.due, days=cell.workdays
            )
        return text if with_quarter else text.lstrip(":： ")

    def render_board(self, board: Board, lang: str) -> str:
        """Return the board as a chat message."""
        lines = [self.texts.get("reports.board.title", lang, today=board.today.isoformat())]
        if not board.rows:
            lines.append(self.texts.get("reports.board.empty", lang))
        for row in board.rows:
            lines.append("")
            lines.append(self.texts.get("reports.board.city", lang, city=row.city))
            lines.extend(self.cell_text(cell, lang) for cell in row.cells)
        return "\n".join(lines)

    def export_xlsx(self, board: Board, lang: str) -> bytes:
        """Return the board as an Excel workbook."""
        from openpyxl import Workbook  # imported on demand: only exports need it

        book = Workbook()
        sheet = book.active
        assert sheet is not None  # a new workbook always has one sheet
        sheet.title = self.texts.get("reports.xlsx.sheet", lang)[:31]
        sheet.append([self.texts.get("reports.xlsx.city", lang), *map(str, board.quarters)])
        for row in board.rows:
            sheet.append(
                [row.city, *(self.cell_text(c, lang, with_quarter=False) for c in row.cells)]
            )
        sheet.column_dimensions["A"].width = 16
        for letter in "BCDEFGHIJKL"[: len(board.quarters)]:
            sheet.column_dimensions[letter].width = 36
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()

    def board_document(self, board: Board, lang: str) -> OutgoingMessage:
        """Return the board's XLSX export as a message with the file attached."""
        today = board.today.isoformat()
        attachment = Attachment(
            "document",
            content=self.export_xlsx(board, lang),
            filename=self.texts.get("reports.xlsx.filename", lang, today=today),
        )
        caption = self.texts.get("reports.xlsx.caption", lang, today=today)
        return OutgoingMessage(caption, attachments=(attachment,), kind="report")

    async def record_submission(
        self,
        actor: Actor,
        quarter: Quarter,
        city_name: str | None,
        sender: Sender,
    ) -> SubmitResult:
        """Record a report received by other means (/reportsdone QUARTER [CITY])."""
        if city_name:
            city = await self.city_by_name(city_name)
            if city is None:
                raise LookupError(city_name)
            city_id = city.id
        elif len(actor.official_city_ids) == 1 and not actor.is_admin:
            (city_id,) = actor.official_city_ids
        else:
            raise LookupError("")
        via = "admin" if actor.is_admin else "button"
        return await self.mark_submitted(actor, city_id, quarter, sender, via=via)

    async def official_city_ids(self, user_id: int) -> list[int]:
        """Return the cities user_id is an official of."""
        async with self.db.session() as session:
            ids = await session.scalars(
                select(RoleGrant.city_id).where(
                    RoleGrant.user_id == user_id, RoleGrant.role == "official"
                )
            )
            return sorted(i for i in ids if i is not None)


def parse_ref(data: str, prefix: str) -> tuple[int, Quarter]:
    """Split callback data "<prefix><city_id>:<quarter>" into its parts."""
    city_text, _, quarter_text = data.removeprefix(prefix).partition(":")
    return int(city_text), Quarter.parse(quarter_text)


def _bare(name: str, suffixes: Sequence[str]) -> str:
    for suffix in suffixes:
        if suffix and name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _now() -> datetime:
    # Bookkeeping timestamps only (created_at/updated_at); every decision uses the tick's `now`.
    from bot.db import utcnow

    return utcnow()


__all__: Sequence[str] = [
    "ACTION_NUDGE",
    "ACTION_SUBMITTED",
    "ACTION_UPLOAD",
    "Board",
    "Cell",
    "ReportsService",
    "SubmitResult",
    "TickReport",
    "UploadResult",
    "parse_ref",
]


@personal_data_eraser
async def erase_report_people(session: AsyncSession, user_id: int) -> None:
    """Forget a deleted official or admin: drop sends addressed to them, unlink what they did."""
    # Submissions and uploads are the city's report, not the person's: kept, unattributed (0).
    await session.execute(delete(ReportSend).where(ReportSend.user_id == user_id))
    await session.execute(delete(CalendarNotice).where(CalendarNotice.user_id == user_id))
    await session.execute(
        update(ReportSubmission)
        .where(ReportSubmission.submitted_by == user_id)
        .values(submitted_by=0)
    )
    await session.execute(
        update(ReportUpload).where(ReportUpload.user_id == user_id).values(user_id=0)
    )
    await session.execute(
        update(ReportNudge).where(ReportNudge.admin_id == user_id).values(admin_id=0)
    )
