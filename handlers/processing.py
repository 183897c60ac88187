"""Per-chat ordering of updates, and conversation state shared through the database.

PTB's concurrent_updates would let two messages of one chat race through a conversation; this
processor runs different chats concurrently but one chat's updates strictly in order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from telegram import Update
from telegram.ext import Application, BaseUpdateProcessor, ConversationHandler

from bot.chatlock import ChatLocks
from bot.logs import update_context
from bot.metrics import Metrics
from handlers.context import SERVICES_KEY
from handlers.persistence import DbPersistence

log = logging.getLogger(__name__)


def chat_key(update: object) -> int | None:
    """Return the chat (or user) whose updates must stay ordered."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


_KINDS: tuple[str, ...] = tuple(str(kind) for kind in Update.ALL_TYPES)


def update_kind(update: object) -> str:
    """Return the update's type as Telegram names it (message, callback_query, …)."""
    if not isinstance(update, Update):
        return type(update).__name__
    if update.message is not None:  # nearly every update: skip the walk below
        return "message"
    for kind in _KINDS:
        if getattr(update, kind, None) is not None:
            return kind
    return "unknown"


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Process updates concurrently across chats, sequentially within a chat.

    Within one process an asyncio lock orders a chat's updates; across processes sharing
    PostgreSQL, a per-chat advisory lock (bot/chatlock.py) does, so two webhook processes behind
    one address never run one chat's conversation steps at the same time.
    """

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self.application: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}
        self._chat_locks: ChatLocks | None = None

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run coroutine under the chat's lock, with states reloaded before and saved after."""
        metrics = self._metrics()
        kind = update_kind(update)
        if metrics is not None:
            metrics.update_received(kind)
        start = time.perf_counter()
        update_id = update.update_id if isinstance(update, Update) else None
        user = update.effective_user if isinstance(update, Update) else None
        with update_context(update_id, user.id if user is not None else None):
            key = chat_key(update)
            if key is None:
                await coroutine
            else:
                await self._process_in_chat(key, update, coroutine)
            elapsed = time.perf_counter() - start
            log.debug("%s handled in %.1f ms", kind, elapsed * 1000)
        if metrics is not None:
            metrics.update_handled(kind, elapsed)

    async def _process_in_chat(self, key: int, update: object, coroutine: Awaitable[Any]) -> None:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                if self._chat_locks is None:
                    await self._run(update, coroutine)
                else:
                    async with self._chat_locks.hold(key) as conn:
                        await self._run(update, coroutine, conn)
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key]
                self._locks.pop(key, None)

    async def _run(
        self, update: object, coroutine: Awaitable[Any], conn: AsyncConnection | None = None
    ) -> None:
        app = self.application
        if app is not None and isinstance(update, Update):
            await reload_conversations(app, update, conn)
        await coroutine
        if app is not None:
            # Commit conversation moves and user_data now, not a minute later: PTB marks
            # an update handled before its side effects are saved otherwise.
            await app.update_persistence()

    def _metrics(self) -> Metrics | None:
        app = self.application
        services = app.bot_data.get(SERVICES_KEY) if app is not None else None
        return getattr(services, "metrics", None)

    async def initialize(self) -> None:
        """Open the cross-process chat locks when the database is shared (PostgreSQL)."""
        app = self.application
        persistence = app.persistence if app is not None else None
        if isinstance(persistence, DbPersistence) and not persistence.db.is_sqlite:
            self._chat_locks = ChatLocks(persistence.db)

    async def shutdown(self) -> None:
        """Close the chat locks' connections."""
        if self._chat_locks is not None:
            await self._chat_locks.close()
            self._chat_locks = None


async def reload_conversations(
    app: Application[Any, Any, Any, Any, Any, Any],
    update: Update,
    conn: AsyncConnection | None = None,
) -> None:
    """Load this chat's conversation states from the database (other processes may move them).

    conn, when given, is the chat lock's connection: the read needs no connection of its own.
    """
    persistence = app.persistence
    if not isinstance(persistence, DbPersistence) or persistence.db.is_sqlite:
        return  # a single process owns a SQLite file; its memory is authoritative
    if update.effective_user is not None:
        # A prefetch left over from an earlier update must never stand in for a fresh read.
        persistence.forget_prefetch(update.effective_user.id)
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
    user = update.effective_user
    # One query for the conversation states and this user's data (PTB asks for it next).
    stored = await persistence.load_states(key, user.id if user is not None else None, conn)
    for handler in handlers:
        states = tracked[handler.name]  # type: ignore[index]
        if handler.name in stored:
            states.update_no_track({key: stored[handler.name]})
        else:
            states.data.pop(key, None)
