"""FAQ chat: asked questions and their forwards to secretaries.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import bot.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "faq_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("entry_id", sa.String(length=128), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("offered", sa.JSON(), nullable=False),
        sa.Column("feedback", sa.String(length=8), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=True),
        sa.Column("answer_text", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.BigInteger(), nullable=True),
        sa.Column("asked_at", bot.db.UTCDateTime(), nullable=False),
        sa.Column("feedback_at", bot.db.UTCDateTime(), nullable=True),
        sa.Column("forwarded_at", bot.db.UTCDateTime(), nullable=True),
        sa.Column("resolved_at", bot.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["park_id"],
            ["parks.id"],
            name=op.f("fk_faq_questions_park_id_parks"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_questions")),
    )
    op.create_index(op.f("ix_faq_questions_user_id"), "faq_questions", ["user_id"], unique=False)
    op.create_index(op.f("ix_faq_questions_status"), "faq_questions", ["status"], unique=False)
    op.create_table(
        "faq_forwards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("sent_at", bot.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["faq_questions.id"],
            name=op.f("fk_faq_forwards_question_id_faq_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_forwards")),
        sa.UniqueConstraint(
            "chat_id", "message_id", name=op.f("uq_faq_forwards_chat_id_message_id")
        ),
    )
    op.create_index(
        op.f("ix_faq_forwards_question_id"), "faq_forwards", ["question_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_faq_forwards_question_id"), table_name="faq_forwards")
    op.drop_table("faq_forwards")
    op.drop_index(op.f("ix_faq_questions_status"), table_name="faq_questions")
    op.drop_index(op.f("ix_faq_questions_user_id"), table_name="faq_questions")
    op.drop_table("faq_questions")
