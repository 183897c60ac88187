"""PTB persistence in our own database (not a pickle file).

Conversation states and user_data live in the `ptb_state` table, so a conversation survives a
restart and another process on the same PostgreSQL can continue it (see PerChatUpdateProcessor,
which reloads a chat's states before each update and flushes them right after).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from bot.db import Database
from bot.models import PtbState

CONV = "conv:"
USER = "user"


def key_text(key: ConversationKey) -> str:
    """Return the stored form of a conversation key."""
    return json.dumps(list(key), separators=(",", ":"))


# Built once: composing the statement cost more than running it, on every update.
_CONV_STATES = (PtbState.key == bindparam("conv_key")) & PtbState.kind.startswith(CONV)
_COLUMNS = select(PtbState.kind, PtbState.key, PtbState.value)
_STATES = _COLUMNS.where(_CONV_STATES)
_STATES_AND_USER = _COLUMNS.where(
    _CONV_STATES | ((PtbState.kind == USER) & (PtbState.key == bindparam("user_key")))
)


class DbPersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """BasePersistence on SQLAlchemy: conversations and user_data, written as they change."""

    def __init__(self, db: Database, update_interval: float = 60) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self.db = db
        # What we last wrote, so an unchanged user_data costs no write.
        self._written_user: dict[int, str] = {}
        # user_data read together with the conversation states just before an update, so
        # PTB's refresh_user_data for that same update needs no second query.
        self._prefetched_user: dict[int, dict[Any, Any]] = {}

    async def get_conversations(self, name: str) -> ConversationDict:
        """Load every stored state of conversation name."""
        async with self.db.session() as s:
            rows = (await s.scalars(select(PtbState).where(PtbState.kind == CONV + name))).all()
        return {tuple(json.loads(r.key)): r.value for r in rows}

    async def load_states(
        self,
        key: ConversationKey,
        user_id: int | None = None,
        conn: AsyncConnection | None = None,
    ) -> dict[str, object]:
        """Return {conversation name: state} stored for one key (prefetching user_id's data).

        With conn (an autocommit connection already at hand) the read is one round trip.
        """
        params = {"conv_key": key_text(key)}
        stmt = _STATES
        if user_id is not None:
            params["user_key"] = str(user_id)
            stmt = _STATES_AND_USER
        if conn is not None:
            rows = (await conn.execute(stmt, params)).all()
        else:
            async with self.db.session() as s:
                rows = (await s.execute(stmt, params)).all()
        if user_id is not None:
            user_rows = [r.value for r in rows if r.kind == USER]
            self._prefetched_user[user_id] = dict(user_rows[0]) if user_rows else {}
        return {r.kind[len(CONV) :]: r.value for r in rows if r.kind != USER}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        """Store (or, for None, drop) one conversation state."""
        await self._put(CONV + name, key_text(key), new_state)

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        """Load every user's data."""
        async with self.db.session() as s:
            rows = (await s.scalars(select(PtbState).where(PtbState.kind == USER))).all()
        out = {int(r.key): dict(r.value) for r in rows}  # type: ignore[call-overload]
        self._written_user = {k: _dump(v) for k, v in out.items()}
        return out

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        """Store one user's data if it changed."""
        dumped = _dump(data)
        if self._written_user.get(user_id, _dump({})) == dumped:
            return
        await self._put(USER, str(user_id), data if data else None)
        self._written_user[user_id] = dumped

    def forget_prefetch(self, user_id: int) -> None:
        """Drop a prefetched user_data so the next refresh reads the database."""
        self._prefetched_user.pop(user_id, None)

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        """Reload one user's data from the database when processes share it."""
        if self.db.is_sqlite:
            return  # one process per SQLite file: memory is authoritative
        fresh = self._prefetched_user.pop(user_id, None)
        if fresh is None:
            async with self.db.session() as s:
                row = await s.get(PtbState, (USER, str(user_id)))
            fresh = dict(row.value) if row is not None else {}  # type: ignore[call-overload]
        user_data.clear()
        user_data.update(fresh)
        self._written_user[user_id] = _dump(fresh)

    async def drop_user_data(self, user_id: int) -> None:
        """Forget one user's data."""
        await self._put(USER, str(user_id), None)
        self._written_user.pop(user_id, None)

    async def _put(self, kind: str, key: str, value: object | None) -> None:
        async with self.db.session() as s:
            row = await s.get(PtbState, (kind, key))
            if value is None:
                if row is not None:
                    await s.execute(
                        delete(PtbState).where(PtbState.kind == kind, PtbState.key == key)
                    )
            elif row is None:
                s.add(PtbState(kind=kind, key=key, value=value))
            else:
                row.value = value

    # Not stored (see store_data): PTB still requires the methods.
    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        """Return no chat data (not persisted)."""
        return {}

    async def get_bot_data(self) -> dict[Any, Any]:
        """Return no bot data (not persisted)."""
        return {}

    async def get_callback_data(self) -> None:
        """Return no callback data (not persisted)."""
        return

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        """Ignore chat data (not persisted)."""

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        """Ignore bot data (not persisted)."""

    async def update_callback_data(self, data: Any) -> None:
        """Ignore callback data (not persisted)."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """Ignore chat data (not persisted)."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        """Ignore chat data (not persisted)."""

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        """Ignore bot data (not persisted)."""

    async def flush(self) -> None:
        """Nothing is buffered: every change is written as it happens."""


def _dump(data: object) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
