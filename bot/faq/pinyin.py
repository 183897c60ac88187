"""Toneless pinyin readings of Chinese characters, so homophone typos still match."""

from __future__ import annotations

import importlib.util
import json
import unicodedata
from functools import cache, lru_cache
from pathlib import Path

# A character with many readings would multiply tokens; the first two cover the common uses
# (长 cháng/zhǎng, 行 xíng/háng) without flooding the index.
MAX_READINGS = 2


@cache
def _readings() -> dict[str, str]:
    """Return pypinyin's per-character table: decimal code point -> comma-separated readings."""
    # Importing pypinyin.pinyin_dict runs the package's __init__, which loads the phrase
    # dictionary too (about 55 MB we never use): read the character table's JSON directly.
    spec = importlib.util.find_spec("pypinyin")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("pypinyin")
    path = Path(next(iter(spec.submodule_search_locations))) / "pinyin_dict.json"
    table: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return table


@lru_cache(maxsize=8192)
def syllables(char: str) -> tuple[str, ...]:
    """Return up to two toneless pinyin readings of a character (none for non-Chinese)."""
    raw = _readings().get(str(ord(char)))
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


@cache
def all_syllables() -> frozenset[str]:
    """Return every toneless pinyin syllable of the character table (about 400)."""
    toned = {reading for raw in _readings().values() for reading in raw.split(",")}
    return frozenset(
        "".join(c for c in unicodedata.normalize("NFD", r) if not unicodedata.combining(c))
        for r in toned
    )


LONGEST_SYLLABLE = 6


def split_syllables(word: str, known: frozenset[str]) -> list[str] | None:
    """Return a lower-case Latin word cut into the fewest pinyin syllables, or None.

    "ruhuiliucheng" -> ru hui liu cheng; a word that is no run of syllables (most English
    words) gives None.
    """
    size = len(word)
    # best[i]: the fewest syllables spelling word[:i], with the cut that gives it.
    best: list[tuple[int, int] | None] = [(0, 0), *([None] * size)]
    for end in range(1, size + 1):
        for start in range(max(0, end - LONGEST_SYLLABLE), end):
            before = best[start]
            if before is None or word[start:end] not in known:
                continue
            candidate = (before[0] + 1, start)
            current = best[end]
            if current is None or candidate[0] < current[0]:
                best[end] = candidate
    if best[size] is None:
        return None
    parts: list[str] = []
    end = size
    while end:
        step = best[end]
        assert step is not None
        parts.append(word[step[1] : end])
        end = step[1]
    return parts[::-1]
