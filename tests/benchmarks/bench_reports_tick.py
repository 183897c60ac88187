"""Time ReportsService.tick on SQLite: a slot going out to every official, then idle ticks.

Run from the checkout: .venv/bin/python -m tests.benchmarks.bench_reports_tick [cities] [per_city]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.db import Database
from bot.models.core import City, RoleGrant
from bot.reports.calendar import WorkingCalendar
from bot.reports.schedule import ReportsSettings
from bot.reports.service import ReportsService
from bot.sender import Limit, OutgoingMessage, SendResult
from bot.texts import Texts


class NullSender:
    """Accept every message instantly."""

    channel = "telegram"
    count = 0

    def limits(self, address: str) -> tuple[Limit, ...]:
        return ()

    async def send(self, address: str, message: OutgoingMessage) -> SendResult:
        self.count += 1
        return SendResult()


async def main(cities: int, officials: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        await db.upgrade()
        async with db.session() as session:
            session.add_all(City(id=i, name=f"city{i}") for i in range(1, cities + 1))
        async with db.session() as session:
            session.add_all(
                RoleGrant(user_id=i * 1000 + j, role="official", city_id=i)
                for i in range(1, cities + 1)
                for j in range(officials)
            )
        service = ReportsService(
            db,
            Texts.load(),
            admin_ids=[1],
            settings=ReportsSettings.load({"first_quarter": "2025Q3"}),
            calendar=WorkingCalendar(Path(folder)),
        )
        sender = NullSender()
        slot = datetime(2025, 10, 24, 1, 0, tzinfo=UTC)  # overdue3 + escalation of 2025Q3
        started = time.perf_counter()
        report = await service.tick(slot, sender)
        first = time.perf_counter() - started
        rounds = 20
        started = time.perf_counter()
        for _ in range(rounds):
            await service.tick(slot, sender)
        idle = (time.perf_counter() - started) / rounds
        await db.dispose()
    print(f"cities={cities} officials/city={officials}")
    print(f"first tick: {first * 1000:.0f} ms, sent={report.sent} missed={report.missed}")
    print(f"idle tick (all recorded): {idle * 1000:.1f} ms; messages total {sender.count}")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    asyncio.run(main(*(args or [9, 5])))
