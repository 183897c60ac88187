"""Toneless pinyin readings of Chinese characters, so homophone typos still match."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from pypinyin.pinyin_dict import pinyin_dict

# A character with many readings would multiply tokens; the first two cover the common uses
# (长 cháng/zhǎng, 行 xíng/háng) without flooding the index.
MAX_READINGS = 2


@lru_cache(maxsize=8192)
def syllables(char: str) -> tuple[str, ...]:
    """Return up to two toneless pinyin readings of a character (none for non-Chinese)."""
    raw = pinyin_dict.get(ord(char))
    if not raw:
        return ()
    readings: list[str] = []
    for reading in raw.split(","):
        plain = "".join(
            c for c in unicodedata.normalize("NFD", reading) if not unicodedata.combining(c)
        )
        if plain and plain not in readings:
            readings.append(plain)
        if len(readings) == MAX_READINGS:
            break
    return tuple(readings)
