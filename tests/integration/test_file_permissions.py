"""Files holding keys or personal data are owner-only (0600, the data directory 0700) even with the
usual umask 022, which would otherwise leave them readable by every local account."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from trustdesk import migrate
from trustdesk.config import Settings
from trustdesk.customers import service as customer_service
from trustdesk.customers.schemas import CustomerIn
from trustdesk.platform import Platform

CSV = "external_id,name,email,phone,segment,jurisdiction\nada,Ada Lovelace,ada@example.com,,,GB\n"


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def open_fresh(data_dir: Path) -> Platform:
    platform = Platform.open(Settings(data_dir=data_dir, environment="test", log_level="WARNING"))
    migrate.upgrade(platform.db)
    with platform.db.transaction() as session:
        records = [CustomerIn(external_id="ada", name="Ada Lovelace", email="ada@example.com")]
        customer_service.upsert_customers(session, platform.vault, records, actor="test")
    return platform


def test_a_new_installation_is_owner_only(umask_022, tmp_path):
    data_dir = tmp_path / "fresh"
    platform = open_fresh(data_dir)
    try:
        with platform.db.reading() as session:  # keeps the write-ahead log files in place
            session.connection()
            files = {p.name: mode(p) for p in data_dir.iterdir()}
    finally:
        platform.close()
    assert mode(data_dir) == 0o700
    assert {"trustdesk.db", "trustdesk.db-wal", "trustdesk.db-shm", "keys.db", "master.key"} <= set(
        files
    )
    assert files == dict.fromkeys(files, 0o600)


def test_files_left_readable_by_an_older_version_are_tightened_on_open(umask_022, tmp_path):
    data_dir = tmp_path / "old"
    open_fresh(data_dir).close()
    for name in ("trustdesk.db", "keys.db"):
        (data_dir / name).chmod(0o644)
    Platform.open(Settings(data_dir=data_dir, environment="test")).close()
    assert mode(data_dir / "trustdesk.db") == 0o600
    assert mode(data_dir / "keys.db") == 0o600


def test_an_existing_data_directory_chosen_by_the_operator_is_left_alone(umask_022, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    open_fresh(shared).close()
    assert mode(shared) == 0o755
    assert mode(shared / "trustdesk.db") == 0o600


def test_backups_are_owner_only(umask_022, cli, tmp_path):
    source = tmp_path / "c.csv"
    source.write_text(CSV)
    assert cli("customers", "import", str(source)).exit_code == 0
    target = tmp_path / "backups" / "backup.db"
    result = cli("db", "backup", str(target))
    assert result.exit_code == 0, result.output
    assert mode(target) == 0o600
    assert target.stat().st_size > 0


def test_access_exports_and_consent_proofs_are_owner_only(umask_022, cli, tmp_path):
    source = tmp_path / "c.csv"
    source.write_text(CSV)
    assert cli("customers", "import", str(source)).exit_code == 0
    export = tmp_path / "ada.zip"
    export.write_bytes(b"")  # an existing, world-readable file is replaced owner-only
    export.chmod(0o644)
    result = cli("privacy", "export", "--customer", "ada", "--output", str(export))
    assert result.exit_code == 0, result.output
    assert mode(export) == 0o600 and export.stat().st_size > 0
    proof = tmp_path / "proof.json"
    assert cli("consent", "proof", "--customer", "ada", "--output", str(proof)).exit_code == 0
    assert mode(proof) == 0o600


def test_rejects_files_are_owner_only(umask_022, cli, tmp_path):
    source = tmp_path / "fb.csv"
    source.write_text("id,text,at\nf1,fine,2024-01-01T00:00:00Z\nf2,,2024-01-01T00:00:00Z\n")
    rejects = tmp_path / "fb.csv.rejects.csv"
    rejects.write_text("")  # an existing, world-readable file is replaced owner-only
    rejects.chmod(0o644)
    result = cli(
        "feedback",
        "import",
        str(source),
        "--source",
        "survey",
        "--id-column",
        "id",
        "--text-column",
        "text",
        "--time-column",
        "at",
    )
    assert result.exit_code == 2, result.output
    assert mode(rejects) == 0o600
    assert "f2" in rejects.read_text()
