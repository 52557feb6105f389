"""`trustdesk db backup`: a consistent copy without keys; an erasure reaches earlier backups too."""

from __future__ import annotations

import sqlite3

import pytest

CSV = "external_id,name,email,phone,segment,jurisdiction\nc1,Ada Lovelace,ada@example.com,,retail,GB\n"


def test_backup_is_a_consistent_copy_without_the_keys(cli, settings, backend, tmp_path):
    source = tmp_path / "c.csv"
    source.write_text(CSV)
    cli("customers", "import", str(source))
    target = tmp_path / "backup.db"
    result = cli("db", "backup", str(target))
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0
    if backend == "sqlite":
        with sqlite3.connect(target) as conn:
            assert conn.execute("SELECT count(*) FROM customers").fetchone() == (1,)
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        assert "data_keys" not in tables
    assert b"ada@example.com" not in target.read_bytes()
    assert cli("db", "backup", str(target)).exit_code == 2  # never overwrites


def test_erasure_after_a_backup_leaves_it_unreadable(cli, settings, backend, tmp_path):
    if backend != "sqlite":
        pytest.skip("restores the SQLite file")
    source = tmp_path / "c.csv"
    source.write_text(CSV)
    cli("customers", "import", str(source))
    backup = tmp_path / "before-erasure.db"
    cli("db", "backup", str(backup))
    assert cli("customers", "forget", "c1", "--yes").exit_code == 0
    # Restore the old backup in place of the live database: the key is gone, so is the data.
    live = settings.data_dir / "trustdesk.db"
    for suffix in ("-wal", "-shm"):
        live.with_name(live.name + suffix).unlink(missing_ok=True)
    live.write_bytes(backup.read_bytes())
    shown = cli("customers", "show", "c1", "--json")
    assert '"personal_data": "erased"' in shown.stdout
    assert "ada@example.com" not in shown.stdout
