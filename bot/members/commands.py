"""Command line: export members/suggestions and create role invitations (parkbot export|admin)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.clock import SystemClock
from bot.config import Config, load_config
from bot.db import Database
from bot.members.campaigns import CampaignsService
from bot.members.errors import MembersError
from bot.members.exports import FORMATS, KINDS, Exporter, filename, render
from bot.members.notify import Notifier
from bot.members.service import DEFAULT_INVITE_HOURS, INVITE_ROLES, MembersService
from bot.texts import Texts

LANG = "zh"


@dataclass(frozen=True)
class Operator:
    """Whoever runs the CLI on the server acts with provincial scope."""

    user_id: int = 0
    is_admin: bool = True
    secretary_park_ids: frozenset[int] = frozenset()
    official_city_ids: frozenset[int] = frozenset()


SubParsers = argparse._SubParsersAction


def add_parser(subparsers: SubParsers, admin_subparsers: SubParsers | None = None) -> None:
    """Add `export` and `admin invite` (under admin_subparsers, or a new `admin` group)."""
    t = Texts.load()
    export = subparsers.add_parser("export", help=t.get("members.cli.export_help", LANG))
    export.add_argument("kind", choices=KINDS)
    export.add_argument("--format", choices=FORMATS, default="xlsx")
    export.add_argument("--park", metavar="NAME", help=t.get("members.cli.park_help", LANG))
    export.add_argument(
        "--out", metavar="FILE", type=Path, help=t.get("members.cli.out_help", LANG)
    )
    export.set_defaults(func=cmd_export)

    if admin_subparsers is None:
        admin = subparsers.add_parser("admin", help=t.get("members.cli.admin_help", LANG))
        admin_subparsers = admin.add_subparsers(dest="admin_command", required=True)
    invite = admin_subparsers.add_parser("invite", help=t.get("members.cli.invite_help", LANG))
    invite.add_argument("--role", choices=INVITE_ROLES, required=True)
    invite.add_argument("--park", metavar="NAME", help=t.get("members.cli.park_help", LANG))
    invite.add_argument("--city", metavar="NAME", help=t.get("members.cli.city_help", LANG))
    invite.add_argument("--hours", type=int, default=DEFAULT_INVITE_HOURS)
    invite.add_argument("--bot", metavar="USERNAME", help=t.get("members.cli.bot_help", LANG))
    invite.set_defaults(func=cmd_invite)


def _services(config: Config, db: Database) -> tuple[MembersService, CampaignsService, Texts]:
    texts = Texts.load()
    clock = SystemClock()
    notifier = Notifier(db, texts, {})  # the CLI tells nobody: no Telegram sender here
    members = MembersService(db, clock, notifier, admin_ids=config.admin_ids)
    return members, CampaignsService(db, clock, notifier, config.tz), texts


async def export(config: Config, kind: str, fmt: str, park: str | None, out: Path | None) -> Path:
    """Write the export file and return its path."""
    db = Database(config.database_url)
    try:
        members, campaigns, texts = _services(config, db)
        park_id = (await members.park_by_name(park)).id if park else None
        table = await Exporter(members, campaigns, texts, config.tz).table(
            kind, Operator(), park_id, LANG
        )
        path = out or config.data_dir / "exports" / filename(
            kind, fmt, SystemClock().now(), config.tz
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(render(table, fmt, kind))
        return path
    finally:
        await db.dispose()


async def invite(config: Config, role: str, park: str | None, city: str | None, hours: int) -> str:
    """Create an invitation and return its deep-link payload."""
    db = Database(config.database_url)
    try:
        members, _, _ = _services(config, db)
        park_id = (await members.park_by_name(park)).id if park else None
        city_id = (await members.city_by_name(city)).id if city else None
        return await members.create_invite(
            Operator(), role, park_id=park_id, city_id=city_id, hours=hours
        )
    finally:
        await db.dispose()


async def cmd_export(args: argparse.Namespace, config: Config) -> int:
    """Run `parkbot export`."""
    t = Texts.load()
    try:
        path = await export(config, args.kind, args.format, args.park, args.out)
    except MembersError as exc:
        print(t.get(exc.key, LANG, **exc.values), file=sys.stderr)
        return 1
    print(t.get("members.cli.exported", LANG, path=path))
    return 0


async def cmd_invite(args: argparse.Namespace, config: Config) -> int:
    """Run `parkbot admin invite`."""
    t = Texts.load()
    try:
        payload = await invite(config, args.role, args.park, args.city, args.hours)
    except MembersError as exc:
        print(t.get(exc.key, LANG, **exc.values), file=sys.stderr)
        return 1
    link = f"https://t.me/{args.bot.lstrip('@')}?start={payload}" if args.bot else payload
    print(t.get("members.cli.invited", LANG, link=link, payload=payload, hours=args.hours))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse argv and run one members command."""
    parser = argparse.ArgumentParser(prog="parkbot")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return asyncio.run(args.func(args, load_config()))


if __name__ == "__main__":
    raise SystemExit(main())
