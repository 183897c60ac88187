"""The Telegram implementation of bot.sender.Sender: PTB calls in, DeliveryErrors out."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.sender import (
    Attachment,
    DeliveryError,
    Limit,
    OutgoingMessage,
    PermanentError,
    RateLimited,
    SendResult,
    TransientError,
    Uncertain,
    Unreachable,
)

# BadRequest texts that mean "this recipient cannot be reached", not "our request is wrong".
UNREACHABLE_BAD_REQUESTS = ("chat not found", "user not found", "peer_id_invalid")
CAPTION_LIMIT = 1024  # a longer text goes as its own message before the file


class TelegramSender:
    """Send OutgoingMessages through a PTB Bot and translate its errors."""

    channel = "telegram"

    def __init__(
        self,
        bot: Bot,
        *,
        overall: float = 25,
        per_chat: float = 1.0,
        per_group: float = 20 / 60,
    ) -> None:
        self.bot = bot
        # Each limit as count per period with count ≥ 1, so 20/60 per second becomes 20 per 60 s.
        self._overall = _as_limit("telegram", overall)
        self._per_chat = per_chat
        self._per_group = per_group

    def limits(self, address: str) -> tuple[Limit, ...]:
        """Return the overall limit and the chat's own (groups have negative ids)."""
        per = self._per_group if address.startswith("-") else self._per_chat
        return self._overall, _as_limit(f"telegram:{address}", per)

    async def send(self, address: str, message: OutgoingMessage) -> SendResult:
        """Send message to the chat; raise a DeliveryError subclass on failure."""
        try:
            chat_id = int(address)
        except ValueError as exc:
            raise PermanentError(f"not a Telegram chat id: {address!r}") from exc
        first: Message | None = None
        try:
            first = await self._send_parts(chat_id, message, self.limits(address)[1])
        except DeliveryError:
            raise
        except RetryAfter as exc:
            raise RateLimited(str(exc), _seconds(exc)) from exc
        except Forbidden as exc:
            raise Unreachable(exc.message) from exc
        except BadRequest as exc:
            if any(s in exc.message.lower() for s in UNREACHABLE_BAD_REQUESTS):
                raise Unreachable(exc.message) from exc
            raise PermanentError(exc.message) from exc
        except TimedOut as exc:  # a subclass of NetworkError: must come first
            raise Uncertain(exc.message) from exc
        except NetworkError as exc:
            raise TransientError(exc.message) from exc
        return SendResult(message_id=str(first.message_id) if first else "")

    async def _send_parts(
        self, chat_id: int, message: OutgoingMessage, chat_limit: Limit
    ) -> Message:
        markup = _keyboard(message)
        files = list(message.attachments)
        if len(files) == 1 and len(message.text) <= CAPTION_LIMIT:
            # One request carries file, text and buttons: nothing half-delivered to resend.
            return await self._send_file(chat_id, files[0], message.text, markup)
        first = await self.bot.send_message(chat_id, message.text, reply_markup=markup)
        try:
            for att in files:
                # Later parts go to the same chat: keep its own limit between them.
                await asyncio.sleep(chat_limit.period / chat_limit.count)
                await self._send_file(chat_id, att, None, None)
        except Exception as exc:
            # The text already went out; resending would duplicate it.
            raise Uncertain(f"text sent, attachment failed: {exc}") from exc
        return first

    async def _send_file(
        self,
        chat_id: int,
        att: Attachment,
        caption: str | None,
        markup: InlineKeyboardMarkup | None,
    ) -> Message:
        media: str | InputFile
        media = att.file_id or InputFile(att.content or b"", filename=att.filename)
        if att.kind == "photo":
            return await self.bot.send_photo(chat_id, media, caption=caption, reply_markup=markup)
        return await self.bot.send_document(chat_id, media, caption=caption, reply_markup=markup)


def _keyboard(message: OutgoingMessage) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.text, url=b.url)
                if b.url
                else InlineKeyboardButton(b.text, callback_data=b.data)
                for b in row
            ]
            for row in message.buttons
        ]
    )


def _as_limit(key: str, per_second: float) -> Limit:
    if per_second >= 1:
        return Limit(key, round(per_second), 1.0)
    count = max(1, round(per_second * 60))
    return Limit(key, count, count / per_second)


def _seconds(exc: RetryAfter) -> float:
    # PTB 22 warns on reading retry_after unless PTB_TIMEDELTA is set; accept both shapes.
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
