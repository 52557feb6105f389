"""Build the demo data shipped in the package from ../shared (run by developers, not users).

Customers are the real tweet authors of the airline data set: their public handle is the name,
the airline they wrote about is the segment. Emails are synthetic (<handle>@example.com, a domain
reserved for examples) so the blind-index lookup can be demonstrated; the data set has no emails.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "airline-tweets" / "tweets.csv"
OUT = ROOT / "src" / "trustdesk" / "data"
US_ZONES = {
    "Eastern Time (US & Canada)",
    "Central Time (US & Canada)",
    "Pacific Time (US & Canada)",
    "Mountain Time (US & Canada)",
    "Arizona",
    "Hawaii",
    "Alaska",
    "Atlantic Time (Canada)",
}


def slug(handle: str) -> str:
    # The data set rewrote "late" as "Late Flight" even inside handles, so some contain spaces.
    return re.sub(r"[^a-z0-9_]", "_", handle.lower())


def customer_id_for_handle(handle: str) -> str:
    """Same rule as trustdesk.feedback.demo.customer_id_for_handle (links tweets to customers)."""
    return f"tw-{slug(handle)}"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with SHARED.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    # The tweets themselves, compressed, byte-for-byte the shared copy.
    # mtime=0 keeps the archives byte-identical from one build to the next.
    (OUT / "airline_tweets.csv.gz").write_bytes(gzip.compress(SHARED.read_bytes(), 9, mtime=0))
    authors: dict[str, dict[str, str]] = {}
    segments: dict[str, set[str]] = {}
    for row in rows:
        handle = row["name"].strip()
        if not handle:
            continue
        segments.setdefault(handle, set()).add(row["airline"])
        if handle not in authors:
            zone = row["user_timezone"]
            authors[handle] = {
                "external_id": customer_id_for_handle(handle),
                "name": handle,
                "email": f"{slug(handle)}@example.com",
                "phone": "",
                "jurisdiction": "US" if zone in US_ZONES else "",
            }
    buffer = io.StringIO(newline="")
    columns = ["external_id", "name", "email", "phone", "segment", "jurisdiction"]
    writer = csv.DictWriter(buffer, columns)
    writer.writeheader()
    for handle, author in sorted(authors.items()):
        writer.writerow({**author, "segment": ";".join(sorted(segments[handle]))})
    data = buffer.getvalue().encode("utf-8")
    (OUT / "customers_sample.csv.gz").write_bytes(gzip.compress(data, 9, mtime=0))
    print(f"{len(rows)} tweets, {len(authors)} customers", file=sys.stderr)


if __name__ == "__main__":
    main()
