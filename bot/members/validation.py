"""Validation of what a person types while registering or editing their record."""

from __future__ import annotations

import re
import unicodedata

from bot.members.errors import InvalidInput

# Professional title codes; their labels are texts keyed members.title.<code>.
TITLES = ("junior", "intermediate", "associate_senior", "senior", "none")
FIELDS = ("name", "park", "employer", "field", "title", "phone")
MAX_LENGTH = {"name": 64, "employer": 128, "field": 64}
SUGGESTION_MIN, SUGGESTION_MAX = 10, 2000
REASON_MAX = 500

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_PHONE_NOISE = re.compile(r"[\s\-()（）]")


def clean_text(value: str | None, field: str, max_length: int) -> str:
    """Return value trimmed and normalised (NFKC), or raise InvalidInput naming the problem."""
    text = unicodedata.normalize("NFKC", value or "").strip()
    if not text:
        raise InvalidInput("members.error.empty")
    if len(text) > max_length:
        raise InvalidInput("members.error.too_long", max=max_length)
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        raise InvalidInput("members.error.bad_chars")
    return text


def validate_field(field: str, value: str | None) -> str:
    """Return the cleaned value of a free-text registration field (name, employer, field)."""
    return clean_text(value, field, MAX_LENGTH[field])


def validate_title(value: str | None) -> str:
    """Return the title code or raise InvalidInput."""
    if value not in TITLES:
        raise InvalidInput("members.error.title")
    return value


def normalize_phone(value: str | None) -> str:
    """Return a mainland mobile number as 11 digits; accepts +86/86 prefixes and separators."""
    text = _PHONE_NOISE.sub("", unicodedata.normalize("NFKC", value or ""))
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    elif text.startswith("86") and len(text) == 13:
        text = text[2:]
    if not _MOBILE.match(text):
        raise InvalidInput("members.error.phone")
    return text


def validate_suggestion(value: str | None) -> str:
    """Return the cleaned suggestion text (10–2,000 characters) or raise InvalidInput."""
    text = unicodedata.normalize("NFC", value or "").strip()
    if len(text) < SUGGESTION_MIN:
        raise InvalidInput("campaigns.error.too_short", min=SUGGESTION_MIN)
    if len(text) > SUGGESTION_MAX:
        raise InvalidInput("campaigns.error.too_long", max=SUGGESTION_MAX)
    return text


def validate_reason(value: str | None) -> str:
    """Return a non-empty reason or note of at most REASON_MAX characters."""
    return clean_text(value, "reason", REASON_MAX)
