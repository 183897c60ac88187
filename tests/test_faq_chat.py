"""The policy FAQ in chat, end to end through the PTB application and the fake Bot API."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.access import Role
from bot.faq.questions import MAX_QUESTION_CHARS, erase_questions
from bot.localapi import ApiCall
from bot.models import FaqQuestion
from tests.harness import ADMIN_ID, Harness

ROOT = Path(__file__).resolve().parents[1]
MEMBER = 5001
OTHER = 5002
SECRETARY = 5101
OTHER_SECRETARY = 5102
FOUND = "园区科协怎么成立"
WEATHER = "明天长春的天气怎么样"


def t(h: Harness, key: str, **values: object) -> str:
    return h.services.texts.get(key, "zh", **values)


def sent(calls: list[ApiCall], method: str = "sendMessage") -> list[ApiCall]:
    return [c for c in calls if c.method == method]


def public(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if not k.startswith("_")}


async def questions(h: Harness) -> list[FaqQuestion]:
    await h.services.questions.flush()  # rows are written in batches, a moment after asking
    async with h.services.db.session() as s:
        return list((await s.scalars(select(FaqQuestion).order_by(FaqQuestion.id))).all())


async def test_answer_quotes_the_notice_with_buttons(harness: Harness) -> None:
    h = harness
    match = h.services.faq.match(FOUND)
    assert match.entry is not None
    calls = await h.text(MEMBER, FOUND)
    (reply,) = sent(calls)
    text = reply.params["text"]
    assert match.entry.answer in text
    assert "依据" in text
    assert match.entry.cites[0] in text
    buttons = h.buttons_of(reply)
    data = [d for _, d in buttons]
    (row,) = await questions(h)
    assert row.entry_id == match.entry.id
    assert row.answered
    assert row.status == "answered"
    assert row.user_id == MEMBER
    assert row.text == FOUND
    assert f"fq:u:{row.id}" in data
    assert f"fq:d:{row.id}" in data
    assert f"fq:s:{row.id}:0" in data
    related = [d for d in data if d.startswith("fq:r:")]
    assert 1 <= len(related) <= 3
    assert row.offered == list(match.entry.related[: len(related)])
    assert all(len(d.encode()) <= 64 for d in data)


async def test_two_questions_in_one_message_get_two_answers(harness: Harness) -> None:
    h = harness
    first, second = "秘书长可以兼任吗", "顺便问下主席一般谁当"
    expected = [h.services.faq.match(q).entry for q in (first, second)]
    assert all(e is not None for e in expected)
    calls = await h.text(MEMBER, f"{first}？{second}？")
    replies = sent(calls)
    assert len(replies) == 2
    rows = await questions(h)
    assert [r.text for r in rows] == [first, second]
    assert [r.entry_id for r in rows] == [e.id for e in expected if e is not None]
    for reply, row, entry in zip(replies, rows, expected, strict=True):
        assert entry is not None
        assert entry.answer in reply.params["text"]
        assert entry.cites[0] in reply.params["text"]
        # Each answer has its own feedback buttons, on its own row.
        assert f"fq:u:{row.id}" in [d for _, d in h.buttons_of(reply)]


async def test_several_questions_one_entry_or_one_unanswered_get_one_reply(
    harness: Harness,
) -> None:
    h = harness
    # Both ask the same thing: one answer.
    (reply,) = sent(await h.text(MEMBER, "秘书长可以兼任吗？秘书长能兼职吗？"))
    # One of them the notice does not answer: the message is one question, as before.
    (other,) = sent(await h.text(MEMBER, f"秘书长可以兼任吗？{WEATHER}？"))
    rows = await questions(h)
    assert len(rows) == 2
    assert rows[0].text == "秘书长可以兼任吗？秘书长能兼职吗？"
    assert rows[1].text == f"秘书长可以兼任吗？{WEATHER}？"
    assert "依据" in reply.params["text"]
    assert other.params["text"]
    # A greeting before the question: one answer, as before.
    (greeted,) = sent(await h.text(MEMBER, "你好？秘书长可以兼任吗？"))
    assert "依据" in greeted.params["text"]


async def test_related_question_button_answers_it(harness: Harness) -> None:
    h = harness
    await h.text(MEMBER, FOUND)
    (row,) = await questions(h)
    related = h.services.faq.entry(row.offered[0])
    calls = await h.press(MEMBER, f"fq:r:{row.id}:0")
    (reply,) = sent(calls)
    assert related.answer in reply.params["text"]
    rows = await questions(h)
    assert rows[-1].entry_id == related.id
    assert rows[-1].text == related.question
    # Someone else's button, or a forged index, is stale.
    calls = await h.press(OTHER, f"fq:r:{row.id}:0")
    assert sent(calls) == []
    assert sent(calls, "answerCallbackQuery")[0].params["text"] == t(h, "core.stale_button")
    calls = await h.press(MEMBER, f"fq:r:{row.id}:9")
    assert sent(calls, "answerCallbackQuery")[0].params["text"] == t(h, "core.stale_button")


async def test_feedback_is_stored(harness: Harness) -> None:
    h = harness
    await h.text(MEMBER, FOUND)
    (row,) = await questions(h)
    calls = await h.press(MEMBER, f"fq:u:{row.id}")
    assert sent(calls, "answerCallbackQuery")[0].params["text"] == t(h, "faqchat.feedback_up")
    assert (await questions(h))[0].feedback == "up"
    calls = await h.press(MEMBER, f"fq:d:{row.id}")
    assert (await questions(h))[0].feedback == "down"
    (offer,) = sent(calls)
    assert h.buttons_of(offer) == [(t(h, "faqchat.btn_forward"), f"fq:f:{row.id}")]
    # Only the asker votes on their question.
    await h.press(OTHER, f"fq:u:{row.id}")
    assert (await questions(h))[0].feedback == "down"


async def test_show_original_sends_the_whole_clause(harness: Harness) -> None:
    h = harness
    await h.text(MEMBER, FOUND)
    (row,) = await questions(h)
    entry = h.services.faq.entry(row.entry_id or "")
    clause = h.services.faq.clause(entry.clauses[0])
    (reply,) = sent(await h.press(MEMBER, f"fq:s:{row.id}:0"))
    assert clause.text in reply.params["text"]
    assert clause.cite in reply.params["text"]


async def test_several_clauses_get_one_button_each(harness: Harness) -> None:
    h = harness
    entry = next(e for e in h.services.faq.entries if len(e.clauses) > 1)
    await h.text(MEMBER, entry.question)
    row = (await questions(h))[-1]
    if row.entry_id != entry.id:
        pytest.skip("the engine matched another entry for this question")
    message = h.api.last_message(MEMBER)
    data = [b["callback_data"] for r in message["reply_markup"]["inline_keyboard"] for b in r]
    assert [d for d in data if d.startswith("fq:s:")] == [
        f"fq:s:{row.id}:{n}" for n in range(len(entry.clauses))
    ]


async def test_not_covered_hands_off_and_relays_the_secretary_reply(harness: Harness) -> None:
    h = harness
    park_id = await h.add_park("长春新区", "长春市")
    await h.add_park("吉林高新区", "吉林市")
    await h.grant(MEMBER, Role.MEMBER, park="长春新区")
    await h.grant(SECRETARY, Role.SECRETARY, park="长春新区")
    await h.grant(OTHER_SECRETARY, Role.SECRETARY, park="吉林高新区")
    (reply,) = sent(await h.text(MEMBER, WEATHER))
    assert reply.params["text"].startswith(t(h, "faq.not_covered"))
    (row,) = await questions(h)
    assert row.status == "open"
    assert not row.answered
    assert row.park_id == park_id
    assert (t(h, "faqchat.btn_forward"), f"fq:f:{row.id}") in h.buttons_of(reply)

    calls = await h.press(MEMBER, f"fq:f:{row.id}")
    assert h.api.messages_to(OTHER_SECRETARY) == []
    forwarded = h.api.last_message(SECRETARY)
    assert WEATHER in forwarded["text"]
    assert "长春新区" in forwarded["text"]
    assert t(h, "faqchat.forward_done", count=1) in h.texts_of(calls)
    assert (await questions(h))[0].status == "forwarded"
    again = await h.press(MEMBER, f"fq:f:{row.id}")
    assert t(h, "faqchat.forward_already") in h.texts_of(again)

    # The secretary answers with a Telegram reply to the forwarded message.
    calls = await h.text(SECRETARY, "明天有雪，请注意出行。", reply_to=public(forwarded))
    assert t(h, "faqchat.relay_done") in h.texts_of(calls)
    relayed = h.api.messages_to(MEMBER)[-1]
    assert "明天有雪" in relayed
    assert WEATHER in relayed
    (row,) = await questions(h)
    assert row.status == "resolved"
    assert row.answered_by == SECRETARY
    assert row.answer_text == "明天有雪，请注意出行。"
    assert row.resolved_at is not None
    # A second reply does not reach the member twice.
    count = len(h.api.messages_to(MEMBER))
    calls = await h.text(SECRETARY, "补充一句", reply_to=public(forwarded))
    assert t(h, "faqchat.already_resolved") in h.texts_of(calls)
    assert len(h.api.messages_to(MEMBER)) == count


async def test_meaning_of_a_term_the_notice_only_names_is_handed_off(harness: Harness) -> None:
    h = harness
    # 科学发展观 is in the notice's 宗旨, but the notice never says what it means.
    (reply,) = sent(await h.text(MEMBER, "科学发展观具体指的是什么"))
    assert reply.params["text"].startswith(t(h, "faq.not_covered"))
    (row,) = await questions(h)
    assert not row.answered
    assert row.status == "open"
    # The signer is named in the notice's header: that question is answered.
    (reply,) = sent(await h.text(MEMBER, "签发人是谁"))
    assert "曹军" in reply.params["text"]
    assert (await questions(h))[1].entry_id == "who-signed-the-notice"


async def test_hand_off_without_a_park_goes_to_the_admins(harness: Harness) -> None:
    h = harness
    await h.text(MEMBER, WEATHER)
    (row,) = await questions(h)
    calls = await h.press(MEMBER, f"fq:f:{row.id}")
    assert t(h, "faqchat.forward_done_admins", count=1) in h.texts_of(calls)
    forwarded = h.api.last_message(ADMIN_ID)
    assert WEATHER in forwarded["text"]
    # A secretary of some park may not answer a question that has no park.
    await h.add_park("长春新区", "长春市")
    await h.grant(SECRETARY, Role.SECRETARY, park="长春新区")
    calls = await h.text(ADMIN_ID, "这个问题请咨询市科协。", reply_to=public(forwarded))
    assert t(h, "faqchat.relay_done") in h.texts_of(calls)
    assert "请咨询市科协" in h.api.messages_to(MEMBER)[-1]


async def test_unanswered_lists_by_park_and_answers(harness: Harness) -> None:
    h = harness
    await h.add_park("长春新区", "长春市")
    await h.add_park("吉林高新区", "吉林市")
    await h.grant(MEMBER, Role.MEMBER, park="长春新区")
    await h.grant(OTHER, Role.MEMBER, park="吉林高新区")
    await h.grant(SECRETARY, Role.SECRETARY, park="长春新区")
    await h.text(MEMBER, WEATHER)
    await h.text(OTHER, "食堂几点开饭")
    await h.text(MEMBER, FOUND)
    mine, theirs, answered = await questions(h)
    await h.press(MEMBER, f"fq:d:{answered.id}")

    refused = await h.command(MEMBER, "/unanswered")
    assert h.texts_of(refused) == [t(h, "core.no_permission")]

    (listing,) = sent(await h.command(SECRETARY, "/unanswered"))
    data = [d for _, d in h.buttons_of(listing)]
    assert data == [f"fq:a:{answered.id}", f"fq:a:{mine.id}"]
    assert WEATHER in listing.params["text"]
    assert "食堂" not in listing.params["text"]
    (everything,) = sent(await h.command(ADMIN_ID, "/unanswered"))
    assert f"fq:a:{theirs.id}" in [d for _, d in h.buttons_of(everything)]

    calls = await h.press(SECRETARY, f"fq:a:{mine.id}", message_id=listing_id(h, SECRETARY))
    assert t(h, "faqchat.ask_answer", id=mine.id, question=WEATHER) in h.texts_of(calls)
    calls = await h.text(SECRETARY, "请关注气象台预报。")
    assert t(h, "faqchat.relay_done") in h.texts_of(calls)
    assert "请关注气象台预报" in h.api.messages_to(MEMBER)[-1]
    (listing,) = sent(await h.command(SECRETARY, "/unanswered"))
    assert [d for _, d in h.buttons_of(listing)] == [f"fq:a:{answered.id}"]
    # Another park's question is out of the secretary's scope.
    calls = await h.press(SECRETARY, f"fq:a:{theirs.id}")
    calls = await h.text(SECRETARY, "越权的答复")
    assert h.texts_of(calls) == [t(h, "core.no_permission")]
    assert h.api.messages_to(OTHER)[-1] != "越权的答复"


def listing_id(h: Harness, chat_id: int) -> int:
    return int(h.api.last_message(chat_id)["message_id"])


async def test_notice_browsing_edits_in_place(harness: Harness) -> None:
    h = harness
    (home,) = sent(await h.command(MEMBER, "/notice"))
    message_id = listing_id(h, MEMBER)
    data = [d for _, d in h.buttons_of(home)]
    assert data == ["nt:c:preamble", "nt:s:1", "nt:s:2", "nt:s:3", "nt:s:4", "nt:s:5"]

    calls = await h.press(MEMBER, "nt:s:3", message_id=message_id)
    (edit,) = [c for c in calls if c.method == "editMessageText"]
    assert [d for _, d in h.buttons_of(edit)] == ["nt:c:i4", "nt:c:i5", "nt:c:i6", "nt:h"]

    calls = await h.press(MEMBER, "nt:c:i5", message_id=message_id)
    (edit,) = [c for c in calls if c.method == "editMessageText"]
    assert h.services.faq.clause("i5").text in edit.params["text"]
    assert [d for _, d in h.buttons_of(edit)] == ["nt:s:3", "nt:h"]

    await h.press(MEMBER, "nt:h", message_id=message_id)
    assert h.api.message(MEMBER, message_id)["text"] == home.params["text"]
    assert sent(await h.press(MEMBER, "nt:c:nope", message_id=message_id)) == []


async def test_inline_query_returns_at_most_three_answers(harness: Harness) -> None:
    h = harness
    calls = await h.feed(h.updates.inline_query(MEMBER, FOUND))
    (answer,) = [c for c in calls if c.method == "answerInlineQuery"]
    results = answer.params["results"]
    if isinstance(results, str):
        results = json.loads(results)
    assert 1 <= len(results) <= 3
    top = h.services.faq.match(FOUND).entry
    assert top is not None
    assert results[0]["title"] == top.question
    assert top.answer in results[0]["input_message_content"]["message_text"]
    assert await questions(h) == []


async def test_awkward_input_gets_a_clear_reply(harness: Harness) -> None:
    h = harness
    long_calls = await h.text(MEMBER, "园" * 4096)
    assert h.texts_of(long_calls) == [t(h, "faqchat.too_long", limit=MAX_QUESTION_CHARS)]
    emoji = await h.text(MEMBER, "😀🎉👍")
    assert h.texts_of(emoji) == [t(h, "faq.empty")]
    nul = await h.text(MEMBER, "\x00\x00")
    assert h.texts_of(nul) == [t(h, "faq.empty")]
    with_nul = await h.text(MEMBER, "园区科协\x00怎么成立")
    (row,) = await questions(h)
    assert row.text == FOUND
    assert row.answered
    assert h.texts_of(with_nul)[0] == sent(await h.text(MEMBER, FOUND))[0].params["text"]


async def test_greeting_and_thanks_are_not_policy_answers(harness: Harness) -> None:
    h = harness
    (hello,) = sent(await h.text(MEMBER, "你好"))
    assert hello.params["text"] == t(h, "faq.greeting")
    assert h.buttons_of(hello) == []
    thanks = await h.text(MEMBER, "谢谢！")
    assert h.texts_of(thanks) == [t(h, "faq.thanks")]
    assert await questions(h) == []


async def test_text_inside_a_conversation_is_not_a_question(harness: Harness) -> None:
    h = harness
    await h.add_city("长春市")
    await h.command(ADMIN_ID, "/addpark")
    # The conversation waits for a city button: typed text must not become a question.
    calls = await h.text(ADMIN_ID, FOUND)
    assert h.texts_of(calls) == [t(h, "faqchat.in_conversation")]
    await h.press(ADMIN_ID, "ap:new")
    await h.text(ADMIN_ID, "四平市")
    calls = await h.text(ADMIN_ID, FOUND)
    assert h.texts_of(calls) == [t(h, "admin.park_added", park=FOUND, city="四平市")]
    assert await questions(h) == []
    # Once the conversation is over, the same text is a question again.
    await h.text(ADMIN_ID, FOUND)
    assert len(await questions(h)) == 1


async def test_edited_messages_are_not_questions(harness: Harness) -> None:
    h = harness
    calls = await h.feed(h.updates.edited_text(MEMBER, FOUND))
    assert sent(calls) == []
    assert await questions(h) == []


async def test_erase_questions_drops_user_and_text(harness: Harness) -> None:
    h = harness
    await h.text(MEMBER, FOUND)
    await h.text(OTHER, FOUND)
    async with h.services.db.session() as s:
        assert await erase_questions(s, MEMBER) == 1
    first, second = await questions(h)
    assert first.user_id is None
    assert first.text is None
    assert first.entry_id is not None
    assert second.user_id == OTHER
    assert second.text == FOUND


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_cli_ask_prints_what_the_chat_answers(harness: Harness, tmp_path: Path) -> None:
    h = harness
    chat = [sent(await h.text(MEMBER, q))[0].params["text"] for q in (FOUND, WEATHER)]
    env = {**os.environ, "PARKBOT_DATA_DIR": str(tmp_path / "cli")}
    for key in ("PARKBOT_DATABASE_URL", "PARKBOT_TOKEN"):
        env.pop(key, None)
    plain = await run_cli(env, "ask", FOUND)
    assert plain == chat[0] + "\n"
    # Two questions in one message: both answers, as the chat sends them.
    two = "秘书长可以兼任吗？顺便问下主席一般谁当"
    answers = [c.params["text"] for c in sent(await h.text(MEMBER, two))]
    assert len(answers) == 2
    assert await run_cli(env, "ask", two) == "\n\n".join(answers) + "\n"
    lines = (await run_cli(env, "ask", "--json", "-", stdin=f"{FOUND}\n{WEATHER}\n")).splitlines()
    objects = [json.loads(line) for line in lines]
    assert [o["answer"] for o in objects] == chat
    assert [o["answered"] for o in objects] == [True, False]


async def run_cli(env: dict[str, str], *args: str, stdin: str = "") -> str:
    """Run `parkbot` (python -m bot) in a child process and return its standard output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout=120)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_help_shows_notice_to_all_and_unanswered_to_staff(harness: Harness) -> None:
    h = harness
    await h.add_park("长春新区", "长春市")
    await h.grant(SECRETARY, Role.SECRETARY, park="长春新区")
    member_help = h.texts_of(await h.command(MEMBER, "/help"))[0]
    assert "/notice" in member_help
    assert "/unanswered" not in member_help
    assert "/unanswered" in h.texts_of(await h.command(SECRETARY, "/help"))[0]
