"""/notify, /broadcasts, cancel and the progress message through the real PTB application."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.access import Role
from bot.models import User
from tests.harness import ADMIN_ID, Harness

SECRETARY = 2001
OTHER_SECRETARY = 2002
MEMBERS_A = (3001, 3002)
MEMBER_B = 3101
PARK_A = "长春新区"
PARK_B = "吉林高新区"


@pytest.fixture
async def h(harness: Harness) -> Harness:
    await harness.add_park(PARK_A, "长春市")
    await harness.add_park(PARK_B, "吉林市")
    await harness.grant(SECRETARY, Role.SECRETARY, park=PARK_A)
    await harness.grant(OTHER_SECRETARY, Role.SECRETARY, park=PARK_B)
    for member in MEMBERS_A:
        await harness.grant(member, Role.MEMBER, park=PARK_A)
    await harness.grant(MEMBER_B, Role.MEMBER, park=PARK_B)
    return harness


def t(h: Harness, key: str, **values: object) -> str:
    return h.services.texts.get(key, "zh", **values)


async def notify_text(h: Harness, user: int, text: str) -> None:
    await h.command(user, "/notify")
    await h.text(user, text)
    await h.press(user, "nt:send")


async def test_secretary_notifies_own_park_after_preview_and_sees_summary(h: Harness) -> None:
    assert h.texts_of(await h.command(SECRETARY, "/notify")) == [t(h, "notify.ask_content")]
    calls = await h.text(SECRETARY, "周五下午三点在园区会议室开会。")
    texts = h.texts_of(calls)
    assert texts[0] == "周五下午三点在园区会议室开会。"  # the preview, exactly as members see it
    assert texts[1] == t(h, "notify.preview", count=2, scope=PARK_A)
    assert [d for _, d in h.buttons_of(calls[-1])] == ["nt:send", "nt:drop"]
    assert h.texts_of(await h.press(SECRETARY, "nt:send")) == [t(h, "notify.started")]
    assert h.api.messages_to(MEMBERS_A[0]) == []  # stored, not yet sent

    await h.tick()

    for member in MEMBERS_A:
        assert h.api.messages_to(member) == ["周五下午三点在园区会议室开会。"]
    assert h.api.messages_to(MEMBER_B) == []
    summary = h.api.last_message(SECRETARY)
    assert summary["text"].startswith("群发 #1 已完成：已发送 2/2，失败 0，无法送达 0")
    assert "reply_markup" not in summary  # no cancel button once finished
    await h.tick()  # nothing is sent twice
    assert h.api.messages_to(MEMBERS_A[0]) == ["周五下午三点在园区会议室开会。"]


async def test_admin_picks_parks_or_everyone_and_sends_a_photo(h: Harness) -> None:
    calls = await h.command(ADMIN_ID, "/notify")
    data = [d for _, d in h.buttons_of(calls[-1])]
    assert data[-2:] == ["nt:all", "nt:next"]
    park_b = await h.services.org.park_id(PARK_B)
    calls = await h.press(ADMIN_ID, "nt:next")
    assert calls[0].params["text"] == t(h, "notify.pick_one")
    calls = await h.press(ADMIN_ID, f"nt:park:{park_b}")
    assert (t(h, "notify.picked", name=PARK_B), f"nt:park:{park_b}") in h.buttons_of(calls[-1])
    await h.press(ADMIN_ID, "nt:next")
    calls = await h.photo(ADMIN_ID, "AgADphoto", caption="项目申报指南见图。")
    assert calls[0].method == "sendPhoto"
    assert h.texts_of(calls)[-1] == t(h, "notify.preview", count=1, scope=PARK_B)
    await h.press(ADMIN_ID, "nt:send")
    await h.tick()
    photos = [c for c in h.api.calls_to("sendPhoto") if c.chat_id == MEMBER_B]
    assert len(photos) == 1
    assert photos[0].params["caption"] == "项目申报指南见图。"
    assert h.api.messages_to(MEMBERS_A[0]) == []

    await h.command(ADMIN_ID, "/notify")
    await h.press(ADMIN_ID, "nt:all")
    calls = await h.text(ADMIN_ID, "全省通知")
    assert h.texts_of(calls)[-1] == t(h, "notify.preview", count=3, scope=t(h, "notify.scope_all"))
    await h.press(ADMIN_ID, "nt:send")
    await h.tick()
    for member in (*MEMBERS_A, MEMBER_B):
        assert "全省通知" in h.api.messages_to(member)


async def test_members_may_not_notify_nor_list(h: Harness) -> None:
    for command in ("/notify", "/broadcasts"):
        texts = h.texts_of(await h.command(MEMBERS_A[0], command))
        assert texts == [t(h, "core.no_permission")]


async def test_secretary_cannot_press_another_parks_button(h: Harness) -> None:
    await h.grant(SECRETARY, Role.SECRETARY, park=PARK_B)  # now runs two parks: gets the keyboard
    calls = await h.command(SECRETARY, "/notify")
    assert "nt:all" not in [d for _, d in h.buttons_of(calls[-1])]
    await h.services.access.revoke(SECRETARY, Role.SECRETARY, park_id=await park_id(h, PARK_B))
    calls = await h.press(SECRETARY, f"nt:park:{await park_id(h, PARK_B)}")
    assert calls[0].params["text"] == t(h, "notify.denied")


async def park_id(h: Harness, name: str) -> int:
    return await h.services.org.park_id(name)


async def test_discard_and_cancel_send_nothing(h: Harness) -> None:
    await h.command(SECRETARY, "/notify")
    await h.text(SECRETARY, "草稿")
    assert h.texts_of(await h.press(SECRETARY, "nt:drop")) == [t(h, "notify.discarded")]
    await h.command(SECRETARY, "/notify")
    assert h.texts_of(await h.command(SECRETARY, "/cancel")) == [t(h, "core.cancelled")]
    await h.tick()
    assert h.api.messages_to(MEMBERS_A[0]) == []


async def test_too_long_notice_is_asked_again(h: Harness) -> None:
    await h.command(SECRETARY, "/notify")
    assert h.texts_of(await h.text(SECRETARY, "长" * 4097)) == [t(h, "notify.too_long")]
    calls = await h.text(SECRETARY, "短通知")
    assert h.texts_of(calls)[-1] == t(h, "notify.preview", count=2, scope=PARK_A)


async def test_conversation_survives_a_restart(h: Harness) -> None:
    await h.command(SECRETARY, "/notify")
    await h.text(SECRETARY, "重启前写好的通知")
    await h.restart()
    await h.press(SECRETARY, "nt:send")
    await h.tick()
    assert h.api.messages_to(MEMBERS_A[1]) == ["重启前写好的通知"]


async def test_blocked_member_is_unreachable_and_skipped_next_time(h: Harness) -> None:
    blocked = MEMBERS_A[0]
    await h.command(blocked, "/start")
    h.api.blocked.add(blocked)
    await notify_text(h, SECRETARY, "第一次")
    await h.tick()
    assert h.api.last_message(SECRETARY)["text"].startswith(
        "群发 #1 已完成：已发送 1/2，失败 0，无法送达 1"
    )
    async with h.services.db.session() as s:
        assert await s.scalar(select(User.reachable).where(User.id == blocked)) is False
    h.api.blocked.discard(blocked)
    await notify_text(h, SECRETARY, "第二次")
    await h.tick()
    assert h.api.messages_to(blocked)[-1] != "第二次"
    status = await h.services.outbox.status(2)  # type: ignore[union-attr]
    assert (status.total, status.skipped) == (1, 1)
    # Writing to the bot again makes them reachable for the next notice.
    h.clock.advance(timedelta(minutes=10))
    await h.text(blocked, "你好")
    await notify_text(h, SECRETARY, "第三次")
    await h.tick()
    assert "第三次" in h.api.messages_to(blocked)


async def test_rate_limit_and_timeout_through_the_bot(h: Harness) -> None:
    h.api.fail_next("sendMessage", "retry_after", chat_id=MEMBERS_A[0], retry_after=5)
    h.api.fail_next("sendMessage", "timeout", chat_id=MEMBERS_A[1])
    await notify_text(h, SECRETARY, "限流测试")
    await h.tick()
    outbox = h.services.outbox
    assert outbox is not None
    status = await outbox.status(1)
    # The 429 pauses the whole channel: the second member waits too.
    assert (status.sent, status.uncertain, status.rate_limited, status.remaining) == (0, 0, 1, 2)
    h.clock.advance(timedelta(seconds=5))
    await h.tick()
    status = await outbox.status(1)
    assert (status.sent, status.uncertain, status.finished) == (1, 1, True)
    tries = [c.chat_id for c in h.api.calls_to("sendMessage")]
    assert tries.count(MEMBERS_A[0]) == 2  # refused with 429, then delivered
    assert tries.count(MEMBERS_A[1]) == 1  # timed out: maybe delivered, never resent


async def test_broadcasts_lists_and_cancel_button_stops_the_rest(h: Harness) -> None:
    await notify_text(h, SECRETARY, "待取消的通知")
    calls = await h.command(SECRETARY, "/broadcasts")
    text = h.texts_of(calls)[0]
    assert text.startswith(t(h, "outbox.recent_title"))
    assert "#1 通知（发送中）" in text
    assert "已发送 0/2" in text
    assert h.buttons_of(calls[-1]) == [(t(h, "outbox.cancel_button_id", id=1), "bc:cancel:1")]
    # Another park's secretary sees nothing and may not cancel.
    assert h.texts_of(await h.command(OTHER_SECRETARY, "/broadcasts")) == [
        t(h, "outbox.recent_empty")
    ]
    calls = await h.press(OTHER_SECRETARY, "bc:cancel:1", chat_id=SECRETARY)
    assert calls[0].params["text"] == t(h, "outbox.cancel_denied")
    calls = await h.press(SECRETARY, "bc:cancel:1")
    assert calls[0].params["text"] == t(h, "outbox.cancel_done", id=1)
    await h.tick()
    assert h.api.messages_to(MEMBERS_A[0]) == []
    text = h.texts_of(await h.command(ADMIN_ID, "/broadcasts"))[0]
    assert "#1 通知（已取消）" in text
    calls = await h.press(SECRETARY, "bc:cancel:1")
    assert calls[0].params["text"] == t(h, "outbox.cancel_too_late", id=1)


async def test_progress_message_has_a_cancel_button_and_is_throttled(h: Harness) -> None:
    for i in range(5):
        await h.grant(4000 + i, Role.MEMBER, park=PARK_A)
    worker = h.services.outbox_worker
    assert worker is not None
    worker.settings = type(worker.settings)(batch_size=3)
    await notify_text(h, SECRETARY, "分批发送")
    h.api.reset_calls()
    assert await worker.run_once() == 3
    progress = h.api.last_message(SECRETARY)
    assert progress["text"] == t(
        h, "outbox.progress", id=1, sent=1, total=7, failed=0, unreachable=0
    )
    assert progress["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "bc:cancel:1"
    assert await worker.run_once() == 3  # same instant on the clock: no edit yet
    assert h.api.calls_to("editMessageText") == []
    h.clock.advance(timedelta(seconds=2))
    await worker.drain()
    edits = [c.params["text"] for c in h.api.calls_to("editMessageText")]
    # One progress edit for the 2 s that passed, then the final summary.
    assert edits[0] == t(h, "outbox.progress", id=1, sent=7, total=7, failed=0, unreachable=0)
    assert edits[1].startswith("群发 #1 已完成：已发送 7/7")
    assert len(edits) == 2
