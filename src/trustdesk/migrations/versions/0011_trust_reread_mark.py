"""trust: a second mark per signal (where the next recompute reads again) and evidence by ref

Revision ID: 0011_trust_reread_mark
Revises: 0010_fraud_step_up_outcomes
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_trust_reread_mark"
down_revision: str | Sequence[str] | None = "0010_fraud_step_up_outcomes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("trust_watermarks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reread_ref", sa.BigInteger(), server_default="0", nullable=False)
        )
    # Existing marks start without an overlap: reading everything again once would cost the
    # first recompute after the upgrade as much as a full one.
    op.execute("UPDATE trust_watermarks SET reread_ref = last_ref")
    with op.batch_alter_table("trust_evidence", schema=None) as batch_op:
        batch_op.create_index("ix_trust_evidence_signal_ref", ["signal", "ref"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("trust_evidence", schema=None) as batch_op:
        batch_op.drop_index("ix_trust_evidence_signal_ref")
    with op.batch_alter_table("trust_watermarks", schema=None) as batch_op:
        batch_op.drop_column("reread_ref")
