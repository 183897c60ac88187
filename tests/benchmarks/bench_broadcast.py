"""Broadcast to many recipients through the real TelegramSender and a rate-limiting fake Bot API.

Run: python tests/benchmarks/bench_broadcast.py [--recipients 10000] [--rate 25] [--no-kill]

Phase 1 delivers a broadcast with one worker process. Phase 2 does it again but SIGKILLs the
worker halfway and starts a new one on the same SQLite file. Each phase prints messages/s, 429s,
lost, duplicated, uncertain and the worker's memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "true")

from sqlalchemy import select  # noqa: E402

from bot.db import Database  # noqa: E402
from bot.models.outbox import OutboxRow, RowState  # noqa: E402
from bot.outbox.service import BroadcastStatus, Outbox, Recipient  # noqa: E402
from bot.outbox.worker import OutboxWorker  # noqa: E402
from bot.sender import OutgoingMessage  # noqa: E402
from tests.benchmarks.fake_bot_api import FakeBotApi  # noqa: E402

TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
TEXT = "关于组织申报2026年度园区科协重点项目的通知：请于3月31日前提交材料。"


class SystemClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        """Return the current time."""
        return datetime.now(UTC)


class CountingSink:
    """Stand-in for the Telegram progress message: counts the (throttled) updates."""

    def __init__(self) -> None:
        self.updates = 0
        self.final: BroadcastStatus | None = None

    async def update(self, status: BroadcastStatus) -> None:
        """Count one update; keep the final summary."""
        self.updates += 1
        if status.finished:
            self.final = status


def rss_kb() -> int:
    """Return this process's resident memory now, in KiB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


async def run_worker(db_url: str, api_url: str, rate: float, broadcast_id: int) -> None:
    """Deliver until the broadcast is finished; print memory figures as one JSON line."""
    from telegram import Bot

    from handlers.tg_sender import TelegramSender

    db = Database(db_url)
    clock = SystemClock()
    sink = CountingSink()
    outbox = Outbox(db, clock)
    stop = asyncio.Event()
    samples: list[int] = []

    async def watch() -> None:
        while not stop.is_set():
            await asyncio.sleep(0.5)
            samples.append(rss_kb())
            if (await outbox.status(broadcast_id)).finished:
                stop.set()

    async with Bot(TOKEN, base_url=api_url) as bot:
        sender = TelegramSender(bot, overall=rate)
        worker = OutboxWorker(db, {"telegram": sender}, clock, "bench", sink)
        watcher = asyncio.create_task(watch())
        await worker.run_forever(stop)
        await watcher
    await db.dispose()
    print(
        json.dumps(
            {
                "rss_first_kb": samples[min(4, len(samples) - 1)] if samples else rss_kb(),
                "rss_last_kb": rss_kb(),
                "rss_peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "progress_updates": sink.updates,
            }
        ),
        flush=True,
    )


def recipients(n: int) -> Iterator[Recipient]:
    """Yield n private-chat recipients without building a list."""
    for i in range(1, n + 1):
        yield Recipient("telegram", str(i), i)


async def spawn(db_url: str, api_url: str, rate: float, bid: int) -> asyncio.subprocess.Process:
    """Start a worker process."""
    args = [__file__, "--worker", db_url, api_url, str(rate), str(bid)]
    return await asyncio.create_subprocess_exec(
        sys.executable, *args, stdout=asyncio.subprocess.PIPE, cwd=str(ROOT)
    )


async def phase(n: int, rate: float, kill: bool, workdir: Path) -> dict[str, object]:
    """Run one broadcast of n recipients; return its figures."""
    api = FakeBotApi()
    api.keep_requests = False
    api_url = await api.start()
    db_url = f"sqlite+aiosqlite:///{workdir / ('kill.db' if kill else 'clean.db')}"
    db = Database(db_url)
    await db.upgrade()
    outbox = Outbox(db, SystemClock())
    started = time.monotonic()
    bid = await outbox.create_broadcast(
        kind="notice",
        created_by=1,
        message=OutgoingMessage(text=TEXT),
        recipients=recipients(n),
        progress_chat=1,
    )
    stored_in = time.monotonic() - started
    proc = await spawn(db_url, api_url, rate, bid)
    kills = 0
    if kill:
        # Polling: the deliveries happen in another process.
        while sum(api.deliveries.values()) < n // 2 and proc.returncode is None:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            kills = 1
            proc = await spawn(db_url, api_url, rate, bid)
    out, _ = await proc.communicate()
    memory = json.loads(out.decode().strip().splitlines()[-1])
    lost = uncertain = uncertain_delivered = sent_not_delivered = 0
    async with db.session() as s:
        rows = await s.stream(select(OutboxRow.address, OutboxRow.state).execution_options())
        async for address, state in rows:
            got = api.deliveries.get(int(address), 0)
            if state == RowState.UNCERTAIN.value:
                uncertain += 1
                uncertain_delivered += got > 0
            elif got == 0:
                lost += 1
            if state == RowState.SENT.value and got == 0:
                sent_not_delivered += 1
    status = await outbox.status(bid)
    await db.dispose()
    await api.stop()
    span = (api.last_at or 0) - (api.first_at or 0)
    delivered = sum(api.deliveries.values())
    return {
        "phase": "kill -9 halfway + restart" if kill else "clean run",
        "recipients": n,
        "stored_in_s": round(stored_in, 2),
        "delivered": delivered,
        "messages_per_s": round((delivered - 1) / span, 2) if span else 0.0,
        "target_per_s": round(0.95 * rate, 2),
        "http_429": api.too_many,
        "lost": lost,
        "duplicated": api.duplicated,
        "uncertain": uncertain,
        "uncertain_actually_delivered": uncertain_delivered,
        "marked_sent_but_not_delivered": sent_not_delivered,
        "broadcast_sent": status.sent,
        "kills": kills,
        **memory,
    }


async def main(n: int, rate: float, kill: bool) -> int:
    """Run the phases and print a table."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(await phase(n, rate, False, Path(tmp)))
        if kill:
            results.append(await phase(n, rate, True, Path(tmp)))
    for r in results:
        print(f"\n== {r['phase']} ==")
        for key, value in r.items():
            if key != "phase":
                print(f"  {key:32} {value}")
    ok = all(
        r["lost"] == 0 and r["duplicated"] == 0 and r["http_429"] == 0 for r in results
    ) and float(str(results[0]["messages_per_s"])) >= float(str(results[0]["target_per_s"]))
    print("\nresult:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _, _, db_url, api_url, rate_text, bid_text = sys.argv
        asyncio.run(run_worker(db_url, api_url, float(rate_text), int(bid_text)))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=25.0, help="configured overall msgs/s")
    parser.add_argument("--no-kill", action="store_true", help="skip the SIGKILL phase")
    ns = parser.parse_args()
    sys.exit(asyncio.run(main(ns.recipients, ns.rate, not ns.no_kill)))
