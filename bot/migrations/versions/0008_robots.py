"""Robots: WeCom, DingTalk and Feishu group robots of parks and cities.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

import bot.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "robots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=1024), nullable=False),
        sa.Column("secret", sa.String(length=256), nullable=True),
        sa.Column("keyword", sa.String(length=64), nullable=True),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=True),
        sa.Column("city_id", sa.Integer(), nullable=True),
        sa.Column("broken", sa.Boolean(), nullable=False),
        sa.Column("broken_reason", sa.String(length=256), nullable=False),
        sa.Column("broken_at", bot.db.UTCDateTime(), nullable=True),
        sa.Column("broken_notified", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", bot.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "(park_id IS NULL) <> (city_id IS NULL)", name=op.f("ck_robots_park_xor_city")
        ),
        sa.ForeignKeyConstraint(
            ["city_id"], ["cities.id"], name=op.f("fk_robots_city_id_cities"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_robots_park_id_parks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_robots")),
    )
    op.create_index(op.f("ix_robots_park_id"), "robots", ["park_id"], unique=False)
    op.create_index(op.f("ix_robots_city_id"), "robots", ["city_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_robots_city_id"), table_name="robots")
    op.drop_index(op.f("ix_robots_park_id"), table_name="robots")
    op.drop_table("robots")
