"""Events with RSVP: the domain (service), its words (render), delivery (notify) and due work."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.db import Database
from bot.events.notify import Broadcaster, EventNotices, events_tick
from bot.events.service import EventsService
from bot.texts import Texts


@dataclass
class EventsFeature:
    """The events service and its notices, as one field of Services."""

    service: EventsService
    notices: EventNotices

    @classmethod
    def create(
        cls, db: Database, clock: Clock, texts: Texts, tz: ZoneInfo, broadcaster: Broadcaster
    ) -> EventsFeature:
        """Wire the service and notices on one database, clock and broadcaster."""
        return cls(EventsService(db, clock), EventNotices(db, texts, tz, broadcaster))

    async def tick(self) -> tuple[int, int]:
        """Run due work: reminders and waiting-list settling; return (reminded, promoted)."""
        return await events_tick(self.service, self.notices)
