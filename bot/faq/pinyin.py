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
