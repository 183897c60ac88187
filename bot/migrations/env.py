"""Alembic environment: always run on the connection bot.db hands over."""

from alembic import context

import bot.models  # noqa: F401  (registers every table on Base.metadata)
from bot.db import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `parkbot db upgrade`")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite can only ALTER through table copies
)
with context.begin_transaction():
    context.run_migrations()
