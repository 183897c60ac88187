"""Events and RSVPs: create, edit, cancel with scope checks; sign-up with capacity and a
waiting list; reminder slots due; attendee lists. Telegram-free."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.access import Actor
from bot.clock import Clock
from bot.db import Database
from bot.models.core import User
from bot.models.events import Event, EventPark, EventReminder, Rsvp
from bot.models.members import Member


class EventKind(StrEnum):
    """The notice's kinds of activity."""

    ACADEMIC = "academic"  # 学术交流
    TRAINING = "training"  # 培训
    SCIENCE = "science"  # 科普
    OTHER = "other"  # 其他


class RsvpStatus(StrEnum):
    """Where a member stands for an event."""

    GOING = "going"
    WAITING = "waiting"
    NONE = "none"


# (slot, how long before the start it falls due); the latest due slot wins after downtime.
REMINDER_SLOTS: tuple[tuple[str, timedelta], ...] = (
    ("24h", timedelta(hours=24)),
    ("1h", timedelta(hours=1)),
)
TITLE_MAX = 200
PLACE_MAX = 300
DESCRIPTION_MAX = 2000


class EventError(Exception):
    """A request about an event cannot be done; `code` names the text key events.error.<code>."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class EventDraft:
    """What an organiser fills in before publishing."""

    title: str
    kind: EventKind
    starts_at: datetime
    ends_at: datetime
    place: str
    description: str = ""
    capacity: int | None = None
    signup_deadline: datetime | None = None
    park_ids: tuple[int, ...] = ()
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventView:
    """A snapshot of an event with its current counts."""

    id: int
    organiser_id: int
    title: str
    kind: EventKind
    starts_at: datetime
    ends_at: datetime
    place: str
    description: str
    capacity: int | None
    signup_deadline: datetime | None
    park_ids: tuple[int, ...]
    fields: tuple[str, ...]
    cancelled: bool
    sequence: int
    updated_at: datetime
    going: int = 0
    waiting: int = 0

    @property
    def places_left(self) -> int | None:
        """Return the free places, or None when there is no limit."""
        return None if self.capacity is None else max(0, self.capacity - self.going)

    def signup_open(self, now: datetime) -> bool:
        """Return whether sign-up is still accepted at now."""
        if self.cancelled or now >= self.starts_at:
            return False
        return self.signup_deadline is None or now <= self.signup_deadline


@dataclass(frozen=True)
class RsvpOutcome:
    """The result of a sign-up request."""

    status: RsvpStatus
    already: bool
    event: EventView
    position: int = 0  # place in the waiting list, 1-based


@dataclass(frozen=True)
class WithdrawOutcome:
    """The result of a cancelled sign-up; promoted is the member who got the freed place."""

    was: RsvpStatus
    event: EventView
    promoted: tuple[int, ...] = ()


@dataclass(frozen=True)
class ChangeOutcome:
    """An edited or cancelled event and whom to tell (signed up and waiting)."""

    event: EventView
    notify: tuple[int, ...]
    promoted: tuple[int, ...] = ()
    changed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Attendee:
    """One row of the attendee list."""

    user_id: int
    name: str
    status: RsvpStatus
    signed_up_at: datetime


@dataclass(frozen=True)
class ReminderBatch:
    """Reminders claimed for one event and slot: the rows exist, the sends are owed."""

    event: EventView
    slot: str
    user_ids: tuple[int, ...]


@dataclass(frozen=True)
class Promotion:
    """Members given a place when one freed up outside a cancellation (erasure, capacity)."""

    event: EventView
    user_ids: tuple[int, ...] = field(default_factory=tuple)


EDITABLE = (
    "title",
    "kind",
    "starts_at",
    "ends_at",
    "place",
    "description",
    "capacity",
    "signup_deadline",
)


def validate_draft(draft: EventDraft, now: datetime) -> None:
    """Raise EventError unless draft could be published at now."""
    if not draft.title.strip() or len(draft.title) > TITLE_MAX:
        raise EventError("title_invalid")
    if not draft.place.strip() or len(draft.place) > PLACE_MAX:
        raise EventError("place_invalid")
    if len(draft.description) > DESCRIPTION_MAX:
        raise EventError("description_too_long")
    if draft.starts_at <= now:
        raise EventError("start_in_past")
    if draft.ends_at <= draft.starts_at:
        raise EventError("end_before_start")
    if draft.capacity is not None and draft.capacity < 1:
        raise EventError("capacity_invalid")
    if draft.signup_deadline is not None:
        if draft.signup_deadline <= now:
            raise EventError("deadline_in_past")
        if draft.signup_deadline > draft.starts_at:
            raise EventError("deadline_after_start")
    if not draft.park_ids:
        raise EventError("no_parks")


class EventsService:
    """Every event operation; each one that acts for a person takes their Actor."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    # -- organiser side ------------------------------------------------------------------

    async def create(self, actor: Actor, draft: EventDraft) -> EventView:
        """Publish draft for its parks; the actor must be secretary (or admin) of each."""
        for park_id in draft.park_ids:
            actor.require_secretary(park_id)
        now = self.clock.now()
        validate_draft(draft, now)
        async with self.db.session() as s:
            row = Event(
                organiser_id=actor.user_id,
                title=draft.title.strip(),
                kind=str(draft.kind),
                starts_at=draft.starts_at,
                ends_at=draft.ends_at,
                place=draft.place.strip(),
                description=draft.description.strip(),
                capacity=draft.capacity,
                signup_deadline=draft.signup_deadline,
                fields=list(draft.fields),
                status="published",
                sequence=0,
                created_at=now,
                updated_at=now,
            )
            s.add(row)
            await s.flush()
            for park_id in sorted(set(draft.park_ids)):
                s.add(EventPark(event_id=row.id, park_id=park_id))
            await s.flush()
            return await self._view(s, row)

    async def edit(self, actor: Actor, event_id: int, **changes: object) -> ChangeOutcome:
        """Change an upcoming event; bump SEQUENCE, promote into new places, say whom to tell."""
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        now = self.clock.now()
        async with self.db.session() as s:
            row = await self._lock(s, event_id)
            parks = await self._park_ids(s, event_id)
            self._require_organiser(actor, parks)
            if row.status == "cancelled":
                raise EventError("cancelled")
            if row.starts_at <= now:
                raise EventError("started")
            before = await self._view(s, row)
            draft = EventDraft(
                title=row.title,
                kind=EventKind(row.kind),
                starts_at=row.starts_at,
                ends_at=row.ends_at,
                place=row.place,
                description=row.description,
                capacity=row.capacity,
                signup_deadline=row.signup_deadline,
                park_ids=parks,
                fields=tuple(row.fields or ()),
            )
            edited = replace(draft, **changes)  # type: ignore[arg-type]
            changed = tuple(k for k in EDITABLE if getattr(edited, k) != getattr(draft, k))
            if not changed:
                return ChangeOutcome(before, ())
            validate_draft(edited, now)
            if edited.capacity is not None and edited.capacity < before.going:
                raise EventError("capacity_below_going")
            for name in changed:
                value = getattr(edited, name)
                setattr(row, name, str(value) if name == "kind" else value)
            row.sequence += 1
            row.updated_at = now
            if "starts_at" in changed:
                # Reminders sent for the old time say nothing about the new one: owe them again.
                await s.execute(delete(EventReminder).where(EventReminder.event_id == event_id))
            promoted = await self._promote(s, row, now)
            notify = await self._signed_up(s, event_id)
            return ChangeOutcome(await self._view(s, row), notify, promoted, changed)

    async def cancel(self, actor: Actor, event_id: int) -> ChangeOutcome:
        """Cancel an event; everyone signed up or waiting is to be told."""
        now = self.clock.now()
        async with self.db.session() as s:
            row = await self._lock(s, event_id)
            self._require_organiser(actor, await self._park_ids(s, event_id))
            if row.status == "cancelled":
                raise EventError("cancelled")
            row.status = "cancelled"
            row.sequence += 1
            row.updated_at = now
            notify = await self._signed_up(s, event_id)
            return ChangeOutcome(await self._view(s, row), notify, (), ("status",))

    async def attendees(self, actor: Actor, event_id: int) -> tuple[EventView, list[Attendee]]:
        """Return the event and its sign-ups, going first, each in sign-up order."""
        async with self.db.session() as s:
            row = await self._get(s, event_id)
            self._require_organiser(actor, await self._park_ids(s, event_id))
            result = await s.execute(
                # The registered name is the one the secretary knows; Telegram's is a fallback.
                select(Rsvp, func.coalesce(Member.name, User.name))
                .outerjoin(User, User.id == Rsvp.user_id)
                .outerjoin(Member, Member.user_id == Rsvp.user_id)
                .where(Rsvp.event_id == event_id)
                .order_by(Rsvp.status, Rsvp.id)
            )
            people = [
                Attendee(r.user_id, name or "", RsvpStatus(r.status), r.created_at)
                for r, name in result.all()
            ]
            people.sort(key=lambda a: a.status != RsvpStatus.GOING)
            return await self._view(s, row), people

    async def organised_by(self, actor: Actor) -> list[EventView]:
        """Return upcoming events the actor may manage (admin: all)."""
        now = self.clock.now()
        async with self.db.session() as s:
            query = select(Event).where(Event.ends_at > now).order_by(Event.starts_at)
            rows = list(await s.scalars(query))
            views = [await self._view(s, r) for r in rows]
        if actor.is_admin:
            return views
        return [v for v in views if set(v.park_ids) <= actor.secretary_park_ids]

    # -- member side ---------------------------------------------------------------------

    async def get(self, event_id: int) -> EventView:
        """Return the event with its current counts, or raise EventError("not_found")."""
        async with self.db.session() as s:
            return await self._view(s, await self._get(s, event_id))

    async def status_of(self, user_id: int, event_id: int) -> RsvpStatus:
        """Return where user_id stands for event_id."""
        async with self.db.session() as s:
            status = await s.scalar(
                select(Rsvp.status).where(Rsvp.event_id == event_id, Rsvp.user_id == user_id)
            )
        return RsvpStatus(status) if status else RsvpStatus.NONE

    async def rsvp(self, actor: Actor, event_id: int) -> RsvpOutcome:
        """Sign the actor up: a place while there is one, else the waiting list."""
        now = self.clock.now()
        async with self.db.session() as s:
            row = await self._lock(s, event_id)
            self._require_audience(actor, await self._park_ids(s, event_id))
            existing = await s.scalar(
                select(Rsvp).where(Rsvp.event_id == event_id, Rsvp.user_id == actor.user_id)
            )
            if existing is not None:
                view = await self._view(s, row)
                status = RsvpStatus(existing.status)
                return RsvpOutcome(status, True, view, await self._position(s, existing))
            if row.status == "cancelled":
                raise EventError("cancelled")
            if now >= row.starts_at:
                raise EventError("started")
            if row.signup_deadline is not None and now > row.signup_deadline:
                raise EventError("deadline_passed")
            going = await self._count(s, event_id, RsvpStatus.GOING)
            waiting = await self._count(s, event_id, RsvpStatus.WAITING)
            # Nobody jumps the queue: with people waiting, a newcomer waits too.
            has_place = row.capacity is None or (going < row.capacity and waiting == 0)
            rsvp = Rsvp(
                event_id=event_id,
                user_id=actor.user_id,
                status=RsvpStatus.GOING if has_place else RsvpStatus.WAITING,
                created_at=now,
                confirmed_at=now if has_place else None,
            )
            s.add(rsvp)
            await s.flush()
            return RsvpOutcome(
                RsvpStatus(rsvp.status),
                False,
                await self._view(s, row),
                await self._position(s, rsvp),
            )

    async def withdraw(self, actor: Actor, event_id: int) -> WithdrawOutcome:
        """Cancel the actor's sign-up; a freed place goes to the first member waiting."""
        now = self.clock.now()
        async with self.db.session() as s:
            row = await self._lock(s, event_id)
            existing = await s.scalar(
                select(Rsvp).where(Rsvp.event_id == event_id, Rsvp.user_id == actor.user_id)
            )
            if existing is None:
                return WithdrawOutcome(RsvpStatus.NONE, await self._view(s, row))
            if row.status != "cancelled" and now >= row.starts_at:
                raise EventError("started")
            was = RsvpStatus(existing.status)
            await s.delete(existing)
            await s.flush()
            promoted = await self._promote(s, row, now)
            return WithdrawOutcome(was, await self._view(s, row), promoted)

    async def upcoming_for(self, actor: Actor) -> list[tuple[EventView, RsvpStatus]]:
        """Return events not yet over for the actor's parks (admin: all), with their status."""
        now = self.clock.now()
        parks = actor.member_park_ids | actor.secretary_park_ids
        async with self.db.session() as s:
            query = select(Event).where(Event.ends_at > now, Event.status == "published")
            if not actor.is_admin:
                query = query.where(
                    Event.id.in_(select(EventPark.event_id).where(EventPark.park_id.in_(parks)))
                )
            rows = list(await s.scalars(query.order_by(Event.starts_at, Event.id)))
            statuses = dict(
                (
                    await s.execute(
                        select(Rsvp.event_id, Rsvp.status).where(
                            Rsvp.user_id == actor.user_id, Rsvp.event_id.in_([r.id for r in rows])
                        )
                    )
                ).all()
            )
            return [
                (await self._view(s, r), RsvpStatus(statuses.get(r.id, RsvpStatus.NONE)))
                for r in rows
            ]

    # -- due work ------------------------------------------------------------------------

    async def claim_due_reminders(self) -> list[ReminderBatch]:
        """Claim (insert) the reminder rows due now and return them; each row is claimed once.

        A slot is due from (start - offset) until the next slot or the start; after downtime
        only the latest due slot is sent, and never once the event has started.
        """
        now = self.clock.now()
        horizon = now + max(offset for _, offset in REMINDER_SLOTS)
        batches: list[ReminderBatch] = []
        async with self.db.session() as s:
            events = list(
                await s.scalars(
                    select(Event)
                    .where(
                        Event.status == "published",
                        Event.starts_at > now,
                        Event.starts_at <= horizon,
                    )
                    .order_by(Event.starts_at, Event.id)
                )
            )
            for row in events:
                slot, due_at = _current_slot(row.starts_at, now)
                claimed = select(EventReminder.user_id).where(
                    EventReminder.event_id == row.id, EventReminder.slot == slot
                )
                users = list(
                    await s.scalars(
                        select(Rsvp.user_id)
                        .where(
                            Rsvp.event_id == row.id,
                            Rsvp.status == RsvpStatus.GOING,
                            Rsvp.confirmed_at <= due_at,
                            Rsvp.user_id.not_in(claimed),
                        )
                        .order_by(Rsvp.id)
                    )
                )
                if not users:
                    continue
                for user_id in users:
                    s.add(
                        EventReminder(event_id=row.id, slot=slot, user_id=user_id, claimed_at=now)
                    )
                try:
                    async with s.begin_nested():
                        await s.flush()
                except IntegrityError:
                    # Another clock claimed them first (only one should run); theirs to send.
                    continue
                batches.append(ReminderBatch(await self._view(s, row), slot, tuple(users)))
        return batches

    async def settle_waiting_lists(self) -> list[Promotion]:
        """Give free places to waiting members (after an erasure freed one); return who moved."""
        now = self.clock.now()
        found: list[Promotion] = []
        async with self.db.session() as s:
            going = (
                select(func.count())
                .where(Rsvp.event_id == Event.id, Rsvp.status == RsvpStatus.GOING)
                .scalar_subquery()
            )
            waiting = select(Rsvp.event_id).where(Rsvp.status == RsvpStatus.WAITING)
            ids = list(
                await s.scalars(
                    select(Event.id).where(
                        Event.status == "published",
                        Event.starts_at > now,
                        Event.id.in_(waiting),
                        (Event.capacity.is_(None)) | (going < Event.capacity),
                    )
                )
            )
            for event_id in ids:
                row = await self._lock(s, event_id)
                promoted = await self._promote(s, row, now)
                if promoted:
                    found.append(Promotion(await self._view(s, row), promoted))
        return found

    # -- internals -----------------------------------------------------------------------

    async def _get(self, s: AsyncSession, event_id: int) -> Event:
        row = await s.get(Event, event_id)
        if row is None:
            raise EventError("not_found")
        return row

    async def _lock(self, s: AsyncSession, event_id: int) -> Event:
        if self.db.is_sqlite:
            # SQLite has no row locks: a write first takes the database's write lock, so two
            # sign-ups cannot both read "one place left" (FOR UPDATE is dropped on SQLite).
            await s.execute(update(Event).where(Event.id == event_id).values(id=Event.id))
        row = await s.scalar(
            select(Event)
            .where(Event.id == event_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if row is None:
            raise EventError("not_found")
        return row

    async def _park_ids(self, s: AsyncSession, event_id: int) -> tuple[int, ...]:
        rows = await s.scalars(
            select(EventPark.park_id)
            .where(EventPark.event_id == event_id)
            .order_by(EventPark.park_id)
        )
        return tuple(rows)

    async def _count(self, s: AsyncSession, event_id: int, status: RsvpStatus) -> int:
        return int(
            await s.scalar(
                select(func.count()).where(Rsvp.event_id == event_id, Rsvp.status == status)
            )
            or 0
        )

    async def _position(self, s: AsyncSession, rsvp: Rsvp) -> int:
        if rsvp.status != RsvpStatus.WAITING:
            return 0
        ahead = await s.scalar(
            select(func.count()).where(
                Rsvp.event_id == rsvp.event_id,
                Rsvp.status == RsvpStatus.WAITING,
                Rsvp.id < rsvp.id,
            )
        )
        return int(ahead or 0) + 1

    async def _promote(self, s: AsyncSession, row: Event, now: datetime) -> tuple[int, ...]:
        if row.status == "cancelled" or now >= row.starts_at:
            return ()
        query = (
            select(Rsvp)
            .where(Rsvp.event_id == row.id, Rsvp.status == RsvpStatus.WAITING)
            .order_by(Rsvp.id)
        )
        if row.capacity is not None:
            free = row.capacity - await self._count(s, row.id, RsvpStatus.GOING)
            if free <= 0:
                return ()
            query = query.limit(free)
        promoted = list(await s.scalars(query))
        for rsvp in promoted:
            rsvp.status = RsvpStatus.GOING
            rsvp.confirmed_at = now
        await s.flush()
        return tuple(r.user_id for r in promoted)

    async def _signed_up(self, s: AsyncSession, event_id: int) -> tuple[int, ...]:
        rows = await s.scalars(
            select(Rsvp.user_id).where(Rsvp.event_id == event_id).order_by(Rsvp.id)
        )
        return tuple(rows)

    async def _view(self, s: AsyncSession, row: Event) -> EventView:
        return EventView(
            id=row.id,
            organiser_id=row.organiser_id,
            title=row.title,
            kind=EventKind(row.kind),
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            place=row.place,
            description=row.description,
            capacity=row.capacity,
            signup_deadline=row.signup_deadline,
            park_ids=await self._park_ids(s, row.id),
            fields=tuple(row.fields or ()),
            cancelled=row.status == "cancelled",
            sequence=row.sequence,
            updated_at=row.updated_at,
            going=await self._count(s, row.id, RsvpStatus.GOING),
            waiting=await self._count(s, row.id, RsvpStatus.WAITING),
        )

    @staticmethod
    def _require_organiser(actor: Actor, park_ids: Iterable[int]) -> None:
        for park_id in park_ids:
            actor.require_secretary(park_id)

    @staticmethod
    def _require_audience(actor: Actor, park_ids: Sequence[int]) -> None:
        if actor.is_admin:
            return
        if not set(park_ids) & (actor.member_park_ids | actor.secretary_park_ids):
            raise EventError("not_in_audience")


def _current_slot(starts_at: datetime, now: datetime) -> tuple[str, datetime]:
    """Return the latest reminder slot due at now for an event starting at starts_at."""
    chosen = REMINDER_SLOTS[0]
    for slot, offset in REMINDER_SLOTS:
        if now >= starts_at - offset:
            chosen = (slot, offset)
    return chosen[0], starts_at - chosen[1]
