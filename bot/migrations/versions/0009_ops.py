"""Operations: ring buffer of the last handler errors.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

import bot.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ops_errors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", bot.db.UTCDateTime(), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=True),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.String(length=128), nullable=False),
        sa.Column("location", sa.String(length=256), nullable=False),
        sa.Column("detail", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_errors")),
    )
    op.create_index(op.f("ix_ops_errors_at"), "ops_errors", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_ops_errors_at"), table_name="ops_errors")
    op.drop_table("ops_errors")
