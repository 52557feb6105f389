"""consent: covering index so checks read the ledger's latest event per preference

Revision ID: 0013_consent_pair_index
Revises: 0012_login_throttle_keys
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_consent_pair_index"
down_revision: str | Sequence[str] | None = "0012_login_throttle_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consent_events_pair",
            ["customer_id", "purpose", "channel", "id", "state"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_events_pair")
