"""Apply and inspect Alembic migrations of the main database.

Every command checks the schema before it runs, so that check reads the version table with plain
SQL and the expected heads from the migration files' `revision`/`down_revision` lines: Alembic
itself (most of a second to import) is loaded only to migrate.
"""

from __future__ import annotations

import ast
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text

from trustdesk.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["current_revision", "head_revision", "upgrade"]


_VERSION_TABLE = "alembic_version"  # Alembic's default; env.py keeps it


def _config() -> Config:
    from alembic.config import Config

    cfg = Config(str(files("trustdesk.migrations") / "alembic.ini"))
    cfg.set_main_option("script_location", str(files("trustdesk.migrations")))
    return cfg


def upgrade(db: Database, revision: str = "heads") -> None:
    """Apply migrations; "heads" also copes with capability branches that are not merged yet."""
    from alembic import command

    cfg = _config()
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def current_revision(db: Database) -> str | None:
    """The applied revision(s), "+"-joined when more than one branch is applied."""
    with db.read_engine.connect() as connection:
        if not inspect(connection).has_table(_VERSION_TABLE):
            return None
        heads = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
        return "+".join(sorted(heads)) or None


def head_revision() -> str | None:
    """The revision(s) this code expects, in the same form as `current_revision`: those no
    other migration names as its `down_revision` (a test checks this agrees with Alembic)."""
    return "+".join(sorted(_heads())) or None


@cache
def _heads() -> frozenset[str]:
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (files("trustdesk.migrations") / "versions").iterdir():
        if not script.name.endswith(".py") or script.name.startswith("_"):
            continue
        found = _module_constants(script.read_text(encoding="utf-8"))
        revision = found.get("revision")
        if not isinstance(revision, str):
            continue
        revisions.add(revision)
        down = found.get("down_revision")
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):
            parents.update(str(d) for d in down)
    return frozenset(revisions - parents)


def _module_constants(source: str) -> dict[str, object]:
    """`revision` and `down_revision` as a migration file assigns them (plain or annotated)."""
    found: dict[str, object] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, value = node.target.id, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            name, value = (target.id if isinstance(target, ast.Name) else ""), node.value
        else:
            continue
        if name in {"revision", "down_revision"} and value is not None:
            found[name] = ast.literal_eval(value)
    return found


def revision(db: Database, message: str) -> None:
    """Developer helper: autogenerate a migration from the models (`trustdesk db revision`)."""
    from alembic import command

    cfg = _config()
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.revision(cfg, message=message, autogenerate=True)
