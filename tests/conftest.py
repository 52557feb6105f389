"""Shared fixtures: a fresh, migrated database per test on SQLite and (when configured) PostgreSQL.

Set TRUSTDESK_TEST_POSTGRES_URL (postgresql+psycopg://…) to also run every database test on
PostgreSQL; `.ci/run` starts a real server and sets it.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from trustdesk import migrate
from trustdesk.access.roles import Role
from trustdesk.app import create_app
from trustdesk.auth import service as auth_service
from trustdesk.config import Settings, get_settings
from trustdesk.db import Base, Database
from trustdesk.models import load_all_models
from trustdesk.platform import Platform

POSTGRES_URL = os.environ.get("TRUSTDESK_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file made once; each test gets its own copy."""
    path = tmp_path_factory.mktemp("template") / "trustdesk.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db)
    db.dispose()  # the last connection to close checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> Iterator[str | None]:
    """A private database on the configured server for this test run, dropped at the end.

    Private, so concurrent runs (developers, CI) against one server never see each other's rows.
    """
    if not POSTGRES_URL:
        yield None
        return
    server = make_url(POSTGRES_URL)
    name = f"trustdesk_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_postgres(url: str) -> None:
    load_all_models()
    engine = create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(
    backend: str, tmp_path: Path, sqlite_template: Path, postgres_migrated: str | None
) -> Settings:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if backend == "sqlite":
        shutil.copy(sqlite_template, data_dir / "trustdesk.db")
        url = None
    else:
        assert postgres_migrated
        _truncate_postgres(postgres_migrated)
        url = postgres_migrated
    return Settings(
        data_dir=data_dir,
        database_url=url,
        cookie_secure=False,
        environment="test",
        log_level="WARNING",
    )


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    p = Platform.open(settings)
    yield p
    p.close()


@pytest.fixture
def app(platform: Platform) -> Any:
    return create_app(platform=platform)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def token_for(platform: Platform) -> Callable[[Role | str], str]:
    """Makes an API token with the given role and returns its plaintext."""

    def make(role: Role | str) -> str:
        with platform.db.transaction() as session:
            return auth_service.create_token(
                session, name=f"test-{role}", role=role, actor="test"
            ).token

    return make


@pytest.fixture
def api(client: TestClient, token_for: Callable[[Role | str], str]) -> TestClient:
    """The test client authenticated as an admin token."""
    client.headers["Authorization"] = f"Bearer {token_for(Role.ADMIN)}"
    return client


class Cli:
    """Runs the real `trustdesk` command line against the test's database."""

    def __init__(self, settings: Settings) -> None:
        self.env = {
            "TRUSTDESK_DATA_DIR": str(settings.data_dir),
            "TRUSTDESK_LOG_LEVEL": "WARNING",
        }
        if settings.database_url:
            self.env["TRUSTDESK_DATABASE_URL"] = settings.database_url
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None) -> Any:
        from trustdesk.cli import app
        from trustdesk.console import close_platform

        get_settings.cache_clear()
        saved = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)
        try:
            return self.runner.invoke(app, list(args), input=input, catch_exceptions=False)
        finally:
            close_platform()
            get_settings.cache_clear()
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


@pytest.fixture
def cli(settings: Settings) -> Cli:
    return Cli(settings)


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    """A real local SMTP server (aiosmtpd) that counts deliveries per recipient: see
    tests/smtp_server.py."""
    from tests.smtp_server import SmtpServer

    server = SmtpServer().start()
    yield server
    server.stop()
