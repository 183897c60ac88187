"""Time the members and suggestions exports (CSV and XLSX) for a large province.

Run: python -m tests.benchmarks.bench_members_export [members]   (default 20000, SQLite file)
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from bot.clock import FakeClock
from bot.db import Database
from bot.members.campaigns import CampaignsService
from bot.members.commands import Operator
from bot.members.exports import Exporter, to_csv, to_xlsx
from bot.members.notify import Notifier
from bot.members.service import MembersService
from bot.models import City, Park
from bot.models.members import Campaign, CampaignPark, Member, Suggestion
from bot.texts import Texts

NOW = datetime(2026, 3, 2, tzinfo=UTC)


async def seed(db: Database, count: int) -> None:
    """Insert 20 parks, count approved members and one suggestion per member."""
    async with db.session() as s:
        city = City(name="city")
        s.add(city)
        await s.flush()
        parks = [Park(name=f"park {i}", city_id=city.id) for i in range(20)]
        s.add_all(parks)
        await s.flush()
        campaign = Campaign(
            title="bench", description="d", opens_at=NOW, closes_at=NOW, created_by=1,
            created_at=NOW, parks=[CampaignPark(park_id=p.id) for p in parks],
        )  # fmt: skip
        s.add(campaign)
        await s.flush()
        members = [
            {"user_id": 10_000_000 + i, "name": f"name {i}", "park_id": parks[i % 20].id,
             "employer": "employer", "field": "field", "title": "senior",
             "phone": f"139{i:08d}", "status": "approved", "consent_version": "2026-1",
             "consented_at": NOW, "reject_reason": "", "created_at": NOW, "updated_at": NOW}
            for i in range(count)
        ]  # fmt: skip
        await s.execute(insert(Member), members)
        suggestions = [
            {"year": 2026, "seq": i + 1, "campaign_id": campaign.id,
             "park_id": parks[i % 20].id, "user_id": 10_000_000 + i,
             "content": "suggestion text " * 20, "anonymous": False, "status": "submitted",
             "forwarded_to": "", "created_at": NOW, "updated_at": NOW}
            for i in range(count)
        ]  # fmt: skip
        await s.execute(insert(Suggestion), suggestions)


async def main(count: int) -> None:
    """Seed, then time each export."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        await db.upgrade()
        await seed(db, count)
        texts = Texts.load()
        clock = FakeClock(NOW)
        notifier = Notifier(db, texts, {})
        exporter = Exporter(
            MembersService(db, clock, notifier), CampaignsService(db, clock, notifier), texts
        )
        for kind in ("members", "suggestions"):
            start = time.perf_counter()
            table = await exporter.table(kind, Operator())
            query = time.perf_counter() - start
            for name, render in (("csv", to_csv), ("xlsx", to_xlsx)):
                start = time.perf_counter()
                data = render(table)
                took = time.perf_counter() - start
                print(
                    f"{kind:11} {len(table.rows):>6} rows  query {query:6.2f}s  "
                    f"{name:4} {took:6.2f}s  {len(data) / 1e6:6.1f} MB"
                )
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000))
