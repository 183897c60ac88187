"""/start, /help, /lang, /cancel through the real application."""

from __future__ import annotations

from bot.access import Role
from tests.harness import ADMIN_ID, Harness

USER = 1001


async def test_start_greets_in_chinese(harness: Harness) -> None:
    calls = await harness.command(USER, "/start")
    sent = [c for c in calls if c.method == "sendMessage"]
    # The welcome comes first; features may add newcomer hints after it (members: /register).
    assert sent
    assert sent[0].params["text"] == harness.services.texts.get("core.welcome", "zh")
    assert sent[0].chat_id == USER


async def test_help_lists_only_this_users_commands(harness: Harness) -> None:
    member_help = harness.texts_of(await harness.command(USER, "/help"))[0]
    assert "/lang" in member_help
    admin_help = harness.texts_of(await harness.command(ADMIN_ID, "/help"))[0]
    assert len(admin_help.splitlines()) >= len(member_help.splitlines())


async def test_lang_switches_to_english_and_back(harness: Harness) -> None:
    calls = await harness.command(USER, "/lang")
    buttons = harness.buttons_of(calls[-1])
    assert [data for _, data in buttons] == ["lang:zh", "lang:en"]
    calls = await harness.press(USER, "lang:en")
    assert any(
        c.method == "editMessageText" and c.params["text"] == "Language set to English."
        for c in calls
    )
    help_text = harness.texts_of(await harness.command(USER, "/help"))[0]
    assert help_text.startswith("You can use these commands:")
    await harness.press(USER, "lang:zh")
    assert harness.texts_of(await harness.command(USER, "/help"))[0].startswith("您可以使用")


async def test_cancel_outside_a_conversation(harness: Harness) -> None:
    texts = harness.texts_of(await harness.command(USER, "/cancel"))
    assert texts == [harness.services.texts.get("core.nothing_to_cancel")]


async def test_unknown_command_and_stale_button(harness: Harness) -> None:
    texts = harness.texts_of(await harness.command(USER, "/nosuchthing"))
    assert texts == [harness.services.texts.get("core.unknown_command")]
    calls = await harness.press(USER, "zz:forged")
    answer = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answer[0].params["text"] == harness.services.texts.get("core.stale_button")


async def test_sticker_gets_an_explanation(harness: Harness) -> None:
    data = harness.updates.wrap(
        "message",
        {
            "message_id": 5,
            "date": 0,
            "chat": harness.updates.chat(USER),
            "from": harness.updates.user(USER),
            "sticker": {
                "file_id": "s1",
                "file_unique_id": "us1",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            },
        },
    )
    texts = harness.texts_of(await harness.feed(data))
    assert texts == [harness.services.texts.get("core.unsupported")]


async def test_user_is_recorded(harness: Harness) -> None:
    from bot.models import User

    await harness.command(USER, "/start")
    async with harness.services.db.session() as s:
        user = await s.get(User, USER)
    assert user is not None
    assert user.language == "zh"
    assert user.reachable


async def test_role_holders_get_their_own_command_menu(harness: Harness) -> None:
    await harness.add_park("长春高新区", "长春市")
    await harness.grant(2002, Role.SECRETARY, park="长春高新区")
    await harness.restart()
    scoped = [
        c
        for c in harness.api.calls_to("setMyCommands")
        if (c.params.get("scope") or {}).get("type") == "chat"
    ]
    assert {c.params["scope"]["chat_id"] for c in scoped} >= {2002, ADMIN_ID}
