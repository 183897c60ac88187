"""Who an event is for, and erasing a member's sign-ups.

The members table is the truth: an event reaches the approved members of its parks, and when the
event names fields of work, only those whose field matches one of them.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.erasure import personal_data_eraser
from bot.models.events import Event, EventReminder, Rsvp
from bot.models.members import Member

APPROVED = "approved"


def field_matches(member_field: str, fields: Iterable[str]) -> bool:
    """Return whether a member's field of work falls under any of fields (none means all)."""
    wanted = [f.strip().casefold() for f in fields if f.strip()]
    if not wanted:
        return True
    mine = member_field.strip().casefold()
    # Fields are free text on both sides: "材料" covers a member in "高分子材料" and vice versa.
    return any(w in mine or (mine and mine in w) for w in wanted)


async def event_audience(
    session: AsyncSession, park_ids: Iterable[int], fields: Iterable[str]
) -> list[int]:
    """Return the user ids of the approved members of park_ids in fields of work (if given)."""
    parks = sorted(set(park_ids))
    if not parks:
        return []
    wanted = list(fields)
    rows = await session.execute(
        select(Member.user_id, Member.field).where(
            Member.status == APPROVED, Member.park_id.in_(parks)
        )
    )
    return sorted({uid for uid, field in rows.all() if field_matches(field, wanted)})


@personal_data_eraser
async def erase_rsvps(session: AsyncSession, user_id: int) -> int:
    """Delete every sign-up and reminder record of user_id; return how many sign-ups went.

    The caller owns the transaction. Places freed here are not handed to waiting members:
    erasure runs outside any event's flow, and the next sign-up or cancellation settles the
    list (see EventsService.settle).
    """
    await session.execute(delete(EventReminder).where(EventReminder.user_id == user_id))
    result = await session.execute(delete(Rsvp).where(Rsvp.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@personal_data_eraser
async def erase_organiser(session: AsyncSession, user_id: int) -> None:
    """Unlink events a deleted secretary organised (the event itself belongs to the park)."""
    await session.execute(
        update(Event).where(Event.organiser_id == user_id).values(organiser_id=0)
    )
