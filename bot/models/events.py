"""Event tables: events, the parks they are for, RSVPs and sent reminders."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, utcnow


class Event(Base):
    """An activity announced to the members of one or more parks."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organiser_id: Mapped[int] = mapped_column(BigInteger, index=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # academic | training | science | other
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    signup_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)  # audience fields of work
    status: Mapped[str] = mapped_column(String(16), default="published")  # | cancelled
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # iCalendar SEQUENCE
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventPark(Base):
    """One park whose members an event is for."""

    __tablename__ = "event_parks"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    park_id: Mapped[int] = mapped_column(
        ForeignKey("parks.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Rsvp(Base):
    """A member's sign-up: going, or waiting for a place (first come, first promoted)."""

    __tablename__ = "event_rsvps"
    __table_args__ = (UniqueConstraint("event_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    status: Mapped[str] = mapped_column(String(16))  # going | waiting
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the member got a place; a reminder slot that fell due before it is not owed to them.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EventReminder(Base):
    """A reminder claimed for one member and one slot; the row is written before the send."""

    __tablename__ = "event_reminders"
    __table_args__ = (UniqueConstraint("event_id", "slot", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    slot: Mapped[str] = mapped_column(String(8))  # 24h | 1h
    user_id: Mapped[int] = mapped_column(BigInteger)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
