"""The last handler errors, kept in a small table so `parkbot status` can show them."""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db import Database
from bot.erasure import personal_data_eraser
from bot.models import OpsError

log = logging.getLogger(__name__)

KEEP_ERRORS = 50
_OWN_PACKAGES = ("bot", "handlers")


@dataclass(frozen=True)
class ErrorEntry:
    """One recorded error."""

    at: datetime
    update_id: int | None
    user_id: int | None
    error: str
    location: str
    detail: str


def error_location(error: BaseException) -> str:
    """Return "path:line in function" of the innermost frame in our code (else the innermost)."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return ""
    ours = [f for f in frames if Path(f.filename).parent.name in _OWN_PACKAGES]
    frame = (ours or frames)[-1]
    path = Path(frame.filename)
    return f"{path.parent.name}/{path.name}:{frame.lineno} in {frame.name}"[:256]


@personal_data_eraser
async def erase_error_users(session: AsyncSession, user_id: int) -> None:
    """Keep the error records of a deleted person, without their id."""
    await session.execute(update(OpsError).where(OpsError.user_id == user_id).values(user_id=None))


class ErrorLog:
    """A ring buffer of the newest KEEP_ERRORS handler errors in the database."""

    def __init__(self, db: Database, clock: Clock, keep: int = KEEP_ERRORS) -> None:
        self.db = db
        self.clock = clock
        self.keep = keep

    async def record(
        self,
        error: BaseException,
        *,
        update_id: int | None = None,
        user_id: int | None = None,
        detail: str = "",
    ) -> None:
        """Store one error (type and code location; detail must hold no personal data)."""
        try:
            async with self.db.session() as s:
                row = OpsError(
                    at=self.clock.now(),
                    update_id=update_id,
                    user_id=user_id,
                    error=type(error).__name__[:128],
                    location=error_location(error),
                    detail=detail[:256],
                )
                s.add(row)
                await s.flush()
                await s.execute(delete(OpsError).where(OpsError.id <= row.id - self.keep))
        except Exception:
            # The database may be the very thing that failed; the log line still has it all.
            log.warning("could not record the error in ops_errors", exc_info=True)

    async def recent(self, limit: int = 5) -> list[ErrorEntry]:
        """Return the newest errors, newest first."""
        async with self.db.session() as s:
            rows = (
                await s.scalars(select(OpsError).order_by(OpsError.id.desc()).limit(limit))
            ).all()
        return [
            ErrorEntry(r.at, r.update_id, r.user_id, r.error, r.location, r.detail) for r in rows
        ]

    async def count(self) -> int:
        """Return how many errors are kept."""
        async with self.db.session() as s:
            return int(await s.scalar(select(func.count()).select_from(OpsError)) or 0)
