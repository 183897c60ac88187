"""The delivery seam: anything that can put a message in front of a person or a group.

Telegram is one implementation (handlers/tg_sender.py); group robots of WeCom, DingTalk and
Feishu are others. The domain only ever talks to this protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol


@dataclass(frozen=True)
class Button:
    """An inline button: callback data (≤ 64 bytes) or a URL."""

    text: str
    data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Attachment:
    """A file to send with a message: a Telegram file id, or bytes with a file name."""

    kind: Literal["photo", "document"]
    file_id: str | None = None
    content: bytes | None = None
    filename: str | None = None


@dataclass(frozen=True)
class OutgoingMessage:
    """A channel-neutral message: plain text, optional buttons and attachments."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    attachments: tuple[Attachment, ...] = ()
    title: str = ""  # used by channels that show a heading (robots' markdown)
    kind: str = "notice"  # notice | event | campaign | report | test: lets robots filter


@dataclass(frozen=True)
class SendResult:
    """What a channel answered for one successful send."""

    message_id: str = ""
    extra: dict[str, object] = field(default_factory=dict)


class DeliveryError(Exception):
    """A send did not succeed; subclasses say what the caller should do."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RateLimited(DeliveryError):
    """The channel asked us to wait retry_after seconds; not a failure."""

    def __init__(self, reason: str, retry_after: float) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Unreachable(DeliveryError):
    """The recipient blocked us, is deactivated or unknown: don't retry."""


class TransientError(DeliveryError):
    """A server or network error: retry with backoff."""


class Uncertain(DeliveryError):
    """The request timed out after it may have been delivered: don't resend blindly."""


class PermanentError(DeliveryError):
    """The request itself is wrong (bad request, bad configuration): don't retry."""


@dataclass(frozen=True)
class Limit:
    """At most `count` sends per `period` seconds for every address sharing `key`."""

    key: str
    count: int
    period: float


class Sender(Protocol):
    """Deliver one message to one address of one channel."""

    channel: str

    def limits(self, address: str) -> tuple[Limit, ...]:
        """Return the rate limits a send to address must respect (overall, per chat, …)."""
        ...

    async def send(self, address: str, message: OutgoingMessage) -> SendResult:
        """Send message to address or raise a DeliveryError subclass."""
        ...
