"""Who may see which parks: the scope rules every members/campaigns query goes through."""

from __future__ import annotations

from collections.abc import Set
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.members.errors import Denied
from bot.models.core import Park


class ActorLike(Protocol):
    """The parts of bot.access.Actor the domain relies on (the CLI passes its own operator)."""

    @property
    def user_id(self) -> int:
        """Return the Telegram user id of the person acting."""
        ...

    @property
    def is_admin(self) -> bool:
        """Return whether the person is a provincial admin."""
        ...

    @property
    def secretary_park_ids(self) -> Set[int]:
        """Return the parks the person is secretary of."""
        ...

    @property
    def official_city_ids(self) -> Set[int]:
        """Return the cities the person is an official of."""
        ...


async def readable_park_ids(session: AsyncSession, actor: ActorLike) -> set[int] | None:
    """Return the parks whose members the actor may see; None means every park."""
    if actor.is_admin:
        return None
    parks = set(actor.secretary_park_ids)
    if actor.official_city_ids:
        rows = await session.scalars(
            select(Park.id).where(Park.city_id.in_(list(actor.official_city_ids)))
        )
        parks.update(rows)
    return parks


def can_manage_park(actor: ActorLike, park_id: int) -> bool:
    """Return whether the actor may approve members and review suggestions of a park."""
    return actor.is_admin or park_id in actor.secretary_park_ids


def require_manager(actor: ActorLike, park_id: int) -> None:
    """Raise Denied unless the actor is the park's secretary or an admin."""
    if not can_manage_park(actor, park_id):
        raise Denied()


def require_staff(actor: ActorLike) -> None:
    """Raise Denied unless the actor holds any secretary, official or admin role."""
    if not (actor.is_admin or actor.secretary_park_ids or actor.official_city_ids):
        raise Denied()


__all__ = ["ActorLike", "Clock", "can_manage_park", "readable_park_ids", "require_manager"]
