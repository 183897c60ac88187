"""The bundle of domain services one bot process uses, created once at start-up."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.access import AccessService, OrgService
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.db import Database
from bot.events import EventsFeature
from bot.events.notify import OutboxBroadcaster
from bot.faq import engine_singleton
from bot.faq.engine import FaqEngine
from bot.faq.questions import QuestionService
from bot.leader import ClockLeader
from bot.members.campaigns import CampaignsService
from bot.members.notify import Notifier
from bot.members.service import MembersService
from bot.metrics import Metrics
from bot.ops import ErrorLog
from bot.outbox.notices import NoticeService
from bot.outbox.service import Outbox
from bot.outbox.worker import OutboxWorker, process_owner
from bot.reports.service import ReportsService
from bot.robots.sender import RobotSender
from bot.robots.service import RobotsService
from bot.sender import Sender
from bot.texts import Texts
from bot.users import UserDirectory

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything a handler may call; handlers reach it as ctx.services."""

    config: Config
    db: Database
    texts: Texts
    clock: Clock
    access: AccessService
    org: OrgService
    users: UserDirectory
    faq: FaqEngine
    questions: QuestionService
    errors: ErrorLog
    metrics: Metrics = field(default_factory=Metrics)
    senders: dict[str, Sender] = field(default_factory=dict)
    members: MembersService | None = None
    campaigns: CampaignsService | None = None
    outbox: Outbox | None = None
    notices: NoticeService | None = None
    outbox_worker: OutboxWorker | None = None
    robots: RobotsService | None = None
    events: EventsFeature | None = None
    reports: ReportsService | None = None
    leader: ClockLeader | None = None

    @classmethod
    def create(cls, config: Config, *, clock: Clock | None = None) -> Services:
        """Build every service for config (no I/O yet)."""
        db = Database(config.database_url)
        clock = clock or SystemClock()
        texts = Texts.load()
        access = AccessService(db, config.admin_ids)
        users = UserDirectory(db, clock)
        faq = engine_singleton()
        # Filled further at start-up ("telegram" once the bot exists); every service below reads
        # the same dict when it sends, so they all see it.
        senders: dict[str, Sender] = {"robot": RobotSender(db, texts=texts, clock=clock)}
        metrics = Metrics()
        robots = RobotsService(db, texts)
        # Every broadcast to parks also reaches their group robots, added here in one place.
        outbox = Outbox(db, clock, robots=robots, metrics=metrics)
        notifier = Notifier(db, texts, senders)
        # One process at a time runs the clock and sends broadcasts: Telegram's ~30 messages a
        # second are per bot, so two senders pacing themselves at 25/s each would exceed it.
        leader = ClockLeader(db)
        return cls(
            config=config,
            db=db,
            texts=texts,
            clock=clock,
            access=access,
            org=OrgService(db),
            users=users,
            errors=ErrorLog(db, clock),
            metrics=metrics,
            faq=faq,
            questions=QuestionService(db, faq, texts, clock, access, senders, metrics),
            senders=senders,
            members=MembersService(db, clock, notifier, admin_ids=config.admin_ids),
            campaigns=CampaignsService(db, clock, notifier, config.tz, outbox=outbox),
            outbox=outbox,
            notices=NoticeService(db, outbox),
            outbox_worker=OutboxWorker(
                db,
                senders,
                clock,
                process_owner(),
                on_unreachable=users.mark_unreachable,
                metrics=metrics,
                gate=leader.is_leader,
            ),
            robots=robots,
            # Event notices are outbox broadcasts; the outbox worker paces and delivers them.
            events=EventsFeature.create(db, clock, texts, config.tz, OutboxBroadcaster(outbox)),
            reports=ReportsService(
                db,
                texts,
                admin_ids=config.admin_ids,
                robots=robots,
                robot_sender=senders["robot"],
                metrics=metrics,
            ),
            leader=leader,
        )

    async def start(self) -> None:
        """Prepare for work: apply migrations."""
        await self.db.upgrade()

    async def tick(self) -> None:
        """Run every feature's due work once (reminders, closing dates, deliveries)."""
        # Each step is idempotent and derives what is due from the database, so a missed or
        # repeated tick never loses or doubles anything; one feature's failure must not starve
        # the others (it is retried on the next tick).
        telegram = self.senders.get("telegram")
        steps: list[tuple[str, Callable[[], Awaitable[object]] | None]] = [
            ("campaigns", self.campaigns.tick if self.campaigns else None),
            ("members", self.members.tick if self.members else None),
            ("events", self.events.tick if self.events else None),
        ]
        if telegram is not None:
            if self.reports is not None:
                reports = self.reports
                steps.append(("reports", lambda: reports.tick(self.clock.now(), telegram)))
            if self.robots is not None:
                robots = self.robots
                steps.append(
                    ("robots", lambda: robots.notify_broken(telegram, self.config.admin_ids))
                )
        # Last, so what the steps above queued goes out in this same tick.
        if self.outbox_worker is not None:
            steps.append(("outbox", self.outbox_worker.drain))  # no-op while its loop runs
        for name, step in steps:
            if step is None:
                continue
            try:
                await step()
            except Exception:
                log.exception("%s tick failed", name)

    async def close(self) -> None:
        """Write what is buffered, then release connections."""
        try:
            await self.questions.close()
        except Exception:
            log.exception("could not write the last asked questions")
        robot_sender = self.senders.get("robot")
        if isinstance(robot_sender, RobotSender):
            await robot_sender.close()
        await self.db.dispose()
