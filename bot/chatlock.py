"""One chat's updates handled by one process at a time: a PostgreSQL advisory lock per chat."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.db import Database

log = logging.getLogger(__name__)

# The two-int form of advisory locks lives in its own key space (objsubid 2), apart from the
# bigint form bot/leader.py uses, so a chat id can never collide with the clock's key.
CHAT_LOCK_SPACE = 0x63686174  # "chat"
LOCK_CONNECTIONS = 16
# Plain SQL with the two integers in it: the simple-query protocol is one message each way,
# no prepared statement. Both values are ints (never text), so nothing can be injected.
LOCK = "SELECT pg_advisory_lock({space:d}, {key:d})"
UNLOCK = "SELECT pg_advisory_unlock({space:d}, {key:d})"


def chat_lock_key(chat_id: int) -> int:
    """Fold a Telegram chat id (64-bit) into PostgreSQL's int4; collisions only serialise."""
    low = chat_id & 0xFFFFFFFF
    return low - (1 << 32) if low >= 1 << 31 else low


class ChatLocks:
    """Hold a session-level advisory lock on a small dedicated pool while a chat's update runs.

    The pool is separate from the handlers' so updates waiting for a chat lock can never take
    every connection the handlers holding those locks need. On SQLite (one process) it is a no-op.
    """

    def __init__(self, db: Database, connections: int = LOCK_CONNECTIONS) -> None:
        self.enabled = not db.is_sqlite
        self._slots = asyncio.Semaphore(connections)
        self._engine: AsyncEngine | None = None
        if self.enabled:
            # Autocommit: a lock and an unlock are one round trip each, with no BEGIN/COMMIT
            # around them. No pre-ping either: a dead connection fails the lock call, which
            # fails the update loudly rather than running it unlocked.
            self._engine = create_async_engine(
                db.engine.url,
                pool_size=connections,
                max_overflow=0,
                pool_recycle=1800,
                isolation_level="AUTOCOMMIT",
            )

    @asynccontextmanager
    async def hold(self, chat_id: int) -> AsyncIterator[AsyncConnection | None]:
        """Run the block while holding chat_id's lock across every process on this database.

        The block gets the (autocommit) connection holding the lock, to read with no extra
        checkout, ping or BEGIN/COMMIT; None on SQLite.
        """
        if self._engine is None:
            yield None
            return
        key = chat_lock_key(chat_id)
        async with self._slots, self._engine.connect() as conn:
            # Straight to asyncpg: two tiny statements per update, where SQLAlchemy's statement
            # handling would cost more CPU than the round trips themselves.
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None  # an open asyncpg connection
            await raw.execute(LOCK.format(space=CHAT_LOCK_SPACE, key=key))
            try:
                yield conn
            finally:
                try:
                    await raw.execute(UNLOCK.format(space=CHAT_LOCK_SPACE, key=key))
                except Exception:
                    # Closing the connection below (invalidated) releases the lock anyway.
                    log.warning("could not release a chat lock", exc_info=True)
                    await conn.invalidate()

    async def close(self) -> None:
        """Close the lock pool."""
        if self._engine is not None:
            await self._engine.dispose()
