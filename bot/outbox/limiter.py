"""Pace sends so every channel limit holds: one evenly spaced schedule per Limit.key."""

from __future__ import annotations

from collections.abc import Iterable

from bot.sender import Limit


class RateLimiter:
    """GCRA schedules (token buckets measured in time), keyed by Limit.key.

    Sends are spaced evenly, period / count apart: a full bucket would let `count` sends go out at
    once and `count` more a moment later, which a sliding-window counter on the other side
    (Telegram's, or the fake server's) answers with 429. A per-second limit of ten or more gets a
    little slack (a tenth of its count) so that a slow database commit is caught up afterwards
    instead of lost for good; 25/s then never exceeds 28 in any second, under Telegram's ~30.
    Slower limits (one per second per chat, 20 a minute per group) get none: they are Telegram's
    own values, with no headroom.
    """

    def __init__(self) -> None:
        self._tat: dict[str, float] = {}  # theoretical arrival time of each key's next send

    @staticmethod
    def _interval(limit: Limit) -> float:
        return limit.period / limit.count

    @classmethod
    def _slack(cls, limit: Limit) -> float:
        if limit.period > 1.0:
            return 0.0
        return cls._interval(limit) * (limit.count // 10)

    def _earliest(self, limits: tuple[Limit, ...], t: float) -> float:
        start = t
        for limit in limits:
            tat = self._tat.get(limit.key)
            if tat is not None:
                start = max(start, tat - self._slack(limit))
        return start

    def wait_for(self, limits: Iterable[Limit], t: float) -> float:
        """Return how many seconds a send at time t would have to wait (without reserving)."""
        return self._earliest(tuple(limits), t) - t

    def reserve(self, limits: Iterable[Limit], t: float) -> float:
        """Book the earliest slot after t that honours every limit; return the wait in seconds."""
        limits = tuple(limits)
        start = self._earliest(limits, t)
        for limit in limits:
            tat = self._tat.get(limit.key, start)
            self._tat[limit.key] = max(tat, start) + self._interval(limit)
        self._forget_old(t)
        return start - t

    def _forget_old(self, t: float) -> None:
        # Per-chat keys accumulate one entry per recipient; drop those already free so memory
        # stays flat over a 10,000-recipient broadcast.
        if len(self._tat) > 4096:
            self._tat = {k: v for k, v in self._tat.items() if v > t}
