"""Settings read from the environment (and an optional .env file), validated at start."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# Every setting the bot reads, with a one-line description; deploy/env.example documents the same
# names and a test keeps the two in step.
SETTINGS: dict[str, str] = {
    "TELEGRAM_BOT_TOKEN": "Bot token from @BotFather; empty means the local console chat",
    "TELEGRAM_API_BASE_URL": "Bot API base URL (PTB base_url), e.g. a self-hosted server",
    "PARKBOT_DATABASE_URL": "SQLAlchemy async URL; default a SQLite file under PARKBOT_DATA_DIR",
    "PARKBOT_DATA_DIR": "Folder for the default SQLite database and exports",
    "PARKBOT_ADMIN_IDS": "Comma-separated Telegram user ids of provincial admins",
    "PARKBOT_WEBHOOK_URL": "Public HTTPS URL of the webhook; empty means long polling",
    "PARKBOT_WEBHOOK_SECRET": "Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token",
    "PARKBOT_LISTEN": "host:port of the HTTP server (webhook, /healthz, /metrics)",
    "PARKBOT_TIMEZONE": "IANA time zone of the association",
    "PARKBOT_LOG_LEVEL": "DEBUG, INFO, WARNING, ERROR or CRITICAL",
    "PARKBOT_LOG_FORMAT": "text or json (JSON lines)",
    "PARKBOT_TICK_SECONDS": "Seconds between clock ticks; also how soon a standby takes the clock",
}


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Config:
    """Validated settings of one bot process."""

    token: str = ""
    api_base_url: str = DEFAULT_API_BASE_URL
    database_url: str = "sqlite+aiosqlite:///data/parkbot.db"
    data_dir: Path = Path("data")
    admin_ids: frozenset[int] = field(default_factory=frozenset)
    webhook_url: str = ""
    webhook_secret: str = ""
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    timezone: str = "Asia/Shanghai"
    log_level: str = "INFO"
    log_format: str = "text"
    tick_seconds: float = 10.0

    @property
    def tz(self) -> ZoneInfo:
        """Return the association's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def file_base_url(self) -> str:
        """Return the file download base that matches api_base_url (…/bot → …/file/bot)."""
        base = self.api_base_url
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base.rstrip("/") + "/file/bot"

    @property
    def webhook_mode(self) -> bool:
        """Return whether updates arrive by webhook rather than long polling."""
        return bool(self.webhook_url)

    @property
    def is_postgres(self) -> bool:
        """Return whether the database is PostgreSQL."""
        return self.database_url.startswith("postgresql")


_TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def load_config(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Config:
    """Read and validate settings; raise ConfigError naming the first bad one."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)

    def get(name: str) -> str:
        return values.get(name, "").strip()

    token = get("TELEGRAM_BOT_TOKEN")
    if token and not _TOKEN_RE.match(token):
        raise ConfigError("TELEGRAM_BOT_TOKEN: expected the form 123456:ABC… from @BotFather")

    base_url = get("TELEGRAM_API_BASE_URL") or DEFAULT_API_BASE_URL
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError("TELEGRAM_API_BASE_URL: must start with http:// or https://")

    data_dir = Path(get("PARKBOT_DATA_DIR") or "data")
    db_url = get("PARKBOT_DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'parkbot.db'}"
    if not db_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ConfigError(
            "PARKBOT_DATABASE_URL: use sqlite+aiosqlite:///path or postgresql+asyncpg://…"
        )

    admin_ids: set[int] = set()
    for part in filter(None, (p.strip() for p in get("PARKBOT_ADMIN_IDS").split(","))):
        if not part.lstrip("-").isdigit():
            raise ConfigError(f"PARKBOT_ADMIN_IDS: {part!r} is not a Telegram user id")
        admin_ids.add(int(part))

    webhook_url = get("PARKBOT_WEBHOOK_URL")
    secret = get("PARKBOT_WEBHOOK_SECRET")
    if webhook_url:
        if not webhook_url.startswith("https://"):
            raise ConfigError("PARKBOT_WEBHOOK_URL: Telegram only calls https:// webhooks")
        if not secret:
            raise ConfigError("PARKBOT_WEBHOOK_SECRET: required when PARKBOT_WEBHOOK_URL is set")
    if secret and not _SECRET_RE.match(secret):
        raise ConfigError("PARKBOT_WEBHOOK_SECRET: 1-256 characters of A-Z, a-z, 0-9, _ and -")

    listen = get("PARKBOT_LISTEN") or "127.0.0.1:8080"
    host, sep, port_text = listen.rpartition(":")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError("PARKBOT_LISTEN: expected host:port, e.g. 127.0.0.1:8080")

    tz_name = get("PARKBOT_TIMEZONE") or "Asia/Shanghai"
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"PARKBOT_TIMEZONE: unknown time zone {tz_name!r}") from exc

    level = (get("PARKBOT_LOG_LEVEL") or "INFO").upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"PARKBOT_LOG_LEVEL: one of {', '.join(LOG_LEVELS)}")
    log_format = (get("PARKBOT_LOG_FORMAT") or "text").lower()
    if log_format not in ("text", "json"):
        raise ConfigError("PARKBOT_LOG_FORMAT: text or json")

    tick_text = get("PARKBOT_TICK_SECONDS") or "10"
    try:
        tick_seconds = float(tick_text)
    except ValueError:
        tick_seconds = 0.0
    if not 0.5 <= tick_seconds <= 300:
        raise ConfigError("PARKBOT_TICK_SECONDS: a number of seconds from 0.5 to 300")

    return Config(
        token=token,
        api_base_url=base_url,
        database_url=db_url,
        data_dir=data_dir,
        admin_ids=frozenset(admin_ids),
        webhook_url=webhook_url,
        webhook_secret=secret,
        listen_host=host.strip("[]"),
        listen_port=int(port_text),
        timezone=tz_name,
        log_level=level,
        log_format=log_format,
        tick_seconds=tick_seconds,
    )
