"""join the privacy-requests and fraud branches into one head

Revision ID: 0009_merge_privacy_fraud
Revises: 0007_privacy_requests, 0008_fraud
Create Date: 2026-11-23
"""

from collections.abc import Sequence

revision: str = "0009_merge_privacy_fraud"
down_revision: str | Sequence[str] | None = ("0007_privacy_requests", "0008_fraud")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: the two branches touch different tables."""


def downgrade() -> None:
    """Nothing to undo."""
