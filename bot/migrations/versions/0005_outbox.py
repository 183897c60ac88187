"""Outbox: broadcasts and one delivery row per recipient.

Revision ID: 0005
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import bot.db

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("message", sa.JSON(), nullable=False),
        sa.Column("park_ids", sa.JSON(), nullable=False),
        sa.Column("ref", sa.String(length=128), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("rate_limited", sa.Integer(), nullable=False),
        sa.Column("rate_limited_seconds", sa.Float(), nullable=False),
        sa.Column("progress_chat", sa.BigInteger(), nullable=True),
        sa.Column("progress_message_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", bot.db.UTCDateTime(), nullable=False),
        sa.Column("finished_at", bot.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    op.create_index(op.f("ix_broadcasts_created_by"), "broadcasts", ["created_by"], unique=False)
    op.create_index(op.f("ix_broadcasts_ref"), "broadcasts", ["ref"], unique=False)
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=256), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", bot.db.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", bot.db.UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("updated_at", bot.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
            name=op.f("fk_outbox_broadcast_id_broadcasts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint(
            "broadcast_id",
            "channel",
            "address",
            name=op.f("uq_outbox_broadcast_id_channel_address"),
        ),
    )
    op.create_index(
        "ix_outbox_state_next_attempt_at_id",
        "outbox",
        ["state", "next_attempt_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_outbox_broadcast_id_state", "outbox", ["broadcast_id", "state"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_broadcast_id_state", table_name="outbox")
    op.drop_index("ix_outbox_state_next_attempt_at_id", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index(op.f("ix_broadcasts_ref"), table_name="broadcasts")
    op.drop_index(op.f("ix_broadcasts_created_by"), table_name="broadcasts")
    op.drop_table("broadcasts")
