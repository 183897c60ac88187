"""Pace sends so every channel limit holds: one evenly spaced schedule per Limit.key."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.sender import Limit


class RateLimiter:
    """Token buckets of depth one (a GCRA schedule), keyed by Limit.key.

    A deeper bucket would let `count` sends go out at once and `count` more a moment later, which
    a sliding-window counter on the other side (Telegram's, or the fake server's) answers with 429.
    Evenly spaced sends keep every window of `period` seconds at or under `count`.
    """

    def __init__(self) -> None:
        self._next_free: dict[str, float] = {}

    @staticmethod
    def _seconds(now: datetime) -> float:
        return now.timestamp()

    def wait_for(self, limits: Iterable[Limit], now: datetime) -> float:
        """Return how many seconds a send now would have to wait (without reserving)."""
        t = self._seconds(now)
        start = max([t, *(self._next_free.get(limit.key, t) for limit in limits)])
        return start - t

    def reserve(self, limits: Iterable[Limit], now: datetime) -> float:
        """Book the earliest slot that honours every limit; return the seconds to wait for it."""
        limits = tuple(limits)
        t = self._seconds(now)
        start = max([t, *(self._next_free.get(limit.key, t) for limit in limits)])
        for limit in limits:
            self._next_free[limit.key] = start + limit.period / limit.count
        self._forget_old(t)
        return start - t

    def _forget_old(self, t: float) -> None:
        # Per-chat keys accumulate one entry per recipient; drop those already free so memory
        # stays flat over a 10,000-recipient broadcast.
        if len(self._next_free) > 4096:
            self._next_free = {k: v for k, v in self._next_free.items() if v > t}
