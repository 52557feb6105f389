"""Build src/trustdesk/cases/data/cfpb_complaints.csv.gz: the demo's complaint cases.

The first 300 complaints with a narrative from the shared CFPB Consumer Complaint Database sample
(../shared/data/cfpb-complaints/complaints_sample.csv), columns complaint_id, received, product,
issue, narrative (whitespace collapsed, at most 3,000 characters). Usage:
`python scripts/build_cases_demo_data.py [PATH_TO_complaints_sample.csv]`.
"""

from __future__ import annotations

import csv
import gzip
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "shared/data/cfpb-complaints/complaints_sample.csv"
TARGET = Path(__file__).resolve().parents[1] / "src/trustdesk/cases/data/cfpb_complaints.csv.gz"
ROWS = 300


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE
    with source.open(encoding="utf-8", newline="") as fh:
        kept = []
        for row in csv.DictReader(fh):
            narrative = " ".join(row["Consumer complaint narrative"].split())
            if narrative:
                kept.append(
                    {
                        "complaint_id": row["Complaint ID"],
                        "received": row["Date received"],
                        "product": row["Product"],
                        "issue": row["Issue"],
                        "narrative": narrative[:3000],
                    }
                )
            if len(kept) == ROWS:
                break
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(TARGET, "wt", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(kept[0]))
        writer.writeheader()
        writer.writerows(kept)
    print(f"{len(kept)} complaints -> {TARGET}")


if __name__ == "__main__":
    main()
