"""Which process runs the clock: a PostgreSQL advisory lock; with SQLite, the only process."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import Database

log = logging.getLogger(__name__)

# An arbitrary constant that names "the parkbot clock" among advisory locks.
CLOCK_LOCK_KEY = 0x7061726B  # "park"


class ClockLeader:
    """Hold the clock lock on a dedicated connection; the lock dies with the process."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._conn: AsyncConnection | None = None
        # The clock and the outbox loop both ask; one connection serves one query at a time.
        self._lock = asyncio.Lock()

    async def is_leader(self) -> bool:
        """Return whether this process runs the clock now (trying to take it if free)."""
        if self.db.is_sqlite:
            return True
        async with self._lock:
            return await self._check()

    async def _check(self) -> bool:
        if self._conn is not None:
            try:
                await self._conn.execute(text("SELECT 1"))
                return True
            except Exception:  # the connection died: so did our lock
                log.warning("lost the clock lock connection", exc_info=True)
                await self._drop()
        conn = await self.db.engine.connect()
        try:
            got = await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": CLOCK_LOCK_KEY})
            await conn.commit()
        except Exception:
            await conn.close()
            raise
        if got:
            log.info("this process now runs the clock")
            self._conn = conn
            return True
        await conn.close()
        return False

    async def release(self) -> None:
        """Give the lock up (shutdown)."""
        async with self._lock:
            await self._unlock()

    async def _unlock(self) -> None:
        if self._conn is not None:
            try:
                await self._conn.execute(
                    text("SELECT pg_advisory_unlock(:k)"), {"k": CLOCK_LOCK_KEY}
                )
                await self._conn.commit()
            finally:
                await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:
                log.debug("closing a dead connection failed", exc_info=True)
