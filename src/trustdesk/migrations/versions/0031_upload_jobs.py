"""upload jobs: files uploaded on web pages, imported by queued jobs, with progress and sealed
rejected rows

Revision ID: 0031_upload_jobs
Revises: 0030_mend_indexes
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from trustdesk.db import UTCDateTime

revision: str = "0031_upload_jobs"
down_revision: str | Sequence[str] | None = "0030_mend_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "upload_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("estimate", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("resume_after", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("analysed", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("slices", sa.Integer(), nullable=False),
        sa.Column("interrupted", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=120), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upload_jobs")),
        sa.UniqueConstraint("public_id", name=op.f("uq_upload_jobs_public_id")),
    )
    with op.batch_alter_table("upload_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_upload_jobs_owner_kind", ["owner", "kind", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_upload_jobs_state"), ["state"], unique=False)
    op.create_table(
        "upload_rejects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("upload_id", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["upload_id"],
            ["upload_jobs.id"],
            name=op.f("fk_upload_rejects_upload_id_upload_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upload_rejects")),
    )
    with op.batch_alter_table("upload_rejects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_upload_rejects_upload_id"), ["upload_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("upload_rejects")
    op.drop_table("upload_jobs")
