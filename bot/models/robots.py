"""Group robots of WeCom, DingTalk and Feishu attached to a park or a city."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, utcnow

ROBOT_KINDS = ("wecom", "dingtalk", "feishu")
MESSAGE_KINDS = ("notice", "event", "campaign", "report")


class Robot(Base):
    """A custom group robot: its webhook, how to sign, what it receives, whether it works."""

    __tablename__ = "robots"
    __table_args__ = (
        # A robot belongs to exactly one park or one city: that is what scopes who may manage it.
        CheckConstraint("(park_id IS NULL) <> (city_id IS NULL)", name="park_xor_city"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(String(1024))
    secret: Mapped[str | None] = mapped_column(String(256))
    keyword: Mapped[str | None] = mapped_column(String(64))
    kinds: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(MESSAGE_KINDS))
    language: Mapped[str] = mapped_column(String(8), default="zh")
    park_id: Mapped[int | None] = mapped_column(
        ForeignKey("parks.id", ondelete="CASCADE"), index=True
    )
    city_id: Mapped[int | None] = mapped_column(
        ForeignKey("cities.id", ondelete="CASCADE"), index=True
    )
    broken: Mapped[bool] = mapped_column(Boolean, default=False)
    broken_reason: Mapped[str] = mapped_column(String(256), default="")
    broken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    broken_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
