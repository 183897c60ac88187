"""The clock: every few seconds the leading process runs every feature's due work."""

from __future__ import annotations

import logging

from bot.leader import ClockLeader
from handlers.context import Ctx

log = logging.getLogger(__name__)

TICK_SECONDS = 30
LEADER_KEY = "clock_leader"


async def tick(ctx: Ctx) -> None:
    """Run due work if this process holds the clock."""
    leader: ClockLeader = ctx.application.bot_data.setdefault(
        LEADER_KEY, ClockLeader(ctx.services.db)
    )
    try:
        if not await leader.is_leader():
            return
        await ctx.services.tick()
    except Exception:
        # A failed tick must not stop the clock: what was due is still due next tick.
        log.exception("clock tick failed")
