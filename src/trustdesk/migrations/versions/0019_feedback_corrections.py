"""feedback: staff corrections of sentiment and topics (labelled examples for training)

Revision ID: 0019_feedback_corrections
Revises: 0013_consent_pair_index
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trustdesk.db

revision: str = "0019_feedback_corrections"
down_revision: str | Sequence[str] | None = "0018_cases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feedback_corrections",
        sa.Column("feedback_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sentiment", sa.String(length=8), nullable=True),
        sa.Column("topics_mask", sa.Integer(), nullable=True),
        sa.Column("corrected_by", sa.String(length=120), nullable=False),
        sa.Column("corrected_at", trustdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback.id"],
            name=op.f("fk_feedback_corrections_feedback_id_feedback"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("feedback_id", name=op.f("pk_feedback_corrections")),
    )
    with op.batch_alter_table("feedback_corrections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feedback_corrections_corrected_at"), ["corrected_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("feedback_corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_corrections_corrected_at"))
    op.drop_table("feedback_corrections")
