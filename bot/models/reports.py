"""Quarterly-report tables: submissions, uploads, one row per reminder send, nudges, notices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, utcnow


class ReportSubmission(Base):
    """A city's report for a quarter has been sent (button, upload or recorded by an admin)."""

    __tablename__ = "report_submissions"
    __table_args__ = (UniqueConstraint("city_id", "quarter"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id", ondelete="CASCADE"))
    quarter: Mapped[str] = mapped_column(String(8))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by: Mapped[int] = mapped_column(BigInteger)
    via: Mapped[str] = mapped_column(String(16))  # button | upload | admin


class ReportSend(Base):
    """One reminder, escalation or notice to one person, inserted before it is sent.

    The UNIQUE key is what makes every send happen at most once, across ticks, restarts and
    processes; `status` says how it went (pending, sent, missed, retry, failed, …).
    """

    __tablename__ = "report_sends"
    __table_args__ = (UniqueConstraint("city_id", "quarter", "slot", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id", ondelete="CASCADE"))
    quarter: Mapped[str] = mapped_column(String(8), index=True)
    slot: Mapped[str] = mapped_column(String(24))
    user_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    detail: Mapped[str] = mapped_column(String(256), default="")


class ReportUpload(Base):
    """A report file a city official sent in, kept by its channel file id."""

    __tablename__ = "report_uploads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id", ondelete="CASCADE"), index=True)
    quarter: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))  # document | photo
    file_id: Mapped[str] = mapped_column(String(256))
    file_name: Mapped[str] = mapped_column(String(256), default="")
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportNudge(Base):
    """A message a provincial admin sent to a late city's officials."""

    __tablename__ = "report_nudges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id", ondelete="CASCADE"), index=True)
    quarter: Mapped[str] = mapped_column(String(8))
    admin_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CalendarNotice(Base):
    """An admin was told that a year's holiday calendar is missing (once per year and admin)."""

    __tablename__ = "report_calendar_notices"
    __table_args__ = (UniqueConstraint("year", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
