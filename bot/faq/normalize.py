"""Fold a member's question to one comparable form: simplified, half-width, lower-case, bare."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

# Questions may be up to 4096 chars; nobody asks a policy question in more than a few hundred,
# and scoring cost grows with length, so only the head of a long message is considered.
RAW_LIMIT = 1024
SCORED_LIMIT = 200

_KEEP = re.compile(r"[^\w]+", re.UNICODE)


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    """Return the shared traditional-to-simplified converter."""
    return opencc.OpenCC("t2s")


def fold(text: str) -> str:
    """Return text simplified, half-width and lower-cased, punctuation and spacing kept."""
    text = text[:RAW_LIMIT].replace("\x00", " ")
    text = unicodedata.normalize("NFKC", text)
    return _converter().convert(text).lower()


def _is_kept(char: str) -> bool:
    """Return whether a character carries meaning (a letter or a digit)."""
    return unicodedata.category(char)[0] in "LN"


def strip(folded: str) -> str:
    """Return a folded text without spaces, punctuation, symbols, emoji or control characters."""
    kept = _KEEP.sub("", folded)
    # What \w keeps is a letter, a digit or "_" (str.isalnum() or "_", and every alphanumeric
    # character is of category L or N): a text that is all alphanumeric is kept whole, without
    # asking unicodedata about each character.
    if kept.isalnum():
        return kept[:SCORED_LIMIT]
    return "".join(ch for ch in kept if _is_kept(ch))[:SCORED_LIMIT]


def normalize(text: str) -> str:
    """Return the bare comparable form of a question (see module docstring)."""
    return strip(fold(text))


def latin_words(folded: str) -> list[str]:
    """Return the lower-case ASCII words (English or pinyin) typed in a folded question."""
    return re.findall(r"[a-z0-9]+", folded)
