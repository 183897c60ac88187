"""Store an OutgoingMessage as JSON in the broadcast row and read it back."""

from __future__ import annotations

import base64
from typing import Any, Literal, cast

from bot.sender import Attachment, Button, OutgoingMessage


def encode_message(message: OutgoingMessage) -> dict[str, Any]:
    """Return message as a JSON-safe dict (attachment bytes as base64)."""
    return {
        "text": message.text,
        "title": message.title,
        "kind": message.kind,
        "buttons": [
            [{"text": b.text, "data": b.data, "url": b.url} for b in row]
            for row in message.buttons
        ],
        "attachments": [
            {
                "kind": a.kind,
                "file_id": a.file_id,
                "content": base64.b64encode(a.content).decode() if a.content is not None else None,
                "filename": a.filename,
            }
            for a in message.attachments
        ],
    }


def decode_message(data: dict[str, Any]) -> OutgoingMessage:
    """Rebuild the OutgoingMessage stored by encode_message."""
    return OutgoingMessage(
        text=data["text"],
        title=data.get("title", ""),
        kind=data.get("kind", "notice"),
        buttons=tuple(
            tuple(Button(b["text"], b.get("data"), b.get("url")) for b in row)
            for row in data.get("buttons", [])
        ),
        attachments=tuple(
            Attachment(
                kind=cast(Literal["photo", "document"], a["kind"]),
                file_id=a.get("file_id"),
                content=base64.b64decode(a["content"]) if a.get("content") is not None else None,
                filename=a.get("filename"),
            )
            for a in data.get("attachments", [])
        ),
    )
