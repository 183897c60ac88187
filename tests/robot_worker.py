"""A process that delivers one broadcast's robot rows, for the kill -9 test.

Run: python -m tests.robot_worker DATABASE_URL BROADCAST_ID
"""

from __future__ import annotations

import asyncio
import sys

from bot.clock import SystemClock
from bot.db import Database
from bot.outbox.service import Outbox
from bot.outbox.worker import OutboxWorker, WorkerSettings, process_owner
from bot.robots.sender import RobotSender


async def run(db_url: str, broadcast_id: int) -> None:
    """Recover, deliver until the broadcast is finished, then say so on stdout."""
    db = Database(db_url)
    clock = SystemClock()
    sender = RobotSender(db, clock=clock)
    outbox = Outbox(db, clock)
    stop = asyncio.Event()
    worker = OutboxWorker(
        db, {"robot": sender}, clock, process_owner(), settings=WorkerSettings(idle_poll=0.05)
    )

    async def watch() -> None:
        while not stop.is_set():
            await asyncio.sleep(0.05)
            if (await outbox.status(broadcast_id)).finished:
                stop.set()

    watcher = asyncio.create_task(watch())
    await worker.run_forever(stop)
    await watcher
    await sender.close()
    await db.dispose()
    print("finished", flush=True)


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1], int(sys.argv[2])))
