"""trust: statistics, evidence, watermarks and alerts of the trust index

Revision ID: 0003_trust
Revises: 0002_feedback
Create Date: 2026-11-23 10:30:35.007930
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trustdesk.db

revision: str = "0003_trust"
down_revision: str | None = "0002_feedback"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trust_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("segment", sa.String(length=120), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("window_start", trustdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_end", trustdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("baseline", sa.Double(), nullable=False),
        sa.Column("observed", sa.Double(), nullable=False),
        sa.Column("effect", sa.Double(), nullable=False),
        sa.Column("p_value", sa.Double(), nullable=False),
        sa.Column("created_at", trustdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", trustdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=120), nullable=True),
        sa.Column("acknowledged_at", trustdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_alerts")),
        sa.UniqueConstraint(
            "kind", "segment", "topic", "window_start", name=op.f("uq_trust_alerts_kind")
        ),
    )
    with op.batch_alter_table("trust_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trust_alerts_segment"), ["segment"], unique=False)

    op.create_table(
        "trust_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signal", sa.String(length=40), nullable=False),
        sa.Column("ref", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("segment", sa.String(length=120), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("weight", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_evidence")),
    )
    with op.batch_alter_table("trust_evidence", schema=None) as batch_op:
        batch_op.create_index("ix_trust_evidence_customer", ["customer_id"], unique=False)
        batch_op.create_index("ix_trust_evidence_segment_at", ["segment", "at"], unique=False)

    op.create_table(
        "trust_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("half_life_s", sa.Double(), nullable=False),
        sa.Column("latest_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", trustdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_state")),
    )
    op.create_table(
        "trust_stats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("segment", sa.String(length=120), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("signal", sa.String(length=40), nullable=False),
        sa.Column("facet", sa.String(length=64), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.Double(), nullable=False),
        sa.Column("n_neg", sa.Double(), nullable=False),
        sa.Column("sw", sa.Double(), nullable=False),
        sa.Column("swx", sa.Double(), nullable=False),
        sa.Column("swx2", sa.Double(), nullable=False),
        sa.Column("sw2", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_stats")),
        sa.UniqueConstraint(
            "scope",
            "segment",
            "customer_id",
            "signal",
            "facet",
            "bucket",
            name=op.f("uq_trust_stats_scope"),
        ),
    )
    with op.batch_alter_table("trust_stats", schema=None) as batch_op:
        batch_op.create_index("ix_trust_stats_customer", ["customer_id", "scope"], unique=False)

    op.create_table(
        "trust_watermarks",
        sa.Column("signal", sa.String(length=40), nullable=False),
        sa.Column("last_ref", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("signal", name=op.f("pk_trust_watermarks")),
    )


def downgrade() -> None:
    op.drop_table("trust_watermarks")
    with op.batch_alter_table("trust_stats", schema=None) as batch_op:
        batch_op.drop_index("ix_trust_stats_customer")

    op.drop_table("trust_stats")
    op.drop_table("trust_state")
    with op.batch_alter_table("trust_evidence", schema=None) as batch_op:
        batch_op.drop_index("ix_trust_evidence_segment_at")
        batch_op.drop_index("ix_trust_evidence_customer")

    op.drop_table("trust_evidence")
    with op.batch_alter_table("trust_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trust_alerts_segment"))

    op.drop_table("trust_alerts")
