"""Admin tools in chat, access refusal, and a conversation surviving a restart."""

from __future__ import annotations

from sqlalchemy import select

from bot.models import Park
from tests.harness import ADMIN_ID, Harness

MEMBER = 3003


async def test_member_is_refused_admin_commands(harness: Harness) -> None:
    for command in ("/orgs", "/addpark"):
        texts = harness.texts_of(await harness.command(MEMBER, command))
        assert texts == [harness.services.texts.get("core.no_permission")]


async def test_addpark_survives_a_restart_mid_conversation(harness: Harness) -> None:
    city_id = await harness.add_city("吉林市")
    calls = await harness.command(ADMIN_ID, "/addpark")
    assert (("吉林市", f"ap:city:{city_id}")) in harness.buttons_of(calls[-1])
    await harness.press(ADMIN_ID, f"ap:city:{city_id}")

    await harness.restart()

    texts = harness.texts_of(await harness.text(ADMIN_ID, "吉林高新技术产业开发区"))
    assert texts == [
        harness.services.texts.get(
            "admin.park_added", park="吉林高新技术产业开发区", city="吉林市"
        )
    ]
    async with harness.services.db.session() as s:
        park = await s.scalar(select(Park).where(Park.name == "吉林高新技术产业开发区"))
    assert park is not None
    assert park.city_id == city_id


async def test_addpark_new_city_rejects_bad_input_and_cancels(harness: Harness) -> None:
    await harness.command(ADMIN_ID, "/addpark")
    await harness.press(ADMIN_ID, "ap:new")
    bad = harness.texts_of(await harness.photo(ADMIN_ID, "p1"))
    assert bad == [harness.services.texts.get("admin.bad_name", limit=64)]
    too_long = harness.texts_of(await harness.text(ADMIN_ID, "长" * 65))
    assert too_long == bad
    await harness.text(ADMIN_ID, "四平市")
    cancelled = harness.texts_of(await harness.command(ADMIN_ID, "/cancel"))
    assert cancelled == [harness.services.texts.get("core.cancelled")]
    assert harness.texts_of(await harness.command(ADMIN_ID, "/cancel")) == [
        harness.services.texts.get("core.nothing_to_cancel")
    ]
    assert [c.name for c in await harness.services.org.cities()] == ["四平市"]
    assert await harness.services.org.parks() == []


async def test_orgs_lists_cities_and_parks(harness: Harness) -> None:
    await harness.add_park("长春新区", "长春市")
    text = harness.texts_of(await harness.command(ADMIN_ID, "/orgs"))[0]
    assert "长春市" in text
    assert "长春新区" in text
