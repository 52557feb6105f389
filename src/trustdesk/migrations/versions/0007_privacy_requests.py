"""data-subject requests, data map versions, privacy notice versions

Revision ID: 0007_privacy_requests
Revises: 0006_staff_sessions
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import trustdesk.db

revision: str = "0007_privacy_requests"
down_revision: str | None = "0006_staff_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "privacy_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("regime", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("source", sa.String(length=24), nullable=False),
        sa.Column("received_at", trustdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", trustdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("extended_at", trustdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("verified_at", trustdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("verified_by", sa.String(length=120), nullable=True),
        sa.Column("verification_method", sa.String(length=200), nullable=True),
        sa.Column("closed_at", trustdesk.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=120), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("scope", sa.String(length=400), nullable=True),
        sa.Column("payload_enc", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_requests")),
    )
    with op.batch_alter_table("privacy_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_privacy_requests_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index("ix_privacy_requests_status_due", ["status", "due_at"], unique=False)
    op.create_table(
        "privacy_datamap_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("created_at", trustdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_privacy_datamap_versions")),
    )
    op.create_table(
        "privacy_notice_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("datamap_version", sa.Integer(), nullable=False),
        sa.Column("created_at", trustdesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_privacy_notice_versions")),
    )


def downgrade() -> None:
    op.drop_table("privacy_notice_versions")
    op.drop_table("privacy_datamap_versions")
    with op.batch_alter_table("privacy_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_privacy_requests_status_due")
        batch_op.drop_index(batch_op.f("ix_privacy_requests_customer_id"))
    op.drop_table("privacy_requests")
