"""Tell people about events: the announcement, changes, promotions and reminders.

Delivery goes through a Broadcaster: the outbox (paced, retried, exactly once per recipient);
tests may record instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.db import Database
from bot.events.audience import event_audience
from bot.events.render import event_message
from bot.events.service import ChangeOutcome, EventsService, EventView, ReminderBatch
from bot.models.core import User
from bot.outbox.service import TELEGRAM, Outbox, Recipient
from bot.sender import OutgoingMessage
from bot.texts import DEFAULT_LANGUAGE, Texts


class Broadcaster(Protocol):
    """Hand one message to many Telegram users (and, for park-wide news, the parks' robots)."""

    async def broadcast(
        self,
        *,
        kind: str,
        created_by: int,
        message: OutgoingMessage,
        user_ids: Sequence[int],
        park_ids: Sequence[int],
        lang: str | None = None,
        robots: bool = False,
    ) -> None:
        """Queue or send message to every user id (and the robots of park_ids reading lang)."""
        ...

    async def robot_languages(self, park_ids: Sequence[int], kind: str) -> set[str]:
        """Return the languages of the robots of park_ids that receive kind."""
        ...


@dataclass
class OutboxBroadcaster:
    """Queue each notice as an outbox broadcast (kind "event"): paced, retried, once per user."""

    outbox: Outbox

    async def broadcast(
        self,
        *,
        kind: str,
        created_by: int,
        message: OutgoingMessage,
        user_ids: Sequence[int],
        park_ids: Sequence[int],
        lang: str | None = None,
        robots: bool = False,
    ) -> None:
        """Store the broadcast and one row per user; the outbox worker delivers them."""
        if not user_ids and not robots:
            return
        await self.outbox.create_broadcast(
            kind=kind,
            created_by=created_by,
            message=message,
            recipients=[Recipient(TELEGRAM, str(uid), uid) for uid in user_ids],
            park_ids=park_ids,
            lang=lang,
            robots=robots,
        )

    async def robot_languages(self, park_ids: Sequence[int], kind: str) -> set[str]:
        """Return the languages of the robots of park_ids that receive kind."""
        return await self.outbox.robot_languages(park_ids, kind)


@dataclass
class EventNotices:
    """Compose event messages in each recipient's language and hand them to the broadcaster."""

    db: Database
    texts: Texts
    tz: ZoneInfo
    broadcaster: Broadcaster

    async def announce(self, event: EventView, created_by: int) -> int:
        """Send the new event to its audience; return how many people it went to."""
        async with self.db.session() as s:
            audience = await event_audience(s, event.park_ids, event.fields)
        await self._send(event, audience, created_by, "events.notice.new", robots=True)
        return len(audience)

    async def changed(self, outcome: ChangeOutcome, by: int) -> None:
        """Tell everyone signed up or waiting what changed (with the updated .ics)."""
        event = outcome.event
        if event.cancelled:
            await self._send(
                event,
                outcome.notify,
                by,
                "events.notice.cancelled",
                robots=True,
                title=event.title,
            )
        elif outcome.changed:
            by_lang = await self._languages(outcome.notify, event.park_ids)
            for lang, users in by_lang.items():
                sep = self.texts.get("events.field.separator", lang)
                changes = sep.join(
                    self.texts.get(f"events.field.{f}", lang) for f in outcome.changed
                )
                message = event_message(
                    event,
                    self.texts,
                    lang,
                    self.tz,
                    lead_key="events.notice.changed",
                    changes=changes,
                )
                await self.broadcaster.broadcast(
                    kind="event",
                    created_by=by,
                    message=message,
                    user_ids=users,
                    park_ids=event.park_ids,
                    lang=lang,
                    robots=True,
                )
        if outcome.promoted:
            await self.promoted(event, outcome.promoted)

    async def promoted(self, event: EventView, user_ids: Sequence[int]) -> None:
        """Tell members moved from the waiting list that they have a place."""
        await self._send(
            event, user_ids, event.organiser_id, "events.notice.promoted", title=event.title
        )

    async def remind(self, batch: ReminderBatch) -> None:
        """Send one claimed reminder batch."""
        await self._send(
            batch.event, batch.user_ids, batch.event.organiser_id, f"events.reminder.{batch.slot}"
        )

    async def _send(
        self,
        event: EventView,
        user_ids: Sequence[int],
        by: int,
        lead_key: str,
        *,
        robots: bool = False,
        **values: object,
    ) -> None:
        """Send one broadcast per language; park-wide news (robots) also to the parks' robots."""
        by_lang = await self._languages(user_ids, event.park_ids if robots else ())
        for lang, users in by_lang.items():
            message = event_message(event, self.texts, lang, self.tz, lead_key=lead_key, **values)
            await self.broadcaster.broadcast(
                kind="event",
                created_by=by,
                message=message,
                user_ids=users,
                park_ids=event.park_ids,
                lang=lang,
                robots=robots,
            )

    async def _languages(
        self, user_ids: Sequence[int], robot_parks: Sequence[int] = ()
    ) -> dict[str, list[int]]:
        """Group user_ids by language, adding (empty) languages the parks' robots read."""
        groups: dict[str, list[int]] = defaultdict(list)
        if robot_parks:
            for lang in sorted(await self.broadcaster.robot_languages(robot_parks, "event")):
                groups[lang] = []
        if not user_ids:
            return dict(groups)
        async with self.db.session() as s:
            known = dict(
                (
                    await s.execute(select(User.id, User.language).where(User.id.in_(user_ids)))
                ).all()
            )
        for user_id in user_ids:
            groups[known.get(user_id) or DEFAULT_LANGUAGE].append(user_id)
        return dict(groups)


async def events_tick(service: EventsService, notices: EventNotices) -> tuple[int, int]:
    """Run the events' due work: claim and send reminders, settle waiting lists.

    Returns (reminders sent, members promoted). Everything is derived from the database, so a
    tick after downtime catches up; the claim rows make each reminder go out once.
    """
    reminders = 0
    for batch in await service.claim_due_reminders():
        await notices.remind(batch)
        reminders += len(batch.user_ids)
    promoted = 0
    for promotion in await service.settle_waiting_lists():
        await notices.promoted(promotion.event, promotion.user_ids)
        promoted += len(promotion.user_ids)
    return reminders, promoted
