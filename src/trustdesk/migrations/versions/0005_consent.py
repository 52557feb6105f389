"""consent: the hash-chained ledger, its head, the current-state projection, used form nonces

Revision ID: 0005_consent
Revises: 0004_feedback_terms
Create Date: 2026-11-24 10:50:50.380569
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trustdesk.db

revision: str = "0005_consent"
down_revision: str | None = "0004_feedback_terms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consent_events",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", trustdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=24), nullable=False),
        sa.Column("notice_version", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_events")),
    )
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.create_index("ix_consent_events_customer", ["customer_id", "id"], unique=False)

    op.create_table(
        "consent_form_nonces",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("used_at", trustdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_consent_form_nonces")),
    )
    with op.batch_alter_table("consent_form_nonces", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_form_nonces_used_at"), ["used_at"], unique=False
        )

    op.create_table(
        "consent_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_head")),
    )
    op.create_table(
        "consent_state",
        sa.Column("customer_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", trustdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "purpose", "channel", name=op.f("pk_consent_state")),
    )


def downgrade() -> None:
    op.drop_table("consent_state")
    op.drop_table("consent_head")
    with op.batch_alter_table("consent_form_nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_form_nonces_used_at"))

    op.drop_table("consent_form_nonces")
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_events_customer")

    op.drop_table("consent_events")
