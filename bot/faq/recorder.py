"""Keep asked questions in a short in-memory buffer and write them to the database in batches.

A row and a commit per question cost more than answering it; rows are written together at most
FLUSH_SECONDS after they were asked (or once FLUSH_ROWS wait, and on shutdown). Their ids are
allocated up front, so the buttons under an answer can carry the id before the row exists:
anything that reads a question by id calls `ensure_written(id)` first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.models import FaqQuestion

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.5
FLUSH_ROWS = 200
# Past this many unwritten rows (the database is down or slow) askers wait for a write.
MAX_PENDING = 2_000
# Ids reserved from PostgreSQL's sequence per round trip.
ID_BLOCK = 100

# (session, user ids) -> {user id: park id}; looked up at write time, one query per batch.
ParkLookup = Callable[[AsyncSession, set[int]], Awaitable[dict[int, int | None]]]

_recorders: weakref.WeakSet[QuestionRecorder] = weakref.WeakSet()


def erase_pending(user_id: int) -> int:
    """Drop the user id and text of user_id's questions not written yet; return how many."""
    count = 0
    for recorder in list(_recorders):
        count += recorder.erase(user_id)
    return count


class QuestionRecorder:
    """Allocate question ids now and insert their rows a little later, many at a time."""

    def __init__(self, db: Database, parks: ParkLookup) -> None:
        self.db = db
        self._parks = parks
        self._pending: list[dict[str, Any]] = []
        # Rows being inserted right now, and those of them erased meanwhile (ids).
        self._inflight: list[dict[str, Any]] = []
        self._late_erase: set[int] = set()
        self._unwritten: set[int] = set()
        self._ids: list[int] = []
        self._next_id: int | None = None
        self._id_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        self._timer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._closing = False
        _recorders.add(self)

    async def add(self, row: dict[str, Any]) -> int:
        """Buffer one faq_questions row (without id and park_id); return its id."""
        if len(self._pending) >= MAX_PENDING:
            await self.flush()
        question_id = await self._allocate()
        self._pending.append({**row, "id": question_id})
        self._unwritten.add(question_id)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().create_task(self._flush_soon())
        if len(self._pending) >= FLUSH_ROWS:
            self._wake.set()
        return question_id

    def pending(self) -> bool:
        """Return whether some rows are not in the database yet."""
        return bool(self._unwritten)

    async def ensure_written(self, question_id: int) -> None:
        """Write the buffer now if question_id is still in it."""
        if question_id in self._unwritten:
            await self.flush()

    def erase(self, user_id: int) -> int:
        """Drop user_id and the text from their unwritten rows; return how many."""
        count = 0
        for row in self._pending:
            if row["user_id"] == user_id:
                row["user_id"] = None
                row["text"] = None
                count += 1
        for row in self._inflight:
            if row["user_id"] == user_id:
                # Its INSERT is already on its way: blank it right after it lands.
                self._late_erase.add(row["id"])
                count += 1
        return count

    async def flush(self) -> None:
        """Insert every buffered row (in one transaction)."""
        async with self._write_lock:
            rows, self._pending = self._pending, []
            if not rows:
                return
            self._inflight = rows
            try:
                async with self.db.session() as s:
                    users = {r["user_id"] for r in rows if r["user_id"] is not None}
                    parks = await self._parks(s, users) if users else {}
                    for row in rows:
                        row["park_id"] = parks.get(row["user_id"])
                    await s.execute(insert(FaqQuestion), rows)
            except BaseException:
                # Keep them for the next attempt: an asker's question must not vanish.
                self._inflight = []
                for row in rows:
                    if row["id"] in self._late_erase:
                        row["user_id"] = row["text"] = None
                self._late_erase.clear()
                self._pending[:0] = rows
                raise
            self._inflight = []
            self._unwritten.difference_update(r["id"] for r in rows)
            late, self._late_erase = self._late_erase, set()
            if late:
                async with self.db.session() as s:
                    await s.execute(
                        update(FaqQuestion)
                        .where(FaqQuestion.id.in_(late))
                        .values(user_id=None, text=None)
                        .execution_options(synchronize_session=False)
                    )

    async def close(self) -> None:
        """Write what is buffered now, and stop the timer."""
        self._closing = True
        timer = self._timer
        if timer is not None:
            self._wake.set()
            await timer
        await self.flush()

    async def _flush_soon(self) -> None:
        """Wait FLUSH_SECONDS (or a wake-up: full buffer, shutdown), then write the buffer."""
        try:
            while self._pending:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), FLUSH_SECONDS)
                self._wake.clear()
                try:
                    await self.flush()
                except Exception:
                    log.exception("could not write %d asked questions", len(self._pending))
                    if self._closing:
                        return
                    await asyncio.sleep(FLUSH_SECONDS)
        finally:
            self._timer = None

    async def _allocate(self) -> int:
        if self.db.is_sqlite:
            # One process owns a SQLite file, so it can count on from the highest id.
            if self._next_id is None:
                async with self._id_lock:
                    if self._next_id is None:
                        async with self.db.session() as s:
                            top = await s.scalar(select(func.max(FaqQuestion.id)))
                        self._next_id = int(top or 0) + 1
            question_id = self._next_id
            self._next_id += 1
            return question_id
        # Processes share PostgreSQL: take ids from the table's own sequence, a block at a time.
        while not self._ids:
            async with self._id_lock:
                if not self._ids:
                    async with self.db.session() as s:
                        result = await s.execute(
                            text(
                                "SELECT nextval(pg_get_serial_sequence('faq_questions', 'id'))"
                                " FROM generate_series(1, :n)"
                            ),
                            {"n": ID_BLOCK},
                        )
                        self._ids = sorted((int(v) for v in result.scalars()), reverse=True)
        return self._ids.pop()
