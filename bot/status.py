"""`parkbot status`: a one-screen summary an operator reads before and after touching a server.

Features add their own lines by appending an async section to STATUS_SECTIONS, e.g. the reports
feature: ``STATUS_SECTIONS.append(next_reminders)`` where
``async def next_reminders(services: Services) -> list[str]`` returns a heading and lines.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from importlib import metadata

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url

from bot import __version__
from bot.db import head_revision
from bot.services import Services

log = logging.getLogger(__name__)

StatusSection = Callable[[Services], Awaitable[list[str]]]
STATUS_SECTIONS: list[StatusSection] = []

RECENT_ERRORS = 5


def masked_url(url: str) -> str:
    """Return the database URL with its password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def version() -> str:
    """Return the installed package version (the source tree's when not installed)."""
    try:
        return metadata.version("parkbot")
    except metadata.PackageNotFoundError:
        return __version__


async def database_lines(services: Services, reachable: bool) -> list[str]:
    """Describe the database: where, reachable, revision against the code's head."""
    db = services.db
    lines = [f"database:  {masked_url(db.url)}"]
    if not reachable:
        return [*lines, "           NOT reachable"]
    current = await db.current_revision()
    head = head_revision()
    state = "up to date" if current == head else "run `parkbot db upgrade`"
    lines.append(f"           reachable; revision {current or 'none'} (code head {head}: {state})")
    return lines


def _tables(conn: Connection) -> dict[str, list[str]]:
    insp = inspect(conn)
    return {t: [c["name"] for c in insp.get_columns(t)] for t in insp.get_table_names()}


async def outbox_lines(services: Services) -> list[str]:
    """Count outbox rows by state, whichever outbox tables exist."""
    async with services.db.engine.connect() as conn:
        tables = await conn.run_sync(_tables)
        outboxes = sorted(t for t in tables if t.startswith("outbox"))
        if not outboxes:
            return ["outbox:    (no outbox table yet)"]
        lines = []
        for table in outboxes:
            # Names come from the database's own catalogue, not from input.
            column = next((c for c in ("state", "status") if c in tables[table]), None)
            if column is not None:
                rows = (
                    await conn.execute(
                        text(f'SELECT {column}, COUNT(*) FROM "{table}" GROUP BY {column}')
                    )
                ).all()
                counts = ", ".join(f"{status} {n}" for status, n in sorted(rows)) or "empty"
            else:
                n = await conn.scalar(text(f'SELECT COUNT(*) FROM "{table}"'))
                counts = f"{n} rows"
            lines.append(f"outbox:    {table}: {counts}")
        return lines


async def error_lines(services: Services) -> list[str]:
    """List the newest handler errors."""
    async with services.db.engine.connect() as conn:
        if "ops_errors" not in await conn.run_sync(_tables):
            return ["errors:    (not migrated yet)"]
    errors = await services.errors.recent(RECENT_ERRORS)
    if not errors:
        return ["errors:    none recorded"]
    lines = [f"errors:    newest {len(errors)} of {await services.errors.count()} kept"]
    for e in errors:
        where = f" at {e.location}" if e.location else ""
        detail = f" — {e.detail}" if e.detail else ""
        lines.append(
            f"  {e.at:%Y-%m-%d %H:%M:%S}Z update {e.update_id} user {e.user_id}: "
            f"{e.error}{where}{detail}"
        )
    return lines


async def status_report(services: Services) -> list[str]:
    """Return every line of the summary; a failing section says so instead of aborting."""
    lines = [
        f"parkbot {version()}",
        f"webhook:   {services.config.webhook_url or 'off (polling)'}",
    ]
    reachable = await services.db.ping()
    lines += await database_lines(services, reachable)
    if not reachable:
        return lines
    for section in (outbox_lines, *STATUS_SECTIONS, error_lines):
        try:
            lines += await section(services)
        except Exception as exc:  # one broken section must not hide the others
            log.debug("status section failed", exc_info=True)
            first = str(exc).splitlines()[0][:120] if str(exc) else ""
            name = getattr(section, "__name__", "section")
            lines.append(f"{name}: unavailable ({type(exc).__name__}: {first})")
    return lines


def _register_sections() -> None:
    # Imported here, not at the top: feature sections import Services for typing only.
    from bot.reports.status import next_reminders

    if next_reminders not in STATUS_SECTIONS:
        STATUS_SECTIONS.append(next_reminders)


_register_sections()
