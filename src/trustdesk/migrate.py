"""Apply and inspect Alembic migrations of the main database."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from trustdesk.db import Database

__all__ = ["current_revision", "head_revision", "upgrade"]


def _config() -> Config:
    cfg = Config(str(files("trustdesk.migrations") / "alembic.ini"))
    cfg.set_main_option("script_location", str(files("trustdesk.migrations")))
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    cfg = _config()
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def current_revision(db: Database) -> str | None:
    with db.read_engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def revision(db: Database, message: str) -> None:
    """Developer helper: autogenerate a migration from the models (`trustdesk db revision`)."""
    cfg = _config()
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.revision(cfg, message=message, autogenerate=True)
