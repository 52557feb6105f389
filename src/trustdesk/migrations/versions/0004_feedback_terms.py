"""feedback terms: the keyed blind index for searching encrypted feedback text

Revision ID: 0004_feedback_terms
Revises: 0003_trust
Create Date: 2026-11-24 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_feedback_terms"
down_revision: str | None = "0003_trust"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feedback_terms",
        sa.Column("bucket", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("term_hash", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("feedback_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback.id"],
            name=op.f("fk_feedback_terms_feedback_id_feedback"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "bucket", "term_hash", "feedback_id", name=op.f("pk_feedback_terms")
        ),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("feedback_terms", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_terms_feedback_id", ["feedback_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("feedback_terms", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_terms_feedback_id")
    op.drop_table("feedback_terms")
