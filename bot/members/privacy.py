"""The privacy notice people consent to, and the erasure of a person's data on request.

Each feature registers the eraser of its own data where it defines that data, with
``bot.erasure.personal_data_eraser``; the imports below load every such module, so the registry
is complete whenever erasure can run. Every eraser runs in the same transaction, so a deletion
is all or nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

# Imported for their registered erasers (FAQ questions, event sign-ups, outbox rows, reports,
# robots, error records).
import bot.events.audience
import bot.faq.questions
import bot.ops
import bot.outbox.service
import bot.reports.service
import bot.robots.service  # noqa: F401
from bot.content import read_yaml
from bot.erasure import PERSONAL_DATA_ERASERS, Eraser, personal_data_eraser
from bot.models.core import PtbState, RoleGrant, User
from bot.models.members import Campaign, Invite, Member, Suggestion, SuggestionEvent


@dataclass(frozen=True)
class PrivacyNotice:
    """The current privacy notice: its version, retention period and text per language."""

    version: str
    retention_days: int
    texts: dict[str, str]

    @classmethod
    def load(cls) -> PrivacyNotice:
        """Read content/privacy.yaml."""
        data = read_yaml("privacy.yaml")
        return cls(str(data["version"]), int(data["retention_days"]), dict(data["text"]))

    def text(self, lang: str) -> str:
        """Return the notice in lang (Chinese when lang is unknown)."""
        template = self.texts.get(lang) or self.texts["zh"]
        return template.format(version=self.version, retention_days=self.retention_days)


@personal_data_eraser
async def erase_member(session: AsyncSession, user_id: int) -> None:
    """Delete the registration row (name, employer, phone …)."""
    await session.execute(delete(Member).where(Member.user_id == user_id))


@personal_data_eraser
async def erase_suggestions(session: AsyncSession, user_id: int) -> None:
    """Delete suggestions of running campaigns; keep closed campaigns' content, unattributed."""
    rows = (
        await session.execute(
            select(Suggestion, Campaign.closed_at)
            .join(Campaign, Campaign.id == Suggestion.campaign_id)
            .where(Suggestion.user_id == user_id)
        )
    ).all()
    for suggestion, closed_at in rows:
        if closed_at is None:
            await session.delete(suggestion)
        else:
            suggestion.user_id = None
            # Attachments were sent from the person's account and may show their face or name.
            suggestion.attachments.clear()
    await session.execute(
        update(SuggestionEvent).where(SuggestionEvent.actor_id == user_id).values(actor_id=None)
    )


async def erase_account(session: AsyncSession, user_id: int) -> None:
    """Delete roles, the user row and persisted conversation state; unlink invitations."""
    await session.execute(delete(RoleGrant).where(RoleGrant.user_id == user_id))
    await session.execute(
        update(RoleGrant).where(RoleGrant.granted_by == user_id).values(granted_by=None)
    )
    await session.execute(update(Invite).where(Invite.used_by == user_id).values(used_by=None))
    await session.execute(update(Invite).where(Invite.created_by == user_id).values(created_by=0))
    await session.execute(
        update(Member).where(Member.reviewed_by == user_id).values(reviewed_by=None)
    )
    await session.execute(
        update(Campaign).where(Campaign.created_by == user_id).values(created_by=0)
    )
    # PTB keys conversations by "chat_id,user_id" and user data by the id: match whole numbers.
    pattern = re.compile(rf"(?<!\d){user_id}(?!\d)")
    keys = await session.execute(
        select(PtbState.kind, PtbState.key).where(PtbState.key.contains(str(user_id)))
    )
    for kind, key in keys.all():
        if pattern.search(key):
            await session.execute(
                delete(PtbState).where(PtbState.kind == kind, PtbState.key == key)
            )
    await session.execute(delete(User).where(User.id == user_id))


async def erase_personal_data(session: AsyncSession, user_id: int) -> None:
    """Run every registered eraser for user_id inside the caller's transaction."""
    # erase_account goes last: other features' erasers may still need the user row.
    ordered = [e for e in PERSONAL_DATA_ERASERS if e is not erase_account]
    for eraser in [*ordered, erase_account]:
        await eraser(session, user_id)


__all__ = ["PERSONAL_DATA_ERASERS", "Eraser", "PrivacyNotice", "erase_personal_data"]
