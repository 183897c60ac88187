"""Request signing of DingTalk and Feishu custom robots, and masking of secrets for display."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote_plus


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """Return DingTalk's sign: base64(HMAC-SHA256(key=secret, msg="{timestamp}\\n{secret}"))."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def dingtalk_query(secret: str, timestamp_ms: int) -> str:
    """Return the `&timestamp=…&sign=…` query suffix, the sign URL-encoded as DingTalk asks."""
    return f"&timestamp={timestamp_ms}&sign={quote_plus(dingtalk_sign(secret, timestamp_ms))}"


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Return Feishu's sign: base64(HMAC-SHA256(key="{timestamp}\\n{secret}", msg=b""))."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def mask(secret: str | None) -> str:
    """Return a secret shortened for display: its first 3 and last 4 characters."""
    if not secret:
        return ""
    if len(secret) <= 10:
        return "…" + secret[-2:]
    return f"{secret[:3]}…{secret[-4:]}"
