"""The command menu: what each role sees in Telegram's "/" list and in /help."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from bot.access import Actor, Role
from bot.services import Services

log = logging.getLogger(__name__)

EVERYONE: frozenset[Role] = frozenset()


@dataclass(frozen=True)
class Command:
    """A slash command; its description is the text `cmd.<name>`."""

    name: str
    roles: frozenset[Role] = EVERYONE  # empty: everyone

    def visible_to(self, actor: Actor) -> bool:
        """Return whether actor may use the command."""
        return not self.roles or actor.has(*self.roles)


STAFF = frozenset({Role.SECRETARY, Role.ADMIN})

# Order is the order of Telegram's menu and of /help. Features add their rows here.
COMMANDS: list[Command] = [
    Command("start"),
    Command("help"),
    Command("lang"),
    Command("cancel"),
    Command("notice"),
    Command("unanswered", STAFF),
]


def commands_for(actor: Actor) -> list[Command]:
    """Return the commands actor may use, in menu order."""
    return [c for c in COMMANDS if c.visible_to(actor)]


def _bot_commands(services: Services, commands: list[Command], lang: str) -> list[BotCommand]:
    return [BotCommand(c.name, services.texts.get(f"cmd.{c.name}", lang)[:256]) for c in commands]


async def sync_default_commands(bot: Bot, services: Services) -> None:
    """Set the menu everyone sees (per language)."""
    public = commands_for(Actor(0))
    await bot.set_my_commands(_bot_commands(services, public, "zh"), BotCommandScopeDefault())
    await bot.set_my_commands(
        _bot_commands(services, public, "en"), BotCommandScopeDefault(), language_code="en"
    )


async def sync_user_commands(bot: Bot, services: Services, user_id: int) -> None:
    """Give user_id the menu of their roles (or the default one when they hold none)."""
    actor = await services.access.actor(user_id)
    scope = BotCommandScopeChat(chat_id=user_id)
    try:
        if actor.roles - {Role.MEMBER}:
            lang = await services.users.language(user_id)
            await bot.set_my_commands(_bot_commands(services, commands_for(actor), lang), scope)
        else:
            await bot.delete_my_commands(scope)
    except TelegramError as exc:  # a user who never started the bot has no chat yet
        log.info("could not set commands for %s: %s", user_id, exc)


async def sync_all_commands(bot: Bot, services: Services) -> None:
    """Set the default menu and one per role holder (at start-up)."""
    await sync_default_commands(bot, services)
    # Ask for the few role holders only: loading every grant would load every member too.
    holders: set[int] = set()
    for role in Role:
        if role is not Role.MEMBER:
            holders.update(await services.access.holders(role))
    for user_id in sorted(holders):
        await sync_user_commands(bot, services, user_id)
