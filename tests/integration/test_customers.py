"""Customers through the real CLI and API: import, idempotency, bad rows, lookup, crypto-shredding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trustdesk.customers import service
from trustdesk.customers.importing import import_customer_records
from trustdesk.tabular import Row

HEADER = "external_id,name,email,phone,segment,jurisdiction\n"
GOOD = (
    "c1,Ada Lovelace,ada@example.com,+44 20 7946 0000,retail,GB\n"
    "c2,Alan Turing,alan@example.com,,retail;vip,GB\n"
    "c3,Grace Hopper,grace@example.com,,business,US-NY\n"
)


def _write(tmp_path: Path, body: str, name: str = "customers.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_import_stores_customers_and_rerun_changes_nothing(cli, platform, tmp_path):
    path = _write(tmp_path, GOOD)
    first = cli("customers", "import", str(path), "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["created"] == 3
    second = cli("customers", "import", str(path), "--json")
    report = json.loads(second.stdout)
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 3)
    with platform.db.reading() as session:
        ada = service.get_customer(session, platform.vault, "c1", reveal=True)
        alan = service.get_customer(session, platform.vault, "c2", reveal=True)
    assert ada.email == "ada@example.com" and ada.jurisdiction == "GB"
    assert alan.segments == ["retail", "vip"]


def test_changed_row_updates_the_customer(cli, platform, tmp_path):
    cli("customers", "import", str(_write(tmp_path, GOOD)))
    changed = _write(tmp_path, "c1,Ada King,ada@example.com,,retail,GB\n", "changed.csv")
    report = json.loads(cli("customers", "import", str(changed), "--json").stdout)
    assert report["updated"] == 1
    with platform.db.reading() as session:
        assert service.get_customer(session, platform.vault, "c1", reveal=True).name == "Ada King"


def test_bad_rows_are_reported_by_number_and_good_rows_stored(cli, platform, tmp_path):
    body = (
        "c1,Ada,ada@example.com,,retail,GB\n"
        ",No Id,x@example.com,,retail,GB\n"
        "c3,Bad Mail,not-an-email,,retail,GB\n"
        "c4,Bad Place,d@example.com,,retail,Germany\n"
        "c1,Duplicate,e@example.com,,retail,GB\n"
        "c6,Fine,f@example.com,,retail,US-CA\n"
    )
    result = cli("customers", "import", str(_write(tmp_path, body)))
    assert result.exit_code == 2
    for row, words in [(2, "external_id"), (3, "email"), (4, "jurisdiction"), (5, "duplicate")]:
        assert f"row {row}: " in result.stderr and words in result.stderr
    with platform.db.reading() as session:
        items, _ = service.list_customers(session, platform.vault, reveal=False)
    assert sorted(c.external_id for c in items) == ["c1", "c6"]


def test_missing_required_column_fails_before_storing_anything(cli, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,name\n1,Ada\n")
    result = cli("customers", "import", str(path))
    assert result.exit_code == 2
    assert "missing column" in result.stderr and "external_id" in result.stderr


def test_jsonl_import_and_broken_utf8_is_a_row_error(cli, platform, tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(
        b'{"external_id": "j1", "name": "Ada", "email": "ada@example.com", "segments": ["retail"]}\n'
        b'{"external_id": "j2", "name": "Bad \xff\xfe", "email": "b@example.com"}\n'
        b"not json\n"
    )
    result = cli("customers", "import", str(path))
    assert result.exit_code == 2
    assert "row 2: " in result.stderr and "UTF-8" in result.stderr
    assert "row 3: " in result.stderr and "JSON" in result.stderr
    with platform.db.reading() as session:
        assert service.get_customer(session, platform.vault, "j1", reveal=True).segments == [
            "retail"
        ]


def test_rows_reported_stored_survive_a_crash_mid_import(platform):
    rows = [Row(i, {"external_id": f"k{i}", "email": f"k{i}@example.com"}) for i in range(1, 26)]
    stored_before_crash: list[int] = []

    def crash_after_first_batch(report) -> None:
        stored_before_crash.append(report.stored)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_customer_records(
            platform.db,
            platform.vault,
            rows,
            actor="test",
            batch_size=10,
            on_batch=crash_after_first_batch,
        )
    with platform.db.reading() as session:
        items, _ = service.list_customers(session, platform.vault, reveal=False, limit=100)
    assert stored_before_crash == [10]
    assert len(items) == 10


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ids=st.lists(
        st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True), min_size=1, max_size=8, unique=True
    ),
    repeats=st.integers(min_value=2, max_value=3),
)
def test_importing_the_same_records_again_is_idempotent(platform, ids, repeats):
    rows = [
        Row(i, {"external_id": f"h-{x}", "name": x, "segment": "s"}) for i, x in enumerate(ids, 1)
    ]
    reports = [
        import_customer_records(platform.db, platform.vault, rows, actor="test")
        for _ in range(repeats)
    ]
    assert all(r.created == 0 and r.updated == 0 for r in reports[1:])
    assert all(r.unchanged == len(ids) for r in reports[1:])


def test_lookup_by_email_uses_the_blind_index(cli, tmp_path):
    cli("customers", "import", str(_write(tmp_path, GOOD)))
    found = cli("customers", "lookup", "--email", "GRACE@example.com", "--json")
    assert found.exit_code == 0
    assert [c["external_id"] for c in json.loads(found.stdout)] == ["c3"]
    assert cli("customers", "lookup", "--email", "nobody@example.com").exit_code == 3


def test_destroyed_key_leaves_no_plaintext_and_no_lookup(
    cli, platform, settings, backend, tmp_path
):
    cli("customers", "import", str(_write(tmp_path, GOOD)))
    assert cli("customers", "forget", "c1", "--yes").exit_code == 0
    assert cli("customers", "lookup", "--email", "ada@example.com").exit_code == 3
    shown = json.loads(cli("customers", "show", "c1", "--json").stdout)
    assert shown["personal_data"] == "erased" and shown["email"] is None
    assert cli("customers", "forget", "c1", "--yes").exit_code == 4
    rerun = cli("customers", "import", str(_write(tmp_path, GOOD, "again.csv")))
    assert rerun.exit_code == 2 and "erased" in rerun.stderr
    if backend == "sqlite":
        platform.close()
        for path in settings.data_dir.iterdir():
            data = path.read_bytes()
            assert b"ada@example.com" not in data and b"Lovelace" not in data, path.name


def test_personal_data_is_never_stored_in_plaintext(cli, settings, backend, platform, tmp_path):
    if backend != "sqlite":
        pytest.skip("reads the SQLite file")
    cli("customers", "import", str(_write(tmp_path, GOOD)))
    platform.close()
    data = (settings.data_dir / "trustdesk.db").read_bytes()
    wal = settings.data_dir / "trustdesk.db-wal"
    data += wal.read_bytes() if wal.exists() else b""
    for secret in (b"ada@example.com", b"Lovelace", b"7946", b"Hopper"):
        assert secret not in data
