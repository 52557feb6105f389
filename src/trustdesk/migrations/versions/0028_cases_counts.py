"""Cases per (queue, status, SLA state), kept with every case write: the inbox's queue counts
without a scan of the cases. Filled from the cases already there.

Revision ID: 0028_cases_counts
Revises: 0027_trustcentre_consent
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028_cases_counts"
down_revision: str | Sequence[str] | None = "0027_trustcentre_consent"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_counts",
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("sla_state", sa.String(length=8), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("queue", "status", "sla_state", name=op.f("pk_case_counts")),
    )
    op.execute(
        "INSERT INTO case_counts (queue, status, sla_state, n) "
        "SELECT queue, status, sla_state, COUNT(*) FROM cases GROUP BY queue, status, sla_state"
    )


def downgrade() -> None:
    op.drop_table("case_counts")
