"""FAQ matching: normalise a member's question, rank the FAQ entries, render the answer."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.faq.engine import FaqEngine


@functools.cache
def engine_singleton() -> FaqEngine:
    """Return the process's one FAQ engine, loading it on first use (it takes seconds)."""
    from bot.faq.engine import FaqEngine

    return FaqEngine.load()
