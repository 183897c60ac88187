"""Store broadcasts durably (one row per recipient) and report on them; the worker sends."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain, islice
from typing import Protocol

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.access import AccessDenied
from bot.clock import Clock
from bot.db import Database
from bot.erasure import personal_data_eraser
from bot.metrics import Metrics
from bot.models import User
from bot.models.members import Member
from bot.models.outbox import OPEN_STATES, Broadcast, BroadcastState, OutboxRow, RowState
from bot.outbox.codec import decode_message, encode_message
from bot.sender import OutgoingMessage

TELEGRAM = "telegram"
ROBOT = "robot"
INSERT_CHUNK = 1000


class OutboxActor(Protocol):
    """Who asks: enough of bot.access.Actor to decide about a broadcast."""

    @property
    def user_id(self) -> int:
        """Return the person's user id."""
        ...

    @property
    def is_admin(self) -> bool:
        """Return whether the person is a provincial admin."""
        ...


class BroadcastDenied(AccessDenied):
    """Only the creator of a broadcast or an admin may act on it."""


class UnknownBroadcast(LookupError):
    """No broadcast has that id."""


@dataclass(frozen=True)
class Recipient:
    """One address on one channel; user_id links Telegram users to users.reachable."""

    channel: str
    address: str
    user_id: int | None = None


@dataclass(frozen=True)
class BroadcastStatus:
    """A broadcast with its row counts by state."""

    id: int
    kind: str
    state: str
    created_by: int | None
    created_at: datetime
    finished_at: datetime | None
    total: int
    skipped: int
    counts: dict[str, int] = field(default_factory=dict)
    rate_limited: int = 0
    rate_limited_seconds: float = 0.0
    progress_chat: int | None = None
    progress_message_id: int | None = None
    ref: str | None = None
    park_ids: tuple[int, ...] = ()
    preview: str = ""

    def count(self, state: RowState) -> int:
        """Return how many rows are in state."""
        return self.counts.get(state.value, 0)

    @property
    def sent(self) -> int:
        """Return how many recipients got the message."""
        return self.count(RowState.SENT)

    @property
    def failed(self) -> int:
        """Return how many sends failed for good."""
        return self.count(RowState.FAILED)

    @property
    def unreachable(self) -> int:
        """Return how many recipients blocked the bot or do not exist."""
        return self.count(RowState.UNREACHABLE)

    @property
    def uncertain(self) -> int:
        """Return how many sends timed out (maybe delivered, not resent)."""
        return self.count(RowState.UNCERTAIN)

    @property
    def cancelled(self) -> int:
        """Return how many recipients were dropped by a cancel."""
        return self.count(RowState.CANCELLED)

    @property
    def remaining(self) -> int:
        """Return how many rows still wait or are being sent."""
        return sum(self.count(s) for s in OPEN_STATES)

    @property
    def finished(self) -> bool:
        """Return whether nothing more will happen to this broadcast."""
        return self.state != BroadcastState.ACTIVE.value


async def audience_for_parks(
    session: AsyncSession, park_ids: Sequence[int] | None
) -> list[Recipient]:
    """Return the approved members of the given parks (every park when park_ids is None)."""
    # The members table is the truth: pending, rejected and withdrawn people get no notices.
    stmt = select(Member.user_id).where(Member.status == "approved")
    if park_ids is not None:
        stmt = stmt.where(Member.park_id.in_(list(park_ids)))
    user_ids = sorted(set((await session.scalars(stmt)).all()))
    return [Recipient(TELEGRAM, str(uid), uid) for uid in user_ids]


@personal_data_eraser
async def erase_deliveries(session: AsyncSession, user_id: int) -> None:
    """Drop the person's outbox rows (their chat id) and unlink broadcasts they started."""
    # A pending row is simply not sent; the broadcast's counts keep the rest honest.
    await session.execute(
        delete(OutboxRow).where(
            or_(
                OutboxRow.user_id == user_id,
                and_(OutboxRow.channel == TELEGRAM, OutboxRow.address == str(user_id)),
            )
        )
    )
    await session.execute(
        update(Broadcast).where(Broadcast.created_by == user_id).values(created_by=None)
    )
    await session.execute(
        update(Broadcast)
        .where(Broadcast.progress_chat == user_id)
        .values(progress_chat=None, progress_message_id=None)
    )


class RobotDirectory(Protocol):
    """Where the outbox finds the group robots of parks (bot.robots.service.RobotsService)."""

    async def robots_for_parks(
        self, park_ids: Iterable[int], kind: str, *, language: str | None = None
    ) -> list[int]:
        """Return ids of working robots of these parks that receive kind (in language)."""
        ...

    async def park_robot_languages(self, park_ids: Iterable[int], kind: str) -> set[str]:
        """Return the languages of the working robots of these parks that receive kind."""
        ...


class Outbox:
    """Create, cancel and inspect broadcasts."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        robots: RobotDirectory | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.robots = robots
        self.metrics = metrics

    async def robot_languages(self, park_ids: Sequence[int], kind: str) -> set[str]:
        """Return the languages a broadcast of kind to park_ids needs for its parks' robots."""
        if self.robots is None or not park_ids:
            return set()
        return await self.robots.park_robot_languages(park_ids, kind)

    async def robot_recipients(
        self, park_ids: Sequence[int], kind: str, lang: str | None = None
    ) -> list[Recipient]:
        """Return the robots of park_ids that receive kind (only those reading lang if given)."""
        if self.robots is None or not park_ids:
            return []
        ids = await self.robots.robots_for_parks(park_ids, kind, language=lang)
        return [Recipient(ROBOT, str(robot_id)) for robot_id in ids]

    async def create_broadcast(
        self,
        *,
        kind: str,
        created_by: int | None,
        message: OutgoingMessage,
        recipients: Iterable[Recipient],
        park_ids: Sequence[int] = (),
        progress_chat: int | None = None,
        ref: str | None = None,
        lang: str | None = None,
        robots: bool = True,
    ) -> int:
        """Store the broadcast and one pending row per reachable recipient; return its id.

        Unless robots is False, the group robots of park_ids that take message.kind are added
        as recipients of the same broadcast (when lang is given, only robots reading lang: a
        feature sending one broadcast per language reaches each robot once).
        """
        now = self.clock.now()
        if robots:
            extra = await self.robot_recipients(park_ids, message.kind, lang)
            recipients = chain(recipients, extra)
        seen: set[tuple[str, str]] = set()
        total = skipped = 0
        queued: Counter[str] = Counter()
        async with self.db.session() as s:
            broadcast = Broadcast(
                kind=kind,
                state=BroadcastState.ACTIVE.value,
                created_by=created_by,
                message=encode_message(message),
                park_ids=list(park_ids),
                ref=ref,
                total=0,
                skipped=0,
                rate_limited=0,
                rate_limited_seconds=0.0,
                progress_chat=progress_chat,
                created_at=now,
            )
            s.add(broadcast)
            await s.flush()
            it = iter(recipients)
            # Chunks keep one statement and one lookup of blocked users per thousand recipients.
            while chunk := list(islice(it, INSERT_CHUNK)):
                fresh = []
                for r in chunk:
                    if (r.channel, r.address) not in seen:
                        seen.add((r.channel, r.address))
                        fresh.append(r)
                blocked = await _unreachable_users(s, fresh)
                rows = []
                for r in fresh:
                    if r.channel == TELEGRAM and r.user_id in blocked:
                        skipped += 1
                        continue
                    queued[r.channel] += 1
                    rows.append(
                        {
                            "broadcast_id": broadcast.id,
                            "channel": r.channel,
                            "address": r.address,
                            "user_id": r.user_id,
                            "state": RowState.PENDING.value,
                            "attempts": 0,
                            "next_attempt_at": now,
                            "updated_at": now,
                        }
                    )
                if rows:
                    await s.execute(insert(OutboxRow), rows)
                total += len(rows)
            broadcast.total = total
            broadcast.skipped = skipped
            if total == 0:
                broadcast.state = BroadcastState.DONE.value
                broadcast.finished_at = now
            broadcast_id = broadcast.id
        if self.metrics is not None:
            for channel, count in queued.items():
                self.metrics.outbox("queued", channel=channel, count=count)
        return broadcast_id

    async def cancel(self, broadcast_id: int, actor: OutboxActor) -> bool:
        """Cancel every row not yet handed to the network; return False if already finished."""
        now = self.clock.now()
        async with self.db.session() as s:
            broadcast = await s.get(Broadcast, broadcast_id)
            if broadcast is None:
                raise UnknownBroadcast(broadcast_id)
            if not (actor.is_admin or broadcast.created_by == actor.user_id):
                raise BroadcastDenied(f"broadcast {broadcast_id} is not yours")
            if broadcast.state != BroadcastState.ACTIVE.value:
                return False
            # Rows already `sending` are on the wire; the worker records how they end.
            await s.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.broadcast_id == broadcast_id,
                    OutboxRow.state.in_([RowState.PENDING.value, RowState.CLAIMED.value]),
                )
                .values(state=RowState.CANCELLED.value, owner=None, updated_at=now)
            )
            broadcast.state = BroadcastState.CANCELLED.value
            broadcast.finished_at = now
        return True

    async def status(self, broadcast_id: int) -> BroadcastStatus:
        """Return the broadcast with its counts by state."""
        async with self.db.session() as s:
            broadcast = await s.get(Broadcast, broadcast_id)
            if broadcast is None:
                raise UnknownBroadcast(broadcast_id)
            counts = await _counts(s, [broadcast_id])
        return _status(broadcast, counts.get(broadcast_id, {}))

    async def recent(self, actor: OutboxActor, limit: int = 10) -> list[BroadcastStatus]:
        """Return the newest broadcasts the actor may see (admins: all; others: their own)."""
        stmt = select(Broadcast).order_by(Broadcast.id.desc()).limit(limit)
        if not actor.is_admin:
            stmt = stmt.where(Broadcast.created_by == actor.user_id)
        async with self.db.session() as s:
            broadcasts = list((await s.scalars(stmt)).all())
            counts = await _counts(s, [b.id for b in broadcasts])
        return [_status(b, counts.get(b.id, {})) for b in broadcasts]

    async def message(self, broadcast_id: int) -> OutgoingMessage:
        """Return the message a broadcast sends."""
        async with self.db.session() as s:
            data = await s.scalar(select(Broadcast.message).where(Broadcast.id == broadcast_id))
        if data is None:
            raise UnknownBroadcast(broadcast_id)
        return decode_message(data)

    async def set_progress_message(self, broadcast_id: int, message_id: int) -> None:
        """Remember which message shows the broadcast's progress (edited in place)."""
        async with self.db.session() as s:
            await s.execute(
                update(Broadcast)
                .where(Broadcast.id == broadcast_id)
                .values(progress_message_id=message_id)
            )


async def _unreachable_users(session: AsyncSession, recipients: Sequence[Recipient]) -> set[int]:
    ids = {r.user_id for r in recipients if r.channel == TELEGRAM and r.user_id is not None}
    if not ids:
        return set()
    found = await session.scalars(
        select(User.id).where(User.id.in_(ids), User.reachable.is_(False))
    )
    return set(found.all())


async def _counts(session: AsyncSession, ids: Sequence[int]) -> dict[int, dict[str, int]]:
    if not ids:
        return {}
    rows = await session.execute(
        select(OutboxRow.broadcast_id, OutboxRow.state, func.count())
        .where(OutboxRow.broadcast_id.in_(list(ids)))
        .group_by(OutboxRow.broadcast_id, OutboxRow.state)
    )
    out: dict[int, dict[str, int]] = {}
    for broadcast_id, state, n in rows.all():
        out.setdefault(broadcast_id, {})[state] = n
    return out


def _status(b: Broadcast, counts: dict[str, int]) -> BroadcastStatus:
    return BroadcastStatus(
        id=b.id,
        kind=b.kind,
        state=b.state,
        created_by=b.created_by,
        created_at=b.created_at,
        finished_at=b.finished_at,
        total=b.total,
        skipped=b.skipped,
        counts=counts,
        rate_limited=b.rate_limited,
        rate_limited_seconds=b.rate_limited_seconds,
        progress_chat=b.progress_chat,
        progress_message_id=b.progress_message_id,
        ref=b.ref,
        park_ids=tuple(b.park_ids or ()),
        preview=str(b.message.get("text", ""))[:40],
    )


async def status_of(session: AsyncSession, broadcast_id: int) -> BroadcastStatus | None:
    """Return the status of broadcast_id read through an open session (None if unknown)."""
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        return None
    counts = await _counts(session, [broadcast_id])
    return _status(broadcast, counts.get(broadcast_id, {}))
