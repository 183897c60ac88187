"""Who an event is for, and erasing a member's sign-ups.

Until the members table lands (branch `members`), the audience is read from role_grants
(role "member" with a park_id); fields of work cannot be filtered yet. This function is the
one place to switch to the members table at merge time.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models.core import RoleGrant
from bot.models.events import EventReminder, Rsvp

MEMBER_ROLE = "member"


async def event_audience(
    session: AsyncSession, park_ids: Iterable[int], fields: Iterable[str]
) -> list[int]:
    """Return the user ids of the members of park_ids (in fields of work, when known)."""
    parks = sorted(set(park_ids))
    if not parks:
        return []
    # role_grants carry no field of work; `fields` is honoured once the members table is merged.
    del fields
    rows = await session.scalars(
        select(RoleGrant.user_id)
        .where(RoleGrant.role == MEMBER_ROLE, RoleGrant.park_id.in_(parks))
        .distinct()
        .order_by(RoleGrant.user_id)
    )
    return list(rows)


async def erase_rsvps(session: AsyncSession, user_id: int) -> int:
    """Delete every sign-up and reminder record of user_id; return how many sign-ups went.

    The caller owns the transaction. Places freed here are not handed to waiting members:
    erasure runs outside any event's flow, and the next sign-up or cancellation settles the
    list (see EventsService.settle).
    """
    await session.execute(delete(EventReminder).where(EventReminder.user_id == user_id))
    result = await session.execute(delete(Rsvp).where(Rsvp.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
