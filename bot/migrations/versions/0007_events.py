"""Events: events, their parks, RSVPs with a waiting list, claimed reminders.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

import bot.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organiser_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("starts_at", bot.db.UTCDateTime(), nullable=False),
        sa.Column("ends_at", bot.db.UTCDateTime(), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("signup_deadline", bot.db.UTCDateTime(), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("created_at", bot.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", bot.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index(op.f("ix_events_organiser_id"), "events", ["organiser_id"], unique=False)
    op.create_index(op.f("ix_events_starts_at"), "events", ["starts_at"], unique=False)
    op.create_table(
        "event_parks",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_parks_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["park_id"],
            ["parks.id"],
            name=op.f("fk_event_parks_park_id_parks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "park_id", name=op.f("pk_event_parks")),
    )
    op.create_index(op.f("ix_event_parks_park_id"), "event_parks", ["park_id"], unique=False)
    op.create_table(
        "event_rsvps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", bot.db.UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", bot.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_rsvps_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_rsvps")),
        sa.UniqueConstraint("event_id", "user_id", name=op.f("uq_event_rsvps_event_id_user_id")),
    )
    op.create_index(op.f("ix_event_rsvps_event_id"), "event_rsvps", ["event_id"], unique=False)
    op.create_index(op.f("ix_event_rsvps_user_id"), "event_rsvps", ["user_id"], unique=False)
    op.create_table(
        "event_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.String(length=8), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("claimed_at", bot.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_reminders_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_reminders")),
        sa.UniqueConstraint(
            "event_id",
            "slot",
            "user_id",
            name=op.f("uq_event_reminders_event_id_slot_user_id"),
        ),
    )
    op.create_index(
        op.f("ix_event_reminders_event_id"), "event_reminders", ["event_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_event_reminders_event_id"), table_name="event_reminders")
    op.drop_table("event_reminders")
    op.drop_index(op.f("ix_event_rsvps_user_id"), table_name="event_rsvps")
    op.drop_index(op.f("ix_event_rsvps_event_id"), table_name="event_rsvps")
    op.drop_table("event_rsvps")
    op.drop_index(op.f("ix_event_parks_park_id"), table_name="event_parks")
    op.drop_table("event_parks")
    op.drop_index(op.f("ix_events_starts_at"), table_name="events")
    op.drop_index(op.f("ix_events_organiser_id"), table_name="events")
    op.drop_table("events")
