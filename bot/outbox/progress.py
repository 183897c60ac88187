"""Tell a broadcast's creator how it goes, without flooding them with edits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from bot.outbox.service import BroadcastStatus
from bot.texts import Texts

# Telegram allows about one edit per second per chat; two seconds leaves room for the rest.
PROGRESS_INTERVAL = timedelta(seconds=2)


class ProgressSink(Protocol):
    """Show a broadcast's status to its creator (Telegram edits one message in place)."""

    async def update(self, status: BroadcastStatus) -> None:
        """Show status; status.finished means this is the final summary."""
        ...


class ProgressThrottle:
    """Let at most one progress update per broadcast through every interval."""

    def __init__(self, interval: timedelta = PROGRESS_INTERVAL) -> None:
        self.interval = interval
        self._last: dict[int, datetime] = {}

    def due(self, broadcast_id: int, now: datetime) -> bool:
        """Return whether an update for broadcast_id may go out now."""
        last = self._last.get(broadcast_id)
        return last is None or now - last >= self.interval

    def mark(self, broadcast_id: int, now: datetime) -> None:
        """Note that an update for broadcast_id went out now."""
        self._last[broadcast_id] = now

    def forget(self, broadcast_id: int) -> None:
        """Drop the broadcast once its final summary went out."""
        self._last.pop(broadcast_id, None)


def progress_text(texts: Texts, lang: str, status: BroadcastStatus) -> str:
    """Return the creator's view of status: a running count, or the final summary."""
    counts = {
        "id": status.id,
        "sent": status.sent,
        "total": status.total,
        "failed": status.failed,
        "unreachable": status.unreachable,
    }
    if not status.finished:
        return texts.get("outbox.progress", lang, **counts)
    key = "outbox.summary_cancelled" if status.state == "cancelled" else "outbox.summary"
    lines = [
        texts.get(
            key,
            lang,
            **counts,
            uncertain=status.uncertain,
            skipped=status.skipped,
            cancelled=status.cancelled,
        )
    ]
    if status.rate_limited:
        lines.append(
            texts.get(
                "outbox.rate_limited",
                lang,
                count=status.rate_limited,
                seconds=round(status.rate_limited_seconds),
            )
        )
    return "\n".join(lines)
