"""Tell one person something in their own language through the Telegram Sender."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select, update

from bot.db import Database
from bot.models.core import User
from bot.sender import DeliveryError, OutgoingMessage, Sender, Unreachable
from bot.texts import DEFAULT_LANGUAGE, Texts

log = logging.getLogger(__name__)

CHANNEL = "telegram"


@dataclass(frozen=True)
class Ref:
    """A placeholder value that is itself a text key, rendered in the recipient's language."""

    key: str


class Notifier:
    """Render a text key for a user and send it; delivery problems are logged, not raised."""

    def __init__(self, db: Database, texts: Texts, senders: Mapping[str, Sender]) -> None:
        self.db = db
        self.texts = texts
        # The mapping is filled at start-up (the Telegram sender needs the running Bot).
        self.senders = senders

    async def language(self, user_id: int) -> str:
        """Return the user's language, Chinese when unknown."""
        async with self.db.session() as session:
            lang = await session.scalar(select(User.language).where(User.id == user_id))
        return lang or DEFAULT_LANGUAGE

    def render(self, key: str, lang: str, values: Mapping[str, object]) -> str:
        """Return the text for key in lang, with Ref values rendered in the same language."""
        filled = {
            name: self.texts.get(v.key, lang) if isinstance(v, Ref) else v
            for name, v in values.items()
        }
        return self.texts.get(key, lang, **filled)

    async def tell(self, user_id: int, key: str, /, **values: object) -> bool:
        """Send the text key to user_id; return whether it was delivered."""
        sender = self.senders.get(CHANNEL)
        if sender is None:
            log.warning("no %s sender configured; not telling %s", CHANNEL, key)
            return False
        text = self.render(key, await self.language(user_id), values)
        try:
            await sender.send(str(user_id), OutgoingMessage(text=text, kind="campaign"))
        except Unreachable:
            async with self.db.session() as session:
                await session.execute(
                    update(User).where(User.id == user_id).values(reachable=False)
                )
            return False
        except DeliveryError as exc:
            log.warning("could not tell user %s (%s): %s", user_id, key, exc.reason)
            return False
        return True
