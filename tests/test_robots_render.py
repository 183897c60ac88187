"""Rendering, splitting, signing and error mapping of group robots (no network)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import replace
from urllib.parse import unquote_plus

import pytest

from bot.robots.render import MAX_PARTS, MAX_TEXT_BYTES, render
from bot.robots.sender import RobotConfigError, classify
from bot.robots.service import RobotError, check_url, mask_url, parse_kinds
from bot.robots.signing import dingtalk_query, dingtalk_sign, feishu_sign, mask
from bot.sender import (
    Attachment,
    Button,
    OutgoingMessage,
    PermanentError,
    RateLimited,
    TransientError,
    Unreachable,
)
from bot.texts import Texts

TEXTS = Texts.load()
EVENT = OutgoingMessage(
    text="3月15日 长春新区科技沙龙\n报名：在 Telegram 中点“报名”，或联系园区科协秘书。",
    title="活动通知",
    kind="event",
    buttons=((Button("报名", data="ev:rsvp:3"), Button("详情", url="https://example.cn/e/3")),),
)


def test_wecom_markdown_has_title_text_and_buttons_as_lines() -> None:
    [body] = render("wecom", EVENT, TEXTS)
    content = body["markdown"]["content"]  # type: ignore[index]
    assert body["msgtype"] == "markdown"
    assert content.startswith("**活动通知**\n3月15日")
    assert "联系园区科协秘书" in content
    # An event's callback buttons cannot be pressed in a group: one line says how to sign up.
    assert TEXTS.get("robots.render.how.event", "zh") in content
    assert "· 报名" not in content
    notice = render("wecom", replace(EVENT, kind="notice"), TEXTS)[0]["markdown"]
    assert "· 报名" in notice["content"]  # type: ignore[index]  # other kinds: a plain line
    assert "[详情](https://example.cn/e/3)" in content  # a URL button becomes a link


def test_dingtalk_markdown_has_title_and_keyword_prepended_and_appended() -> None:
    [body] = render("dingtalk", EVENT, TEXTS, keyword="parkbot")
    markdown = body["markdown"]
    assert markdown["title"] == "parkbot 活动通知"  # type: ignore[index]
    assert markdown["text"].startswith("### 活动通知\n\n3月15日")  # type: ignore[index]
    assert markdown["text"].endswith("\n\nparkbot")  # type: ignore[index]


def test_dingtalk_keyword_not_repeated_when_present() -> None:
    [plain] = render("dingtalk", EVENT, TEXTS)
    [body] = render("dingtalk", EVENT, TEXTS, keyword="报名")
    assert body["markdown"]["text"] == plain["markdown"]["text"]  # type: ignore[index]


def test_feishu_post_has_zh_cn_title_and_text_and_a_paragraphs() -> None:
    [body] = render("feishu", EVENT, TEXTS)
    post = body["content"]["post"]["zh_cn"]  # type: ignore[index]
    assert body["msg_type"] == "post"
    assert post["title"] == "活动通知"
    assert post["content"][0] == [{"tag": "text", "text": "3月15日 长春新区科技沙龙"}]
    assert [{"tag": "a", "text": "详情", "href": "https://example.cn/e/3"}] in post["content"]


def test_attachments_are_named_not_dropped_silently() -> None:
    message = OutgoingMessage(
        text="申报表", attachments=(Attachment("document", filename="表.xlsx"),)
    )
    [body] = render("wecom", message, TEXTS)
    assert "表.xlsx" in body["markdown"]["content"]  # type: ignore[index]


def test_title_falls_back_to_first_line() -> None:
    [body] = render("dingtalk", OutgoingMessage(text="第一行\n第二行"), TEXTS)
    assert body["markdown"]["title"] == "第一行"  # type: ignore[index]


@pytest.mark.parametrize("kind", ["wecom", "dingtalk", "feishu"])
def test_long_text_is_split_into_numbered_parts_under_the_limit(kind: str) -> None:
    limit = MAX_TEXT_BYTES[kind]
    line = "园区科协" * 50  # 600 bytes
    text = "\n".join([line] * (limit // 600 * 3 // 2))  # about one and a half times the limit
    bodies = render(kind, OutgoingMessage(text=text), TEXTS)
    assert len(bodies) == 2
    for index, body in enumerate(bodies, start=1):
        assert f"（{index}/2）" in json.dumps(body, ensure_ascii=False)
        if kind == "wecom":
            assert len(body["markdown"]["content"].encode()) <= 4096  # type: ignore[index]
        assert len(json.dumps(body, ensure_ascii=False).encode()) <= 20000
    joined = "".join(json.dumps(b, ensure_ascii=False) for b in bodies)
    assert joined.count(line) == text.count(line)  # nothing lost


@pytest.mark.parametrize("kind", ["wecom", "dingtalk", "feishu"])
def test_huge_text_is_trimmed_with_a_note_never_rejected(kind: str) -> None:
    text = "长" * (MAX_TEXT_BYTES[kind] * 2)  # one enormous line, ~6x the limit in bytes
    bodies = render(kind, OutgoingMessage(text=text), TEXTS)
    assert len(bodies) == MAX_PARTS
    last = json.dumps(bodies[-1], ensure_ascii=False)
    assert "内容过长，已截断" in last
    for body in bodies:
        assert len(json.dumps(body, ensure_ascii=False).encode()) <= 20000
        if kind == "wecom":
            assert len(body["markdown"]["content"].encode()) <= 4096  # type: ignore[index]


@pytest.mark.parametrize("kind", ["dingtalk", "feishu"])
def test_many_short_lines_stay_under_the_body_limit(kind: str) -> None:
    text = "\n".join(['科"协'] * 12000)  # the JSON overhead of each line outweighs its text
    bodies = render(kind, OutgoingMessage(text=text, title="标题"), TEXTS, keyword="科协")
    for body in bodies:
        assert len(json.dumps(body, ensure_ascii=False).encode()) <= 20000


def test_english_robot_gets_english_notes() -> None:
    bodies = render("wecom", OutgoingMessage(text="x" * 20000), TEXTS, "en")
    assert "Too long, trimmed" in bodies[-1]["markdown"]["content"]  # type: ignore[index]


def test_dingtalk_sign_matches_the_documented_recipe() -> None:
    secret, timestamp = "SECabc123", 1700000000000
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert dingtalk_sign(secret, timestamp) == expected
    query = dingtalk_query(secret, timestamp)
    assert query.startswith(f"&timestamp={timestamp}&sign=")
    encoded = query.split("&sign=")[1]
    for char in "+/=":  # url-encoded
        assert char not in encoded
    assert unquote_plus(encoded) == expected


def test_feishu_sign_uses_timestamp_and_secret_as_key_of_an_empty_message() -> None:
    secret, timestamp = "feishu-secret", 1599360473
    key = f"{timestamp}\n{secret}".encode()
    expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert feishu_sign(secret, timestamp) == expected
    assert feishu_sign(secret, timestamp) != feishu_sign(secret, timestamp + 1)


def test_mask_shows_only_the_ends() -> None:
    assert mask("SEC0123456789abcdefa1b2") == "SEC…a1b2"
    assert mask(None) == ""
    assert "0123" not in mask("SEC0123456789")
    url = mask_url(
        "wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4"
    )
    assert "693a91f6-7xxx" not in url
    assert url.endswith("key=693…4bc4")
    feishu = mask_url("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/0123456789abcdef")
    assert feishu.endswith("/hook/012…cdef")


@pytest.mark.parametrize(
    ("kind", "status", "answer", "error", "retry_after"),
    [
        ("wecom", 200, {"errcode": 45009, "errmsg": "api freq out of limit"}, RateLimited, 60),
        ("wecom", 200, {"errcode": 93000, "errmsg": "invalid webhook url"}, Unreachable, None),
        ("wecom", 200, {"errcode": -1, "errmsg": "system busy"}, TransientError, None),
        ("wecom", 200, {"errcode": 40008, "errmsg": "invalid message type"}, PermanentError, None),
        ("dingtalk", 200, {"errcode": 130101, "errmsg": "send too fast"}, RateLimited, 600),
        ("dingtalk", 200, {"errcode": 660026, "errmsg": "send too fast"}, RateLimited, 600),
        ("dingtalk", 200, {"errcode": 300001, "errmsg": "token is not exist"}, Unreachable, None),
        (
            "dingtalk",
            200,
            {"errcode": 310000, "errmsg": "access_token invalid"},
            Unreachable,
            None,
        ),
        ("dingtalk", 200, {"errcode": 310000, "errmsg": "sign not match"}, RobotConfigError, None),
        (
            "dingtalk",
            200,
            {"errcode": 310000, "errmsg": "keywords not in content"},
            RobotConfigError,
            None,
        ),
        ("feishu", 200, {"code": 11232, "msg": "frequency limited"}, RateLimited, 60),
        ("feishu", 429, {"code": 9499, "msg": "too many request"}, RateLimited, 60),
        ("feishu", 200, {"code": 9499, "msg": "Bad Request"}, PermanentError, None),
        ("feishu", 400, {"code": 19001, "msg": "access token invalid"}, Unreachable, None),
        ("feishu", 200, {"code": 19021, "msg": "sign match fail"}, RobotConfigError, None),
        ("feishu", 200, {"code": 19024, "msg": "Key Words Not Found"}, RobotConfigError, None),
        ("feishu", 404, None, Unreachable, None),
        ("wecom", 502, None, TransientError, None),
        ("dingtalk", 503, None, TransientError, None),
    ],
)
def test_answers_map_to_delivery_errors(
    kind: str,
    status: int,
    answer: dict[str, object] | None,
    error: type[Exception],
    retry_after: float | None,
) -> None:
    found = classify(kind, status, answer)
    assert type(found) is error
    if retry_after is not None:
        assert isinstance(found, RateLimited)
        assert found.retry_after == retry_after


def test_success_answers_are_not_errors() -> None:
    assert classify("wecom", 200, {"errcode": 0, "errmsg": "ok"}) is None
    assert classify("dingtalk", 200, {"errcode": 0, "errmsg": "ok"}) is None
    assert classify("feishu", 200, {"code": 0, "msg": "success", "data": {}}) is None
    assert classify("feishu", 200, {"StatusCode": 0, "StatusMessage": "success"}) is None


@pytest.mark.parametrize(
    ("kind", "url"),
    [
        ("wecom", "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"),  # not https
        ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"),
        ("dingtalk", "https://oapi.dingtalk.com/robot/send?token=abc"),
        ("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/"),
    ],
)
def test_bad_webhook_urls_are_refused(kind: str, url: str) -> None:
    with pytest.raises(RobotError):
        check_url(kind, url)


def test_kinds_default_to_all_and_reject_unknown() -> None:
    assert parse_kinds(None) == ("notice", "event", "campaign", "report")
    assert parse_kinds("notice, event") == ("notice", "event")
    with pytest.raises(RobotError):
        parse_kinds("notice,spam")
