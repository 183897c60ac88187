"""Before any feature: record the user, pick their language, hold back floods."""

from __future__ import annotations

import time
from collections import deque

from telegram import ChatMember, Update
from telegram.ext import ApplicationHandlerStop, BaseHandler, ChatMemberHandler, TypeHandler

from handlers.context import Ctx

FLOOD_WINDOW = 10.0  # seconds
FLOOD_LIMIT = 20  # updates per window from one user before we stop answering


class FloodGate:
    """Count a user's updates in a sliding window."""

    def __init__(self, limit: int = FLOOD_LIMIT, window: float = FLOOD_WINDOW) -> None:
        self.limit = limit
        self.window = window
        self._seen: dict[int, deque[float]] = {}
        self._warned: set[int] = set()

    def check(self, user_id: int, now: float | None = None) -> str:
        """Return "ok", "warn" (first update over the limit) or "drop"."""
        now = time.monotonic() if now is None else now
        times = self._seen.setdefault(user_id, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        times.append(now)
        if len(times) <= self.limit:
            self._warned.discard(user_id)
            if not times or (len(times) == 1 and len(self._seen) > 10_000):
                self._prune(now)
            return "ok"
        if user_id in self._warned:
            return "drop"
        self._warned.add(user_id)
        return "warn"

    def _prune(self, now: float) -> None:
        for uid in [u for u, t in self._seen.items() if not t or now - t[-1] > self.window]:
            del self._seen[uid]


async def track(update: Update, ctx: Ctx) -> None:
    """Upsert the user, set ctx.lang, and stop floods before any feature runs."""
    user = update.effective_user
    if user is None or user.is_bot:
        return
    ctx.lang = await ctx.services.users.touch(user.id, user.full_name, user.language_code)
    gate: FloodGate = ctx.application.bot_data.setdefault("flood_gate", FloodGate())
    verdict = gate.check(user.id)
    if verdict == "ok":
        return
    if verdict == "warn" and update.effective_chat is not None:
        await ctx.bot.send_message(update.effective_chat.id, ctx.t("core.flood"))
    raise ApplicationHandlerStop


async def on_my_chat_member(update: Update, ctx: Ctx) -> None:
    """Mark a user who blocked the bot unreachable (and reachable again when they return)."""
    change = update.my_chat_member
    if change is None or change.chat.type != "private":
        return
    status = change.new_chat_member.status
    if status in (ChatMember.BANNED, ChatMember.LEFT):
        await ctx.services.users.mark_unreachable(change.chat.id)


def handlers() -> list[BaseHandler]:
    """Return the pre-handler (it matches every update, so it sits alone in its group)."""
    return [TypeHandler(Update, track)]


def status_handlers() -> list[BaseHandler]:
    """Return the handlers of the bot's own membership changes (blocked / unblocked)."""
    return [ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER)]
