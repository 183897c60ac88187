"""The bundle of domain services one bot process uses, created once at start-up."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.access import AccessService, OrgService
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.db import Database
from bot.metrics import Metrics
from bot.ops import ErrorLog
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
    errors: ErrorLog
    metrics: Metrics = field(default_factory=Metrics)
    senders: dict[str, Sender] = field(default_factory=dict)

    @classmethod
    def create(cls, config: Config, *, clock: Clock | None = None) -> Services:
        """Build every service for config (no I/O yet)."""
        db = Database(config.database_url)
        clock = clock or SystemClock()
        return cls(
            config=config,
            db=db,
            texts=Texts.load(),
            clock=clock,
            access=AccessService(db, config.admin_ids),
            org=OrgService(db),
            users=UserDirectory(db, clock),
            errors=ErrorLog(db, clock),
        )

    async def start(self) -> None:
        """Prepare for work: apply migrations."""
        await self.db.upgrade()

    async def tick(self) -> None:
        """Run every feature's due work once (reminders, closing dates, deliveries)."""
        # Features append their tick calls here; each must be idempotent and derive what is due
        # from the database, so a missed or repeated tick never loses or doubles anything.

    async def close(self) -> None:
        """Release connections."""
        await self.db.dispose()
