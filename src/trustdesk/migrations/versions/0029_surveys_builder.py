"""Survey builder: items belong to a version of their survey (a sent survey edited gets a new
version), may be asked only on an earlier answer (branching), and each response keeps the version
it answered.

Revision ID: 0029_surveys_builder
Revises: 0028_cases_counts
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029_surveys_builder"
down_revision: str | Sequence[str] | None = "0028_cases_counts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("survey_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("show_if", sa.Text(), nullable=True))
        batch_op.drop_constraint("uq_survey_items_survey_id_item_key", type_="unique")
        batch_op.create_unique_constraint(
            "uq_survey_items_survey_id_version_item_key", ["survey_id", "version", "item_key"]
        )
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_column("version")
    op.execute("DELETE FROM survey_items WHERE version > 1")
    with op.batch_alter_table("survey_items", schema=None) as batch_op:
        batch_op.drop_constraint("uq_survey_items_survey_id_version_item_key", type_="unique")
        batch_op.create_unique_constraint(
            "uq_survey_items_survey_id_item_key", ["survey_id", "item_key"]
        )
        batch_op.drop_column("show_if")
        batch_op.drop_column("version")
