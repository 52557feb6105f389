"""Trust-centre subscribers point at the customer (or email-only contact) whose consent ledger
holds their subscription.

Revision ID: 0027_trustcentre_consent
Revises: 0026_cases_inbound
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027_trustcentre_consent"
down_revision: str | Sequence[str] | None = "0026_cases_inbound"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("trust_subscribers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_id", sa.BigInteger(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_trust_subscribers_customer_id"), ["customer_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("trust_subscribers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trust_subscribers_customer_id"))
        batch_op.drop_column("customer_id")
