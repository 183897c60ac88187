"""The bundle of domain services one bot process uses, created once at start-up."""

from __future__ import annotations

import logging
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
from bot.metrics import Metrics
from bot.ops import ErrorLog
from bot.outbox.service import Outbox
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
    robots: RobotsService | None = None
    events: EventsFeature | None = None
    reports: ReportsService | None = None

    @classmethod
    def create(cls, config: Config, *, clock: Clock | None = None) -> Services:
        """Build every service for config (no I/O yet)."""
        db = Database(config.database_url)
        clock = clock or SystemClock()
        texts = Texts.load()
        access = AccessService(db, config.admin_ids)
        faq = engine_singleton()
        senders: dict[str, Sender] = {"robot": RobotSender(db, texts=texts, clock=clock)}
        return cls(
            config=config,
            db=db,
            texts=texts,
            clock=clock,
            access=access,
            org=OrgService(db),
            users=UserDirectory(db, clock),
            errors=ErrorLog(db, clock),
            robots=RobotsService(db, texts),
            # Event notices are outbox broadcasts; the outbox worker paces and delivers them.
            events=EventsFeature.create(
                db, clock, texts, config.tz, OutboxBroadcaster(Outbox(db, clock))
            ),
            reports=ReportsService(db, texts, admin_ids=config.admin_ids),
            faq=faq,
            questions=QuestionService(db, faq, texts, clock, access, senders),
            senders=senders,
        )

    async def start(self) -> None:
        """Prepare for work: apply migrations."""
        await self.db.upgrade()

    async def tick(self) -> None:
        """Run every feature's due work once (reminders, closing dates, deliveries)."""
        # Features append their tick calls here; each must be idempotent and derive what is due
        # from the database, so a missed or repeated tick never loses or doubles anything.
        telegram = self.senders.get("telegram")
        if self.robots is not None and telegram is not None:
            await self.robots.notify_broken(telegram, self.config.admin_ids)
        if self.events is not None:
            await self.events.tick()
        if self.reports is not None and telegram is not None:
            try:
                await self.reports.tick(self.clock.now(), telegram)
            except Exception:
                # One feature's failure must not starve the others; it is retried next tick.
                log.exception("reports tick failed")

    async def close(self) -> None:
        """Release connections."""
        robot_sender = self.senders.get("robot")
        if isinstance(robot_sender, RobotSender):
            await robot_sender.close()
        await self.db.dispose()
