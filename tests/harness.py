"""Drive the real PTB Application with real Updates; only the HTTP seam is fake."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from telegram import Update

from bot.access import Role
from bot.app import ParkApp, build_application, start_application, stop_application
from bot.clock import FakeClock
from bot.config import Config
from bot.localapi import ApiCall, LocalBotApi, UpdateFactory
from bot.models.members import Member
from bot.services import Services
from tests.people import approved_member

ADMIN_ID = 900001


class _ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Harness:
    """One bot on one database, talking to an in-process Bot API."""

    def __init__(
        self,
        db_url: str,
        tmp_path: Path,
        *,
        admin_ids: tuple[int, ...] = (ADMIN_ID,),
        start: datetime | None = None,
    ) -> None:
        self.config = Config(
            database_url=db_url, admin_ids=frozenset(admin_ids), data_dir=tmp_path
        )
        self.clock = FakeClock(start or datetime(2026, 12, 1, 1, 0, tzinfo=UTC))
        self.api = LocalBotApi()
        self.updates = UpdateFactory()
        self.expect_errors = False
        self._errors = _ErrorLog()
        self.app: ParkApp | None = None
        self.services: Services

    async def start(self) -> None:
        """Build and start a fresh application on the configured database."""
        self.services = Services.create(self.config, clock=self.clock)
        transport = httpx.MockTransport(self.api.handle)
        app = build_application(
            self.services,
            transport=transport,
            run_clock=False,
        )
        logging.getLogger("parkbot.errors").addHandler(self._errors)
        await start_application(app)
        self.app = app

    async def stop(self) -> None:
        """Stop the application (state is saved as on a real shutdown)."""
        if self.app is not None:
            await stop_application(self.app)
            self.app = None
        logging.getLogger("parkbot.errors").removeHandler(self._errors)

    async def restart(self) -> None:
        """Stop and start again on the same database, like a process restart."""
        await self.stop()
        await self.start()

    @property
    def errors(self) -> list[logging.LogRecord]:
        """Return the handler errors logged so far."""
        return self._errors.records

    def assert_no_unexpected_errors(self) -> None:
        """Fail when a handler raised and the test did not say it expected that."""
        if self.errors and not self.expect_errors:
            first = self.errors[0]
            raise AssertionError(f"handler error: {first.getMessage()} {first.exc_info!r}")

    # ---- feeding updates -------------------------------------------------------------------

    async def feed(self, data: dict[str, Any]) -> list[ApiCall]:
        """Put one update through the application; return the Bot API calls it caused."""
        assert self.app is not None
        before = len(self.api.calls)
        await self.app.update_queue.put(Update.de_json(data, self.app.bot))
        await self.app.update_queue.join()
        return self.api.calls[before:]

    async def text(self, user_id: int, text: str, **kw: Any) -> list[ApiCall]:
        """Send a text message (or command) from user_id."""
        return await self.feed(self.updates.text(user_id, text, **kw))

    async def command(self, user_id: int, command: str) -> list[ApiCall]:
        """Send a command such as "/start inv-abc"."""
        return await self.text(user_id, command)

    async def press(
        self, user_id: int, data: str, *, message_id: int | None = None, chat_id: int | None = None
    ) -> list[ApiCall]:
        """Press an inline button with callback data (under the given bot message)."""
        chat = chat_id if chat_id is not None else user_id
        message: dict[str, Any] | None = None
        if message_id is not None:
            message = dict(self.api.message(chat, message_id))
        else:
            try:
                message = dict(self.api.last_message(chat))
            except LookupError:
                message = None
        if message is not None:
            message = {k: v for k, v in message.items() if not k.startswith("_")}
        return await self.feed(self.updates.callback(user_id, data, message))

    async def photo(self, user_id: int, file_id: str, caption: str | None = None) -> list[ApiCall]:
        """Send a photo."""
        return await self.feed(self.updates.photo(user_id, file_id, caption))

    async def document(self, user_id: int, file_id: str, file_name: str) -> list[ApiCall]:
        """Send a document."""
        return await self.feed(self.updates.document(user_id, file_id, file_name))

    async def contact(self, user_id: int, phone: str, *, own: bool = True) -> list[ApiCall]:
        """Share a contact."""
        return await self.feed(self.updates.contact(user_id, phone, own=own))

    async def tick(self) -> None:
        """Run the clock job's work once, as the leading process would."""
        await self.services.tick()

    # ---- set-up helpers -------------------------------------------------------------------

    async def add_city(self, name: str) -> int:
        """Create a city."""
        return await self.services.org.add_city(name)

    async def add_park(self, name: str, city: str) -> int:
        """Create a park in a city (created if needed)."""
        await self.services.org.add_city(city)
        return await self.services.org.add_park(name, city)

    async def grant(
        self, user_id: int, role: Role, *, park: str | None = None, city: str | None = None
    ) -> None:
        """Give user_id a role in a park or city (by name)."""
        park_id = await self.services.org.park_id(park) if park else None
        city_id = await self.services.org.city_id(city) if city else None
        if role is Role.MEMBER and park_id is not None:
            # Membership is the members table; the role grant mirrors it, as approval writes both.
            async with self.services.db.session() as s:
                found = await s.scalar(select(Member).where(Member.user_id == user_id))
                if found is None:
                    s.add(approved_member(user_id, park_id))
                else:
                    found.park_id, found.status = park_id, "approved"
        await self.services.access.grant(user_id, role, park_id=park_id, city_id=city_id)

    # ---- reading what the bot said -------------------------------------------------------

    @staticmethod
    def texts_of(calls: list[ApiCall]) -> list[str]:
        """Return the texts the bot sent or edited in these calls."""
        out = []
        for c in calls:
            text = c.params.get("text", c.params.get("caption"))
            if text is not None and c.method != "answerCallbackQuery":
                out.append(str(text))
        return out

    @staticmethod
    def buttons_of(call: ApiCall) -> list[tuple[str, str]]:
        """Return (label, callback_data or url) of the inline buttons of one call."""
        markup = call.params.get("reply_markup") or {}
        return [
            (b["text"], b.get("callback_data") or b.get("url", ""))
            for row in markup.get("inline_keyboard", [])
            for b in row
        ]
