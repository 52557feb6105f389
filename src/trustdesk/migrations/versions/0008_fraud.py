"""fraud: transactions, labels, model and rule-set versions

Revision ID: 0008_fraud
Revises: 0006_staff_sessions
Create Date: 2026-11-23 13:19:51.692278
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trustdesk.db

revision: str = "0008_fraud"
down_revision: str | None = "0006_staff_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fraud_model_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("created_at", trustdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("metrics", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_fraud_model_versions")),
    )
    op.create_table(
        "fraud_rule_sets",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("created_at", trustdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_fraud_rule_sets")),
    )
    op.create_table(
        "fraud_transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.String(length=64), nullable=False),
        sa.Column("at", trustdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", trustdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("customer_ref", sa.String(length=64), nullable=False),
        sa.Column("terminal_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=True),
        sa.Column("rules_fired", sa.Text(), nullable=True),
        sa.Column("model_version", sa.String(length=40), nullable=True),
        sa.Column("rules_version", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fraud_transactions")),
        sa.UniqueConstraint("transaction_id", name=op.f("uq_fraud_transactions_transaction_id")),
    )
    with op.batch_alter_table("fraud_transactions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fraud_transactions_at"), ["at"], unique=False)
        batch_op.create_index(
            "ix_fraud_transactions_customer_ref_at", ["customer_ref", "at"], unique=False
        )
        batch_op.create_index("ix_fraud_transactions_decision_at", ["decision", "at"], unique=False)
        batch_op.create_index(
            "ix_fraud_transactions_terminal_id_at", ["terminal_id", "at"], unique=False
        )

    op.create_table(
        "fraud_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_pk", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("known_at", trustdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_pk"],
            ["fraud_transactions.id"],
            name=op.f("fk_fraud_labels_transaction_pk_fraud_transactions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fraud_labels")),
        sa.UniqueConstraint("transaction_pk", "source", name="uq_fraud_labels_transaction_source"),
    )
    with op.batch_alter_table("fraud_labels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fraud_labels_known_at"), ["known_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("fraud_labels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fraud_labels_known_at"))

    op.drop_table("fraud_labels")
    with op.batch_alter_table("fraud_transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_fraud_transactions_terminal_id_at")
        batch_op.drop_index("ix_fraud_transactions_decision_at")
        batch_op.drop_index("ix_fraud_transactions_customer_ref_at")
        batch_op.drop_index(batch_op.f("ix_fraud_transactions_at"))

    op.drop_table("fraud_transactions")
    op.drop_table("fraud_rule_sets")
    op.drop_table("fraud_model_versions")
