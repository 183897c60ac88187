"""A PostgreSQL database of this test run's own: created at start, dropped at the end."""

from __future__ import annotations

import asyncio
import os
import uuid

ADMIN_DSN = os.environ.get("PARKBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


async def _admin_execute(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(ADMIN_DSN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def pg_available() -> str | None:
    """Return None when PostgreSQL answers, else the reason it does not."""
    try:
        asyncio.run(_admin_execute("SELECT 1"))
    except Exception as exc:  # any failure to connect means "not available here"
        return f"PostgreSQL not reachable at {ADMIN_DSN}: {type(exc).__name__}"
    return None


def create_database() -> tuple[str, str]:
    """Create a fresh database; return (its name, its SQLAlchemy URL)."""
    name = f"parkbot_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin_execute(f'CREATE DATABASE "{name}"'))
    base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return name, f"{base}/{name}"


def drop_database(name: str) -> None:
    """Drop a database made by create_database (kicking out stray connections)."""
    asyncio.run(_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
