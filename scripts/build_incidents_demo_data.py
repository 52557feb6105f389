"""Build src/trustdesk/incidents/data/hhs_hacking_breaches.csv.gz from the HHS OCR breach portal
export in ../shared/data/breaches-hhs (US federal government data): the hacking incidents at a
business associate's network server (the processors that handle others' payments and claims),
a few columns, largest first. Run: python scripts/build_incidents_demo_data.py [SHARED_DIR]."""

from __future__ import annotations

import csv
import gzip
import io
import sys
from pathlib import Path

SOURCE = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data") / "breaches-hhs"
TARGET = Path(__file__).parent.parent / "src/trustdesk/incidents/data/hhs_hacking_breaches.csv.gz"
COLUMNS = {
    "Name of Covered Entity": "entity",
    "State": "state",
    "Covered Entity Type": "entity_type",
    "Individuals Affected": "individuals",
    "Breach Submission Date": "submitted",
    "Type of Breach": "breach_type",
    "Location of Breached Information": "location",
}


def main() -> None:
    with (SOURCE / "breach_report.csv").open(newline="", encoding="utf-8") as fh:
        rows = [
            {new: r[old].strip() for old, new in COLUMNS.items()}
            for r in csv.DictReader(fh)
            if r["Type of Breach"] == "Hacking/IT Incident"
            and "Network Server" in r["Location of Breached Information"]
            and r["Covered Entity Type"] == "Business Associate"
        ]
    rows.sort(key=lambda r: (-int(r["individuals"]), r["entity"]))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS.values()), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    TARGET.write_bytes(gzip.compress(buffer.getvalue().encode("utf-8"), mtime=0))
    print(f"{len(rows)} rows -> {TARGET} ({TARGET.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
