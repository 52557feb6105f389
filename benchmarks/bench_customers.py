"""Customer import: encrypted, blind-indexed and audited rows/s, against plain inserts of the same rows.

Baseline: the same rows inserted as plaintext with one executemany into a table of the same shape,
in the same run, so the ratio shows what encryption, key management and auditing cost.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from pathlib import Path

from trustdesk import migrate
from trustdesk.config import Settings
from trustdesk.customers.importing import import_customer_records
from trustdesk.platform import Platform
from trustdesk.tabular import Row

QUICK = os.environ.get("TRUSTDESK_BENCH_QUICK") == "1"
N = 2_000 if QUICK else 20_000


def _rows() -> list[Row]:
    return [
        Row(
            i,
            {
                "external_id": f"bench-{i}",
                "name": f"Customer {i}",
                "email": f"c{i}@example.com",
                "phone": f"+1 555 {i:07d}",
                "segment": ("retail", "business", "vip")[i % 3],
                "jurisdiction": ("US-CA", "DE", "GB")[i % 3],
            },
        )
        for i in range(1, N + 1)
    ]


def main() -> None:
    rows = _rows()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        conn = sqlite3.connect(base / "plain.db")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            "CREATE TABLE c (id INTEGER PRIMARY KEY, external_id TEXT UNIQUE, name TEXT, email TEXT,"
            " phone TEXT, segment TEXT, jurisdiction TEXT)"
        )
        start = time.perf_counter()
        with conn:
            conn.executemany(
                "INSERT INTO c (external_id, name, email, phone, segment, jurisdiction)"
                " VALUES (:external_id, :name, :email, :phone, :segment, :jurisdiction)",
                [r.fields for r in rows],
            )
        plain = N / (time.perf_counter() - start)
        conn.close()

        platform = Platform.open(Settings(data_dir=base / "td", log_level="WARNING"))
        migrate.upgrade(platform.db)
        start = time.perf_counter()
        report = import_customer_records(platform.db, platform.vault, rows, actor="bench")
        secured = N / (time.perf_counter() - start)
        start = time.perf_counter()
        again = import_customer_records(platform.db, platform.vault, rows, actor="bench")
        rerun = N / (time.perf_counter() - start)
        platform.close()
    assert report.created == N and again.unchanged == N
    print(f"rows: {N}")
    print(f"baseline plaintext executemany: {plain:12,.0f} rows/s")
    print(
        f"encrypted + audited import:     {secured:12,.0f} rows/s  ({secured / plain:.3f} x baseline)"
    )
    print(
        f"idempotent re-import:           {rerun:12,.0f} rows/s  ({rerun / plain:.3f} x baseline)"
    )


if __name__ == "__main__":
    main()
