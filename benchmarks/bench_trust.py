"""Trust index and alerts at scale: full recompute, incremental update, dashboard reads.

Real shipped tweets are imported (analysed by the feedback models, linked to the demo customers),
then replicated with shifted ids and times, inserted directly in batches, up to --rows feedback
rows (default 1,000,000; 100,000 with TRUSTDESK_BENCH_QUICK=1). Targets: full recompute ≤ 30 s,
incremental update after a 10,000-row batch ≤ 1 s, dashboard reads ≤ 300 ms.

Baseline, in the same run: a naive per-row pure-Python computation (a loop over rows updating
dictionaries of sums, the usual first implementation) on a 100,000-row subset, as rows/s.

    python benchmarks/bench_trust.py [--rows N] [--seed-rows N] [--database-url URL]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from trustdesk import migrate
from trustdesk.config import Settings
from trustdesk.feedback.demo import customer_id_for_handle
from trustdesk.feedback.models import Feedback
from trustdesk.platform import Platform
from trustdesk.trust import alert_reads, score_reads, service

QUICK = os.environ.get("TRUSTDESK_BENCH_QUICK") == "1"
YEAR = timedelta(days=365)  # copies are spread over a year: ~1M feedback rows a year


def _cli(env: dict[str, str], *args: str) -> None:
    exe = Path(sys.executable).with_name("trustdesk")
    subprocess.run([str(exe), *args], env=env, check=True, stdout=subprocess.DEVNULL)


def _seed(base: Path, env: dict[str, str], rows: int) -> None:
    """Real tweets through the real importers: customers first, then analysed feedback."""
    data = files("trustdesk.data")
    with gzip.open(str(data / "airline_tweets.csv.gz"), "rt", encoding="utf-8") as f:
        every = list(csv.DictReader(f))
        tweets = every[:: max(1, len(every) // rows)][:rows]  # every airline, the whole period
    seed = base / "seed.csv"
    with seed.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["tweet_id", "text", "tweet_created", "airline", "customer"])
        for t in tweets:
            customer = customer_id_for_handle(t["name"])
            writer.writerow([t["tweet_id"], t["text"], t["tweet_created"], t["airline"], customer])
    _cli(env, "customers", "import", str(data / "customers_sample.csv.gz"))
    _cli(
        env,
        "feedback",
        "import",
        str(seed),
        "--source",
        "social",
        "--id-column",
        "tweet_id",
        "--text-column",
        "text",
        "--time-column",
        "tweet_created",
        "--segment-column",
        "airline",
        "--customer-column",
        "customer",
    )


def _replicate(platform: Platform, target: int, *, start_copy: int = 1) -> int:
    """Copies of the seed rows with shifted ids and times until `target` rows exist."""
    table = Feedback.__table__
    columns = [c for c in table.columns if c.name != "id"]
    with platform.db.reading() as session:
        seed = [
            dict(r._mapping)
            for r in session.execute(
                select(*columns).where(~Feedback.external_id.contains(":")).order_by(Feedback.id)
            )
        ]
        have = int(session.scalar(select(func.count()).select_from(Feedback)) or 0)
    shift = max(YEAR * len(seed) / max(target, 1), timedelta(hours=1))

    def copies() -> Iterator[tuple[int, dict[str, Any]]]:
        copy = start_copy
        while True:
            for row in seed:
                yield copy, row
            copy += 1

    stream = copies()
    copy = start_copy
    while have < target:
        batch = []
        for copy, row in stream:
            batch.append(
                row
                | {
                    "external_id": f"{row['external_id']}:{copy}",
                    "at": row["at"] + shift * copy,
                    "received_at": row["received_at"] + shift * copy,
                    "text_enc": None,
                }
            )
            if len(batch) >= min(50_000, target - have):
                break
        with platform.db.transaction() as session:
            session.execute(insert(Feedback), batch)
        have += len(batch)
    return copy + 1


def _naive(platform: Platform, limit: int, half_life_s: float) -> float:
    """Baseline: the first implementation one would write, on `limit` rows. ORM objects read
    one by one, per-row Python updating dictionaries of sums for the same keys (levels x facets
    x all-time/day), no evidence stored. Returns rows/s."""
    from trustdesk.feedback.public import TOPIC_DIMENSIONS, TOPICS

    start = time.perf_counter()
    sums: dict[tuple[Any, ...], list[float]] = defaultdict(lambda: [0.0] * 6)
    count = 0
    with platform.db.reading() as session:
        query = (
            select(Feedback).order_by(Feedback.id).limit(limit).execution_options(yield_per=5000)
        )
        epoch = None
        for row in session.scalars(query):
            at = row.at.timestamp()
            epoch = epoch if epoch is not None else at
            e = 50 + 50 * ((row.p_positive or 0) - (row.p_negative or 0))
            x = 0.6 * 100 * row.rating + 0.4 * e if row.rating is not None else e
            w = math.pow(2.0, (at - epoch) / half_life_s)
            neg = float((row.p_negative or 0) >= max(row.p_neutral or 0, row.p_positive or 0))
            mask = row.topics_mask or 0
            topics = [t for i, t in enumerate(TOPICS) if mask & (1 << i)]
            facets = [
                "all",
                *{f"dim:{TOPIC_DIMENSIONS[t]}" for t in topics},
                *(f"topic:{t}" for t in topics),
            ]
            day = int(at // 86400 * 86400)
            for facet in facets:
                keys = [("overall", "", facet, 0), ("overall", "", facet, day)]
                if row.segment:
                    keys += [
                        ("segment", row.segment, facet, 0),
                        ("segment", row.segment, facet, day),
                    ]
                if row.customer_id is not None and not facet.startswith("topic:"):
                    keys.append(("customer", row.customer_id, facet, 0))
                for key in keys:
                    acc = sums[key]
                    acc[0] += 1
                    acc[1] += neg
                    acc[2] += w
                    acc[3] += w * x
                    acc[4] += w * x * x
                    acc[5] += w * w
            count += 1
    return count / (time.perf_counter() - start)


def _timed_reads(platform: Platform, params: service.TrustParams) -> dict[str, float]:
    def median_ms(fn: Any) -> float:
        laps = []
        for _ in range(7):
            with platform.db.reading() as session:
                start = time.perf_counter()
                fn(session)
                laps.append((time.perf_counter() - start) * 1000)
        return statistics.median(laps)

    return {
        "segment scores (trust show --by segment)": median_ms(
            lambda s: score_reads.scores(s, params, by="segment")
        ),
        "segment detail (index, trend, drivers, alerts)": median_ms(
            lambda s: score_reads.segment_detail(s, params, "United")
        ),
        "customer page (100 customers)": median_ms(
            lambda s: score_reads.customer_scores(s, params, limit=100)
        ),
        "alerts list": median_ms(lambda s: alert_reads.list_alerts(s)),
    }


def _timed_pages(platform: Platform) -> dict[str, float]:
    """Whole dashboard pages over HTTP (in-process client): routing, queries, decryption, HTML."""
    import re

    from fastapi.testclient import TestClient

    from trustdesk.app import create_app
    from trustdesk.auth import service as auth_service

    with platform.db.transaction() as session:
        auth_service.create_user(
            session,
            platform.vault,
            username="bench",
            password="bench-password-1",
            role="analyst",
            with_totp=False,
            actor="bench",
        )
    client = TestClient(create_app(platform=platform))
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token, "login form without CSRF token"
    client.post(
        "/login",
        data={"username": "bench", "password": "bench-password-1", "csrf_token": token.group(1)},
    )
    pages = {
        "/trust (overview, charts)": "/trust",
        "/trust/segments/United": "/trust/segments/United",
        "/trust/alerts": "/trust/alerts",
        "/feedback (first page, decrypted)": "/feedback",
        "/feedback?sentiment=negative&segment=Delta": "/feedback?sentiment=negative&segment=Delta",
        "/feedback?q=bag (search)": "/feedback?q=bag",
    }
    out = {}
    for name, url in pages.items():
        laps = []
        for _ in range(7):
            start = time.perf_counter()
            response = client.get(url)
            laps.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        out[name] = statistics.median(laps)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000 if QUICK else 1_000_000)
    parser.add_argument("--seed-rows", type=int, default=1_000 if QUICK else 3_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        env = {
            **os.environ,
            "TRUSTDESK_DATA_DIR": str(base / "td"),
            "TRUSTDESK_LOG_LEVEL": "WARNING",
        }
        if args.database_url:
            env["TRUSTDESK_DATABASE_URL"] = args.database_url
        settings = Settings(
            data_dir=base / "td", database_url=args.database_url, log_level="WARNING"
        )
        platform = Platform.open(settings)
        migrate.upgrade(platform.db)
        start = time.perf_counter()
        _seed(base, env, args.seed_rows)
        copies = _replicate(platform, args.rows)
        print(
            f"setup: {args.rows:,} feedback rows ({args.seed_rows:,} real tweets x {copies} "
            f"time-shifted copies) on {platform.db.engine.dialect.name} in "
            f"{time.perf_counter() - start:.0f} s; {os.cpu_count()} CPUs"
        )
        params = service.TrustParams.from_settings(settings)

        start = time.perf_counter()
        with platform.db.transaction() as session:
            full = service.recompute(session, params, full=True)
        full_s = time.perf_counter() - start
        print(
            f"full recompute:        {full_s:8.2f} s  ({full.observations / full_s:,.0f} rows/s, "
            f"{full.stat_rows:,} statistics, {full.alerts_raised} alerts)  target <= 30 s"
        )

        next_copy = _replicate(platform, args.rows + 10_000, start_copy=copies + 1)
        start = time.perf_counter()
        with platform.db.transaction() as session:
            step = service.recompute(session, params)
        step_s = time.perf_counter() - start
        print(f"incremental (+{step.observations:,} rows): {step_s:6.2f} s  target <= 1 s")
        # Steady state: on PostgreSQL each run also reads the previous run's rows again (rows that
        # commit late) and drops those already counted; SQLite commits ids in order.
        _replicate(platform, args.rows + 20_000, start_copy=next_copy)
        start = time.perf_counter()
        with platform.db.transaction() as session:
            again = service.recompute(session, params)
        again_s = time.perf_counter() - start
        print(
            f"incremental again (+{again.observations:,} rows; PostgreSQL re-reads the previous "
            "10,000): "
            f"{again_s:6.2f} s  target <= 1 s"
        )

        for name, ms in _timed_reads(platform, params).items():
            print(f"read {name:<48} {ms:7.1f} ms (median of 7)  target <= 300 ms")
        for name, ms in _timed_pages(platform).items():
            print(f"page {name:<48} {ms:7.1f} ms (median of 7)  target <= 300 ms")

        naive = _naive(platform, 100_000, params.half_life_s)
        rate = full.observations / full_s
        print(
            f"baseline naive per-row ORM + Python loop on 100,000 rows: {naive:,.0f} rows/s; "
            f"full recompute: {rate:,.0f} rows/s = {rate / naive:.1f} x baseline "
            f"(1M rows at the baseline rate: {1_000_000 / naive:.0f} s)"
        )
        platform.close()


if __name__ == "__main__":
    main()
