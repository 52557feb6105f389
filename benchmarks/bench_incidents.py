"""Incidents: a forensic list of 1,000,000 affected customers resolved, stored and evaluated
against every breach law (target: <= 30 s on a 2-core machine), against a straightforward
row-by-row ORM import (look the customer up, add the row, flush) measured in the same run on a
sample and given as rows/s.

`TRUSTDESK_BENCH_QUICK=1` runs 50,000 rows. SQLite (the default database).
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from trustdesk import migrate
from trustdesk.config import Settings
from trustdesk.customers.models import Customer
from trustdesk.customers.public import jurisdiction
from trustdesk.incidents.affected.importing import import_affected_file
from trustdesk.incidents.categories import mask_of
from trustdesk.incidents.models import AffectedRecord, Incident
from trustdesk.incidents.obligations.rules import shipped_rules
from trustdesk.incidents.obligations.service import obligations
from trustdesk.platform import Platform

QUICK = os.environ.get("TRUSTDESK_BENCH_QUICK") == "1"
N = 50_000 if QUICK else 1_000_000
BASELINE_N = 2_000 if QUICK else 10_000
PLACES = ["DE", "FR", "GB", "US-CA", "US-FL", "US-TX", "US-NY", "CA-ON", "AU", "BR", "SG", "IT"]
SETS = ["name;government_id", "name;financial_account", "name;email", "account_credentials"]
AT = datetime(2026, 1, 1, tzinfo=UTC)


def _customers(platform: Platform) -> None:
    with platform.db.transaction() as session:
        rows = [
            {
                "id": i,
                "external_id": f"c{i}",
                "subject_id": str(uuid.UUID(int=i)),
                "jurisdiction": PLACES[i % len(PLACES)],
                "created_at": AT,
                "updated_at": AT,
            }
            for i in range(1, N + BASELINE_N + 1)
        ]
        for start in range(0, len(rows), 50_000):
            session.execute(insert(Customer), rows[start : start + 50_000])


def _incident(platform: Platform) -> int:
    with platform.db.transaction() as session:
        incident = Incident(title="bench", aware_at=AT)
        session.add(incident)
        session.flush()
        return incident.id


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        platform = Platform.open(Settings(data_dir=base / "td", log_level="WARNING"))
        migrate.upgrade(platform.db)
        _customers(platform)
        forensic = base / "affected.csv"
        with forensic.open("w") as fh:
            fh.write("external_id,data_categories\n")
            fh.writelines(f"c{i},{SETS[i % len(SETS)]}\n" for i in range(1, N + 1))
        rules = shipped_rules()

        # Baseline: row by row through the ORM, on customers the big import does not touch.
        baseline_id = _incident(platform)
        start = time.perf_counter()
        with platform.db.transaction() as session:
            for i in range(N + 1, N + BASELINE_N + 1):
                place = jurisdiction(session, f"c{i}")
                assert place is not None
                record = session.get(AffectedRecord, (baseline_id, place.id))
                if record is None:
                    session.add(
                        AffectedRecord(
                            incident_id=baseline_id,
                            customer_id=place.id,
                            jurisdiction=place.jurisdiction,
                            categories=mask_of(SETS[i % len(SETS)].split(";")),
                            source="import",
                        )
                    )
                    session.flush()
        baseline_rate = BASELINE_N / (time.perf_counter() - start)

        incident_id = _incident(platform)
        start = time.perf_counter()
        with platform.db.transaction() as session:
            report = import_affected_file(
                session, platform.vault, incident_id, forensic, actor="bench"
            )
        imported = time.perf_counter() - start
        start = time.perf_counter()
        with platform.db.reading() as session:
            found = obligations(session, incident_id, rules)
        evaluated = time.perf_counter() - start
        start = time.perf_counter()
        with platform.db.transaction() as session:
            again = import_affected_file(
                session, platform.vault, incident_id, forensic, actor="bench"
            )
        rerun = time.perf_counter() - start
        platform.close()
    assert report.added == N and not report.rejected and again.unchanged == N
    total = imported + evaluated
    rate = N / total
    print(f"affected rows: {N:,} (SQLite)")
    print(f"baseline row-by-row ORM:        {baseline_rate:12,.0f} rows/s (on {BASELINE_N:,} rows)")
    print(f"set-based import (resolve+store): {imported:8.2f} s")
    print(f"obligations evaluated:          {evaluated:8.2f} s  ({len(found)} obligations)")
    print(
        f"import + evaluate:              {total:8.2f} s  {rate:12,.0f} rows/s "
        f"({rate / baseline_rate:.1f} x baseline; target <= 30 s for 1,000,000)"
    )
    print(f"idempotent re-import:           {rerun:8.2f} s")


if __name__ == "__main__":
    main()
