"""Per-chat ordering of updates, and conversation state shared through the database.

PTB's concurrent_updates would let two messages of one chat race through a conversation; this
processor runs different chats concurrently but one chat's updates strictly in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseUpdateProcessor, ConversationHandler

from handlers.persistence import DbPersistence


def chat_key(update: object) -> int | None:
    """Return the chat (or user) whose updates must stay ordered."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Process updates concurrently across chats, sequentially within a chat."""

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self.application: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run coroutine under the chat's lock, with states reloaded before and saved after."""
        key = chat_key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                app = self.application
                if app is not None and isinstance(update, Update):
                    await reload_conversations(app, update)
                await coroutine
                if app is not None:
                    # Commit conversation moves and user_data now, not a minute later: PTB marks
                    # an update handled before its side effects are saved otherwise.
                    await app.update_persistence()
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key]
                self._locks.pop(key, None)

    async def initialize(self) -> None:
        """Nothing to prepare."""

    async def shutdown(self) -> None:
        """Nothing to release."""


async def reload_conversations(
    app: Application[Any, Any, Any, Any, Any, Any], update: Update
) -> None:
    """Load this chat's conversation states from the database (other processes may move them)."""
    persistence = app.persistence
    if not isinstance(persistence, DbPersistence) or persistence.db.is_sqlite:
        return  # a single process owns a SQLite file; its memory is authoritative
    tracked = app._conversation_handler_conversations
    handlers = [
        h
        for group in app.handlers.values()
        for h in group
        if isinstance(h, ConversationHandler) and h.persistent and h.name in tracked
    ]
    if not handlers:
        return
    try:
        key = handlers[0]._get_key(update)
    except RuntimeError:
        return
    stored = await persistence.load_states(key)
    for handler in handlers:
        states = tracked[handler.name]  # type: ignore[index]
        if handler.name in stored:
            states.update_no_track({key: stored[handler.name]})
        else:
            states.data.pop(key, None)
