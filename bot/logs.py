"""Logging set-up: plain text or JSON lines, carrying update and user ids, never personal data."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from bot.config import Config

_EXTRA = ("update_id", "user_id")

# (update id, user id) of the update this task is handling; asyncio copies it into child tasks.
CURRENT_UPDATE: ContextVar[tuple[int | None, int | None]] = ContextVar(
    "parkbot_current_update", default=(None, None)
)

# Our own code logs ids, never names, phone numbers or message texts. Libraries are not so
# careful below WARNING (PTB logs whole updates and API parameters, SQLAlchemy and aiosqlite the
# bound parameters), so their chatty loggers are held at these levels whatever PARKBOT_LOG_LEVEL
# says, and RedactFilter blanks the arguments of whatever library record still gets through.
LIBRARY_FLOORS = {
    "telegram": logging.INFO,
    "httpx": logging.WARNING,  # request URLs contain the bot token
    "httpcore": logging.WARNING,
    "sqlalchemy": logging.WARNING,
    # echo=True sets this child's level itself; name it so it is floored too.
    "sqlalchemy.engine": logging.WARNING,
    # Logs every statement with its bound values at DEBUG: robot secrets and webhook tokens.
    "aiosqlite": logging.WARNING,
    "asyncpg": logging.WARNING,
    "apscheduler": logging.WARNING,
    "alembic": logging.WARNING,
    "aiohttp": logging.INFO,
}
OWN_LOGGERS = ("bot", "handlers", "parkbot", "__main__")
REDACTED = "<redacted>"


@contextmanager
def update_context(update_id: int | None, user_id: int | None) -> Iterator[None]:
    """Tag every record logged inside the block with this update and user."""
    token = CURRENT_UPDATE.set((update_id, user_id))
    try:
        yield
    finally:
        CURRENT_UPDATE.reset(token)


class UpdateContextFilter(logging.Filter):
    """Copy the current update and user ids onto each record (unless it names its own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Annotate record; never drop it."""
        update_id, user_id = CURRENT_UPDATE.get()
        if getattr(record, "update_id", None) is None:
            record.update_id = update_id
        if getattr(record, "user_id", None) is None:
            record.user_id = user_id
        return True


class RedactFilter(logging.Filter):
    """Blank the arguments of library records below WARNING: they may carry personal data."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact record in place; never drop it."""
        if record.levelno >= logging.WARNING or record.name.startswith(OWN_LOGGERS):
            return True
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(_redact(a) for a in args)
        return True


def _redact(value: object) -> object:
    # Numbers are ids, counts and timings; anything else may be a text, a name or a whole update.
    if isinstance(value, bool | int | float) or value is None:
        return value
    return REDACTED


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON line."""
        body: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in _EXTRA:
            value = getattr(record, key, None)
            if value is not None:
                body[key] = value
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Human-readable lines, with [update … user …] when a record belongs to an update."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one line (plus a traceback)."""
        line = super().format(record)
        update_id = getattr(record, "update_id", None)
        user_id = getattr(record, "user_id", None)
        if update_id is None and user_id is None:
            return line
        head, sep, rest = line.partition("\n")
        return f"{head} [update {update_id} user {user_id}]{sep}{rest}"


def make_handler(log_format: str, stream: object | None = None) -> logging.Handler:
    """Return a handler with our formatter, the update-id filter and the redaction filter."""
    handler = logging.StreamHandler(stream)  # type: ignore[arg-type]
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RedactFilter())
    handler.addFilter(UpdateContextFilter())
    return handler


def setup_logging(config: Config, stream: object | None = None) -> None:
    """Configure the root logger from the settings."""
    root = logging.getLogger()
    root.handlers[:] = [make_handler(config.log_format, stream)]
    root.setLevel(config.log_level)
    for name, floor in LIBRARY_FLOORS.items():
        logging.getLogger(name).setLevel(max(floor, logging.getLevelName(config.log_level)))
