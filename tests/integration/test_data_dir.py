"""One data directory whatever the working directory: the user's data dir unless
TRUSTDESK_DATA_DIR says otherwise; a command that needs a database that is not there says what to
run, and leaves no empty data directory behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trustdesk.config import Settings, get_settings
from trustdesk.console import close_platform


@pytest.fixture
def user_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh user data home (XDG_DATA_HOME) with TRUSTDESK_DATA_DIR unset; returns where the
    default data directory is."""
    monkeypatch.delenv("TRUSTDESK_DATA_DIR", raising=False)
    monkeypatch.delenv("TRUSTDESK_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    get_settings.cache_clear()
    yield tmp_path / "xdg" / "trustdesk"
    close_platform()
    get_settings.cache_clear()


def _run(*args: str) -> object:
    from trustdesk.cli import app

    try:
        return CliRunner().invoke(app, list(args), catch_exceptions=False)
    finally:
        close_platform()
        get_settings.cache_clear()


def test_the_default_data_dir_is_the_same_from_any_working_directory(
    user_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = []
    for folder in ("a", "b/c"):
        (tmp_path / folder).mkdir(parents=True)
        monkeypatch.chdir(tmp_path / folder)
        seen.append(Settings().data_dir)
    assert seen == [user_data, user_data]
    monkeypatch.setenv("TRUSTDESK_DATA_DIR", str(tmp_path / "mine"))
    assert Settings().data_dir == tmp_path / "mine"


def test_a_command_without_a_database_says_what_to_run_and_creates_nothing(
    user_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = _run("customers", "list")
    assert result.exit_code == 8  # configuration
    assert f"no database at {user_data / 'trustdesk.db'}" in result.output
    assert "trustdesk demo" in result.output and "trustdesk db upgrade" in result.output
    assert "revision" not in result.output
    assert list(elsewhere.iterdir()) == []  # no .trustdesk/ here
    assert not user_data.exists()  # and no empty data dir there either
    current = _run("db", "current")
    assert current.exit_code == 1 and "no database at" in current.output
    assert not user_data.exists()


def test_after_db_upgrade_every_folder_sees_the_same_database(
    user_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    monkeypatch.chdir(tmp_path / "one")
    assert _run("db", "upgrade").exit_code == 0
    assert (user_data / "trustdesk.db").is_file()
    monkeypatch.chdir(tmp_path / "two")
    assert _run("customers", "list").exit_code == 0
    assert list((tmp_path / "two").iterdir()) == []


def test_an_empty_database_file_is_reported_as_no_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "trustdesk.db").touch()
    monkeypatch.setenv("TRUSTDESK_DATA_DIR", str(data))
    get_settings.cache_clear()
    result = _run("tokens", "list")
    assert result.exit_code == 8
    assert "no database at sqlite:///" in result.output and "trustdesk demo" in result.output


def test_a_database_left_in_the_old_default_place_is_pointed_at(
    user_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".trustdesk").mkdir()
    (tmp_path / ".trustdesk" / "trustdesk.db").touch()
    result = _run("customers", "list")
    assert result.exit_code == 8
    assert "TRUSTDESK_DATA_DIR" in result.output and str(tmp_path / ".trustdesk") in result.output
