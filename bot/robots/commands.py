"""`parkbot robots …`: add, list, test and remove group robots from the shell.

The operator at the shell acts as a provincial admin. `add_parser(subparsers)` registers the
commands on the parkbot CLI; `python -m bot.robots.commands …` runs them on their own.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.config import load_config
from bot.db import Database
from bot.models.robots import ROBOT_KINDS
from bot.robots.sender import RobotSender
from bot.robots.service import RobotError, RobotsService, RobotView
from bot.texts import LANGUAGES, Texts


@dataclass(frozen=True)
class OperatorActor:
    """Whoever runs the CLI: they hold the server, so they act as an admin."""

    is_admin: bool = True
    secretary_park_ids: frozenset[int] = field(default_factory=frozenset)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `robots add|list|test|remove` on a CLI's subparsers."""
    texts = Texts.load()
    robots = subparsers.add_parser("robots", help=texts.get("robots.cli.help", "en"))
    robots.add_argument("--lang", choices=LANGUAGES, default="zh")
    commands = robots.add_subparsers(dest="robots_command", required=True)

    add = commands.add_parser("add")
    where = add.add_mutually_exclusive_group(required=True)
    where.add_argument("--park", metavar="NAME")
    where.add_argument("--city", metavar="NAME")
    add.add_argument("--kind", choices=ROBOT_KINDS, required=True)
    add.add_argument("--url", required=True)
    add.add_argument("--secret")
    add.add_argument("--keyword")
    add.add_argument("--kinds", metavar="notice,event,campaign,report")

    commands.add_parser("list")
    test = commands.add_parser("test")
    test.add_argument("id", type=int)
    remove = commands.add_parser("remove")
    remove.add_argument("id", type=int)
    kinds = commands.add_parser("kinds")
    kinds.add_argument("id", type=int)
    kinds.add_argument("kinds", metavar="notice,event,campaign,report")
    robots.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the parsed robots command; return the exit status."""
    return asyncio.run(_run(args))


async def run_async(args: argparse.Namespace) -> int:
    """Run the parsed robots command inside a running event loop (the parkbot CLI)."""
    return await _run(args)


async def _run(args: argparse.Namespace) -> int:
    texts = Texts.load()
    lang: str = args.lang
    db = Database(load_config().database_url)
    service = RobotsService(db, texts)
    actor = OperatorActor()
    try:
        if args.robots_command == "add":
            park_id = await service.park_id(args.park) if args.park else None
            city_id = await service.city_id(args.city) if args.city else None
            view = await service.add(
                actor,
                kind=args.kind,
                url=args.url,
                park_id=park_id,
                city_id=city_id,
                secret=args.secret,
                keyword=args.keyword,
                kinds=args.kinds,
            )
            print(
                texts.get(
                    "robots.cli.added",
                    lang,
                    id=view.id,
                    kind=view.kind,
                    scope_name=view.scope_name,
                )
            )
        elif args.robots_command == "list":
            views = await service.list(actor)
            for view in views:
                print(row(texts, lang, view))
            if not views:
                print(texts.get("robots.cli.none", lang))
        elif args.robots_command == "test":
            sender = RobotSender(db, texts=texts)
            try:
                outcome = await service.test_send(actor, args.id, sender)
            finally:
                await sender.close()
            key = "robots.cli.test_ok" if outcome.ok else "robots.cli.test_failed"
            print(texts.get(key, lang, answer=outcome.answer))
            return 0 if outcome.ok else 1
        elif args.robots_command == "kinds":
            view = await service.set_kinds(actor, args.id, args.kinds)
            print(row(texts, lang, view))
        elif args.robots_command == "remove":
            await service.remove(actor, args.id)
            print(texts.get("robots.cli.removed", lang, id=args.id))
    except RobotError as exc:
        print(texts.get(exc.key, lang, **exc.values), file=sys.stderr)
        return 2
    finally:
        await db.dispose()
    return 0


def row(texts: Texts, lang: str, view: RobotView) -> str:
    """Return one line of `robots list`, credentials masked."""
    state = (
        texts.get("robots.cli.broken", lang, reason=view.broken_reason)
        if view.broken
        else texts.get("robots.cli.ok", lang)
    )
    return texts.get(
        "robots.cli.row",
        lang,
        id=view.id,
        kind=view.kind,
        scope_name=view.scope_name,
        url=view.url,
        secret=view.secret or "-",
        keyword=view.keyword or "-",
        kinds=",".join(view.kinds),
        state=state,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Parse argv as `robots …` (the word "robots" may be left out) and run it."""
    parser = argparse.ArgumentParser(prog="parkbot")
    add_parser(parser.add_subparsers(dest="command", required=True))
    words = list(sys.argv[1:] if argv is None else argv)
    if not words or words[0] != "robots":
        words.insert(0, "robots")
    args = parser.parse_args(words)
    status: int = args.handler(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
