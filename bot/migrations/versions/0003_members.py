"""Members, invitations, 合理化建议 campaigns, suggestions and their history.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import bot.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("employer", sa.String(length=128), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=16), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("consent_version", sa.String(length=16), nullable=False),
        sa.Column("consented_at", bot.db.UTCDateTime(), nullable=False),
        sa.Column("reject_reason", sa.String(length=512), nullable=False),
        sa.Column("reviewed_by", sa.BigInteger(), nullable=True),
        sa.Column("reviewed_at", bot.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", bot.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", bot.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["park_id"], ["parks.id"], name=op.f("fk_members_park_id_parks"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint("user_id", name=op.f("uq_members_user_id")),
    )
    op.create_index(op.f("ix_members_park_id"), "members", ["park_id"], unique=False)
    op.create_index(op.f("ix_members_status"), "members", ["status"], unique=False)
    op.create_table(
        "member_invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=True),
        sa.Column("city_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", bot.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", bot.db.UTCDateTime(), nullable=False),
        sa.Column("used_by", sa.BigInteger(), nullable=True),
        sa.Column("used_at", bot.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["park_id"],
            ["parks.id"],
            name=op.f("fk_member_invites_park_id_parks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["city_id"],
            ["cities.id"],
            name=op.f("fk_member_invites_city_id_cities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_invites")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_member_invites_token_hash")),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("opens_at", bot.db.UTCDateTime(), nullable=False),
        sa.Column("closes_at", bot.db.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", bot.db.UTCDateTime(), nullable=False),
        sa.Column("announced_at", bot.db.UTCDateTime(), nullable=True),
        sa.Column("closed_at", bot.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_index(op.f("ix_campaigns_closes_at"), "campaigns", ["closes_at"], unique=False)
    op.create_table(
        "campaign_parks",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_parks_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["park_id"],
            ["parks.id"],
            name=op.f("fk_campaign_parks_park_id_parks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "park_id", name=op.f("pk_campaign_parks")),
    )
    op.create_table(
        "suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("forwarded_to", sa.String(length=256), nullable=False),
        sa.Column("created_at", bot.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", bot.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_suggestions_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["park_id"],
            ["parks.id"],
            name=op.f("fk_suggestions_park_id_parks"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestions")),
        sa.UniqueConstraint("year", "seq", name=op.f("uq_suggestions_year_seq")),
    )
    op.create_index(op.f("ix_suggestions_campaign_id"), "suggestions", ["campaign_id"])
    op.create_index(op.f("ix_suggestions_park_id"), "suggestions", ["park_id"])
    op.create_index(op.f("ix_suggestions_user_id"), "suggestions", ["user_id"])
    op.create_index(op.f("ix_suggestions_status"), "suggestions", ["status"])
    op.create_table(
        "suggestion_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("suggestion_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("file_id", sa.String(length=256), nullable=False),
        sa.Column("file_name", sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(
            ["suggestion_id"],
            ["suggestions.id"],
            name=op.f("fk_suggestion_attachments_suggestion_id_suggestions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion_attachments")),
    )
    op.create_index(
        op.f("ix_suggestion_attachments_suggestion_id"),
        "suggestion_attachments",
        ["suggestion_id"],
    )
    op.create_table(
        "suggestion_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("suggestion_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.String(length=512), nullable=False),
        sa.Column("at", bot.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["suggestion_id"],
            ["suggestions.id"],
            name=op.f("fk_suggestion_events_suggestion_id_suggestions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion_events")),
    )
    op.create_index(
        op.f("ix_suggestion_events_suggestion_id"), "suggestion_events", ["suggestion_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_suggestion_events_suggestion_id"), table_name="suggestion_events")
    op.drop_table("suggestion_events")
    op.drop_index(
        op.f("ix_suggestion_attachments_suggestion_id"), table_name="suggestion_attachments"
    )
    op.drop_table("suggestion_attachments")
    for column in ("status", "user_id", "park_id", "campaign_id"):
        op.drop_index(op.f(f"ix_suggestions_{column}"), table_name="suggestions")
    op.drop_table("suggestions")
    op.drop_table("campaign_parks")
    op.drop_index(op.f("ix_campaigns_closes_at"), table_name="campaigns")
    op.drop_table("campaigns")
    op.drop_table("member_invites")
    op.drop_index(op.f("ix_members_status"), table_name="members")
    op.drop_index(op.f("ix_members_park_id"), table_name="members")
    op.drop_table("members")
