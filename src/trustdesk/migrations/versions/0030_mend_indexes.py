"""Indexes for the trust signals' windowed reads (`read_between`, e.g. an incident's recovery
window): the time of a case's timeline event and of a survey response, which the window reads
filtered on without an index (every row was read to keep those of a few days).

Revision ID: 0030_mend_indexes
Revises: 0029_surveys_builder
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0030_mend_indexes"
down_revision: str | Sequence[str] | None = "0029_surveys_builder"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.create_index("ix_case_events_at", ["at"], unique=False)
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.create_index("ix_survey_responses_submitted_at", ["submitted_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_responses_submitted_at")
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_index("ix_case_events_at")
