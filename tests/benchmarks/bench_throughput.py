"""Throughput, latency and memory of the full application against a bare PTB echo bot.

Run from the repository root:
    python -m tests.benchmarks.bench_throughput [--updates 5000] [--members 100000] [--no-pg]
        [--distinct]

Each scenario runs in its own subprocess so ru_maxrss is that scenario's peak. Updates are
Chinese policy questions (the FAQ's own questions and paraphrases) from many users, pushed
through the real Application (handlers, persistence, per-chat processor) on the in-process fake
Bot API. PTB's rate limiter is off in both bots: it paces sends to Telegram's 30/s, which would
measure Telegram's limit rather than the bot's capacity.

Questions repeat (the FAQ's ~700 phrasings cycle) the way popular questions do, so most verdicts
come from the bot's match cache (the "cached" column); --distinct adds runs where every text is
unique and each update pays for a full match.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import Application, ContextTypes, MessageHandler, filters  # noqa: E402
from telegram.request import HTTPXRequest  # noqa: E402

from bot.app import LOCAL_TOKEN, build_application, start_application, stop_application  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.content import read_yaml  # noqa: E402
from bot.localapi import LocalBotApi, UpdateFactory  # noqa: E402
from bot.services import Services  # noqa: E402

PG_ADMIN = os.environ.get("PARKBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def questions() -> list[str]:
    """Return the FAQ's questions and paraphrases (real Chinese policy questions)."""
    out: list[str] = []
    for entry in read_yaml("faq", "faq.yaml"):
        out.append(entry["question"])
        out.extend(entry.get("paraphrases", []))
    return out


def make_updates(n: int, distinct: bool = False) -> list[dict[str, Any]]:
    """Return n text updates from n // 5 users (well under the per-user flood limit).

    The FAQ's questions repeat as members repeat popular questions; with distinct, each text is
    made unique (a number appended) so no verdict can come from the match cache.
    """
    qs = questions()
    factory = UpdateFactory()
    users = max(1, n // 5)
    return [
        factory.text(
            10_000_000 + i % users, f"{qs[i % len(qs)]} {i}" if distinct else qs[i % len(qs)]
        )
        for i in range(n)
    ]


def percentile(values: list[float], q: float) -> float:
    """Return the q-quantile (0..1) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def drive(
    app: Application[Any, Any, Any, Any, Any, Any],
    n: int,
    settle: Callable[[], Awaitable[None]] | None = None,
    distinct: bool = False,
) -> dict[str, float]:
    """Time n updates one at a time (latency), then n at once (throughput).

    settle runs inside the throughput timing: work an update leaves behind (parkbot writes
    asked questions in batches) is paid for in the figure, not after it.
    """
    latencies: list[float] = []
    done = asyncio.Event()
    step = asyncio.Event()
    processor = app.update_processor
    inner = processor.do_process_update
    target = 0

    async def timed(update: object, coroutine: Awaitable[Any]) -> None:
        start = time.perf_counter()
        await inner(update, coroutine)
        latencies.append(time.perf_counter() - start)
        step.set()
        if len(latencies) >= target:
            done.set()

    async def push(batch: list[dict[str, Any]], one_by_one: bool) -> None:
        nonlocal target
        latencies.clear()
        done.clear()
        target = len(batch)
        for data in batch:
            before = len(latencies)
            await app.update_queue.put(Update.de_json(data, app.bot))
            while one_by_one and len(latencies) == before:
                step.clear()
                await step.wait()
        await done.wait()

    processor.do_process_update = timed  # type: ignore[method-assign]
    updates = make_updates(2 * n + 50, distinct)
    await push(updates[:50], one_by_one=False)  # warm-up: imports, caches, connections
    await push(updates[50 : 50 + n], one_by_one=True)
    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    start = time.perf_counter()
    cpu = time.process_time()
    await push(updates[50 + n :], one_by_one=False)
    if settle is not None:
        await settle()
    elapsed = time.perf_counter() - start
    cpu_ms = (time.process_time() - cpu) * 1000 / n
    return {
        "updates_per_s": n / elapsed,
        "p50_ms": p50 * 1000,
        "p99_ms": p99 * 1000,
        # CPU per update (all threads): steadier than wall time when the machine is shared.
        "cpu_ms": cpu_ms,
    }


def request(api: LocalBotApi) -> HTTPXRequest:
    """Return PTB's HTTP client on the in-process fake Bot API."""
    return HTTPXRequest(
        connection_pool_size=256, httpx_kwargs={"transport": httpx.MockTransport(api.handle)}
    )


async def run_parkbot(db_url: str, n: int, data_dir: Path, distinct: bool) -> dict[str, float]:
    """Benchmark the full parkbot application (on a database migrated beforehand)."""
    api = LocalBotApi(history=False)
    services = Services.create(Config(database_url=db_url, data_dir=data_dir))
    app = build_application(
        services, transport=httpx.MockTransport(api.handle), run_clock=False, rate_limiter=False
    )
    await start_application(app)
    try:
        result = await drive(app, n, settle=services.questions.flush, distinct=distinct)
        cache = services.questions.match_cache_info()
    finally:
        await stop_application(app)
    result["bot_calls"] = api.call_count
    result["cache_hits"] = cache.hits / max(1, cache.hits + cache.misses)
    return result


async def run_echo(n: int) -> dict[str, float]:
    """Benchmark a bare PTB echo bot on the same fake Bot API."""
    api = LocalBotApi(history=False)

    async def echo(update: Update, ctx: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(update.effective_message.text or "")

    req = request(api)
    app = (
        Application.builder()
        .token(LOCAL_TOKEN)
        .base_url("http://local/bot")
        .request(req)
        .get_updates_request(req)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    await app.initialize()
    await app.start()
    try:
        return await drive(app, n)
    finally:
        await app.stop()
        await app.shutdown()


async def seed_members(db_url: str, count: int) -> None:
    """Migrate, then insert count users with member grants in one park, fast (executemany)."""
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from bot.db import Database
    from bot.models import City, Park, RoleGrant, User

    db = Database(db_url)
    await db.upgrade()
    if not count:
        await db.dispose()
        return
    now = datetime.now(UTC)
    async with db.session() as s:
        city = City(name="bench-city")
        s.add(city)
        await s.flush()
        park = Park(name="bench-park", city_id=city.id)
        s.add(park)
        await s.flush()
        users = [
            {
                "id": 50_000_000 + i,
                "name": f"m{i}",
                "language": "zh",
                "last_seen": now,
                "reachable": True,
                "created_at": now,
            }
            for i in range(count)
        ]
        grants = [
            {"user_id": 50_000_000 + i, "role": "member", "park_id": park.id, "granted_at": now}
            for i in range(count)
        ]
        for chunk in range(0, count, 20_000):
            await s.execute(insert(User), users[chunk : chunk + 20_000])
            await s.execute(insert(RoleGrant), grants[chunk : chunk + 20_000])
    await db.dispose()


def fresh_database(kind: str, tmp: Path) -> tuple[str, str | None]:
    """Return (URL, PostgreSQL database name to drop or None)."""
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp / 'bench.db'}", None
    from tests import pg

    name, url = pg.create_database()
    return url, name


def scenario(args: argparse.Namespace) -> None:
    """Run one scenario in this process and print its figures as JSON."""
    tmp = Path(tempfile.mkdtemp(prefix="parkbot-bench-"))
    drop: str | None = None
    try:
        if args.scenario == "echo":
            result = asyncio.run(run_echo(args.updates))
        else:
            kind = args.scenario.split("-")[1]
            url, drop = fresh_database(kind, tmp)
            # Migrating and seeding in a child process: ru_maxrss is then a running bot's peak
            # (every start but the first after an upgrade finds the schema at head).
            subprocess.run(
                [sys.executable, __file__, "--seed-only", url, "--seed", str(args.members)],
                check=True,
                cwd=ROOT,
            )
            result = asyncio.run(run_parkbot(url, args.updates, tmp, args.distinct))
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
    finally:
        if drop is not None:
            from tests import pg

            pg.drop_database(drop)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    """Run every scenario in a subprocess and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=5000)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument(
        "--distinct", action="store_true", help="also run with every question text unique"
    )
    parser.add_argument("--scenario", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--seed-only", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        asyncio.run(seed_members(args.seed_only, args.seed))
        return
    if args.scenario:
        args.members = args.seed
        scenario(args)
        return

    kinds = ["sqlite"] if args.no_pg else ["sqlite", "postgresql"]
    # (scenario, members, distinct questions)
    runs = [("echo", 0, False)]
    runs += [(f"parkbot-{k}", 0, False) for k in kinds]
    runs += [(f"parkbot-{k}", args.members, False) for k in kinds]
    if args.distinct:
        runs += [(f"parkbot-{k}", 0, True) for k in kinds]
    results: dict[tuple[str, int, bool], dict[str, float]] = {}
    print(f"{args.updates} question updates per run\n")
    print(
        f"{'scenario':<22}{'members':>9}{'texts':>9}{'upd/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'CPU ms':>9}{'RSS MB':>9}{'cached':>9}"
    )
    for name, members, distinct in runs:
        command = [sys.executable, __file__, "--scenario", name, "--updates", str(args.updates)]
        command += ["--seed", str(members)] + (["--distinct"] if distinct else [])
        done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
        r = results[(name, members, distinct)] = json.loads(done.stdout.strip().splitlines()[-1])
        texts = "unique" if distinct else "repeat"
        cached = f"{r['cache_hits']:.0%}" if "cache_hits" in r else "-"
        print(
            f"{name:<22}{members:>9}{texts:>9}{r['updates_per_s']:>9.0f}{r['p50_ms']:>9.2f}"
            f"{r['p99_ms']:>9.2f}{r['cpu_ms']:>9.2f}{r['peak_rss_mb']:>9.0f}{cached:>9}"
        )
    echo = results[("echo", 0, False)]
    print()
    for (name, members, distinct), r in results.items():
        if name != "echo":
            ratio = r["updates_per_s"] / echo["updates_per_s"]
            cpu_ratio = echo["cpu_ms"] / r["cpu_ms"]
            texts = "unique" if distinct else "repeated"
            print(
                f"{name} ({members} members, {texts} questions): {ratio:.0%} of the bare echo"
                f" bot's throughput ({cpu_ratio:.0%} by CPU per update)"
            )


if __name__ == "__main__":
    main()
