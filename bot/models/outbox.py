"""Outbox tables: one broadcast, one row per recipient, each row a small state machine."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, utcnow


class RowState(StrEnum):
    """Where one recipient's delivery stands.

    pending → claimed(owner, lease) → sending → sent | failed | unreachable | uncertain;
    pending/claimed → cancelled. `sending` is committed right before the network call, so a row
    found in `sending` after a crash may or may not have been delivered: it becomes uncertain
    and is never resent. A `claimed` row was never handed to the network: it goes back to pending.
    """

    PENDING = "pending"
    CLAIMED = "claimed"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    UNCERTAIN = "uncertain"
    CANCELLED = "cancelled"


OPEN_STATES = (RowState.PENDING, RowState.CLAIMED, RowState.SENDING)


class BroadcastState(StrEnum):
    """Whether a broadcast still has work."""

    ACTIVE = "active"
    DONE = "done"
    CANCELLED = "cancelled"


class Broadcast(Base):
    """One message sent to many recipients, with who asked for it and how it went."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default=BroadcastState.ACTIVE.value)
    created_by: Mapped[int | None] = mapped_column(BigInteger, index=True)
    message: Mapped[dict[str, object]] = mapped_column(JSON)
    park_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    ref: Mapped[str | None] = mapped_column(String(128), index=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    rate_limited: Mapped[int] = mapped_column(Integer, default=0)
    rate_limited_seconds: Mapped[float] = mapped_column(default=0.0)
    progress_chat: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxRow(Base):
    """One recipient of one broadcast."""

    __tablename__ = "outbox"
    __table_args__ = (
        # A person listed twice in an audience still gets the message once.
        UniqueConstraint("broadcast_id", "channel", "address"),
        # The claim query: due pending rows in order.
        Index("ix_outbox_state_next_attempt_at_id", "state", "next_attempt_at", "id"),
        Index("ix_outbox_broadcast_id_state", "broadcast_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(256))
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), default=RowState.PENDING.value)
    owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
