"""Migrations produce exactly the ORM schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from trustdesk import migrate
from trustdesk.db import Base
from trustdesk.models import load_all_models


def test_migrated_schema_has_no_drift_from_the_models(platform):
    load_all_models()
    with platform.db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_database_is_at_the_head_revision(platform):
    assert migrate.current_revision(platform.db) == migrate.head_revision()


def test_commands_refuse_an_unmigrated_database(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from trustdesk.cli import app
    from trustdesk.config import get_settings
    from trustdesk.console import close_platform

    monkeypatch.setenv("TRUSTDESK_DATA_DIR", str(tmp_path / "empty"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["customers", "list"])
        assert result.exit_code == 8
        assert "trustdesk db upgrade" in result.output
        upgraded = CliRunner().invoke(app, ["db", "upgrade"])
        assert upgraded.exit_code == 0
        close_platform()
        assert CliRunner().invoke(app, ["customers", "list"]).exit_code == 0
    finally:
        close_platform()
        get_settings.cache_clear()
