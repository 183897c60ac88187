"""The Telegram implementation of bot.sender.Sender."""

from __future__ import annotations

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.sender import (
    Limit,
    OutgoingMessage,
    PermanentError,
    RateLimited,
    SendResult,
    TransientError,
    Uncertain,
    Unreachable,
)

UNREACHABLE_BAD_REQUESTS = ("chat not found", "user not found", "peer_id_invalid")


class TelegramSender:
    """Send OutgoingMessages through a PTB Bot and translate its errors."""

    channel = "telegram"

    def __init__(
        self, bot: Bot, *, overall: float = 25, per_chat: float = 1.0, per_group: float = 20 / 60
    ) -> None:
        self.bot = bot
        self.overall = overall
        self.per_chat = per_chat
        self.per_group = per_group

    def limits(self, address: str) -> tuple[Limit, ...]:
        """Return the overall limit and the chat's own (private chats vs groups)."""
        overall = Limit("telegram", max(1, int(self.overall)), 1.0)
        if address.startswith("-"):
            return overall, Limit(f"telegram:{address}", 20, 20 / self.per_group)
        return overall, Limit(f"telegram:{address}", 1, 1 / self.per_chat)

    async def send(self, address: str, message: OutgoingMessage) -> SendResult:
        """Send message to chat address; raise a DeliveryError subclass on failure."""
        markup = None
        if message.buttons:
            markup = InlineKeyboardMarkup(
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
        chat_id = int(address)
        try:
            sent = await self.bot.send_message(chat_id, message.text, reply_markup=markup)
            for att in message.attachments:
                media: str | InputFile = att.file_id or InputFile(
                    att.content or b"", filename=att.filename
                )
                if att.kind == "photo":
                    await self.bot.send_photo(chat_id, media)
                else:
                    await self.bot.send_document(chat_id, media)
        except RetryAfter as exc:
            retry = exc.retry_after
            seconds = retry.total_seconds() if hasattr(retry, "total_seconds") else float(retry)
            raise RateLimited(str(exc), seconds) from exc
        except Forbidden as exc:
            raise Unreachable(str(exc)) from exc
        except BadRequest as exc:
            if any(s in exc.message.lower() for s in UNREACHABLE_BAD_REQUESTS):
                raise Unreachable(exc.message) from exc
            raise PermanentError(exc.message) from exc
        except TimedOut as exc:
            raise Uncertain(str(exc)) from exc
        except NetworkError as exc:
            raise TransientError(str(exc)) from exc
        return SendResult(message_id=str(sent.message_id))
