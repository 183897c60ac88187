"""Members: registration, approval, self-service edits, withdrawal, deletion, invitations."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import ColumnElement

from bot.db import Database
from bot.events.audience import erase_rsvps
from bot.members.errors import Conflict, Denied, InvalidInput, NotFound
from bot.members.notify import Notifier, Ref
from bot.members.privacy import PrivacyNotice, erase_personal_data
from bot.members.scope import ActorLike, Clock, readable_park_ids, require_manager
from bot.members.validation import (
    normalize_phone,
    validate_field,
    validate_reason,
    validate_title,
)
from bot.models.core import City, Park, RoleGrant
from bot.models.members import Invite, Member

PENDING, APPROVED, REJECTED, WITHDRAWN = "pending", "approved", "rejected", "withdrawn"
INVITE_PREFIX = "inv-"
INVITE_ROLES = ("secretary", "official")
DEFAULT_INVITE_HOURS = 72
MAX_INVITE_HOURS = 24 * 30


@dataclass(frozen=True)
class Registration:
    """What a person entered in the registration conversation, before it is stored."""

    name: str
    park_id: int
    employer: str
    field: str
    title: str
    phone: str
    consent_version: str
    consented_at: datetime


def hash_token(token: str) -> str:
    """Return the stored form of an invitation token."""
    return hashlib.sha256(token.encode()).hexdigest()


class MembersService:
    """Everything about a member's record; every staff action takes the acting Actor."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        admin_ids: Collection[int] = (),
        privacy: PrivacyNotice | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.notifier = notifier
        self.admin_ids = frozenset(admin_ids)
        self.privacy = privacy or PrivacyNotice.load()

    # -- parks -------------------------------------------------------------------------------

    async def parks(self) -> list[Park]:
        """Return every park, ordered by name."""
        async with self.db.session() as session:
            return list(await session.scalars(select(Park).order_by(Park.name)))

    async def park(self, park_id: int) -> Park:
        """Return one park or raise NotFound."""
        async with self.db.session() as session:
            park = await session.get(Park, park_id)
        if park is None:
            raise NotFound("members.error.no_park")
        return park

    async def park_by_name(self, name: str) -> Park:
        """Return the park with this exact name or raise NotFound."""
        async with self.db.session() as session:
            park = await session.scalar(select(Park).where(Park.name == name.strip()))
        if park is None:
            raise NotFound("members.error.no_park")
        return park

    async def city_by_name(self, name: str) -> City:
        """Return the city with this exact name or raise NotFound."""
        async with self.db.session() as session:
            city = await session.scalar(select(City).where(City.name == name.strip()))
        if city is None:
            raise NotFound("members.error.no_city")
        return city

    # -- registration ------------------------------------------------------------------------

    async def find(self, user_id: int) -> Member | None:
        """Return the person's member record, if any."""
        async with self.db.session() as session:
            return await session.scalar(select(Member).where(Member.user_id == user_id))

    async def register(self, user_id: int, reg: Registration) -> Member:
        """Store a registration as pending; a rejected or withdrawn person may register again."""
        if reg.consent_version != self.privacy.version:
            raise InvalidInput("members.error.consent_stale")
        values = {
            "name": validate_field("name", reg.name),
            "employer": validate_field("employer", reg.employer),
            "field": validate_field("field", reg.field),
            "title": validate_title(reg.title),
            "phone": normalize_phone(reg.phone),
        }
        await self.park(reg.park_id)
        now = self.clock.now()
        async with self.db.session() as session:
            member = await session.scalar(select(Member).where(Member.user_id == user_id))
            if member is not None and member.status in (PENDING, APPROVED):
                raise Conflict("members.error.already_registered")
            if member is None:
                member = Member(user_id=user_id, created_at=now)
                session.add(member)
            for key, value in values.items():
                setattr(member, key, value)
            member.park_id = reg.park_id
            member.status = PENDING
            member.consent_version = reg.consent_version
            member.consented_at = reg.consented_at
            member.reject_reason = ""
            member.reviewed_by = None
            member.reviewed_at = None
            member.updated_at = now
        return member

    async def reviewers(self, park_id: int) -> list[int]:
        """Return who decides on the park's registrations: its secretaries, else the admins."""
        async with self.db.session() as session:
            ids = await session.scalars(
                select(RoleGrant.user_id).where(
                    RoleGrant.role == "secretary", RoleGrant.park_id == park_id
                )
            )
            secretaries = sorted(set(ids))
        return secretaries or sorted(self.admin_ids)

    async def pending(self, actor: ActorLike) -> list[Member]:
        """Return the registrations waiting for a decision within the actor's scope."""
        async with self.db.session() as session:
            parks = await readable_park_ids(session, actor)
            query = select(Member).where(Member.status == PENDING).order_by(Member.created_at)
            if parks is not None:
                query = query.where(Member.park_id.in_(parks))
            return [m for m in await session.scalars(query) if _manages(actor, m.park_id)]

    async def get(self, actor: ActorLike, member_id: int) -> Member:
        """Return a member the actor may see, else NotFound (out of scope looks like absent)."""
        async with self.db.session() as session:
            member = await session.get(Member, member_id)
            parks = await readable_park_ids(session, actor)
        if member is None or (parks is not None and member.park_id not in parks):
            raise NotFound()
        return member

    async def members(self, actor: ActorLike, park_id: int | None = None) -> list[Member]:
        """Return the members in the actor's scope (optionally one park), by park and name."""
        async with self.db.session() as session:
            parks = await readable_park_ids(session, actor)
            query = select(Member).order_by(Member.park_id, Member.name, Member.id)
            if parks is not None:
                query = query.where(Member.park_id.in_(parks))
            if park_id is not None:
                query = query.where(Member.park_id == park_id)
            return list(await session.scalars(query))

    async def approve(self, actor: ActorLike, member_id: int) -> Member:
        """Approve a pending registration, grant the member role and tell the applicant."""
        member = await self._decide(actor, member_id, APPROVED, "")
        park = await self.park(member.park_id)
        await self.notifier.tell(member.user_id, "members.notify.approved", park=park.name)
        return member

    async def reject(self, actor: ActorLike, member_id: int, reason: str) -> Member:
        """Reject a pending registration with a reason and tell the applicant."""
        member = await self._decide(actor, member_id, REJECTED, validate_reason(reason))
        await self.notifier.tell(member.user_id, "members.notify.rejected", reason=reason.strip())
        return member

    async def _decide(self, actor: ActorLike, member_id: int, status: str, reason: str) -> Member:
        async with self.db.session() as session:
            member = await session.get(Member, member_id)
            parks = await readable_park_ids(session, actor)
            if member is None or (parks is not None and member.park_id not in parks):
                raise NotFound()
            require_manager(actor, member.park_id)
            if member.status != PENDING:
                raise Conflict("members.error.not_pending")
            member.status = status
            member.reject_reason = reason
            member.reviewed_by = actor.user_id
            member.reviewed_at = member.updated_at = self.clock.now()
            if status == APPROVED:
                await _grant_member(
                    session, member.user_id, member.park_id, actor.user_id, member.reviewed_at
                )
        return member

    # -- self-service ------------------------------------------------------------------------

    async def edit(self, user_id: int, field: str, value: str) -> Member:
        """Change one field of the person's own record; a new park means review again."""
        async with self.db.session() as session:
            member = await session.scalar(select(Member).where(Member.user_id == user_id))
            if member is None or member.status == WITHDRAWN:
                raise NotFound("members.error.not_member")
            if field == "park":
                park_id = int(value)
                if await session.get(Park, park_id) is None:
                    raise NotFound("members.error.no_park")
                if park_id != member.park_id:
                    await _revoke_member(session, user_id)
                    member.park_id = park_id
                    member.status = PENDING
                    member.reviewed_by = None
                    member.reviewed_at = None
            elif field == "title":
                member.title = validate_title(value)
            elif field == "phone":
                member.phone = normalize_phone(value)
            elif field in ("name", "employer", "field"):
                setattr(member, field, validate_field(field, value))
            else:
                raise InvalidInput()
            member.updated_at = self.clock.now()
        return member

    async def withdraw(self, user_id: int) -> Member:
        """Withdraw consent: stop being a member now; the data goes after the retention period."""
        async with self.db.session() as session:
            member = await session.scalar(select(Member).where(Member.user_id == user_id))
            if member is None or member.status == WITHDRAWN:
                raise NotFound("members.error.not_member")
            member.status = WITHDRAWN
            member.updated_at = self.clock.now()
            await _revoke_member(session, user_id)
            # No longer a member, so no place at events and no reminders for them either.
            await erase_rsvps(session, user_id)
        return member

    async def delete_personal_data(self, user_id: int) -> None:
        """Erase everything personal about user_id across every feature, in one transaction."""
        async with self.db.session() as session:
            await erase_personal_data(session, user_id)

    async def tick(self) -> int:
        """Erase members who withdrew longer ago than the retention period; return how many."""
        cutoff = self.clock.now() - timedelta(days=self.privacy.retention_days)
        async with self.db.session() as session:
            due = list(
                await session.scalars(
                    select(Member.user_id).where(
                        Member.status == WITHDRAWN, Member.updated_at <= cutoff
                    )
                )
            )
            for user_id in due:
                await erase_personal_data(session, user_id)
        return len(due)

    # -- invitations -------------------------------------------------------------------------

    async def create_invite(
        self,
        actor: ActorLike,
        role: str,
        *,
        park_id: int | None = None,
        city_id: int | None = None,
        hours: int = DEFAULT_INVITE_HOURS,
    ) -> str:
        """Create a one-time invitation and return its deep-link payload (inv-<token>)."""
        if not actor.is_admin:
            raise Denied()
        if role not in INVITE_ROLES:
            raise InvalidInput("members.error.invite_role")
        if (role == "secretary") != (park_id is not None) or (role == "official") != (
            city_id is not None
        ):
            raise InvalidInput("members.error.invite_scope")
        if not 1 <= hours <= MAX_INVITE_HOURS:
            raise InvalidInput("members.error.invite_hours", max=MAX_INVITE_HOURS)
        # 24 random bytes → 32 URL-safe characters; the payload stays well under Telegram's 64.
        token = secrets.token_urlsafe(24)
        now = self.clock.now()
        async with self.db.session() as session:
            if park_id is not None and await session.get(Park, park_id) is None:
                raise NotFound("members.error.no_park")
            if city_id is not None and await session.get(City, city_id) is None:
                raise NotFound("members.error.no_city")
            session.add(
                Invite(
                    token_hash=hash_token(token),
                    role=role,
                    park_id=park_id,
                    city_id=city_id,
                    created_by=actor.user_id,
                    created_at=now,
                    expires_at=now + timedelta(hours=hours),
                )
            )
        return INVITE_PREFIX + token

    async def redeem_invite(self, user_id: int, payload: str) -> Invite:
        """Grant the invitation's role to user_id; refuse forged, used or expired links."""
        token = payload.removeprefix(INVITE_PREFIX)
        now = self.clock.now()
        async with self.db.session() as session:
            invite = await session.scalar(
                select(Invite).where(Invite.token_hash == hash_token(token))
            )
            if invite is None:
                raise NotFound("members.error.invite_invalid")
            if invite.used_at is not None:
                raise Conflict("members.error.invite_used")
            if invite.expires_at <= now:
                raise Conflict("members.error.invite_expired")
            invite.used_by = user_id
            invite.used_at = now
            exists = await session.scalar(
                select(RoleGrant.id).where(
                    RoleGrant.user_id == user_id,
                    RoleGrant.role == invite.role,
                    _eq(RoleGrant.park_id, invite.park_id),
                    _eq(RoleGrant.city_id, invite.city_id),
                )
            )
            if exists is None:
                session.add(
                    RoleGrant(
                        user_id=user_id,
                        role=invite.role,
                        park_id=invite.park_id,
                        city_id=invite.city_id,
                        granted_by=invite.created_by,
                        granted_at=now,
                    )
                )
        return invite

    async def scope_name(self, invite: Invite) -> str:
        """Return the park or city name an invitation is for."""
        async with self.db.session() as session:
            if invite.park_id is not None:
                park = await session.get(Park, invite.park_id)
                return park.name if park else ""
            city = await session.get(City, invite.city_id)
            return city.name if city else ""


def _manages(actor: ActorLike, park_id: int) -> bool:
    return actor.is_admin or park_id in actor.secretary_park_ids


def _eq(column: InstrumentedAttribute[int | None], value: int | None) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


async def _grant_member(
    session: AsyncSession, user_id: int, park_id: int, by: int, at: datetime
) -> None:
    await _revoke_member(session, user_id)
    session.add(
        RoleGrant(user_id=user_id, role="member", park_id=park_id, granted_by=by, granted_at=at)
    )


async def _revoke_member(session: AsyncSession, user_id: int) -> None:
    await session.execute(
        delete(RoleGrant).where(RoleGrant.user_id == user_id, RoleGrant.role == "member")
    )


__all__ = ["APPROVED", "PENDING", "REJECTED", "WITHDRAWN", "MembersService", "Ref", "Registration"]
