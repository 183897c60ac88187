"""/robots in Telegram: list, add through the conversation, test, remove; access by role."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.access import Role
from bot.sender import OutgoingMessage, Unreachable
from tests.fake_robots import FakeRobotServer
from tests.harness import ADMIN_ID, Harness

SECRETARY = 4004
OTHER_SECRETARY = 4005
MEMBER = 4006


@pytest.fixture
async def fakes(harness: Harness) -> AsyncIterator[FakeRobotServer]:
    """Yield the fake webhooks on the harness's clock."""
    server = FakeRobotServer(now=harness.clock.now)
    await server.start()
    yield server
    await server.close()


async def test_secretary_adds_tests_and_removes_a_signed_dingtalk_robot(
    harness: Harness, fakes: FakeRobotServer
) -> None:
    h = harness
    park = await h.add_park("长春新区", "长春市")
    await h.add_park("净月区", "长春市")
    await h.grant(SECRETARY, Role.SECRETARY, park="长春新区")
    secret = "SECchat0123456789abcdef77aa"
    fake = fakes.add("dingtalk", secret=secret, keyword="科协")

    listing = await h.command(SECRETARY, "/robots")
    assert h.services.texts.get("robots.chat.none") in h.texts_of(listing)[0]
    calls = await h.press(SECRETARY, "rb:add")
    # A secretary may only attach robots to their own park.
    assert h.buttons_of(calls[-1]) == [("长春新区", f"rb:at:p:{park}")]
    await h.press(SECRETARY, f"rb:at:p:{park}")
    await h.press(SECRETARY, "rb:kind:dingtalk")
    refused = h.texts_of(await h.text(SECRETARY, "https://oapi.dingtalk.com/robot/send"))
    assert refused == [
        h.services.texts.get("robots.error.url_token", kind="dingtalk", name="access_token")
    ]
    calls = await h.text(SECRETARY, fakes.url(fake))
    assert any(c.method == "deleteMessage" for c in calls)  # the address leaves the chat
    calls = await h.text(SECRETARY, secret)
    assert any(c.method == "deleteMessage" for c in calls)
    added = h.texts_of(await h.text(SECRETARY, "科协"))
    assert added == [h.services.texts.get("robots.chat.added", id=1, scope_name="长春新区")]

    calls = await h.press(SECRETARY, "rb:test:1")
    [answer] = h.texts_of(calls)
    assert answer.startswith("测试消息已发送")
    assert "测试消息" in fake.texts()[0]

    shown = h.texts_of(await h.command(SECRETARY, "/robots"))[0]
    assert "#1 钉钉 · 长春新区" in shown
    for call in h.api.calls:
        assert secret not in str(call.params)  # never echoed back
        if call.method != "deleteMessage":
            assert fake.token not in str(call.params.get("text", ""))

    calls = await h.press(SECRETARY, "rb:del:1")
    assert h.texts_of(calls) == [h.services.texts.get("robots.cli.removed", id=1)]
    assert await h.services.robots.list(await h.services.access.actor(ADMIN_ID)) == []  # type: ignore[union-attr]


async def test_admin_adds_a_city_wecom_robot_and_others_are_refused(
    harness: Harness, fakes: FakeRobotServer
) -> None:
    h = harness
    await h.add_park("长春新区", "长春市")
    city = await h.services.org.city_id("长春市")
    await h.grant(OTHER_SECRETARY, Role.SECRETARY, park="长春新区")
    await h.grant(MEMBER, Role.MEMBER, park="长春新区")
    fake = fakes.add("wecom")
    await h.command(ADMIN_ID, "/robots")
    calls = await h.press(ADMIN_ID, "rb:add")
    assert ("长春市（全市）", f"rb:at:c:{city}") in h.buttons_of(calls[-1])
    await h.press(ADMIN_ID, f"rb:at:c:{city}")
    await h.press(ADMIN_ID, "rb:kind:wecom")
    added = h.texts_of(await h.text(ADMIN_ID, fakes.url(fake)))
    assert added == [h.services.texts.get("robots.chat.added", id=1, scope_name="长春市")]
    robots = h.services.robots
    assert robots is not None
    assert await robots.robots_for_city(city, "notice") == [1]

    # A park secretary does not see the city's robot and cannot remove it.
    listing = h.texts_of(await h.command(OTHER_SECRETARY, "/robots"))[0]
    assert "#1" not in listing
    calls = await h.press(OTHER_SECRETARY, "rb:del:1")
    alert = [c for c in calls if c.method == "answerCallbackQuery"]
    assert alert[0].params["text"] == h.services.texts.get("robots.error.denied")
    # A member may not use /robots at all.
    refused = h.texts_of(await h.command(MEMBER, "/robots"))
    assert refused == [h.services.texts.get("core.no_permission")]


async def test_broken_robot_is_reported_to_admins_once_by_the_tick(
    harness: Harness, fakes: FakeRobotServer
) -> None:
    h = harness
    park = await h.add_park("长春新区", "长春市")
    fake = fakes.add("feishu")
    robots = h.services.robots
    assert robots is not None
    admin = await h.services.access.actor(ADMIN_ID)
    view = await robots.add(admin, kind="feishu", url=fakes.url(fake), park_id=park)
    # Other features' own first-tick notices (the reports feature tells admins that 2027's
    # holiday calendar is missing) go out now, so the count below is about robots only.
    await h.tick()
    fake.removed = True
    sender = h.services.senders["robot"]
    with pytest.raises(Unreachable, match="19001"):
        await sender.send(str(view.id), OutgoingMessage(text="x"))
    before = len(h.api.calls)
    await h.tick()
    told = [c for c in h.api.calls[before:] if c.method == "sendMessage"]
    assert len(told) == 1
    assert told[0].params["chat_id"] == ADMIN_ID
    assert "长春新区" in told[0].params["text"]
    await h.tick()
    assert [c for c in h.api.calls[before:] if c.method == "sendMessage"] == told
