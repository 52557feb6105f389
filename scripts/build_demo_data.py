"""Build the demo data shipped in the package from ../shared (run by developers, not users).

Customers are the real tweet authors of the airline data set: their public handle is the name, the
airline they wrote about is the segment. Emails are synthetic (<handle>@example.com, a domain reserved
for examples) so the blind-index lookup can be demonstrated; the data set has no emails.
"""

from __future__ import annotations

import csv
import gzip
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


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with SHARED.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    # The tweets themselves, compressed, byte-for-byte the shared copy.
    with gzip.open(OUT / "airline_tweets.csv.gz", "wb", compresslevel=9) as gz:
        gz.write(SHARED.read_bytes())
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
                "external_id": f"tw-{handle.lower()}",
                "name": handle,
                "email": f"{handle.lower()}@example.com",
                "phone": "",
                "jurisdiction": "US" if zone in US_ZONES else "",
            }
    with gzip.open(OUT / "customers_sample.csv.gz", "wt", newline="", encoding="utf-8") as gz:
        writer = csv.DictWriter(
            gz, ["external_id", "name", "email", "phone", "segment", "jurisdiction"]
        )
        writer.writeheader()
        for handle, author in sorted(authors.items()):
            writer.writerow({**author, "segment": ";".join(sorted(segments[handle]))})
    print(f"{len(rows)} tweets, {len(authors)} customers", file=sys.stderr)


if __name__ == "__main__":
    main()
