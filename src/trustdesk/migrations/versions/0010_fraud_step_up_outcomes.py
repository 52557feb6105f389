"""fraud: step-up outcomes; label ids never reused (corrections get new ids)

Revision ID: 0010_fraud_step_up_outcomes
Revises: 0009_merge_privacy_fraud
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trustdesk.db

revision: str = "0010_fraud_step_up_outcomes"
down_revision: str | Sequence[str] | None = "0009_merge_privacy_fraud"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fraud_step_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_pk", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("at", trustdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reported_at", trustdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_pk"],
            ["fraud_transactions.id"],
            name=op.f("fk_fraud_step_ups_transaction_pk_fraud_transactions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fraud_step_ups")),
        sa.UniqueConstraint("transaction_pk", name=op.f("uq_fraud_step_ups_transaction_pk")),
    )
    if op.get_bind().dialect.name == "sqlite":
        # A corrected label is stored as a new row: without AUTOINCREMENT SQLite would hand the
        # newest row's id to its replacement, and readers that follow ids would miss it.
        # (PostgreSQL sequences never reuse ids.)
        with op.batch_alter_table(
            "fraud_labels", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(
            "fraud_labels", recreate="always", table_kwargs={"sqlite_autoincrement": False}
        ):
            pass
    op.drop_table("fraud_step_ups")
