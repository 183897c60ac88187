"""The clock: every few seconds the leading process runs every feature's due work.

Every process ticks every PARKBOT_TICK_SECONDS; a process that is not the leader just tries to
take the advisory lock, so after the leader dies a standby runs the clock within one interval.
"""

from __future__ import annotations

import logging

from handlers.context import Ctx

log = logging.getLogger(__name__)


async def tick(ctx: Ctx) -> None:
    """Run due work if this process holds the clock."""
    services = ctx.services
    leader = services.leader  # Services.create always makes one
    metrics = services.metrics
    try:
        leading = leader is None or await leader.is_leader()
        metrics.set_clock_leader(leading)
        if not leading:
            return
        await services.tick()
        metrics.clock_tick()
    except Exception:
        # A failed tick must not stop the clock: what was due is still due next tick.
        log.exception("clock tick failed")
