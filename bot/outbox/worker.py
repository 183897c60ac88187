"""Deliver stored broadcasts: claim rows in batches, pace them, record every outcome."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update

from bot.clock import Clock
from bot.db import Database
from bot.metrics import OUTBOX_OUTCOMES, Metrics
from bot.models import User
from bot.models.outbox import OPEN_STATES, Broadcast, BroadcastState, OutboxRow, RowState
from bot.outbox.codec import decode_message
from bot.outbox.limiter import RateLimiter
from bot.outbox.progress import ProgressSink, ProgressThrottle
from bot.outbox.service import TELEGRAM, status_of
from bot.sender import (
    DeliveryError,
    OutgoingMessage,
    PermanentError,
    RateLimited,
    Sender,
    TransientError,
    Uncertain,
    Unreachable,
)

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


def pause_key(channel: str, address: str) -> str:
    """Return what a RateLimited on (channel, address) pauses: Telegram whole, robots one each."""
    # Telegram's 429 is global to the bot; a robot's limit (DingTalk's 10-minute block) is
    # its own, so one blocked robot must not hold back the others.
    return channel if channel == TELEGRAM else f"{channel}:{address}"


def process_owner() -> str:
    """Return a name unique to this process, to mark the rows it claims."""
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


@dataclass(frozen=True)
class WorkerSettings:
    """Tuning of one worker; the defaults suit Telegram."""

    batch_size: int = 50
    lease: timedelta = timedelta(minutes=2)
    max_attempts: int = 5
    backoff_base: float = 2.0
    backoff_cap: float = 300.0
    # A row whose own limit (a group's 20/min) would stall the batch longer than this is put
    # back with that due time, so other recipients go out meanwhile.
    defer_after: float = 1.0
    idle_poll: float = 1.0


@dataclass(frozen=True)
class _Claimed:
    id: int
    broadcast_id: int
    channel: str
    address: str
    user_id: int | None
    attempts: int


class OutboxWorker:
    """Send what the outbox holds, exactly once per recipient (timeouts are left uncertain)."""

    def __init__(
        self,
        db: Database,
        senders: Mapping[str, Sender],
        clock: Clock,
        owner: str,
        progress: ProgressSink | None = None,
        *,
        settings: WorkerSettings | None = None,
        sleep: Sleep | None = None,
        timer: Callable[[], float] | None = None,
        on_unreachable: Callable[[int], Awaitable[None]] | None = None,
        metrics: Metrics | None = None,
        gate: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self.db = db
        # The background loop sends only while gate says so (the clock holder's process).
        self._gate = gate
        self.senders = senders
        self.clock = clock
        self.owner = owner
        self.progress = progress
        self.settings = settings or WorkerSettings()
        # Pacing runs on real elapsed time (the sleeps are real); tests pass both to fake it.
        self._sleep: Sleep = sleep or asyncio.sleep
        self._timer = timer or time.monotonic
        self._on_unreachable = on_unreachable
        self.metrics = metrics
        self.limiter = RateLimiter()
        self.throttle = ProgressThrottle()
        self._paused_until: dict[str, datetime] = {}
        self._messages: dict[int, OutgoingMessage] = {}
        self._stop: asyncio.Event | None = None

    # -- start-up ---------------------------------------------------------------------------

    async def recover(self) -> None:
        """Settle what a killed process left: sending → uncertain, claimed → pending."""
        now = self.clock.now()
        mine: Any
        if self.db.is_sqlite:
            mine = True  # SQLite means one process: whatever is in flight was ours
        else:
            # Other live processes may hold rows; only ours and those whose lease ran out are dead.
            mine = or_(OutboxRow.owner == self.owner, OutboxRow.lease_until < now)
        async with self.db.session() as s:
            await s.execute(
                update(OutboxRow)
                .where(OutboxRow.state == RowState.SENDING.value, mine)
                .values(
                    state=RowState.UNCERTAIN.value,
                    last_error="interrupted during send",
                    updated_at=now,
                )
            )
            await s.execute(
                update(OutboxRow)
                .where(OutboxRow.state == RowState.CLAIMED.value, mine)
                .values(state=RowState.PENDING.value, owner=None, lease_until=None, updated_at=now)
            )
            active = (
                await s.scalars(
                    select(Broadcast.id).where(Broadcast.state == BroadcastState.ACTIVE.value)
                )
            ).all()
        for broadcast_id in active:
            await self._finish_if_done(broadcast_id)

    # -- the loop ---------------------------------------------------------------------------

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Recover, then deliver until stop is set."""
        self._stop = stop
        await self.recover()
        while not stop.is_set():
            try:
                handled = await self.run_once() if await self._may_send() else 0
                if not handled:
                    await self._sweep_stale_sends()
            except Exception:  # keep delivering after a database hiccup; the rows are safe
                log.exception("outbox batch failed")
                handled = 0
            if not handled:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.idle_poll)

    async def _may_send(self) -> bool:
        return self._gate is None or await self._gate()

    @property
    def running(self) -> bool:
        """Return whether run_forever is delivering in the background."""
        return self._stop is not None and not self._stop.is_set()

    async def drain(self) -> int:
        """Send everything due now, unless the background loop already does; return the count."""
        if self.running:
            return 0
        total = 0
        while handled := await self.run_once():
            total += handled
        return total

    async def run_once(self) -> int:
        """Claim one batch of due rows and send them; return how many sends were tried."""
        batch = await self._claim()
        if not batch:
            return 0
        await self._load_messages({row.broadcast_id for row in batch})
        tried = 0
        lease_renewed_at = self.clock.now()
        touched: set[int] = set()
        for index, row in enumerate(batch):
            if self._stop is not None and self._stop.is_set():
                await self._release(batch[index:], self.clock.now())
                break
            touched.add(row.broadcast_id)
            now = self.clock.now()
            if now - lease_renewed_at > self.settings.lease / 2:
                await self._renew_lease(batch[index:], now)
                lease_renewed_at = now
            sender = self.senders.get(row.channel)
            if sender is None:
                await self._finish_row(row, RowState.FAILED, f"no sender for {row.channel}")
                continue
            paused = self._paused_until.get(pause_key(row.channel, row.address))
            if paused is not None and paused > now:
                await self._release([row], paused)
                continue
            limits = sender.limits(row.address)
            blocked_for = self.limiter.wait_for(limits, self._timer())
            if blocked_for > self.settings.defer_after:
                await self._release([row], now + timedelta(seconds=blocked_for))
                continue
            wait = self.limiter.reserve(limits, self._timer())
            if wait > 0:
                await self._sleep(wait)
            if not await self._mark_sending(row):
                continue  # cancelled, or our lease ran out and someone else has it
            tried += 1
            await self._send(sender, row)
            await self._report(row.broadcast_id)
        for broadcast_id in touched:
            await self._finish_if_done(broadcast_id)
        return tried

    # -- one row ----------------------------------------------------------------------------

    async def _send(self, sender: Sender, row: _Claimed) -> None:
        message = self._messages[row.broadcast_id]
        try:
            result = await sender.send(row.address, message)
        except RateLimited as exc:
            await self._rate_limited(row, exc)
        except Unreachable as exc:
            await self._finish_row(row, RowState.UNREACHABLE, exc.reason)
            if row.channel == TELEGRAM and row.user_id is not None:
                await self._mark_user_unreachable(row.user_id)
        except Uncertain as exc:
            await self._finish_row(row, RowState.UNCERTAIN, exc.reason)
        except TransientError as exc:
            await self._retry_later(row, exc.reason)
        except (PermanentError, DeliveryError) as exc:
            await self._finish_row(row, RowState.FAILED, exc.reason)
        except Exception as exc:
            # A bug in a sender after the request may have left: we cannot know, so never resend.
            log.exception("sender %s raised unexpectedly", row.channel)
            await self._finish_row(row, RowState.UNCERTAIN, f"{type(exc).__name__}: {exc}")
        else:
            await self._finish_row(row, RowState.SENT, None, message_id=result.message_id)

    async def _rate_limited(self, row: _Claimed, exc: RateLimited) -> None:
        now = self.clock.now()
        until = now + timedelta(seconds=exc.retry_after)
        key = pause_key(row.channel, row.address)
        current = self._paused_until.get(key)
        self._paused_until[key] = max(until, current) if current else until
        log.warning("%s asked to wait %.0f s", key, exc.retry_after)
        self._count("retried", row.channel)
        if self.metrics is not None:
            self.metrics.rate_limited(exc.retry_after, channel=row.channel)
        async with self.db.session() as s:
            # Telegram refused the request, so it was not delivered: try again after the pause.
            await s.execute(
                update(OutboxRow)
                .where(OutboxRow.id == row.id, OutboxRow.state == RowState.SENDING.value)
                .values(
                    state=RowState.PENDING.value,
                    owner=None,
                    lease_until=None,
                    next_attempt_at=until,
                    last_error=exc.reason,
                    updated_at=now,
                )
            )
            await s.execute(
                update(Broadcast)
                .where(Broadcast.id == row.broadcast_id)
                .values(
                    rate_limited=Broadcast.rate_limited + 1,
                    rate_limited_seconds=Broadcast.rate_limited_seconds + exc.retry_after,
                )
            )

    async def _retry_later(self, row: _Claimed, reason: str) -> None:
        attempts = row.attempts + 1
        if attempts >= self.settings.max_attempts:
            await self._finish_row(row, RowState.FAILED, reason, attempts=attempts)
            return
        delay = min(self.settings.backoff_cap, self.settings.backoff_base * 2 ** (attempts - 1))
        now = self.clock.now()
        self._count("retried", row.channel)
        async with self.db.session() as s:
            await s.execute(
                update(OutboxRow)
                .where(OutboxRow.id == row.id, OutboxRow.state == RowState.SENDING.value)
                .values(
                    state=RowState.PENDING.value,
                    owner=None,
                    lease_until=None,
                    attempts=attempts,
                    next_attempt_at=now + timedelta(seconds=delay),
                    last_error=reason,
                    updated_at=now,
                )
            )

    async def _finish_row(
        self,
        row: _Claimed,
        state: RowState,
        reason: str | None,
        *,
        message_id: str | None = None,
        attempts: int | None = None,
    ) -> None:
        now = self.clock.now()
        values: dict[str, Any] = {
            "state": state.value,
            "last_error": reason,
            "updated_at": now,
            "lease_until": None,
        }
        if message_id:
            values["message_id"] = message_id[:64]
        if attempts is not None:
            values["attempts"] = attempts
        self._count(state.value, row.channel)
        async with self.db.session() as s:
            await s.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.id == row.id,
                    OutboxRow.owner == self.owner,
                    OutboxRow.state.in_([RowState.SENDING.value, RowState.CLAIMED.value]),
                )
                .values(**values)
            )

    def _count(self, outcome: str, channel: str) -> None:
        if self.metrics is not None and outcome in OUTBOX_OUTCOMES:
            self.metrics.outbox(outcome, channel=channel)

    async def _mark_user_unreachable(self, user_id: int) -> None:
        async with self.db.session() as s:
            await s.execute(update(User).where(User.id == user_id).values(reachable=False))
        if self._on_unreachable is not None:
            await self._on_unreachable(user_id)

    async def _mark_sending(self, row: _Claimed) -> bool:
        now = self.clock.now()
        async with self.db.session() as s:
            result = await s.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.id == row.id,
                    OutboxRow.owner == self.owner,
                    OutboxRow.state == RowState.CLAIMED.value,
                )
                .values(
                    state=RowState.SENDING.value,
                    lease_until=now + self.settings.lease,
                    updated_at=now,
                )
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- batches ----------------------------------------------------------------------------

    async def _claim(self) -> list[_Claimed]:
        now = self.clock.now()
        async with self.db.session() as s:
            # Claims of a process that died return to the pool once their lease ran out.
            await s.execute(
                update(OutboxRow)
                .where(OutboxRow.state == RowState.CLAIMED.value, OutboxRow.lease_until < now)
                .values(state=RowState.PENDING.value, owner=None, lease_until=None)
            )
            ids = list(
                (
                    await s.scalars(
                        select(OutboxRow.id)
                        .where(
                            OutboxRow.state == RowState.PENDING.value,
                            OutboxRow.next_attempt_at <= now,
                        )
                        .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
                        .limit(self.settings.batch_size)
                        # PostgreSQL: concurrent workers skip each other's rows instead of
                        # waiting; SQLite ignores it (one process, one writer).
                        .with_for_update(skip_locked=True)
                    )
                ).all()
            )
            if not ids:
                return []
            await s.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(ids))
                .values(
                    state=RowState.CLAIMED.value,
                    owner=self.owner,
                    lease_until=now + self.settings.lease,
                    updated_at=now,
                )
            )
            rows = await s.execute(
                select(
                    OutboxRow.id,
                    OutboxRow.broadcast_id,
                    OutboxRow.channel,
                    OutboxRow.address,
                    OutboxRow.user_id,
                    OutboxRow.attempts,
                )
                .where(OutboxRow.id.in_(ids))
                .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
            )
            return [_Claimed(*r) for r in rows.all()]

    async def _release(self, rows: Sequence[_Claimed], due: datetime) -> None:
        if not rows:
            return
        now = self.clock.now()
        async with self.db.session() as s:
            await s.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.id.in_([r.id for r in rows]),
                    OutboxRow.owner == self.owner,
                    OutboxRow.state == RowState.CLAIMED.value,
                )
                .values(
                    state=RowState.PENDING.value,
                    owner=None,
                    lease_until=None,
                    next_attempt_at=due,
                    updated_at=now,
                )
            )

    async def _renew_lease(self, rows: Sequence[_Claimed], now: datetime) -> None:
        async with self.db.session() as s:
            await s.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.id.in_([r.id for r in rows]),
                    OutboxRow.owner == self.owner,
                    OutboxRow.state == RowState.CLAIMED.value,
                )
                .values(lease_until=now + self.settings.lease)
            )

    async def _sweep_stale_sends(self) -> None:
        # Another process died mid-send and nobody restarted under its name: settle its rows.
        now = self.clock.now()
        async with self.db.session() as s:
            await s.execute(
                update(OutboxRow)
                .where(OutboxRow.state == RowState.SENDING.value, OutboxRow.lease_until < now)
                .values(
                    state=RowState.UNCERTAIN.value,
                    last_error="interrupted during send",
                    updated_at=now,
                )
            )

    async def _load_messages(self, broadcast_ids: set[int]) -> None:
        missing = broadcast_ids - self._messages.keys()
        if not missing:
            return
        async with self.db.session() as s:
            rows = await s.execute(
                select(Broadcast.id, Broadcast.message).where(Broadcast.id.in_(missing))
            )
            for broadcast_id, data in rows.all():
                self._messages[broadcast_id] = decode_message(data)

    # -- progress ---------------------------------------------------------------------------

    async def _report(self, broadcast_id: int) -> None:
        if self.progress is None:
            return
        now = self.clock.now()
        if not self.throttle.due(broadcast_id, now):
            return
        self.throttle.mark(broadcast_id, now)
        async with self.db.session() as s:
            status = await status_of(s, broadcast_id)
        if status is not None and status.progress_chat is not None:
            await self._show(status)

    async def _finish_if_done(self, broadcast_id: int) -> None:
        now = self.clock.now()
        async with self.db.session() as s:
            still_open = await s.scalar(
                select(func.count())
                .select_from(OutboxRow)
                .where(
                    OutboxRow.broadcast_id == broadcast_id,
                    OutboxRow.state.in_([st.value for st in OPEN_STATES]),
                )
            )
            if still_open:
                return
            # Only the process whose update flips the state sends the final summary.
            result = await s.execute(
                update(Broadcast)
                .where(
                    Broadcast.id == broadcast_id,
                    Broadcast.state == BroadcastState.ACTIVE.value,
                )
                .values(state=BroadcastState.DONE.value, finished_at=now)
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return
            status = await status_of(s, broadcast_id)
        self._messages.pop(broadcast_id, None)
        self.throttle.forget(broadcast_id)
        log.info("broadcast %s finished", broadcast_id)
        if self.progress is not None and status is not None and status.progress_chat is not None:
            await self._show(status)

    async def _show(self, status: Any) -> None:
        assert self.progress is not None
        try:
            await self.progress.update(status)
        except Exception:  # a failed edit must never stop delivery
            log.exception("progress update of broadcast %s failed", status.id)
