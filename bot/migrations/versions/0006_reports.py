"""Quarterly reports: submissions, uploads, reminder sends, nudges, calendar notices.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

import bot.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(length=8), nullable=False),
        sa.Column("submitted_at", bot.db.UTCDateTime(), nullable=False),
        sa.Column("submitted_by", sa.BigInteger(), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"],
            ["cities.id"],
            name=op.f("fk_report_submissions_city_id_cities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_submissions")),
        sa.UniqueConstraint(
            "city_id", "quarter", name=op.f("uq_report_submissions_city_id_quarter")
        ),
    )
    op.create_table(
        "report_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(length=8), nullable=False),
        sa.Column("slot", sa.String(length=24), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", bot.db.UTCDateTime(), nullable=False),
        sa.Column("created_at", bot.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", bot.db.UTCDateTime(), nullable=False),
        sa.Column("detail", sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"],
            ["cities.id"],
            name=op.f("fk_report_sends_city_id_cities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_sends")),
        sa.UniqueConstraint(
            "city_id",
            "quarter",
            "slot",
            "user_id",
            name=op.f("uq_report_sends_city_id_quarter_slot_user_id"),
        ),
    )
    op.create_index(op.f("ix_report_sends_quarter"), "report_sends", ["quarter"], unique=False)
    op.create_table(
        "report_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(length=8), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("file_id", sa.String(length=256), nullable=False),
        sa.Column("file_name", sa.String(length=256), nullable=False),
        sa.Column("uploaded_at", bot.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"],
            ["cities.id"],
            name=op.f("fk_report_uploads_city_id_cities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_uploads")),
    )
    op.create_index(op.f("ix_report_uploads_city_id"), "report_uploads", ["city_id"], unique=False)
    op.create_table(
        "report_nudges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city_id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(length=8), nullable=False),
        sa.Column("admin_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False),
        sa.Column("sent_at", bot.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"],
            ["cities.id"],
            name=op.f("fk_report_nudges_city_id_cities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_nudges")),
    )
    op.create_index(op.f("ix_report_nudges_city_id"), "report_nudges", ["city_id"], unique=False)
    op.create_table(
        "report_calendar_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", bot.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_calendar_notices")),
        sa.UniqueConstraint(
            "year", "user_id", name=op.f("uq_report_calendar_notices_year_user_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("report_calendar_notices")
    op.drop_index(op.f("ix_report_nudges_city_id"), table_name="report_nudges")
    op.drop_table("report_nudges")
    op.drop_index(op.f("ix_report_uploads_city_id"), table_name="report_uploads")
    op.drop_table("report_uploads")
    op.drop_index(op.f("ix_report_sends_quarter"), table_name="report_sends")
    op.drop_table("report_sends")
    op.drop_table("report_submissions")
