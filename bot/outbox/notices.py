"""Plain notices: a secretary writes to their park's members, an admin to chosen parks or all."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.outbox.service import (
    BroadcastDenied,
    Outbox,
    OutboxActor,
    Recipient,
    audience_for_parks,
)
from bot.sender import Attachment, OutgoingMessage

TEXT_LIMIT = 4096  # Telegram counts UTF-16 code units

Audience = Callable[[AsyncSession, Sequence[int] | None], Awaitable[list[Recipient]]]


class NoticeInvalid(ValueError):
    """The notice cannot be sent as written (empty, too long)."""


class NoticeActor(OutboxActor, Protocol):
    """An actor that may also be a secretary of some parks."""

    @property
    def secretary_park_ids(self) -> frozenset[int]:
        """Return the parks the actor runs."""
        ...


@dataclass(frozen=True)
class NoticeDraft:
    """What the sender wrote and to whom: park_ids None means every member (admins only)."""

    text: str
    park_ids: tuple[int, ...] | None
    attachment: Attachment | None = None


def utf16_len(text: str) -> int:
    """Return the length of text as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


class NoticeService:
    """Check who may write to whom, then hand the notice to the outbox."""

    def __init__(self, db: Database, outbox: Outbox, audience: Audience = audience_for_parks):
        self.db = db
        self.outbox = outbox
        self._audience = audience

    def allowed_parks(self, actor: NoticeActor) -> frozenset[int] | None:
        """Return the parks actor may write to; None means every park (admins)."""
        return None if actor.is_admin else actor.secretary_park_ids

    def check_scope(self, actor: NoticeActor, park_ids: Sequence[int] | None) -> None:
        """Raise BroadcastDenied unless actor may write to park_ids (None: everyone)."""
        allowed = self.allowed_parks(actor)
        if allowed is None:
            return
        if park_ids is None or not park_ids or not set(park_ids) <= allowed:
            raise BroadcastDenied("a secretary writes to their own parks only")

    async def recipients(
        self, actor: NoticeActor, park_ids: Sequence[int] | None
    ) -> list[Recipient]:
        """Return who a notice to park_ids would reach."""
        self.check_scope(actor, park_ids)
        async with self.db.session() as s:
            return await self._audience(s, park_ids)

    @staticmethod
    def validate(draft: NoticeDraft) -> None:
        """Raise NoticeInvalid if Telegram would refuse the text."""
        if not draft.text.strip() and draft.attachment is None:
            raise NoticeInvalid("empty")
        if utf16_len(draft.text) > TEXT_LIMIT:
            raise NoticeInvalid("too long")

    async def send(
        self, actor: NoticeActor, draft: NoticeDraft, *, progress_chat: int | None = None
    ) -> int:
        """Store the notice as a broadcast to the draft's audience; return the broadcast id."""
        self.validate(draft)
        recipients = await self.recipients(actor, draft.park_ids)
        message = OutgoingMessage(
            text=draft.text,
            attachments=(draft.attachment,) if draft.attachment else (),
            kind="notice",
        )
        return await self.outbox.create_broadcast(
            kind="notice",
            created_by=actor.user_id,
            message=message,
            recipients=recipients,
            park_ids=draft.park_ids or (),
            progress_chat=progress_chat,
        )
