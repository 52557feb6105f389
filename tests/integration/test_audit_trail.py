"""The audit trail is written with every change and tampering is found by `trustdesk audit verify`."""

from __future__ import annotations

import json
import sqlite3

import pytest
from sqlalchemy import text

from trustdesk import audit


def _import_two(cli, tmp_path):
    f = tmp_path / "c.csv"
    f.write_text(
        "external_id,name,email,phone,segment,jurisdiction\n"
        "c1,Ada Lovelace,ada@example.com,+44 20 7946 0000,retail,GB\n"
        "c2,Alan Turing,alan@example.com,,retail,GB\n"
        "c3,Grace Hopper,grace@example.com,,business,US-NY\n"
    )
    assert cli("customers", "import", str(f)).exit_code == 0


def test_verify_passes_on_a_fresh_database(cli):
    result = cli("audit", "verify")
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_every_change_leaves_an_entry_without_personal_data(cli, platform, tmp_path):
    _import_two(cli, tmp_path)
    with platform.db.reading() as session:
        rows = audit.entries(session, entity_type="customer")
    assert [r.action for r in rows] == ["customer.created"] * 3
    assert all("example.com" not in r.diff and "Lovelace" not in r.diff for r in rows)
    assert all(r.actor.startswith("cli:") for r in rows)


def test_editing_an_entry_with_sqlite3_is_named_by_verify(
    cli, platform, settings, backend, tmp_path
):
    if backend != "sqlite":
        pytest.skip("edits the SQLite file directly")
    _import_two(cli, tmp_path)
    platform.db.dispose()
    with sqlite3.connect(settings.data_dir / "trustdesk.db") as conn:
        conn.execute("UPDATE audit_log SET actor = 'someone-else' WHERE id = 2")
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "entry 2" in result.output and "altered" in result.output


@pytest.mark.parametrize(
    ("statement", "broken", "reason"),
    [
        ("DELETE FROM audit_log WHERE id = 2", 3, "removed"),
        ("DELETE FROM audit_log WHERE id = 3", 3, "missing"),
        ("UPDATE audit_log SET diff = '{}' WHERE id = 1", 1, "altered"),
    ],
)
def test_removed_or_altered_entries_break_the_chain(
    cli, platform, tmp_path, statement, broken, reason
):
    _import_two(cli, tmp_path)
    with platform.db.engine.begin() as conn:
        conn.execute(text(statement))
    result = cli("audit", "verify", "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["broken_id"] == broken
    assert reason in report["reason"]


def test_api_exposes_the_trail_read_only(api, cli, tmp_path):
    _import_two(cli, tmp_path)
    page = api.get("/api/v1/audit", params={"limit": 2}).json()
    assert len(page["items"]) == 2 and page["next_cursor"] == page["items"][-1]["id"]
    assert api.get("/api/v1/audit/verify").json()["ok"] is True
    assert api.delete("/api/v1/audit").status_code == 405
