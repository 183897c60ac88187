"""Questions members ask in chat: answer from the FAQ, keep them, hand them to a person."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.access import AccessDenied, AccessService, Actor, Role
from bot.clock import Clock
from bot.db import Database
from bot.erasure import personal_data_eraser
from bot.faq.engine import FaqEngine, FaqEntry, Match, split_questions
from bot.faq.recorder import FLUSH_SECONDS, QuestionRecorder, erase_pending
from bot.faq.render import SUGGESTION_FLOOR, render_answer
from bot.metrics import Metrics
from bot.models import FaqForward, FaqQuestion, Park, User
from bot.models.members import Member
from bot.notice import Clause
from bot.sender import DeliveryError, OutgoingMessage, Sender
from bot.texts import Texts

log = logging.getLogger(__name__)

# Telegram allows 4096 characters, but nobody asks a policy question that long: a wall of text
# is a pasted document, and answering it with one FAQ entry would mislead.
MAX_QUESTION_CHARS = 500
# Distinct question texts whose verdicts are kept (small: they point at the shared entries).
MATCH_CACHE = 4096
MAX_OFFERED = 3
UNANSWERED_PAGE = 10

# NUL and other C0 controls (but tab and newline): PostgreSQL text refuses NUL outright.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

Status = Literal["answered", "open", "forwarded", "resolved"]
ReplyKind = Literal["answer", "not_covered", "greeting", "thanks", "empty", "too_long"]
Feedback = Literal["up", "down"]


@dataclass(frozen=True)
class Reply:
    """What the bot says to a question, and what its buttons offer."""

    kind: ReplyKind
    text: str
    question_id: int | None = None
    offered: tuple[FaqEntry, ...] = ()
    clauses: tuple[Clause, ...] = ()


@dataclass(frozen=True)
class Pending:
    """A question waiting for a person: not covered, or marked unhelpful."""

    id: int
    text: str
    park: str
    status: str
    feedback: str | None
    entry_question: str | None


@dataclass(frozen=True)
class Relayed:
    """A person's answer delivered (or not) to the asker."""

    question_id: int
    delivered: bool
    already_resolved: bool = False


@dataclass
class Forwarded:
    """How a hand-off went: who was reached, and whether it had happened before."""

    reached: list[int] = field(default_factory=list)
    already: bool = False
    to_admins: bool = False


def clean_question(text: str) -> str:
    """Return text without control characters and surrounding blanks."""
    return _CONTROL.sub("", text).strip()


async def park_of(session: AsyncSession, user_id: int) -> int | None:
    """Return the park of the asker's member record (approved or pending), or None."""
    # A pending member's question still belongs to their park's secretary; a withdrawn or
    # rejected person's goes to the admins like anyone's without a park.
    return await session.scalar(
        select(Member.park_id).where(
            Member.user_id == user_id, Member.status.in_(("approved", "pending"))
        )
    )


async def parks_of(session: AsyncSession, user_ids: set[int]) -> dict[int, int | None]:
    """Return park_of for many users in one query (the same rule as park_of)."""
    rows = await session.execute(
        select(Member.user_id, Member.park_id).where(
            Member.user_id.in_(user_ids), Member.status.in_(("approved", "pending"))
        )
    )
    return {row.user_id: row.park_id for row in rows}


@personal_data_eraser
async def erase_questions(session: AsyncSession, user_id: int) -> int:
    """Drop id, text and answer of every question user_id asked; return how many."""
    # Questions asked in the last moments may still wait in memory to be written.
    pending = erase_pending(user_id)
    asked = select(FaqQuestion.id).where(FaqQuestion.user_id == user_id).scalar_subquery()
    # The copies sent to secretaries point at the question; without it they only leak a link.
    await session.execute(
        delete(FaqForward)
        .where(or_(FaqForward.question_id.in_(asked), FaqForward.chat_id == user_id))
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(FaqQuestion)
        .where(FaqQuestion.answered_by == user_id)
        .values(answered_by=None)
        .execution_options(synchronize_session=False)
    )
    # A person's answer is addressed to the asker and may name them: it goes with the question.
    result = await session.execute(
        update(FaqQuestion)
        .where(FaqQuestion.user_id == user_id)
        .values(user_id=None, text=None, answer_text=None)
        .execution_options(synchronize_session=False)
    )
    return pending + int(result.rowcount or 0)  # type: ignore[attr-defined]


class QuestionService:
    """Answer, record and hand off members' questions."""

    def __init__(
        self,
        db: Database,
        engine: FaqEngine,
        texts: Texts,
        clock: Clock,
        access: AccessService,
        senders: dict[str, Sender],
        metrics: Metrics | None = None,
    ) -> None:
        self.db = db
        self.engine = engine
        self.texts = texts
        self.clock = clock
        self.access = access
        self.senders = senders
        self.metrics = metrics if metrics is not None else Metrics()
        self.recorder = QuestionRecorder(db, parks_of)
        # The engine is a pure function of the text: popular questions (asked word for word by
        # many members) are matched once. Verdicts are immutable, so sharing them is safe.
        self._match = lru_cache(maxsize=MATCH_CACHE)(engine.match)

    def match_cache_info(self) -> Any:
        """Return the match cache's hits, misses and size (functools' CacheInfo)."""
        return self._match.cache_info()

    async def flush(self) -> None:
        """Write the questions asked but not yet stored."""
        await self.recorder.flush()

    async def close(self) -> None:
        """Write what is buffered and stop the background writer."""
        await self.recorder.close()

    async def _row(self, s: AsyncSession, question_id: int) -> FaqQuestion | None:
        """Return a question's row, written first if it still waits in this process's buffer."""
        await self.recorder.ensure_written(question_id)
        row = await s.get(FaqQuestion, question_id)
        if row is None and not self.db.is_sqlite:
            # Another process sharing PostgreSQL may have asked it and not written it yet.
            await asyncio.sleep(FLUSH_SECONDS * 1.5)
            row = await s.get(FaqQuestion, question_id)
        return row

    # -- asking --------------------------------------------------------------------------

    async def ask(self, user_id: int, text: str, lang: str) -> Reply:
        """Answer a free-text question and keep it (small talk and empty input are not kept)."""
        question = clean_question(text)
        if len(question) > MAX_QUESTION_CHARS:
            return Reply(
                "too_long", self.texts.get("faqchat.too_long", lang, limit=MAX_QUESTION_CHARS)
            )
        with self.metrics.faq_matching():
            match = self._match(question)
        if match.kind in ("greeting", "thanks", "empty"):
            return Reply(match.kind, render_answer(match, self.texts, lang))
        reply = await self._record(user_id, question, match, lang)
        if reply.kind == "answer":
            self.metrics.faq_answered()
        else:
            self.metrics.faq_not_covered()
        return reply

    async def ask_all(self, user_id: int, text: str, lang: str) -> list[Reply]:
        """Answer a message: one reply per question when it asks several the FAQ answers.

        Each is kept as its own question, with its own buttons and feedback (see
        FaqEngine.match_all); any other message is one question (ask).
        """
        question = clean_question(text)
        if len(question) <= MAX_QUESTION_CHARS and len(split_questions(question)) > 1:
            with self.metrics.faq_matching():
                matches = self.engine.match_all(question, self._match)
            if len(matches) > 1:
                replies = []
                for part, match in matches:
                    replies.append(await self._record(user_id, part, match, lang))
                    self.metrics.faq_answered()
                return replies
        return [await self.ask(user_id, text, lang)]

    async def ask_offered(self, user_id: int, question_id: int, index: int, lang: str) -> Reply:
        """Answer the index-th question offered under an earlier reply (a related button)."""
        async with self.db.session() as s:
            row = await self._row(s, question_id)
            offered = list(row.offered) if row is not None and row.user_id == user_id else []
        if not 0 <= index < len(offered) or not self._known(offered[index]):
            raise LookupError(question_id)
        entry = self.engine.entry(offered[index])
        match = Match(entry=entry, confidence=1.0, answered=True, kind="answer")
        return await self._record(user_id, entry.question, match, lang)

    def top_answers(self, text: str, lang: str, limit: int = MAX_OFFERED) -> list[Reply]:
        """Return up to limit rendered answers for an inline query, best first (nothing kept)."""
        question = clean_question(text)[:MAX_QUESTION_CHARS]
        with self.metrics.faq_matching():
            match = self._match(question)
        if match.kind != "answer" and match.kind != "not_covered":
            return []
        ranked = [(match.entry, match.confidence)] if match.entry is not None else []
        ranked += [(e, score) for e, score in match.alternatives if score >= SUGGESTION_FLOOR]
        out: list[Reply] = []
        for entry, score in ranked:
            if entry is None or any(r.offered[0].id == entry.id for r in out):
                continue
            verdict = Match(entry=entry, confidence=score, answered=True, kind="answer")
            out.append(Reply("answer", render_answer(verdict, self.texts, lang), None, (entry,)))
        return out[:limit]

    def _known(self, entry_id: str) -> bool:
        try:
            self.engine.entry(entry_id)
        except KeyError:
            return False
        return True

    async def _record(self, user_id: int, question: str, match: Match, lang: str) -> Reply:
        entry = match.entry if match.answered else None
        if entry is not None:
            ids = [r for r in entry.related if self._known(r)]
            if not ids:
                ids = [e.id for e, _ in match.alternatives]
        else:
            ids = [e.id for e, score in match.alternatives if score >= SUGGESTION_FLOOR]
        offered = tuple(self.engine.entry(i) for i in ids[:MAX_OFFERED])
        question_id = await self.recorder.add(
            {
                "user_id": user_id,
                "text": question,
                "lang": lang,
                "entry_id": match.entry.id if match.entry is not None else None,
                "confidence": float(match.confidence),
                "answered": entry is not None,
                "offered": [e.id for e in offered],
                "status": "answered" if entry is not None else "open",
                "asked_at": self.clock.now(),
            }
        )
        clauses = tuple(
            self.engine.clause(c) for c in (entry.clauses if entry else ()) if self._has(c)
        )
        return Reply(
            "answer" if entry is not None else "not_covered",
            render_answer(match, self.texts, lang),
            question_id,
            offered,
            clauses,
        )

    def _has(self, clause_id: str) -> bool:
        return self.engine.notice.has(clause_id)

    async def clause(self, question_id: int, index: int) -> Clause:
        """Return the index-th clause of the entry that answered a question."""
        async with self.db.session() as s:
            row = await self._row(s, question_id)
            entry_id = row.entry_id if row is not None and row.answered else None
        if entry_id is None or not self._known(entry_id):
            raise LookupError(question_id)
        clauses = [c for c in self.engine.entry(entry_id).clauses if self._has(c)]
        if not 0 <= index < len(clauses):
            raise LookupError(question_id)
        return self.engine.clause(clauses[index])

    async def feedback(self, user_id: int, question_id: int, value: Feedback) -> bool:
        """Store the asker's 👍/👎 on an answer; return False when it is not their question."""
        async with self.db.session() as s:
            row = await self._row(s, question_id)
            if row is None or row.user_id != user_id:
                return False
            row.feedback = value
            row.feedback_at = self.clock.now()
        self.metrics.faq_feedback(value == "up")
        return True

    # -- hand-off to a person ---------------------------------------------------------------

    async def forward(self, user_id: int, question_id: int) -> Forwarded:
        """Send the asker's question to their park's secretaries (or the admins), once."""
        async with self.db.session() as s:
            row = await self._row(s, question_id)
            if row is None or row.user_id != user_id or row.text is None:
                raise LookupError(question_id)
            if row.status in ("forwarded", "resolved"):
                return Forwarded(already=True)
            text, park_id = row.text, row.park_id
            park = await s.get(Park, park_id) if park_id is not None else None
            asker = await s.get(User, user_id)
        result = Forwarded()
        targets = await self.access.holders(Role.SECRETARY, park_id=park_id) if park else []
        if not targets:
            targets = await self.access.holders(Role.ADMIN)
            result.to_admins = True
        sender = self.senders.get("telegram")
        sent: list[tuple[int, int]] = []
        for target in targets:
            if sender is None:
                break
            lang = await self._language(target)
            message = self.texts.get(
                "faqchat.forwarded",
                lang,
                question=text,
                name=asker.name if asker is not None and asker.name else str(user_id),
                park=park.name if park is not None else self.texts.get("faqchat.no_park", lang),
                id=question_id,
            )
            try:
                receipt = await sender.send(str(target), OutgoingMessage(message, kind="faq"))
            except DeliveryError as exc:
                log.info("could not forward question %s to %s: %s", question_id, target, exc)
                continue
            sent.append((target, int(receipt.message_id)))
            result.reached.append(target)
        async with self.db.session() as s:
            row = await self._row(s, question_id)
            assert row is not None
            if sent:
                row.status = "forwarded"
                row.forwarded_at = self.clock.now()
            for chat_id, message_id in sent:
                s.add(FaqForward(question_id=question_id, chat_id=chat_id, message_id=message_id))
        return result

    async def forwarded_question(self, chat_id: int, message_id: int) -> int | None:
        """Return the question a forwarded message carries, if it is one."""
        async with self.db.session() as s:
            return await s.scalar(
                select(FaqForward.question_id).where(
                    FaqForward.chat_id == chat_id, FaqForward.message_id == message_id
                )
            )

    async def answer(self, actor: Actor, question_id: int, text: str) -> Relayed:
        """Relay a secretary's or admin's answer to the asker and mark the question resolved."""
        answer = clean_question(text)
        async with self.db.session() as s:
            row = await self._row(s, question_id)
            if row is None:
                raise LookupError(question_id)
            self._check_scope(actor, row.park_id)
            if row.status == "resolved":
                return Relayed(question_id, delivered=False, already_resolved=True)
            asker, question, lang = row.user_id, row.text, row.lang
        delivered = False
        sender = self.senders.get("telegram")
        if asker is not None and question is not None and sender is not None and answer:
            message = self.texts.get("faqchat.relay", lang, question=question, answer=answer)
            try:
                await sender.send(str(asker), OutgoingMessage(message, kind="faq"))
                delivered = True
            except DeliveryError as exc:
                log.info("could not relay the answer to question %s: %s", question_id, exc)
        async with self.db.session() as s:
            row = await self._row(s, question_id)
            assert row is not None
            row.answer_text = answer
            row.answered_by = actor.user_id
            if delivered:
                row.status = "resolved"
                row.resolved_at = self.clock.now()
        return Relayed(question_id, delivered=delivered)

    @staticmethod
    def _check_scope(actor: Actor, park_id: int | None) -> None:
        if park_id is None:
            actor.require_admin()
        else:
            actor.require_secretary(park_id)

    async def unanswered(self, actor: Actor, limit: int = UNANSWERED_PAGE) -> list[Pending]:
        """Return the newest questions waiting for a person, within the actor's parks."""
        if not actor.is_admin and not actor.secretary_park_ids:
            raise AccessDenied("secretary or admin only")
        if self.recorder.pending():
            await self.recorder.flush()
        waiting = or_(
            FaqQuestion.status.in_(("open", "forwarded")),
            and_(FaqQuestion.feedback == "down", FaqQuestion.status != "resolved"),
        )
        stmt = (
            select(FaqQuestion, Park.name)
            .outerjoin(Park, Park.id == FaqQuestion.park_id)
            .where(waiting, FaqQuestion.user_id.is_not(None), FaqQuestion.text.is_not(None))
            .order_by(FaqQuestion.asked_at.desc(), FaqQuestion.id.desc())
            .limit(limit)
        )
        if not actor.is_admin:
            stmt = stmt.where(FaqQuestion.park_id.in_(actor.secretary_park_ids))
        async with self.db.session() as s:
            rows = (await s.execute(stmt)).all()
        out = []
        for row, park in rows:
            known = row.answered and row.entry_id is not None and self._known(row.entry_id)
            entry = self.engine.entry(row.entry_id) if known and row.entry_id else None
            out.append(
                Pending(
                    id=row.id,
                    text=row.text or "",
                    park=park or "",
                    status=row.status,
                    feedback=row.feedback,
                    entry_question=entry.question if entry is not None else None,
                )
            )
        return out

    async def question_text(self, question_id: int) -> str:
        """Return a question's text (empty once erased)."""
        async with self.db.session() as s:
            row = await self._row(s, question_id)
        if row is None:
            raise LookupError(question_id)
        return row.text or ""

    async def _language(self, user_id: int) -> str:
        async with self.db.session() as s:
            language = await s.scalar(select(User.language).where(User.id == user_id))
        return language or "zh"
