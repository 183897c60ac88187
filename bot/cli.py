"""The `parkbot` command: run the bot, chat locally, migrate, manage parks and roles."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from bot.access import Role, UnknownScope
from bot.config import Config, ConfigError, load_config
from bot.faq.cli import register as register_ask
from bot.logs import setup_logging
from bot.members import commands as members_commands
from bot.reports import commands as reports_commands
from bot.robots import commands as robots_commands
from bot.services import Services
from bot.texts import Texts

DEFAULT_CONSOLE_USER = 100000001

Command = Callable[[argparse.Namespace, Config], Coroutine[Any, Any, int]]


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="parkbot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the bot (polling or webhook by configuration)")
    run.set_defaults(func=cmd_run)

    chat = sub.add_parser("chat", help="talk to the bot in this terminal (no network)")
    chat.add_argument(
        "--as",
        dest="user_id",
        type=int,
        default=DEFAULT_CONSOLE_USER,
        help="Telegram user id to act as (roles come from the database)",
    )
    chat.add_argument("--name", default="Local user", help="display name")
    chat.set_defaults(func=cmd_chat)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply pending migrations").set_defaults(func=cmd_db_upgrade)

    admin = sub.add_parser("admin", help="manage cities, parks and roles")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    p = admin_sub.add_parser("add-city", help="add a city association")
    p.add_argument("name")
    p.set_defaults(func=cmd_add_city)
    p = admin_sub.add_parser("add-park", help="add a park to a city")
    p.add_argument("name")
    p.add_argument("--city", required=True)
    p.set_defaults(func=cmd_add_park)
    for name, func in (("grant", cmd_grant), ("revoke", cmd_revoke)):
        p = admin_sub.add_parser(name, help=f"{name} a role")
        p.add_argument("user_id", type=int, metavar="TELEGRAM_USER_ID")
        p.add_argument("role", choices=[r.value for r in Role if r is not Role.MEMBER])
        scope = p.add_mutually_exclusive_group()
        scope.add_argument("--park")
        scope.add_argument("--city")
        p.set_defaults(func=func)
    admin_sub.add_parser("list", help="list cities, parks and roles").set_defaults(func=cmd_list)

    for register in FEATURE_PARSERS:
        register(sub, admin_sub)
    return parser


# Features add their subcommands here: register(subparsers, admin_subparsers).
SubParsers = argparse._SubParsersAction


def register_status(sub: SubParsers, admin_sub: SubParsers) -> None:
    """Add `parkbot status`."""
    sub.add_parser("status", help="one-screen summary: database, outbox, errors").set_defaults(
        func=cmd_status
    )


def register_robots(sub: SubParsers, admin_sub: SubParsers) -> None:
    """Add `parkbot robots add|list|test|remove`."""
    robots_commands.add_parser(sub)
    sub.choices["robots"].set_defaults(func=cmd_robots)


async def cmd_robots(args: argparse.Namespace, config: Config) -> int:
    """Manage the WeCom / DingTalk / Feishu group robots."""
    return await robots_commands.run_async(args)


FEATURE_PARSERS: list[Callable[[SubParsers, SubParsers], None]] = [
    register_ask,
    members_commands.add_parser,
    reports_commands.register,
    register_robots,
    register_status,
]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the parkbot command line."""
    args = build_parser().parse_args(argv)
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"parkbot: configuration error: {exc}", file=sys.stderr)
        return 2
    setup_logging(config)
    func: Command = args.func
    try:
        return asyncio.run(func(args, config))
    except UnknownScope as exc:
        print(f"parkbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


async def cmd_run(args: argparse.Namespace, config: Config) -> int:
    """Run the bot; without a token, open the console chat instead."""
    if not config.token:
        print(Texts.load().get("console.no_token"), flush=True)
        args.user_id, args.name = DEFAULT_CONSOLE_USER, "Local user"
        return await cmd_chat(args, config)
    from bot.app import build_application
    from bot.webhook import serve

    services = Services.create(config)
    await serve(build_application(services))
    return 0


async def cmd_chat(args: argparse.Namespace, config: Config) -> int:
    """Chat with the bot in the terminal."""
    from bot.console import run_console

    # The terminal is the chat window: only problems should interrupt the conversation.
    for handler in logging.getLogger().handlers:
        handler.setLevel(max(logging.WARNING, handler.level))
    services = Services.create(config)
    await run_console(services, sys.stdin, sys.stdout, user_id=args.user_id, name=args.name)
    return 0


async def _with_services(config: Config, work: Callable[[Services], Awaitable[int]]) -> int:
    services = Services.create(config)
    try:
        await services.start()
        return await work(services)
    finally:
        await services.close()


async def cmd_db_upgrade(args: argparse.Namespace, config: Config) -> int:
    """Apply migrations and print the revision."""

    async def work(services: Services) -> int:
        print(f"database at revision {await services.db.current_revision()}")
        return 0

    return await _with_services(config, work)


async def cmd_status(args: argparse.Namespace, config: Config) -> int:
    """Print the status summary (without migrating); exit 1 if the database is unreachable."""
    from bot.status import status_report

    # An unreachable database is reported on screen; its traceback would push it off screen.
    logging.getLogger("bot.db").setLevel(logging.CRITICAL)
    services = Services.create(config)
    try:
        lines = await status_report(services)
        print("\n".join(lines))
        return 0 if await services.db.ping() else 1
    finally:
        await services.close()


async def cmd_add_city(args: argparse.Namespace, config: Config) -> int:
    """Add a city."""

    async def work(services: Services) -> int:
        city_id = await services.org.add_city(args.name)
        print(f"city {args.name} (id {city_id})")
        return 0

    return await _with_services(config, work)


async def cmd_add_park(args: argparse.Namespace, config: Config) -> int:
    """Add a park to a city."""

    async def work(services: Services) -> int:
        park_id = await services.org.add_park(args.name, args.city)
        print(f"park {args.name} in {args.city} (id {park_id})")
        return 0

    return await _with_services(config, work)


async def _scope(services: Services, args: argparse.Namespace) -> tuple[int | None, int | None]:
    park_id = await services.org.park_id(args.park) if args.park else None
    city_id = await services.org.city_id(args.city) if args.city else None
    return park_id, city_id


async def cmd_grant(args: argparse.Namespace, config: Config) -> int:
    """Grant a role."""

    async def work(services: Services) -> int:
        park_id, city_id = await _scope(services, args)
        added = await services.access.grant(
            args.user_id, Role(args.role), park_id=park_id, city_id=city_id
        )
        print(
            f"granted {args.role} to {args.user_id}"
            if added
            else f"{args.user_id} already holds {args.role} there"
        )
        return 0

    return await _with_services(config, work)


async def cmd_revoke(args: argparse.Namespace, config: Config) -> int:
    """Revoke a role."""

    async def work(services: Services) -> int:
        park_id, city_id = await _scope(services, args)
        removed = await services.access.revoke(
            args.user_id, Role(args.role), park_id=park_id, city_id=city_id
        )
        print(f"revoked {removed} grant(s)")
        return 0 if removed else 1

    return await _with_services(config, work)


async def cmd_list(args: argparse.Namespace, config: Config) -> int:
    """Print cities, parks and role holders."""

    async def work(services: Services) -> int:
        parks, cities = await services.org.names()
        for city in await services.org.cities():
            print(f"{city.name} (city {city.id})")
            for park in city.parks:
                print(f"  {park.name} (park {park.id})")
        print("roles:")
        for user_id, grant in await services.access.all_grants():
            where = parks.get(grant.park_id or -1) or cities.get(grant.city_id or -1) or "province"
            print(f"  {user_id}\t{grant.role.value}\t{where}")
        return 0

    return await _with_services(config, work)


if __name__ == "__main__":
    raise SystemExit(main())
