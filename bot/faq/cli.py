"""Register `parkbot ask` on the main command line, reusing bot/faq/commands.py."""

from __future__ import annotations

import argparse
from typing import Any

from bot.config import Config
from bot.faq.commands import add_parser, run


def register(subparsers: Any, admin_subparsers: Any) -> None:
    """Add the `ask` subcommand (the admin group gets nothing)."""
    add_parser(subparsers).set_defaults(func=cmd_ask)


async def cmd_ask(args: argparse.Namespace, config: Config) -> int:
    """Answer a question exactly as the chat would (same engine, same render)."""
    return run(args)
