"""Fixtures: a database per test on SQLite and on PostgreSQL, and the bot harness."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.config import Config
from bot.db import Base, Database
from bot.logs import LIBRARY_FLOORS, setup_logging
from tests import pg
from tests.harness import Harness

ON_CI = os.environ.get("CI") == "true"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate one SQLite file once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"

    async def migrate() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        await db.upgrade()
        await db.dispose()

    asyncio.run(migrate())
    return path


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """Create this run's PostgreSQL database, migrate it, drop it at the end."""
    reason = pg.pg_available()
    if reason is not None:
        if ON_CI:
            pytest.fail(f"CI must run the PostgreSQL tests: {reason}")
        pytest.skip(reason)
    name, url = pg.create_database()

    async def migrate() -> None:
        db = Database(url)
        await db.upgrade()
        await db.dispose()

    try:
        asyncio.run(migrate())
        yield url
    finally:
        pg.drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """Return the URL of an empty, migrated database of the parametrized kind."""
    if request.param == "sqlite":
        path = tmp_path / "parkbot.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("pg_url")
    asyncio.run(_truncate(url))
    return url


async def _truncate(url: str) -> None:
    """Empty every table and restart its ids (DELETE: far cheaper than TRUNCATE's new files)."""
    import asyncpg

    import bot.models  # noqa: F401  (every table on the metadata)

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        sequences = await conn.fetch(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
        )
        statements = [f'DELETE FROM "{t.name}"' for t in reversed(Base.metadata.sorted_tables)]
        statements += [f'ALTER SEQUENCE "{r["sequencename"]}" RESTART' for r in sequences]
        await conn.execute(";".join(statements))
    finally:
        await conn.close()


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """Return a Database on an empty, migrated schema."""
    database = Database(db_url)
    yield database
    await database.dispose()


@pytest.fixture
async def harness(db_url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    """Start the real application on the fake Bot API; stop it afterwards."""
    h = Harness(db_url, tmp_path)
    await h.start()
    try:
        yield h
    finally:
        await h.stop()
    h.assert_no_unexpected_errors()


@pytest.fixture
def fresh_pg() -> Iterator[str]:
    """Return the URL of a new, empty (unmigrated) PostgreSQL database of this test's own."""
    reason = pg.pg_available()
    if reason is not None:
        if ON_CI:
            pytest.fail(f"CI must run the PostgreSQL tests: {reason}")
        pytest.skip(reason)
    name, url = pg.create_database()
    try:
        yield url
    finally:
        pg.drop_database(name)


@pytest.fixture
def real_logging() -> Iterator[io.StringIO]:
    """Configure logging as the app does (bot.logs.setup_logging) at DEBUG, into a buffer."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    levels = {name: logging.getLogger(name).level for name in LIBRARY_FLOORS}
    buffer = io.StringIO()
    setup_logging(Config(database_url="sqlite://", log_level="DEBUG"), stream=buffer)
    yield buffer
    root.handlers[:], level = saved
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)
