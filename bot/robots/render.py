"""Turn an OutgoingMessage into the JSON bodies each platform's robot webhook accepts.

WeCom: `markdown`, content ≤ 4096 bytes of UTF-8.
DingTalk: `markdown` with title and text; the security keyword must appear in the message.
Feishu: rich text `post` (zh_cn title + paragraphs of text / a tags), request body ≤ 20 KB.
Text over a limit is split into at most MAX_PARTS messages, then trimmed with a note.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.sender import OutgoingMessage
from bot.texts import Texts

# Bytes per post. WeCom's 4096 is documented for markdown.content; DingTalk refuses bodies over
# 20000 bytes and Feishu over 20 KB, so those two are measured as JSON, with room for the rest.
MAX_TEXT_BYTES = {"wecom": 4096, "dingtalk": 19000, "feishu": 19000}
# A robot may post 20 messages a minute: one notice must not use up the budget of a broadcast.
MAX_PARTS = 3
TITLE_CHARS = 40
# Kinds whose Telegram buttons a robot replaces by a line on how to act (robots.render.how.*).
HOW_TO_ACT = ("event",)


@dataclass(frozen=True)
class Line:
    """One line of a robot message; href makes it a link."""

    text: str
    href: str | None = None


def message_lines(message: OutgoingMessage, texts: Texts, lang: str) -> list[Line]:
    """Return the message text, its buttons as plain lines and a note on attachments."""
    lines = [Line(t) for t in message.text.split("\n")]
    pressable = False
    for row in message.buttons:
        for button in row:
            if button.url:
                lines.append(Line(button.text, href=button.url))
            elif message.kind in HOW_TO_ACT:
                pressable = True
            else:
                lines.append(Line(texts.get("robots.render.button", lang, label=button.text)))
    if pressable:
        # A group cannot press Telegram's buttons: say how to do it there or through a person.
        lines.append(Line(texts.get(f"robots.render.how.{message.kind}", lang)))
    if message.attachments:
        names = ", ".join(a.filename or a.kind for a in message.attachments)
        lines.append(Line(texts.get("robots.render.attachments", lang, names=names)))
    return lines


def markdown_line(line: Line) -> str:
    """Return a line in the markdown both WeCom and DingTalk understand."""
    return f"[{line.text}]({line.href})" if line.href else line.text


def _size(line: Line, kind: str) -> int:
    """Return the bytes a line adds to what the platform measures (WeCom: text; others: body)."""
    if kind == "wecom":
        return len(markdown_line(line).encode()) + 1  # the newline that follows it
    if kind == "dingtalk":
        # The body limit counts JSON: escaped quotes and the "\n\n" between paragraphs.
        return len(json.dumps(markdown_line(line) + "\n\n", ensure_ascii=False).encode()) - 2
    return len(json.dumps([_feishu_element(line)], ensure_ascii=False).encode()) + 1


def _hard_split(line: Line, budget: int) -> list[Line]:
    """Cut an over-long plain line into pieces of at most budget bytes (never inside a char)."""
    pieces: list[Line] = []
    current = ""
    for char in line.text:
        if len((current + char).encode()) > budget:
            pieces.append(Line(current))
            current = ""
        current += char
    pieces.append(Line(current, href=line.href if not pieces else None))
    return pieces


def split_lines(
    lines: list[Line], kind: str, texts: Texts, lang: str, *, reserve: int = 0
) -> list[list[Line]]:
    """Pack lines into at most MAX_PARTS parts under the platform's limit; trim with a note."""
    note = Line(texts.get("robots.render.trimmed", lang))
    header = texts.get("robots.render.part", lang, index=MAX_PARTS, total=MAX_PARTS)
    # Every part may carry a "(i/n)" header; the last may carry the trimming note.
    budget = MAX_TEXT_BYTES[kind] - reserve - len(header.encode()) - _size(note, kind) - 2
    parts: list[list[Line]] = [[]]
    used = 0
    for whole in lines:
        for line in [whole] if _size(whole, kind) <= budget else _hard_split(whole, budget // 2):
            size = _size(line, kind)
            if used + size > budget and parts[-1]:
                parts.append([])
                used = 0
            parts[-1].append(line)
            used += size
    if len(parts) > MAX_PARTS:
        parts = parts[:MAX_PARTS]
        parts[-1].append(note)
    if len(parts) > 1:
        total = len(parts)
        for index, part in enumerate(parts, start=1):
            part.insert(0, Line(texts.get("robots.render.part", lang, index=index, total=total)))
    return parts


def title_of(message: OutgoingMessage, texts: Texts, lang: str) -> str:
    """Return the message title, or its first line shortened, or a generic heading."""
    title = message.title or message.text.strip().split("\n", 1)[0]
    if len(title) > TITLE_CHARS:
        title = title[: TITLE_CHARS - 1] + "…"
    return title or texts.get("robots.render.title", lang)


def render(
    kind: str,
    message: OutgoingMessage,
    texts: Texts,
    lang: str = "zh",
    *,
    keyword: str | None = None,
) -> list[dict[str, object]]:
    """Return the webhook bodies (without signature) that deliver message on a kind of robot."""
    title = title_of(message, texts, lang)
    lines = message_lines(message, texts, lang)
    if message.title and kind == "wecom":
        # WeCom's markdown has no separate title field: show it as the bold first line.
        lines = [Line(f"**{message.title}**"), *lines]
    if kind == "wecom":
        return [_wecom(part) for part in split_lines(lines, kind, texts, lang)]
    if kind == "dingtalk":
        reserve = len(f"### {title}\n\n".encode()) + len((keyword or "").encode()) * 2 + 4
        parts = split_lines(lines, kind, texts, lang, reserve=reserve)
        return [_dingtalk(title, part, keyword) for part in parts]
    if kind == "feishu":
        reserve = len(title.encode())
        parts = split_lines(lines, kind, texts, lang, reserve=reserve)
        return [_feishu(title, part) for part in parts]
    raise ValueError(f"unknown robot kind {kind!r}")


def _wecom(part: list[Line]) -> dict[str, object]:
    return {"msgtype": "markdown", "markdown": {"content": "\n".join(map(markdown_line, part))}}


def _dingtalk(title: str, part: list[Line], keyword: str | None) -> dict[str, object]:
    # DingTalk's markdown needs a blank line between paragraphs to show a line break.
    text = f"### {title}\n\n" + "\n\n".join(markdown_line(line) for line in part)
    if keyword:
        # The security keyword must appear in the message or DingTalk rejects it (310000).
        if keyword not in title:
            title = f"{keyword} {title}"
        if keyword not in text:
            text = f"{text}\n\n{keyword}"
    return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}


def _feishu(title: str, part: list[Line]) -> dict[str, object]:
    paragraphs = [[_feishu_element(line)] for line in part]
    return {
        "msg_type": "post",
        "content": {"post": {"zh_cn": {"title": title, "content": paragraphs}}},
    }


def _feishu_element(line: Line) -> dict[str, str]:
    if line.href:
        return {"tag": "a", "text": line.text, "href": line.href}
    return {"tag": "text", "text": line.text}
