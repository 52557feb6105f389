"""Trust surveys: 100,000 responses imported and reflected in the trust index, and the response
page under 100 submissions/s.

* Import + index: a CSV of RESPONSES customer responses (12 trust items, NPS, CSAT; no open text)
  through the same path as `trustdesk surveys responses import` (read, check every answer against
  its scale, look up customers, one set-based insert per 2,000 rows, audit), then the
  incremental trust update the `trust.recompute` job runs (an index already built from an
  earlier wave; only the statistics the new answers touch change). Target: <= 30 s together. A
  full recompute is timed after it for comparison. Baseline in the same run: a naive import (one
  ORM object and one flush per row) on BASELINE rows, as rows/s.
* Response page: a real `trustdesk serve` (uvicorn, one process, SQLite); POST /s/{token}
  submissions paced at 100/s (open loop: each request starts on its schedule, latency counts from
  then) by 8 clients. Target p99 <= 50 ms. Baseline: GET /healthz paced the same way. Printed
  with the load average and the group-commit writer's transactions per submission (scraped from
  the server's /metrics).

    python benchmarks/bench_surveys.py [--quick] [--page-only] [--submissions N]

`--quick` (TRUSTDESK_BENCH_QUICK=1): 20,000 responses, 500 submissions. `--page-only`: the
response page alone (customers seeded as for the import, no import or index).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import secrets
import sqlite3
import sys
import tempfile
import time
import uuid
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
from _server import FORM, paced, pct, request, serve
from sqlalchemy import insert

from trustdesk import migrate
from trustdesk.access.roles import Role
from trustdesk.auth import service as auth_service
from trustdesk.config import Settings
from trustdesk.customers.models import Customer, CustomerSegment
from trustdesk.platform import Platform
from trustdesk.surveys.answers import import_responses, parse_row
from trustdesk.surveys.links import SurveyLinks
from trustdesk.surveys.models import SurveyInvitation, SurveyResponse
from trustdesk.surveys.scoring import dimension_scores
from trustdesk.surveys.service import create_survey, load_survey, scale_items
from trustdesk.tabular import read_rows
from trustdesk.trust import score_reads
from trustdesk.trust import service as trust_service
from trustdesk.trust.service import TrustParams

QUICK = os.environ.get("TRUSTDESK_BENCH_QUICK") == "1" or "--quick" in sys.argv
RESPONSES = 20_000 if QUICK else 100_000
BASELINE = 2_000 if QUICK else 5_000
EARLIER = 1_000  # an earlier wave, already in the index
SUBMISSIONS = 500 if QUICK else 2_000
RATE = 100.0  # submissions per second
CLIENTS = 8
SEGMENTS = ("North", "South", "East", "West", "Online")
TRUST_ITEMS = [
    f"{d}_{i}" for d in ("ability", "integrity", "benevolence", "data_care") for i in (1, 2, 3)
]


def seed_customers(platform: Platform, n: int) -> None:
    now = datetime.now(UTC)
    with platform.db.transaction() as session:
        for start in range(0, n, 10_000):
            ids = range(start, min(start + 10_000, n))
            session.execute(
                insert(Customer),
                [{"id": i + 1, "external_id": f"c{i}", "subject_id": str(uuid.uuid4()),
                  "created_at": now, "updated_at": now} for i in ids],
            )  # fmt: skip
            session.execute(
                insert(CustomerSegment),
                [{"customer_id": i + 1, "segment": SEGMENTS[i % len(SEGMENTS)]} for i in ids],
            )


def write_answers(path: Path, n: int, offset: int = 0) -> None:
    rng = random.Random(7)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["external_id", "submitted_at", *TRUST_ITEMS, "nps", "csat"])
        base = datetime(2026, 11, 1, tzinfo=UTC)
        for i in range(offset, offset + n):
            level = 2 + i % 5  # segments differ
            trust = [min(max(level + rng.randint(-1, 1), 1), 7) for _ in TRUST_ITEMS]
            at = (base + timedelta(seconds=17 * i)).isoformat()
            writer.writerow([f"c{i}", at, *trust, rng.randint(0, 10), rng.randint(1, 5)])


def naive_import(platform: Platform, survey_id: int, path: Path) -> float:
    """Baseline: the same checks, one ORM object and one flush per row."""
    start = time.perf_counter()
    with platform.db.transaction() as session:
        survey = load_survey(session, survey_id)
        items = scale_items(survey)
        ids = {c.external_id: c.id for c in session.query(Customer)}
        for row in read_rows(path):
            parsed = parse_row(survey, row.number, row.fields)
            scores = dimension_scores(parsed.answers, items)
            session.add(
                SurveyResponse(
                    survey_id=survey_id, respondent="customer", respondent_key=parsed.key,
                    customer_id=ids[parsed.key], answers=json.dumps(parsed.answers),
                    channel="import", submitted_at=parsed.submitted_at,
                    **scores,
                )
            )  # fmt: skip
            session.flush()
    return time.perf_counter() - start


def import_and_index(platform: Platform, tmp: Path) -> None:
    seed_customers(platform, RESPONSES + BASELINE + EARLIER)
    params = TrustParams.from_settings(platform.settings)
    with platform.db.transaction() as session:
        survey, other, first = (
            create_survey(
                session, platform.vault, template="trust-core", title=title, actor="bench"
            ).id
            for title in ("Bench", "Naive", "Earlier wave")
        )
    path, sample, earlier = tmp / "answers.csv", tmp / "sample.csv", tmp / "earlier.csv"
    write_answers(path, RESPONSES)
    write_answers(sample, BASELINE, offset=RESPONSES)
    write_answers(earlier, EARLIER, offset=RESPONSES + BASELINE)
    # An index already built from an earlier wave: what the trust job then does is an
    # incremental update of the statistics the new answers touch.
    with platform.db.transaction() as session:
        rows = ((r.number, r.error or r.fields) for r in read_rows(earlier))
        import_responses(session, platform.vault, first, rows, actor="bench")
        trust_service.recompute(session, params, full=True)

    start = time.perf_counter()
    with platform.db.transaction() as session:
        rows = ((r.number, r.error or r.fields) for r in read_rows(path))
        report = import_responses(session, platform.vault, survey, rows, actor="bench")
    imported = time.perf_counter() - start
    assert report.created == RESPONSES and not report.rejected, report.as_dict()
    start = time.perf_counter()
    with platform.db.transaction() as session:
        step = trust_service.recompute(session, params)  # what the trust.recompute job runs
    indexed = time.perf_counter() - start
    assert step.mode == "incremental" and step.observations == 4 * RESPONSES, step
    with platform.db.reading() as session:
        scores = score_reads.scores(session, params, by="segment")
    assert all("data_care" in s.dimensions for s in scores), "data care not reflected"
    start = time.perf_counter()
    with platform.db.transaction() as session:
        trust_service.recompute(session, params, full=True)
    rebuilt = time.perf_counter() - start
    naive = naive_import(platform, other, sample)

    total = imported + indexed
    ours = RESPONSES / imported
    print(f"import + trust index, {RESPONSES:,} responses (SQLite, load {_load()}):")
    print(f"  import (read, check, store):    {imported:6.1f} s  ({ours:,.0f} rows/s)")
    print(
        f"  incremental trust update:       {indexed:6.1f} s  ({step.observations:,} observations)"
    )
    print(f"  together:                       {total:6.1f} s  (target <= 30 s)")
    print(f"  (a full recompute of everything: {rebuilt:5.1f} s)")
    print(
        f"  baseline naive import ({BASELINE:,} rows): {BASELINE / naive:,.0f} rows/s -> ours {ours / (BASELINE / naive):.1f} x"
    )
    print(
        "  data care per segment: "
        + ", ".join(f"{s.key} {s.dimensions['data_care']:.1f}" for s in scores)
    )


def _load() -> str:
    """The machine's 1-minute load average (figures on a shared machine need it beside them)."""
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "n/a"


def invitations(platform: Platform, n: int) -> list[str]:
    with platform.db.transaction() as session:
        survey = create_survey(
            session, platform.vault, template="trust-core", title="Page", actor="bench"
        ).id
        now = datetime.now(UTC)
        rows = [{"survey_id": survey, "customer_id": RESPONSES + BASELINE + EARLIER - i, "nonce": secrets.token_urlsafe(16)[:22],
                 "created_at": now, "expires_at": now + timedelta(days=14), "sent_at": now, "reminders": 0}
                for i in range(n)]  # fmt: skip
        made = session.execute(
            insert(SurveyInvitation).returning(SurveyInvitation.id, SurveyInvitation.nonce), rows
        ).all()
        links = SurveyLinks.of(platform.vault)
        return [links.token(i, nonce) for i, nonce in made]


def _writer_counts(port: int, token: str) -> tuple[float, float]:
    """(transactions, submissions) the server's survey writer counted so far (/metrics)."""
    text = httpx.get(
        f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {token}"}
    ).text
    found = {"transactions": 0.0, "items": 0.0}
    for line in text.splitlines():
        for kind in found:
            if line.startswith(f'trustdesk_group_commit_{kind}_total{{writer="surveys.submit"}}'):
                found[kind] = float(line.rsplit(" ", 1)[1])
    return found["transactions"], found["items"]


def response_page(platform: Platform, settings: Settings, submissions: int) -> None:
    tokens = invitations(platform, submissions)
    with platform.db.transaction() as session:
        monitor = auth_service.create_token(
            session, name="bench-metrics", role=Role.MONITOR, actor="bench"
        ).token
    # Fold the import's write-ahead log into the database file first: a server opening a
    # database with hundreds of megabytes of WAL behind it spends its start replaying it.
    database = platform.db.engine.url.database
    platform.close()
    if database:
        with closing(sqlite3.connect(database)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    start = time.perf_counter()
    with serve(settings.data_dir, env={"TRUSTDESK_JOBS_IN_SERVER": "false"}) as server:
        print(
            f"  (the server answered /healthz {time.perf_counter() - start:.1f} s after starting)"
        )
        rng = random.Random(3)
        form = lambda: {"action": "submit", "nps": str(rng.randint(0, 10)),  # noqa: E731
                        **{item: str(rng.randint(1, 7)) for item in TRUST_ITEMS}}  # fmt: skip
        load_before = _load()
        health = paced(server.port, [request("GET", "/healthz")] * submissions, rate=RATE, connections=CLIENTS).latencies  # fmt: skip
        before = _writer_counts(server.port, monitor)
        submit = paced(server.port, [request("POST", f"/s/{t}", body=urlencode(form()).encode(), content_type=FORM) for t in tokens],
                       rate=RATE, connections=CLIENTS, ok=range(200, 400)).latencies  # fmt: skip
        after = _writer_counts(server.port, monitor)
        transactions, written = after[0] - before[0], after[1] - before[1]
        print(
            f"response page, {submissions:,} submissions paced at {RATE:.0f}/s by {CLIENTS} clients "
            f"(p50 / p99 ms, load {load_before} before, {_load()} after):"
        )
        print(
            f"  baseline GET /healthz:          {pct(health, 0.5):6.1f} / {pct(health, 0.99):6.1f}"
        )
        print(
            f"  POST /s/{{token}} (submit):      {pct(submit, 0.5):6.1f} / {pct(submit, 0.99):6.1f}  (target p99 <= 50)"
        )
        print(
            f"  writer: {written:,.0f} submissions in {transactions:,.0f} transactions "
            f"({transactions / max(written, 1):.2f} per submission)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 responses, 500 submissions")
    parser.add_argument(
        "--page-only", action="store_true", help="only the response page (no import, no index)"
    )
    parser.add_argument("--submissions", type=int, default=SUBMISSIONS, help="page submissions")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "td", log_level="WARNING")
        platform = Platform.open(settings)
        migrate.upgrade(platform.db)
        if args.page_only:
            seed_customers(platform, RESPONSES + BASELINE + EARLIER)
        else:
            import_and_index(platform, Path(tmp))
        response_page(platform, settings, args.submissions)


if __name__ == "__main__":
    main()
