"""Operations tables: the last handler errors, for `parkbot status`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, utcnow


class OpsError(Base):
    """One handler error (a ring buffer: only the newest few are kept). No personal data."""

    __tablename__ = "ops_errors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    update_id: Mapped[int | None] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str] = mapped_column(String(128))
    location: Mapped[str] = mapped_column(String(256), default="")
    detail: Mapped[str] = mapped_column(String(256), default="")
