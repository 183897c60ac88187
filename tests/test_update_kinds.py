"""Every kind of update the Bot API defines is handled or ignored without an exception."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import Harness

U = 4004
USER = {"id": U, "is_bot": False, "first_name": "测试"}
PRIVATE = {"id": U, "type": "private", "first_name": "测试"}
GROUP = {"id": -100123, "type": "supergroup", "title": "园区群"}
CHANNEL = {"id": -100999, "type": "channel", "title": "频道"}
BOT = {"id": 7000000001, "is_bot": True, "first_name": "parkbot", "username": "parkbot_local_bot"}


def msg(chat: dict[str, Any] = PRIVATE, **body: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"message_id": 77, "date": 1764200000, "chat": chat}
    if chat["type"] != "channel":
        base["from"] = USER
    return {**base, **body}


MEMBER_CHANGE = {
    "chat": PRIVATE,
    "from": USER,
    "date": 1764200000,
    "old_chat_member": {"status": "member", "user": BOT},
    "new_chat_member": {"status": "kicked", "user": BOT, "until_date": 0},
}
FILE = {"file_id": "f1", "file_unique_id": "uf1"}

UPDATES: dict[str, dict[str, Any]] = {
    "channel_post": {"channel_post": msg(CHANNEL, text="频道消息")},
    "edited_channel_post": {"edited_channel_post": msg(CHANNEL, text="改", edit_date=1)},
    "edited_message": {"edited_message": msg(text="改过的消息", edit_date=1764200001)},
    "inline_query": {"inline_query": {"id": "iq1", "from": USER, "query": "职称", "offset": ""}},
    "chosen_inline_result": {
        "chosen_inline_result": {"result_id": "r1", "from": USER, "query": "职称"}
    },
    "shipping_query": {
        "shipping_query": {
            "id": "s1",
            "from": USER,
            "invoice_payload": "p",
            "shipping_address": {
                "country_code": "CN",
                "state": "吉林",
                "city": "长春",
                "street_line1": "a",
                "street_line2": "",
                "post_code": "130000",
            },
        }
    },
    "pre_checkout_query": {
        "pre_checkout_query": {
            "id": "pc1",
            "from": USER,
            "currency": "CNY",
            "total_amount": 100,
            "invoice_payload": "p",
        }
    },
    "poll": {
        "poll": {
            "id": "p1",
            "question": "?",
            "options": [
                {"text": "a", "voter_count": 0, "persistent_id": "o1"},
                {"text": "b", "voter_count": 0, "persistent_id": "o2"},
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
        }
    },
    "poll_answer": {
        "poll_answer": {
            "poll_id": "p1",
            "user": USER,
            "option_ids": [0],
            "option_persistent_ids": ["o1"],
        }
    },
    "my_chat_member": {"my_chat_member": MEMBER_CHANGE},
    "chat_member": {
        "chat_member": {
            **MEMBER_CHANGE,
            "chat": GROUP,
            "new_chat_member": {"status": "member", "user": USER},
            "old_chat_member": {"status": "left", "user": USER},
        }
    },
    "chat_join_request": {
        "chat_join_request": {"chat": GROUP, "from": USER, "date": 1, "user_chat_id": U}
    },
    "message_reaction": {
        "message_reaction": {
            "chat": PRIVATE,
            "message_id": 5,
            "user": USER,
            "date": 1,
            "old_reaction": [],
            "new_reaction": [{"type": "emoji", "emoji": "👍"}],
        }
    },
    "message_reaction_count": {
        "message_reaction_count": {
            "chat": GROUP,
            "message_id": 5,
            "date": 1,
            "reactions": [{"type": {"type": "emoji", "emoji": "👍"}, "total_count": 2}],
        }
    },
    "chat_boost": {
        "chat_boost": {
            "chat": CHANNEL,
            "boost": {
                "boost_id": "b1",
                "add_date": 1,
                "expiration_date": 2,
                "source": {"source": "premium", "user": USER},
            },
        }
    },
    "removed_chat_boost": {
        "removed_chat_boost": {
            "chat": CHANNEL,
            "boost_id": "b1",
            "remove_date": 2,
            "source": {"source": "premium", "user": USER},
        }
    },
    "business_connection": {
        "business_connection": {
            "id": "bc1",
            "user": USER,
            "user_chat_id": U,
            "date": 1,
            "is_enabled": True,
            "can_reply": True,
        }
    },
    "business_message": {
        "business_message": {**msg(text="业务消息"), "business_connection_id": "bc1"}
    },
    "edited_business_message": {
        "edited_business_message": {**msg(text="改", edit_date=2), "business_connection_id": "bc1"}
    },
    "deleted_business_messages": {
        "deleted_business_messages": {
            "business_connection_id": "bc1",
            "chat": PRIVATE,
            "message_ids": [1, 2],
        }
    },
    "purchased_paid_media": {"purchased_paid_media": {"from": USER, "paid_media_payload": "x"}},
    "sticker": {
        "message": msg(
            sticker={
                **FILE,
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            }
        )
    },
    "voice": {"message": msg(voice={**FILE, "duration": 3})},
    "audio": {"message": msg(audio={**FILE, "duration": 3})},
    "video": {"message": msg(video={**FILE, "width": 1, "height": 1, "duration": 3})},
    "video_note": {"message": msg(video_note={**FILE, "length": 1, "duration": 3})},
    "animation": {"message": msg(animation={**FILE, "width": 1, "height": 1, "duration": 3})},
    "contact": {
        "message": msg(contact={"phone_number": "+8613800000000", "first_name": "a", "user_id": U})
    },
    "location": {"message": msg(location={"latitude": 43.8, "longitude": 125.3})},
    "venue": {
        "message": msg(
            venue={
                "location": {"latitude": 43.8, "longitude": 125.3},
                "title": "科技馆",
                "address": "长春",
            }
        )
    },
    "dice": {"message": msg(dice={"emoji": "🎲", "value": 3})},
    "photo": {"message": msg(photo=[{**FILE, "width": 1, "height": 1}])},
    "document": {"message": msg(document={**FILE, "file_name": "a.pdf"})},
    "group_text": {"message": msg(GROUP, text="大家好")},
    "new_chat_members": {"message": msg(GROUP, new_chat_members=[USER])},
    "left_chat_member": {"message": msg(GROUP, left_chat_member=USER)},
    "empty_text_less_message": {"message": msg()},
}


@pytest.mark.parametrize("kind", sorted(UPDATES))
async def test_update_kind_is_handled_or_ignored(harness: Harness, kind: str) -> None:
    data = {"update_id": 500, **UPDATES[kind]}
    calls = await harness.feed(data)
    assert not harness.errors
    for call in calls:
        assert "Traceback" not in str(call.params.get("text", ""))


async def test_blocking_the_bot_marks_user_unreachable(harness: Harness) -> None:
    from bot.models import User

    await harness.command(U, "/start")
    await harness.feed({"update_id": 501, "my_chat_member": MEMBER_CHANGE})
    async with harness.services.db.session() as s:
        assert (await s.get(User, U)).reachable is False  # type: ignore[union-attr]
    await harness.services.users.touch(U, "x")  # cache still fresh, so write explicitly
    harness.services.users._cache.clear()
    await harness.command(U, "/start")
    async with harness.services.db.session() as s:
        assert (await s.get(User, U)).reachable is True  # type: ignore[union-attr]
