"""The reports feature's lines in `parkbot status`: the next reminder and escalation slots."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.reports.schedule import Quarter, Slot

if TYPE_CHECKING:
    from bot.services import Services

NEXT_SLOTS = 3


async def next_reminders(services: Services) -> list[str]:
    """Return a heading and the next few quarterly-report slots (local time, quarter, slot)."""
    reports = services.reports
    if reports is None:
        return []
    now = services.clock.now()
    today = reports.today(now)
    current = Quarter.containing(today)
    upcoming: list[tuple[Slot, Quarter]] = []
    # The quarter that just ended is being reported now; the current one is due next quarter.
    for quarter in (current.prev(), current):
        plan = reports.schedule(quarter)
        upcoming += [(s, quarter) for s in plan.slots(plan.overdue_until) if s.at > now]
    upcoming.sort(key=lambda pair: pair[0].at)
    lines = ["reports:   next reminder slots"]
    for slot, quarter in upcoming[:NEXT_SLOTS]:
        local = slot.at.astimezone(reports.settings.tz).strftime("%Y-%m-%d %H:%M")
        lines.append(f"  {local}  {quarter}  {slot.key} ({slot.kind})")
    if len(lines) == 1:
        lines.append("  none scheduled")
    return lines
