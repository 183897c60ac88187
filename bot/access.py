"""Roles and scopes: who may do what, enforced in the domain."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import InstrumentedAttribute

from bot.db import Database
from bot.models import City, Park, RoleGrant


class Role(StrEnum):
    """The roles of the association's people."""

    ADMIN = "admin"  # provincial association
    OFFICIAL = "official"  # a city association, tied to a city
    SECRETARY = "secretary"  # a park association, tied to a park
    MEMBER = "member"  # a scientist registered with a park


class AccessDenied(Exception):
    """The actor lacks the role or scope for this action."""


class UnknownScope(ValueError):
    """A park or city named in a command does not exist."""


@dataclass(frozen=True)
class Grant:
    """One role, with its park or city where the role is scoped."""

    role: Role
    park_id: int | None = None
    city_id: int | None = None


@dataclass(frozen=True)
class Actor:
    """A person acting through the bot, with every role they hold."""

    user_id: int
    grants: frozenset[Grant] = frozenset()

    @property
    def roles(self) -> frozenset[Role]:
        """Return the roles held, unscoped."""
        return frozenset(g.role for g in self.grants)

    @property
    def is_admin(self) -> bool:
        """Return whether the actor is a provincial admin."""
        return Role.ADMIN in self.roles

    @property
    def secretary_park_ids(self) -> frozenset[int]:
        """Return the parks the actor is secretary of."""
        return self._scoped(Role.SECRETARY, "park_id")

    @property
    def official_city_ids(self) -> frozenset[int]:
        """Return the cities the actor is an official of."""
        return self._scoped(Role.OFFICIAL, "city_id")

    @property
    def member_park_ids(self) -> frozenset[int]:
        """Return the parks the actor is a member of."""
        return self._scoped(Role.MEMBER, "park_id")

    def has(self, *roles: Role) -> bool:
        """Return whether the actor holds any of roles."""
        return bool(self.roles.intersection(roles))

    def require_admin(self) -> None:
        """Raise AccessDenied unless the actor is an admin."""
        if not self.is_admin:
            raise AccessDenied("admin only")

    def require_secretary(self, park_id: int) -> None:
        """Raise AccessDenied unless the actor runs park_id (admins run every park)."""
        if not (self.is_admin or park_id in self.secretary_park_ids):
            raise AccessDenied(f"not secretary of park {park_id}")

    def require_official(self, city_id: int) -> None:
        """Raise AccessDenied unless the actor is an official of city_id (or an admin)."""
        if not (self.is_admin or city_id in self.official_city_ids):
            raise AccessDenied(f"not official of city {city_id}")

    def _scoped(self, role: Role, attr: str) -> frozenset[int]:
        return frozenset(
            value
            for g in self.grants
            if g.role is role and (value := getattr(g, attr)) is not None
        )


class AccessService:
    """Read and change role grants; provincial admins also come from configuration."""

    def __init__(self, db: Database, admin_ids: Iterable[int] = ()) -> None:
        self.db = db
        self.config_admin_ids = frozenset(admin_ids)

    async def actor(self, user_id: int) -> Actor:
        """Return the actor with every grant user_id holds."""
        async with self.db.session() as s:
            rows = (await s.scalars(select(RoleGrant).where(RoleGrant.user_id == user_id))).all()
        grants = {Grant(Role(r.role), r.park_id, r.city_id) for r in rows}
        if user_id in self.config_admin_ids:
            grants.add(Grant(Role.ADMIN))
        return Actor(user_id, frozenset(grants))

    async def grant(
        self,
        user_id: int,
        role: Role,
        *,
        park_id: int | None = None,
        city_id: int | None = None,
        granted_by: int | None = None,
    ) -> bool:
        """Give user_id the role (scoped as the role requires); return False if already held."""
        park_id, city_id = _check_scope(role, park_id, city_id)
        async with self.db.session() as s:
            existing = await s.scalar(
                select(RoleGrant.id).where(
                    RoleGrant.user_id == user_id,
                    RoleGrant.role == role.value,
                    _eq(RoleGrant.park_id, park_id),
                    _eq(RoleGrant.city_id, city_id),
                )
            )
            if existing is not None:
                return False
            s.add(
                RoleGrant(
                    user_id=user_id,
                    role=role.value,
                    park_id=park_id,
                    city_id=city_id,
                    granted_by=granted_by,
                )
            )
        return True

    async def revoke(
        self, user_id: int, role: Role, *, park_id: int | None = None, city_id: int | None = None
    ) -> int:
        """Take the role away (every scope when none is given); return how many grants went."""
        stmt = delete(RoleGrant).where(RoleGrant.user_id == user_id, RoleGrant.role == role.value)
        if park_id is not None:
            stmt = stmt.where(RoleGrant.park_id == park_id)
        if city_id is not None:
            stmt = stmt.where(RoleGrant.city_id == city_id)
        async with self.db.session() as s:
            result = await s.execute(stmt)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def holders(
        self, role: Role, *, park_id: int | None = None, city_id: int | None = None
    ) -> list[int]:
        """Return the user ids holding role (in the given park or city)."""
        stmt = select(RoleGrant.user_id).where(RoleGrant.role == role.value)
        if park_id is not None:
            stmt = stmt.where(RoleGrant.park_id == park_id)
        if city_id is not None:
            stmt = stmt.where(RoleGrant.city_id == city_id)
        async with self.db.session() as s:
            ids = set((await s.scalars(stmt)).all())
        if role is Role.ADMIN:
            ids |= self.config_admin_ids
        return sorted(ids)

    async def all_grants(self) -> list[tuple[int, Grant]]:
        """Return every stored grant as (user id, grant), admins from config included."""
        async with self.db.session() as s:
            rows = (await s.scalars(select(RoleGrant).order_by(RoleGrant.user_id))).all()
        out = [(r.user_id, Grant(Role(r.role), r.park_id, r.city_id)) for r in rows]
        out += [(uid, Grant(Role.ADMIN)) for uid in sorted(self.config_admin_ids)]
        return out


def _eq(column: InstrumentedAttribute[int | None], value: int | None) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def _check_scope(role: Role, park_id: int | None, city_id: int | None) -> tuple[int | None, ...]:
    if role in (Role.SECRETARY, Role.MEMBER):
        if park_id is None:
            raise UnknownScope(f"{role.value} needs a park")
        return park_id, None
    if role is Role.OFFICIAL:
        if city_id is None:
            raise UnknownScope("official needs a city")
        return None, city_id
    return None, None


class OrgService:
    """Cities and their parks."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_city(self, name: str) -> int:
        """Create a city (idempotent); return its id."""
        name = name.strip()
        if not name:
            raise UnknownScope("empty city name")
        async with self.db.session() as s:
            existing = await s.scalar(select(City.id).where(City.name == name))
            if existing is not None:
                return existing
            city = City(name=name)
            s.add(city)
            await s.flush()
            return city.id

    async def add_park(self, name: str, city_name: str) -> int:
        """Create a park in an existing city (idempotent); return its id."""
        name = name.strip()
        if not name:
            raise UnknownScope("empty park name")
        async with self.db.session() as s:
            city_id = await s.scalar(select(City.id).where(City.name == city_name.strip()))
            if city_id is None:
                raise UnknownScope(f"no city named {city_name!r}")
            existing = await s.scalar(select(Park.id).where(Park.name == name))
            if existing is not None:
                return existing
            park = Park(name=name, city_id=city_id)
            s.add(park)
            await s.flush()
            return park.id

    async def city_id(self, name: str) -> int:
        """Return the id of the city called name."""
        async with self.db.session() as s:
            found = await s.scalar(select(City.id).where(City.name == name.strip()))
        if found is None:
            raise UnknownScope(f"no city named {name!r}")
        return found

    async def park_id(self, name: str) -> int:
        """Return the id of the park called name."""
        async with self.db.session() as s:
            found = await s.scalar(select(Park.id).where(Park.name == name.strip()))
        if found is None:
            raise UnknownScope(f"no park named {name!r}")
        return found

    async def cities(self) -> list[City]:
        """Return every city with its parks loaded."""
        from sqlalchemy.orm import selectinload

        async with self.db.session() as s:
            rows = await s.scalars(
                select(City).options(selectinload(City.parks)).order_by(City.name)
            )
            return list(rows.all())

    async def parks(self) -> list[Park]:
        """Return every park, by name."""
        async with self.db.session() as s:
            return list((await s.scalars(select(Park).order_by(Park.name))).all())

    async def names(self) -> tuple[dict[int, str], dict[int, str]]:
        """Return (park id → name, city id → name)."""
        async with self.db.session() as s:
            parks = {p.id: p.name for p in (await s.scalars(select(Park))).all()}
            cities = {c.id: c.name for c in (await s.scalars(select(City))).all()}
        return parks, cities
