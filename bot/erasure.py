"""The registry of personal-data erasers: each feature registers one where it defines its data.

An eraser is ``async def erase_x(session: AsyncSession, user_id: int) -> None``; all of them run
in one transaction when a person asks to be deleted (bot.members.privacy.erase_personal_data).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

Eraser = Callable[[AsyncSession, int], Awaitable[Any]]

PERSONAL_DATA_ERASERS: list[Eraser] = []


def personal_data_eraser(eraser: Eraser) -> Eraser:
    """Register eraser to run when a person's data is deleted (usable as a decorator)."""
    if eraser not in PERSONAL_DATA_ERASERS:
        PERSONAL_DATA_ERASERS.append(eraser)
    return eraser


__all__ = ["PERSONAL_DATA_ERASERS", "Eraser", "personal_data_eraser"]
