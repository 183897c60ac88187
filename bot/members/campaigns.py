"""合理化建议 campaigns: opening, suggestions with receipts, the review lifecycle, closing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.members.errors import Conflict, Denied, InvalidInput, NotFound
from bot.members.notify import Notifier, Ref
from bot.members.scope import ActorLike, Clock, readable_park_ids, require_manager
from bot.members.service import APPROVED
from bot.members.validation import clean_text, validate_reason, validate_suggestion
from bot.models.core import Park, User
from bot.models.members import (
    Campaign,
    CampaignPark,
    Member,
    Suggestion,
    SuggestionAttachment,
    SuggestionEvent,
)
from bot.outbox.service import TELEGRAM, Outbox, Recipient
from bot.sender import OutgoingMessage
from bot.texts import DEFAULT_LANGUAGE

SUBMITTED, ACCEPTED, REJECTED = "submitted", "accepted", "rejected"
FORWARDED, ADOPTED, NOT_ADOPTED, IMPLEMENTED = "forwarded", "adopted", "not_adopted", "implemented"
STATUSES = (SUBMITTED, ACCEPTED, REJECTED, FORWARDED, ADOPTED, NOT_ADOPTED, IMPLEMENTED)
# 初审 → 转办 → 采纳/未采纳 → 已实施; an accepted suggestion may be decided without forwarding.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    SUBMITTED: (ACCEPTED, REJECTED),
    ACCEPTED: (FORWARDED, ADOPTED, NOT_ADOPTED),
    FORWARDED: (ADOPTED, NOT_ADOPTED),
    ADOPTED: (IMPLEMENTED,),
}
NOTE_REQUIRED = frozenset({REJECTED, FORWARDED})
MAX_ATTACHMENTS = 10
TITLE_MAX, DESCRIPTION_MAX = 128, 2000


@dataclass(frozen=True)
class AttachmentIn:
    """A file a member attached: its kind (photo/document), Telegram file id and name."""

    kind: str
    file_id: str
    file_name: str = ""


@dataclass
class CampaignStats:
    """Suggestion counts of one campaign within the actor's scope."""

    campaign: Campaign
    by_status: dict[str, int] = field(default_factory=dict)
    by_park: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Return the number of suggestions counted."""
        return sum(self.by_status.values())


@dataclass(frozen=True)
class TickResult:
    """What one tick did."""

    announced: tuple[int, ...] = ()
    closed: tuple[int, ...] = ()


def allowed_transitions(status: str) -> tuple[str, ...]:
    """Return the statuses a suggestion in `status` may move to."""
    return TRANSITIONS.get(status, ())


def is_open(campaign: Campaign, now: datetime) -> bool:
    """Return whether a campaign accepts suggestions at `now`."""
    return campaign.closed_at is None and campaign.opens_at <= now < campaign.closes_at


class CampaignsService:
    """Campaigns and suggestions; scope rules as in MembersService."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        notifier: Notifier,
        tz: ZoneInfo | None = None,
        *,
        outbox: Outbox | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.notifier = notifier
        self.tz = tz or ZoneInfo("Asia/Shanghai")
        # Announcements reach whole parks: through the paced, crash-safe outbox when there is one.
        self.outbox = outbox

    # -- campaigns ---------------------------------------------------------------------------

    async def open_campaign(
        self,
        actor: ActorLike,
        title: str,
        description: str,
        opens_on: date,
        closes_on: date,
        park_ids: Sequence[int],
    ) -> Campaign:
        """Open a campaign for some parks from opens_on to closes_on (inclusive, local days)."""
        if not park_ids:
            raise InvalidInput("campaigns.error.no_parks")
        for park_id in park_ids:
            require_manager(actor, park_id)
        title = clean_text(title, "title", TITLE_MAX)
        description = clean_text(description, "description", DESCRIPTION_MAX)
        opens_at = datetime.combine(opens_on, time(), self.tz)
        closes_at = datetime.combine(closes_on + timedelta(days=1), time(), self.tz)
        now = self.clock.now()
        if closes_on < opens_on or closes_at <= now:
            raise InvalidInput("campaigns.error.dates")
        async with self.db.session() as session:
            known = set(await session.scalars(select(Park.id).where(Park.id.in_(park_ids))))
            if known != set(park_ids):
                raise NotFound("members.error.no_park")
            campaign = Campaign(
                title=title,
                description=description,
                opens_at=opens_at,
                closes_at=closes_at,
                created_by=actor.user_id,
                created_at=now,
                parks=[CampaignPark(park_id=p) for p in sorted(set(park_ids))],
            )
            session.add(campaign)
        await self.tick()
        return await self.campaign(campaign.id)

    async def campaign(self, campaign_id: int) -> Campaign:
        """Return a campaign or raise NotFound."""
        async with self.db.session() as session:
            campaign = await session.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound()
        return campaign

    async def campaigns(self, actor: ActorLike) -> list[Campaign]:
        """Return the campaigns touching the actor's parks, newest first."""
        async with self.db.session() as session:
            parks = await readable_park_ids(session, actor)
            query = select(Campaign).order_by(Campaign.opens_at.desc(), Campaign.id.desc())
            if parks is not None:
                query = query.where(
                    Campaign.id.in_(
                        select(CampaignPark.campaign_id).where(CampaignPark.park_id.in_(parks))
                    )
                )
            return list(await session.scalars(query))

    async def open_for(self, user_id: int) -> list[Campaign]:
        """Return the campaigns an approved member may submit to now."""
        now = self.clock.now()
        async with self.db.session() as session:
            member = await _approved_member(session, user_id)
            query = (
                select(Campaign)
                .join(CampaignPark, CampaignPark.campaign_id == Campaign.id)
                .where(
                    CampaignPark.park_id == member.park_id,
                    Campaign.closed_at.is_(None),
                    Campaign.opens_at <= now,
                    Campaign.closes_at > now,
                )
                .order_by(Campaign.closes_at)
            )
            return list(await session.scalars(query))

    async def tick(self) -> TickResult:
        """Close campaigns past their close time and announce those that have opened."""
        now = self.clock.now()
        async with self.db.session() as session:
            to_close = list(
                await session.scalars(
                    select(Campaign).where(Campaign.closed_at.is_(None), Campaign.closes_at <= now)
                )
            )
            for campaign in to_close:
                campaign.closed_at = now
            to_announce = list(
                await session.scalars(
                    select(Campaign).where(
                        Campaign.announced_at.is_(None),
                        Campaign.closed_at.is_(None),
                        Campaign.opens_at <= now,
                    )
                )
            )
            # Mark first, send after commit: a crash then loses an announcement, never repeats it.
            for campaign in to_announce:
                campaign.announced_at = now
        for campaign in to_announce:
            await self._announce(campaign)
        return TickResult(
            announced=tuple(c.id for c in to_announce), closed=tuple(c.id for c in to_close)
        )

    async def _announce(self, campaign: Campaign) -> None:
        async with self.db.session() as session:
            recipients = (
                await session.execute(
                    select(Member.user_id, User.language)
                    .outerjoin(User, User.id == Member.user_id)
                    .where(Member.status == APPROVED, Member.park_id.in_(campaign.park_ids))
                    .order_by(Member.user_id)
                )
            ).all()
        closes = (campaign.closes_at - timedelta(days=1)).astimezone(self.tz).date()
        values = {
            "title": campaign.title,
            "description": campaign.description,
            "closes": closes.isoformat(),
        }
        if self.outbox is None:
            for user_id, _lang in recipients:
                await self.notifier.tell(user_id, "campaigns.notify.opened", **values)
            return
        # One broadcast per language: each member reads the announcement in their own.
        by_lang: dict[str, list[int]] = {}
        # Robots of the parks read the broadcast in their own language, even if no member does.
        for lang in await self.outbox.robot_languages(campaign.park_ids, "campaign"):
            by_lang[lang] = []
        for user_id, lang in recipients:
            by_lang.setdefault(lang or DEFAULT_LANGUAGE, []).append(user_id)
        for lang, user_ids in sorted(by_lang.items()):
            text = self.notifier.render("campaigns.notify.opened", lang, values)
            await self.outbox.create_broadcast(
                kind="campaign",
                created_by=campaign.created_by or None,
                message=OutgoingMessage(text=text, title=campaign.title, kind="campaign"),
                recipients=[Recipient(TELEGRAM, str(uid), uid) for uid in user_ids],
                park_ids=campaign.park_ids,
                ref=f"campaign:{campaign.id}:{lang}",
                lang=lang,
            )

    async def stats(self, actor: ActorLike, campaign_id: int) -> CampaignStats:
        """Return counts by status and by park of a campaign, within the actor's parks."""
        async with self.db.session() as session:
            campaign = await session.get(Campaign, campaign_id)
            parks = await readable_park_ids(session, actor)
            if campaign is None or (parks is not None and not parks & set(campaign.park_ids)):
                raise NotFound()
            query = (
                select(Suggestion.status, Park.name, func.count())
                .join(Park, Park.id == Suggestion.park_id)
                .where(Suggestion.campaign_id == campaign_id)
                .group_by(Suggestion.status, Park.name)
            )
            if parks is not None:
                query = query.where(Suggestion.park_id.in_(parks))
            by_status: Counter[str] = Counter()
            by_park: Counter[str] = Counter()
            for status, park, count in (await session.execute(query)).all():
                by_status[status] += count
                by_park[park] += count
        return CampaignStats(campaign, dict(by_status), dict(sorted(by_park.items())))

    # -- suggestions -------------------------------------------------------------------------

    async def submit(
        self,
        user_id: int,
        campaign_id: int,
        content: str,
        *,
        anonymous: bool = False,
        attachments: Sequence[AttachmentIn] = (),
    ) -> Suggestion:
        """Store a member's suggestion in an open campaign and give it a receipt number."""
        content = validate_suggestion(content)
        if len(attachments) > MAX_ATTACHMENTS:
            raise InvalidInput("campaigns.error.attachments", max=MAX_ATTACHMENTS)
        now = self.clock.now()
        year = now.astimezone(self.tz).year
        for _attempt in range(5):
            try:
                async with self.db.session() as session:
                    member = await _approved_member(session, user_id)
                    campaign = await session.get(Campaign, campaign_id)
                    if campaign is None or member.park_id not in campaign.park_ids:
                        raise NotFound("campaigns.error.no_campaign")
                    if not is_open(campaign, now):
                        raise Conflict("campaigns.error.closed")
                    last = await session.scalar(
                        select(func.max(Suggestion.seq)).where(Suggestion.year == year)
                    )
                    suggestion = Suggestion(
                        year=year,
                        seq=(last or 0) + 1,
                        campaign_id=campaign_id,
                        park_id=member.park_id,
                        user_id=user_id,
                        content=content,
                        anonymous=anonymous,
                        status=SUBMITTED,
                        forwarded_to="",
                        created_at=now,
                        updated_at=now,
                        attachments=[
                            SuggestionAttachment(
                                kind=a.kind, file_id=a.file_id, file_name=a.file_name
                            )
                            for a in attachments
                        ],
                    )
                    session.add(suggestion)
                    await session.flush()
                    session.add(
                        SuggestionEvent(
                            suggestion_id=suggestion.id,
                            from_status="",
                            to_status=SUBMITTED,
                            actor_id=user_id,
                            at=now,
                        )
                    )
                return suggestion
            except IntegrityError:
                # Two members took the same receipt number at once: number again.
                continue
        raise Conflict()

    async def mine(self, user_id: int) -> list[Suggestion]:
        """Return the person's own suggestions, newest first."""
        async with self.db.session() as session:
            return list(
                await session.scalars(
                    select(Suggestion)
                    .where(Suggestion.user_id == user_id)
                    .order_by(Suggestion.created_at.desc(), Suggestion.id.desc())
                )
            )

    async def suggestion(self, actor: ActorLike, suggestion_id: int) -> Suggestion:
        """Return a suggestion of the actor's parks, else NotFound."""
        async with self.db.session() as session:
            suggestion = await session.get(Suggestion, suggestion_id)
            parks = await readable_park_ids(session, actor)
        if suggestion is None or (parks is not None and suggestion.park_id not in parks):
            raise NotFound()
        return suggestion

    async def suggestions(
        self,
        actor: ActorLike,
        *,
        campaign_id: int | None = None,
        statuses: Sequence[str] | None = None,
        park_id: int | None = None,
    ) -> list[Suggestion]:
        """Return suggestions in the actor's scope, oldest first."""
        async with self.db.session() as session:
            parks = await readable_park_ids(session, actor)
            query = select(Suggestion).order_by(Suggestion.year, Suggestion.seq)
            if parks is not None:
                query = query.where(Suggestion.park_id.in_(parks))
            if campaign_id is not None:
                query = query.where(Suggestion.campaign_id == campaign_id)
            if statuses is not None:
                query = query.where(Suggestion.status.in_(statuses))
            if park_id is not None:
                query = query.where(Suggestion.park_id == park_id)
            return list(await session.scalars(query))

    async def review_queue(self, actor: ActorLike) -> list[Suggestion]:
        """Return suggestions the actor can still move along (not in a final status)."""
        if not (actor.is_admin or actor.secretary_park_ids):
            raise Denied()
        items = await self.suggestions(actor, statuses=list(TRANSITIONS))
        return [s for s in items if actor.is_admin or s.park_id in actor.secretary_park_ids]

    async def history(self, actor: ActorLike, suggestion_id: int) -> list[SuggestionEvent]:
        """Return every status change of a suggestion, oldest first."""
        await self.suggestion(actor, suggestion_id)
        async with self.db.session() as session:
            return list(
                await session.scalars(
                    select(SuggestionEvent)
                    .where(SuggestionEvent.suggestion_id == suggestion_id)
                    .order_by(SuggestionEvent.at, SuggestionEvent.id)
                )
            )

    async def transition(
        self, actor: ActorLike, suggestion_id: int, to_status: str, note: str = ""
    ) -> Suggestion:
        """Move a suggestion one step, record who and when, and tell its author."""
        note = validate_reason(note) if to_status in NOTE_REQUIRED else note.strip()[:500]
        now = self.clock.now()
        async with self.db.session() as session:
            suggestion = await session.get(Suggestion, suggestion_id)
            parks = await readable_park_ids(session, actor)
            if suggestion is None or (parks is not None and suggestion.park_id not in parks):
                raise NotFound()
            require_manager(actor, suggestion.park_id)
            if to_status not in allowed_transitions(suggestion.status):
                raise Conflict("campaigns.error.transition")
            session.add(
                SuggestionEvent(
                    suggestion_id=suggestion.id,
                    from_status=suggestion.status,
                    to_status=to_status,
                    actor_id=actor.user_id,
                    note=note,
                    at=now,
                )
            )
            suggestion.status = to_status
            suggestion.updated_at = now
            if to_status == FORWARDED:
                suggestion.forwarded_to = note
        if suggestion.user_id is not None:
            await self.notifier.tell(
                suggestion.user_id,
                "campaigns.notify.status",
                receipt=suggestion.receipt,
                status=Ref(f"campaigns.status.{to_status}"),
                note=note or "-",
            )
        return suggestion


async def _approved_member(session: AsyncSession, user_id: int) -> Member:
    member = await session.scalar(select(Member).where(Member.user_id == user_id))
    if member is None or member.status != APPROVED:
        raise Denied("campaigns.error.not_member")
    return member
