"""Alembic environment: runs against the URL handed over by `trustdesk.migrate`."""

from __future__ import annotations

from alembic import context

from trustdesk.db import Base
from trustdesk.models import load_all_models

load_all_models()
config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
