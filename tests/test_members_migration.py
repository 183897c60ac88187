"""Migration 0003 creates exactly the tables the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

import bot.models  # noqa: F401  (registers every table)
from bot.db import Base, Database

MINE = {
    "members", "member_invites", "campaigns", "campaign_parks", "suggestions",
    "suggestion_attachments", "suggestion_events",
}  # fmt: skip
PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/"


async def _postgres_url() -> str | None:
    name = f"members_{uuid.uuid4().hex[:12]}"
    admin = Database(PG + "test")
    try:
        async with admin.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:  # no server here: the SQLite run still checks the migration
        return None
    finally:
        await admin.dispose()
    return PG + name


async def _drop(url: str) -> None:
    admin = Database(PG + "test")
    async with admin.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}"'))
    await admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        url: str | None = f"sqlite+aiosqlite:///{tmp_path / 'mig.db'}"
    else:
        url = await _postgres_url()
        if url is None:
            pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    assert url is not None
    database = Database(url)
    yield database
    await database.dispose()
    if request.param == "postgresql":
        await _drop(url)


def _diff(conn: Connection) -> list[object]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    diffs = compare_metadata(context, Base.metadata)
    return [d for d in diffs if any(t in repr(d) for t in MINE)]


async def test_upgrade_matches_models(db: Database) -> None:
    await db.upgrade()
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


def test_shipped_head_is_alembics_head() -> None:
    from bot.db import head_revision, shipped_head

    assert shipped_head() == head_revision()


def test_a_start_at_head_does_not_load_alembic(tmp_path: Path) -> None:
    """A start on a database at head runs without Alembic (10 MB); an empty one migrates."""
    import subprocess
    import sys

    probe = (
        "import asyncio, sys\n"
        "from bot.db import Database\n"
        "db = Database(sys.argv[1])\n"
        "asyncio.run(db.upgrade())\n"
        "asyncio.run(db.dispose())\n"
        "print('alembic' in sys.modules)\n"
    )
    url = f"sqlite+aiosqlite:///{tmp_path / 'start.db'}"
    root = Path(__file__).resolve().parents[1]

    def start() -> str:
        done = subprocess.run(
            [sys.executable, "-c", probe, url],
            capture_output=True,
            text=True,
            cwd=root,
            check=True,
        )
        return done.stdout.strip()

    assert start() == "True"  # an empty database: migrated
    assert start() == "False"  # at head: Alembic never imported
