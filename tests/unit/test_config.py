from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from trustdesk.config import Settings


def test_environment_beats_the_toml_file_which_beats_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = tmp_path / "trustdesk.toml"
    toml.write_text('port = 9001\nlog_level = "DEBUG"\n')
    monkeypatch.setenv("TRUSTDESK_CONFIG_FILE", str(toml))
    monkeypatch.setenv("TRUSTDESK_PORT", "9002")
    s = Settings()
    assert s.port == 9002
    assert s.log_level == "DEBUG"
    assert s.host == "127.0.0.1"


def test_public_view_masks_secrets_and_database_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTDESK_MASTER_KEY", "c2VjcmV0")
    monkeypatch.setenv("TRUSTDESK_DATABASE_URL", "postgresql+psycopg://td:hunter2@db/trustdesk")
    view = Settings().public_view()
    text = repr(view)
    assert "hunter2" not in text and "c2VjcmV0" not in text
    assert view["master_key"] == "********"
    assert view["database_url"].startswith("postgresql+psycopg://td:***@db")


def test_production_refuses_a_weak_secret_key() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(environment="production", secret_key="short")


def test_default_sqlite_and_key_store_live_in_the_data_dir(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    assert s.effective_database_url == f"sqlite:///{tmp_path / 'trustdesk.db'}"
    assert s.effective_keystore_url == f"sqlite:///{tmp_path / 'keys.db'}"
    assert s.effective_master_key_file == tmp_path / "master.key"
