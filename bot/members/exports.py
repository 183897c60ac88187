"""Export members and suggestions of the actor's scope as CSV (UTF-8 with BOM) or XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.members.campaigns import CampaignsService
from bot.members.scope import ActorLike, require_staff
from bot.members.service import MembersService
from bot.models.core import Park
from bot.models.members import Campaign, Member
from bot.texts import Texts

FORMATS = ("csv", "xlsx")
KINDS = ("members", "suggestions")
MEMBER_COLUMNS = (
    "id", "name", "park", "employer", "field", "title", "phone", "status", "consent_version",
    "consented_at", "created_at",
)  # fmt: skip
SUGGESTION_COLUMNS = (
    "receipt", "campaign", "park", "author", "phone", "anonymous", "content", "status",
    "forwarded_to", "attachments", "created_at", "updated_at",
)  # fmt: skip
# Spreadsheet programs run cells starting with these as formulas (CSV/formula injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Table:
    """A header row and data rows, ready to be written in any format."""

    headers: list[str]
    rows: list[list[str | int]]


class Exporter:
    """Build the export tables from the domain services; scope comes from the services."""

    def __init__(
        self,
        members: MembersService,
        campaigns: CampaignsService,
        texts: Texts,
        tz: ZoneInfo | None = None,
    ) -> None:
        self.members = members
        self.campaigns = campaigns
        self.texts = texts
        self.tz = tz or ZoneInfo("Asia/Shanghai")

    def _when(self, value: datetime | None) -> str:
        return value.astimezone(self.tz).strftime("%Y-%m-%d %H:%M") if value else ""

    async def _park_names(self) -> dict[int, str]:
        async with self.members.db.session() as session:
            return dict((await session.execute(select(Park.id, Park.name))).all())

    async def members_table(
        self, actor: ActorLike, park_id: int | None = None, lang: str = "zh"
    ) -> Table:
        """Return the members the actor may see (optionally one park)."""
        require_staff(actor)
        parks = await self._park_names()
        t = self.texts
        rows: list[list[str | int]] = [
            [
                m.id,
                m.name,
                parks.get(m.park_id, ""),
                m.employer,
                m.field,
                t.get(f"members.title.{m.title}", lang),
                m.phone,
                t.get(f"members.status.{m.status}", lang),
                m.consent_version,
                self._when(m.consented_at),
                self._when(m.created_at),
            ]
            for m in await self.members.members(actor, park_id)
        ]
        headers = [t.get(f"members.export.col.{c}", lang) for c in MEMBER_COLUMNS]
        return Table(headers, rows)

    async def suggestions_table(
        self, actor: ActorLike, park_id: int | None = None, lang: str = "zh"
    ) -> Table:
        """Return the suggestions the actor may see (optionally one park)."""
        require_staff(actor)
        parks = await self._park_names()
        async with self.members.db.session() as session:
            titles = dict((await session.execute(select(Campaign.id, Campaign.title))).all())
            authors = {m.user_id: m for m in await session.scalars(select(Member))}
        t = self.texts
        rows: list[list[str | int]] = []
        for s in await self.campaigns.suggestions(actor, park_id=park_id):
            author = authors.get(s.user_id) if s.user_id is not None else None
            rows.append(
                [
                    s.receipt,
                    titles.get(s.campaign_id, ""),
                    parks.get(s.park_id, ""),
                    author.name if author else "",
                    author.phone if author else "",
                    t.get("members.export.yes" if s.anonymous else "members.export.no", lang),
                    s.content,
                    t.get(f"campaigns.status.{s.status}", lang),
                    s.forwarded_to,
                    len(s.attachments),
                    self._when(s.created_at),
                    self._when(s.updated_at),
                ]
            )
        headers = [t.get(f"campaigns.export.col.{c}", lang) for c in SUGGESTION_COLUMNS]
        return Table(headers, rows)

    async def table(
        self, kind: str, actor: ActorLike, park_id: int | None = None, lang: str = "zh"
    ) -> Table:
        """Return the members or suggestions table."""
        if kind == "members":
            return await self.members_table(actor, park_id, lang)
        return await self.suggestions_table(actor, park_id, lang)


def _safe(value: str | int) -> str | int:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(table: Table) -> bytes:
    """Return the table as CSV, UTF-8 with a BOM so that Excel shows Chinese correctly."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(table.headers)
    writer.writerows([_safe(v) for v in row] for row in table.rows)
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(table: Table, sheet: str = "export") -> bytes:
    """Return the table as an XLSX workbook with one sheet."""
    from openpyxl import Workbook  # on demand: only exports need it (5 MB)

    # Write-only mode streams rows instead of building every cell object: ~4x faster.
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet(sheet[:31])
    ws.freeze_panes = "A2"
    ws.append(table.headers)
    for row in table.rows:
        ws.append([_safe(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def render(table: Table, fmt: str, sheet: str = "export") -> bytes:
    """Return the table in fmt (csv or xlsx)."""
    return to_xlsx(table, sheet) if fmt == "xlsx" else to_csv(table)


def filename(kind: str, fmt: str, now: datetime, tz: ZoneInfo) -> str:
    """Return a file name like members-20260301-0930.xlsx."""
    return f"{kind}-{now.astimezone(tz):%Y%m%d-%H%M}.{fmt}"


__all__: Sequence[str] = ("FORMATS", "KINDS", "Exporter", "Table", "filename", "render")
