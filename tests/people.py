"""Member rows for tests that need members without walking the registration conversation."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.models.members import Member

CONSENTED = datetime(2026, 1, 1, tzinfo=UTC)


def approved_member(user_id: int, park_id: int, field: str = "综合") -> Member:
    """Return an approved member row of park_id (placeholder name, employer and phone)."""
    return Member(
        user_id=user_id,
        name=f"m{user_id}",
        park_id=park_id,
        employer="-",
        field=field,
        title="none",
        phone="13800000000",
        status="approved",
        consent_version="test",
        consented_at=CONSENTED,
        created_at=CONSENTED,
        updated_at=CONSENTED,
    )
