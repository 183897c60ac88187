"""Everyone who has talked to the bot: last seen, language, reachability."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from bot.clock import Clock
from bot.db import Database
from bot.models import User
from bot.texts import DEFAULT_LANGUAGE, LANGUAGES

# Writing last_seen on every update would make each question a database write; a few minutes of
# staleness is fine for "last seen".
TOUCH_EVERY = timedelta(minutes=5)


@dataclass
class _Seen:
    language: str
    written_at: datetime
    reachable: bool


class UserDirectory:
    """Record users as they write and remember their language."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._cache: dict[int, _Seen] = {}

    async def touch(self, user_id: int, name: str, language_hint: str | None = None) -> str:
        """Note that user_id wrote to the bot; return their language."""
        now = self.clock.now()
        seen = self._cache.get(user_id)
        if seen is not None and seen.reachable and now - seen.written_at < TOUCH_EVERY:
            return seen.language
        async with self.db.session() as s:
            user = await s.get(User, user_id)
            if user is None:
                lang = _language_from_hint(language_hint)
                user = User(id=user_id, name=name[:256], language=lang, last_seen=now)
                s.add(user)
            else:
                user.name = name[:256] or user.name
                user.last_seen = now
                user.reachable = True  # writing to us means they unblocked the bot
            language = user.language
        self._cache[user_id] = _Seen(language, now, True)
        return language

    async def language(self, user_id: int) -> str:
        """Return the user's language (default Chinese)."""
        seen = self._cache.get(user_id)
        if seen is not None:
            return seen.language
        async with self.db.session() as s:
            lang = await s.scalar(select(User.language).where(User.id == user_id))
        return lang or DEFAULT_LANGUAGE

    async def set_language(self, user_id: int, language: str) -> None:
        """Store the user's language choice."""
        if language not in LANGUAGES:
            raise ValueError(f"unsupported language {language!r}")
        async with self.db.session() as s:
            await s.execute(update(User).where(User.id == user_id).values(language=language))
        seen = self._cache.get(user_id)
        if seen is not None:
            seen.language = language

    async def mark_unreachable(self, user_id: int) -> None:
        """Remember that messages to user_id cannot be delivered (blocked, deactivated)."""
        async with self.db.session() as s:
            await s.execute(update(User).where(User.id == user_id).values(reachable=False))
        seen = self._cache.get(user_id)
        if seen is not None:
            seen.reachable = False


def _language_from_hint(hint: str | None) -> str:
    if hint and hint.lower().startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE
