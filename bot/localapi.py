"""An in-process Telegram Bot API: answers like Telegram, records every call, injects errors.

The console chat talks to the real PTB application through it, and the tests use it as the
only fake: PTB's HTTP client is given `httpx.MockTransport(api.handle)`, so everything above the
HTTP seam (Bot, ExtBot, rate limiter, handlers) is the production code.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

import httpx

BOT_ID = 7000000001
BOT_USERNAME = "parkbot_local_bot"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
JSON_HEADERS = {"content-type": "application/json"}

# Parameters Telegram takes as plain strings even when they look like JSON numbers.
_STRING_PARAMS = {
    "text",
    "caption",
    "query",
    "url",
    "secret_token",
    "description",
    "callback_query_id",
    "inline_query_id",
    "parse_mode",
    "phone_number",
    "first_name",
    "file_id",
    "document",
    "photo",
    "language_code",
    "cache_time_text",
}

ERRORS: dict[str, tuple[int, str]] = {
    "blocked": (403, "Forbidden: bot was blocked by the user"),
    "deactivated": (403, "Forbidden: user is deactivated"),
    "chat_not_found": (400, "Bad Request: chat not found"),
    "bad_request": (400, "Bad Request: message text is empty"),
    "not_modified": (
        400,
        "Bad Request: message is not modified: specified new message content and reply "
        "markup are exactly the same as a current content and reply markup of the message",
    ),
    "server_error": (502, "Bad Gateway"),
    "unauthorized": (401, "Unauthorized"),
    "conflict": (409, "Conflict: terminated by other getUpdates request"),
}


@dataclass
class ApiCall:
    """One Bot API request the bot made."""

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    @property
    def chat_id(self) -> int | None:
        """Return the target chat id of the call, if any."""
        value = self.params.get("chat_id")
        return (
            int(value)
            if isinstance(value, int | str) and str(value).lstrip("-").isdigit()
            else None
        )


@dataclass
class _Failure:
    method: str
    kind: str
    chat_id: int | None
    retry_after: int
    times: int


class LocalBotApi:
    """The fake Bot API; `handle` is an httpx transport handler."""

    def __init__(self, *, history: bool = True) -> None:
        # history=False (benchmarks): keep no calls or messages, so the fake's memory does not
        # grow with the run and count as the bot's; only call_count is kept.
        self.history = history
        self.call_count = 0
        self.calls: list[ApiCall] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.blocked: set[int] = set()
        self.listeners: list[Callable[[ApiCall, dict[str, Any] | None], None]] = []
        self._failures: list[_Failure] = []
        self._gates: dict[str, asyncio.Event] = {}
        self._message_ids = itertools.count(1000)
        self._file_ids = itertools.count(1)
        self.webhook: dict[str, Any] = {}

    # ---- test and console helpers -------------------------------------------------------

    def fail_next(
        self,
        method: str,
        kind: str,
        *,
        chat_id: int | None = None,
        retry_after: int = 3,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of method (to chat_id, if given) fail like Telegram."""
        if kind not in ERRORS and kind not in ("retry_after", "timeout"):
            raise ValueError(f"unknown failure kind {kind!r}")
        self._failures.append(_Failure(method, kind, chat_id, retry_after, times))

    def hold(self, method: str) -> asyncio.Event:
        """Keep calls of method waiting (as a slow Telegram would) until the event is set."""
        gate = self._gates[method] = asyncio.Event()
        return gate

    def calls_to(self, method: str) -> list[ApiCall]:
        """Return the calls of one method."""
        return [c for c in self.calls if c.method == method]

    def messages_to(self, chat_id: int) -> list[str]:
        """Return the texts (or captions) of messages sent to chat_id, in order."""
        out = []
        for call in self.calls:
            if call.chat_id == chat_id and call.method.startswith("send"):
                text = call.params.get("text", call.params.get("caption"))
                if text is not None:
                    out.append(str(text))
        return out

    def last_message(self, chat_id: int) -> dict[str, Any]:
        """Return the newest message the bot has in chat_id, as it looks now (after edits)."""
        mine = [m for (cid, _), m in self.messages.items() if cid == chat_id]
        if not mine:
            raise LookupError(f"no message to {chat_id}")
        return max(mine, key=lambda m: m["message_id"])

    def message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """Return a message as it looks now."""
        return self.messages[(chat_id, message_id)]

    def reset_calls(self) -> None:
        """Forget the recorded calls (messages stay)."""
        self.calls.clear()

    # ---- the transport ------------------------------------------------------------------

    async def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one HTTP request the way api.telegram.org would."""
        method = request.url.path.rstrip("/").rsplit("/", 1)[-1]
        gate = self._gates.get(method)
        if gate is not None:
            await gate.wait()
        params, files = _parse_body(request)
        call = ApiCall(method, params, files)
        self.call_count += 1
        if self.history:
            self.calls.append(call)
        failure = self._take_failure(method, call.chat_id)
        if failure is not None:
            if failure.kind == "timeout":
                raise httpx.ReadTimeout("simulated timeout", request=request)
            return self._error_response(failure)
        if call.chat_id is not None and call.chat_id in self.blocked:
            return _error(*ERRORS["blocked"])
        try:
            result = self._dispatch(method, params, files)
        except _ApiError as exc:
            return _error(exc.code, exc.description)
        message = result if isinstance(result, dict) and "message_id" in result else None
        for listener in self.listeners:
            listener(call, message)
        await asyncio.sleep(0)
        return _json_response(200, {"ok": True, "result": result})

    def _take_failure(self, method: str, chat_id: int | None) -> _Failure | None:
        for failure in self._failures:
            if failure.method == method and failure.chat_id in (None, chat_id):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    @staticmethod
    def _error_response(failure: _Failure) -> httpx.Response:
        if failure.kind == "retry_after":
            return _error(
                429,
                f"Too Many Requests: retry after {failure.retry_after}",
                {"retry_after": failure.retry_after},
            )
        return _error(*ERRORS[failure.kind])

    def _dispatch(self, method: str, p: dict[str, Any], files: dict[str, Any]) -> Any:
        if method == "getMe":
            return bot_user()
        if method in ("sendMessage", "sendPhoto", "sendDocument", "sendContact", "sendLocation"):
            return self._send(method, p, files)
        if method in ("copyMessage", "forwardMessage"):
            msg = self._store(int(p["chat_id"]), {"text": "(copy)"})
            return {"message_id": msg["message_id"]} if method == "copyMessage" else msg
        if method in ("editMessageText", "editMessageReplyMarkup", "editMessageCaption"):
            return self._edit(method, p)
        if method == "deleteMessage":
            self.messages.pop((int(p["chat_id"]), int(p["message_id"])), None)
            return True
        if method == "getFile":
            return {
                "file_id": p["file_id"],
                "file_unique_id": f"u{p['file_id']}"[:32],
                "file_size": 1024,
                "file_path": f"documents/{p['file_id']}",
            }
        if method == "setWebhook":
            self.webhook = dict(p)
            return True
        if method == "deleteWebhook":
            self.webhook = {}
            return True
        if method == "getWebhookInfo":
            return {
                "url": self.webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": 0,
            }
        if method == "getUpdates":
            return []
        if method in (
            "answerCallbackQuery",
            "answerInlineQuery",
            "setMyCommands",
            "deleteMyCommands",
            "sendChatAction",
            "setChatMenuButton",
            "setMyDescription",
            "setMyShortDescription",
            "leaveChat",
            "approveChatJoinRequest",
            "declineChatJoinRequest",
            "setMessageReaction",
        ):
            _check_answer(method, p)
            return True
        if method == "getChat":
            chat_id = int(p["chat_id"])
            return {"id": chat_id, "type": "private" if chat_id > 0 else "group"}
        raise _ApiError(404, "Not Found: method not found")

    def _send(self, method: str, p: dict[str, Any], files: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(p["chat_id"])
        body: dict[str, Any] = {}
        if method == "sendMessage":
            text = str(p.get("text", ""))
            _check_text(text, TEXT_LIMIT)
            body["text"] = text
        else:
            caption = p.get("caption")
            if caption is not None:
                _check_text(str(caption), CAPTION_LIMIT, caption=True)
                body["caption"] = str(caption)
        if method == "sendDocument":
            name = files["document"][0] if "document" in files else "file"
            body["document"] = {
                "file_id": str(p.get("document") or f"doc{next(self._file_ids)}"),
                "file_unique_id": f"ud{next(self._file_ids)}",
                "file_name": name,
            }
        if method == "sendPhoto":
            fid = str(p.get("photo") or f"photo{next(self._file_ids)}")
            body["photo"] = [
                {"file_id": fid, "file_unique_id": f"up{fid}"[:32], "width": 1, "height": 1}
            ]
        markup = p.get("reply_markup")
        if isinstance(markup, dict):
            _check_markup(markup)
            if "inline_keyboard" in markup:
                body["reply_markup"] = markup
        body["_reply_markup_sent"] = markup
        return self._store(chat_id, body)

    def _store(self, chat_id: int, body: dict[str, Any]) -> dict[str, Any]:
        message_id = next(self._message_ids)
        chat = {"id": chat_id, "type": "private" if chat_id > 0 else "group"}
        if chat_id > 0:
            chat["first_name"] = "User"
        else:
            chat["title"] = "Group"
        stored = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": bot_user(),
            **body,
        }
        if self.history:
            self.messages[(chat_id, message_id)] = stored
        return _public(stored)

    def _edit(self, method: str, p: dict[str, Any]) -> Any:
        if "inline_message_id" in p:
            return True
        key = (int(p["chat_id"]), int(p["message_id"]))
        if key not in self.messages:
            raise _ApiError(400, "Bad Request: message to edit not found")
        msg = self.messages[key]
        markup = p.get("reply_markup")
        new = dict(msg)
        if method == "editMessageText":
            text = str(p.get("text", ""))
            _check_text(text, TEXT_LIMIT)
            new["text"] = text
        if method == "editMessageCaption":
            new["caption"] = str(p.get("caption", ""))
        if isinstance(markup, dict):
            _check_markup(markup)
            new["reply_markup"] = markup
        else:
            new.pop("reply_markup", None)
        if _public(new) == _public(msg):
            raise _ApiError(*ERRORS["not_modified"])
        new["edit_date"] = int(time.time())
        self.messages[key] = new
        return _public(new)


class _ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _public(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if not k.startswith("_")}


def _error(
    code: int, description: str, parameters: dict[str, Any] | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return _json_response(code, body)


def _json_response(status: int, body: dict[str, Any]) -> httpx.Response:
    """Return a JSON response as Telegram sends it: UTF-8 text, not \\u escapes."""
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return httpx.Response(status, content=content, headers=JSON_HEADERS)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _check_text(text: str, limit: int, *, caption: bool = False) -> None:
    if not caption and not text.strip():
        raise _ApiError(400, "Bad Request: message text is empty")
    if _utf16_len(text) > limit:
        raise _ApiError(
            400,
            "Bad Request: message caption is too long"
            if caption
            else "Bad Request: message is too long",
        )


def _check_markup(markup: dict[str, Any]) -> None:
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_LIMIT:
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if not button.get("text"):
                raise _ApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )


def _check_answer(method: str, p: dict[str, Any]) -> None:
    if method == "answerCallbackQuery" and len(str(p.get("text", ""))) > 200:
        raise _ApiError(400, "Bad Request: MESSAGE_TOO_LONG")


def _parse_body(request: httpx.Request) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    content_type = request.headers.get("content-type", "")
    raw = request.content
    params: dict[str, Any] = {}
    files: dict[str, tuple[str, bytes]] = {}
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes):
                payload = b""
            if filename is not None:
                files[str(name)] = (filename, payload)
            elif name:
                params[str(name)] = _decode(str(name), payload.decode())
    elif content_type.startswith("application/json") and raw:
        params = json.loads(raw)
    elif raw:
        for key, value in parse_qsl(raw.decode(), keep_blank_values=True):
            params[key] = _decode(key, value)
    return params, files


def _decode(key: str, value: str) -> Any:
    if key in _STRING_PARAMS:
        return value
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    return decoded if isinstance(decoded, dict | list | int | bool | float) else value


def bot_user() -> dict[str, Any]:
    """Return the local bot's own User object."""
    return {
        "id": BOT_ID,
        "is_bot": True,
        "first_name": "parkbot",
        "username": BOT_USERNAME,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": True,
    }


class UpdateFactory:
    """Build realistic Update dicts (the JSON Telegram would send)."""

    def __init__(self) -> None:
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)

    def user(
        self, user_id: int, first_name: str = "Tester", language_code: str = "zh-hans"
    ) -> dict:
        """Return a User dict."""
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": language_code,
        }

    def chat(self, chat_id: int, first_name: str = "Tester") -> dict:
        """Return a Chat dict: private for positive ids, supergroup for negative."""
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": first_name}
        return {"id": chat_id, "type": "supergroup", "title": "Park group"}

    def _message(self, user_id: int, chat_id: int | None, name: str, **body: Any) -> dict:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chat(chat_id if chat_id is not None else user_id, name),
            "from": self.user(user_id, name),
            **body,
        }

    def wrap(self, kind: str, payload: dict) -> dict:
        """Return {"update_id": …, kind: payload}."""
        return {"update_id": next(self._update_ids), kind: payload}

    def text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        name: str = "Tester",
        reply_to: dict | None = None,
    ) -> dict:
        """Return a message update with text (commands get their bot_command entity)."""
        body: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            body["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        if reply_to is not None:
            body["reply_to_message"] = reply_to
        return self.wrap("message", self._message(user_id, chat_id, name, **body))

    def edited_text(self, user_id: int, text: str) -> dict:
        """Return an edited_message update."""
        msg = self._message(user_id, None, "Tester", text=text, edit_date=int(time.time()))
        return self.wrap("edited_message", msg)

    def photo(self, user_id: int, file_id: str, caption: str | None = None) -> dict:
        """Return a message update with a photo."""
        body: dict[str, Any] = {
            "photo": [
                {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 640, "height": 480}
            ]
        }
        if caption:
            body["caption"] = caption
        return self.wrap("message", self._message(user_id, None, "Tester", **body))

    def document(self, user_id: int, file_id: str, file_name: str) -> dict:
        """Return a message update with a document."""
        body = {
            "document": {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_name": file_name,
                "mime_type": "application/octet-stream",
                "file_size": 2048,
            }
        }
        return self.wrap("message", self._message(user_id, None, "Tester", **body))

    def contact(self, user_id: int, phone: str, *, own: bool = True) -> dict:
        """Return a message update sharing a contact (own contact by default)."""
        body = {
            "contact": {
                "phone_number": phone,
                "first_name": "Tester",
                "user_id": user_id if own else user_id + 1,
            }
        }
        return self.wrap("message", self._message(user_id, None, "Tester", **body))

    def callback(self, user_id: int, data: str, message: dict | None = None) -> dict:
        """Return a callback_query update for a button under message."""
        msg = message or {
            "message_id": 1,
            "date": int(time.time()),
            "chat": self.chat(user_id),
            "from": bot_user(),
            "text": "…",
        }
        return self.wrap(
            "callback_query",
            {
                "id": str(next(self._update_ids)),
                "from": self.user(user_id),
                "chat_instance": f"ci{user_id}",
                "data": data,
                "message": msg,
            },
        )

    def inline_query(self, user_id: int, query: str) -> dict:
        """Return an inline_query update."""
        return self.wrap(
            "inline_query",
            {
                "id": str(next(self._update_ids)),
                "from": self.user(user_id),
                "query": query,
                "offset": "",
            },
        )
