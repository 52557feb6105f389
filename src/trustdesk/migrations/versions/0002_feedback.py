"""feedback: feedback records (encrypted text, analysis) and per-source data-key subjects

Revision ID: 0002_feedback
Revises: 0001_foundation
Create Date: 2026-11-23 10:29:47.895720
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trustdesk.db

revision: str = "0002_feedback"
down_revision: str | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feedback_source_keys",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", trustdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_feedback_source_keys")),
        sa.UniqueConstraint("subject_id", name=op.f("uq_feedback_source_keys_subject_id")),
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("at", trustdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", trustdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("rating", sa.Float(), nullable=True),
        sa.Column("rating_raw", sa.Float(), nullable=True),
        sa.Column("rating_scale", sa.String(length=16), nullable=True),
        sa.Column("text_enc", sa.LargeBinary(), nullable=True),
        sa.Column("text_length", sa.Integer(), nullable=False),
        sa.Column("sentiment", sa.String(length=8), nullable=True),
        sa.Column("p_negative", sa.Float(), nullable=True),
        sa.Column("p_neutral", sa.Float(), nullable=True),
        sa.Column("p_positive", sa.Float(), nullable=True),
        sa.Column("topics_mask", sa.Integer(), nullable=True),
        sa.Column("model_version", sa.String(length=160), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_feedback_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
        sa.UniqueConstraint("source", "external_id", name="uq_feedback_source_external_id"),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index("ix_feedback_segment_at", ["segment", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_segment_at")
        batch_op.drop_index(batch_op.f("ix_feedback_customer_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_at"))
    op.drop_table("feedback")
    op.drop_table("feedback_source_keys")
