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


def upgrade(db: Database, revision: str = "heads") -> None:
    """Apply migrations; "heads" also copes with capability branches that are not merged yet."""
    cfg = _config()
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def current_revision(db: Database) -> str | None:
    """The applied revision(s), "+"-joined when more than one branch is applied."""
    with db.read_engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return "+".join(sorted(heads)) or None


def head_revision() -> str | None:
    """The revision(s) this code expects, in the same form as `current_revision`."""
    return "+".join(sorted(ScriptDirectory.from_config(_config()).get_heads())) or None


def revision(db: Database, message: str) -> None:
    """Developer helper: autogenerate a migration from the models (`trustdesk db revision`)."""
    cfg = _config()
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.revision(cfg, message=message, autogenerate=True)
