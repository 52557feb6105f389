"""Scale-out figures: batch work on 1 and 2 Dask workers against the embedded path, and API
throughput with 1, 2 and 4 server processes (`serve --workers N`) on PostgreSQL.

1. Feedback analysis (`feedback analyze`): the shipped tweets resampled with replacement to
   --feedback-rows rows (10,000,000 in full mode; 20,000 with --quick), written as CSV
   partitions of 50,000 rows. Embedded: `analyse_csv` over the concatenated file. Dask: the
   same code per task (`analyse_partitions`) on a LocalCluster of 1 and 2 worker processes.
2. Trust recompute, map and reduce (the part the Dask engine moves): observations made from the
   resampled tweets (segment = airline, value from the tweet's labelled sentiment, random
   customers and times over a year), --trust-rows rows (10,000,000 full; 1,000,000 quick), in
   batches of 100,000 (the service's batch). Reading them from the database and storing the
   statistics stay in the calling process and are not in this figure (bench_trust.py has the
   whole recompute: about 18 s per million rows on this machine).
3. Retention (`retention apply`, the payments' sweep) on PostgreSQL: --retention-rows payments
   (200,000 quick, 2,000,000 full), half past the cut-off; the set-based UPDATE against merely
   reading the same rows out (the least a Dask path would add).
4. Fraud training (`fraud train`): the full shared card-transactions set (quick: the shipped
   model's simulation), embedded against 2 Dask workers (features and LightGBM's trees).
5. API throughput: `trustdesk serve --workers N` on a fresh PostgreSQL database
   (TRUSTDESK_BENCH_POSTGRES_URL, else TRUSTDESK_TEST_POSTGRES_URL; skipped without one),
   64 concurrent keep-alive clients for --seconds (10 quick, 30 full), half `POST
   /api/v1/transactions/score`, half `GET /api/v1/trust?by=segment`. Load generator and server
   share the machine.

Baseline of every ratio: the embedded path (1) and (2), one server process (3), measured in the
same run. Per-partition costs (seconds per 50,000-row task, per 100,000-observation batch) are
what docs/scale.md projects from. The machine these figures were taken on has 2 cores, shared:
more workers than cores cannot run faster, so the 2-worker figures bound the per-worker cost.

Every section ends with the machine's load average, since the figures were taken on a shared machine.

    python benchmarks/bench_scale.py [--quick] [--rows N] [--feedback-rows N] [--trust-rows N]
        [--retention-rows N] [--transactions FILE] [--seconds S] [--skip SECTION]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gzip
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
from _server import serve

from trustdesk.feedback.analysis import default_analyser
from trustdesk.feedback.file_analysis import analyse_csv, analyse_partitions
from trustdesk.trust.aggregates import DAY
from trustdesk.trust.partitions import DaskStats, EmbeddedStats
from trustdesk.trust.signals import Observations

QUICK = os.environ.get("TRUSTDESK_BENCH_QUICK") == "1" or "--quick" in sys.argv
PART_ROWS = 50_000
BATCH = 100_000
FRAUD_DATA = (
    Path(__file__).resolve().parents[2] / "shared/data/card-transactions/transactions.csv.gz"
)
VALUE = {"negative": 15.0, "neutral": 55.0, "positive": 90.0}


def _tweets() -> list[dict[str, str]]:
    with gzip.open(
        str(files("trustdesk.data") / "airline_tweets.csv.gz"), "rt", encoding="utf-8"
    ) as f:
        return list(csv.DictReader(f))


@contextmanager
def _cluster(workers: int) -> Iterator[Any]:
    """A client of a LocalCluster of `workers` single-threaded worker processes, both closed on
    leaving (what every Dask figure here runs on)."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _feedback(tweets: list[dict[str, str]], rows: int, base: Path) -> None:
    rng = np.random.default_rng(7)
    picks = rng.integers(0, len(tweets), rows)
    parts = base / "parts"
    parts.mkdir()
    whole = base / "all.csv"
    with whole.open("w", newline="", encoding="utf-8") as w:
        writer = csv.writer(w)
        writer.writerow(["id", "text", "airline"])
        for p, start in enumerate(range(0, rows, PART_ROWS)):
            with (parts / f"p{p:05d}.csv").open("w", newline="", encoding="utf-8") as f:
                part = csv.writer(f)
                part.writerow(["id", "text", "airline"])
                for i in range(start, min(rows, start + PART_ROWS)):
                    t = tweets[picks[i]]
                    row = [str(i), t["text"], t["airline"]]
                    part.writerow(row)
                    writer.writerow(row)
    default_analyser()  # model load is start-up, not throughput, on both sides
    start = time.perf_counter()
    analyse_csv(whole, base / "embedded.csv", default_analyser(), text_column="text")
    embedded = time.perf_counter() - start
    print(f"\nfeedback analysis, {rows:,} resampled tweets (transformer sentiment + topics)")
    print(
        f"  embedded           {rows / embedded:>9,.0f} rows/s   (baseline)   "
        f"{embedded / rows * 1e6:,.0f} s per 1M rows"
    )
    for workers in (1, 2):
        with _cluster(workers) as client:
            client.run(_load_models)  # each worker loads its models once, before the clock
            start = time.perf_counter()
            analyse_partitions(
                parts, base / f"out{workers}", text_column="text",
                scheduler=client.scheduler.address,
            )  # fmt: skip
            took = time.perf_counter() - start
        print(
            f"  dask, {workers} worker{'s' if workers > 1 else ' '}   {rows / took:>9,.0f} rows/s"
            f"   x{embedded / took:.2f}   {took * workers / rows * 1e6:,.0f} worker-s per 1M rows"
        )


def _load_models() -> None:
    from trustdesk.feedback.file_analysis import _worker_analyser

    _worker_analyser((), None)


def _observations(tweets: list[dict[str, str]], rows: int, seed: int) -> Observations:
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(tweets), rows)
    airlines = np.array([t["airline"] for t in tweets], dtype=object)
    values = np.array([VALUE.get(t["airline_sentiment"], 55.0) for t in tweets])
    at = np.sort(1_735_689_600 + rng.integers(0, 365 * DAY, rows))
    ref = np.arange(rows, dtype=np.int64)
    return Observations(
        signal="feedback",
        ref=ref,
        at=at.astype(np.int64),
        customer_id=np.where(rng.random(rows) < 0.5, rng.integers(0, 200_000, rows), -1),
        segment=airlines[picks],
        value=values[picks],
        weight=np.ones(rows),
        dims=rng.integers(0, 16, rows).astype(np.int32),
        topics=rng.integers(0, 64, rows).astype(np.int32),
        negative=values[picks] < 30,
        last_ref=rows,
    )


def _trust(tweets: list[dict[str, str]], rows: int) -> None:
    topics = ("a", "b", "c", "d", "e", "f")
    batches = [_observations(tweets, min(BATCH, rows - s), seed=s) for s in range(0, rows, BATCH)]
    epoch = int(batches[0].at.min())

    def run(stats: Any) -> tuple[float, int]:
        start = time.perf_counter()
        for obs in batches:
            stats.add(obs, epoch=epoch, half_life_s=30 * DAY, topics=topics)
        keys = len(stats.total())
        return time.perf_counter() - start, keys

    embedded, keys = run(EmbeddedStats())
    print(f"\ntrust statistics (map + reduce), {rows:,} observations, {len(batches)} batches")
    print(
        f"  embedded           {rows / embedded:>11,.0f} obs/s   (baseline)   {keys:,} keys, "
        f"{embedded / rows * 1e6:,.1f} s per 1M obs"
    )
    for workers in (1, 2):
        with _cluster(workers) as client:
            took, got = run(DaskStats(client))
        assert got == keys
        print(
            f"  dask, {workers} worker{'s' if workers > 1 else ' '}   {rows / took:>11,.0f} obs/s"
            f"   x{embedded / took:.2f}   {took * workers / rows * 1e6:,.1f} worker-s per 1M obs"
        )


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _history_memory(payments: int) -> None:
    """What each server process holds for the fraud scorer: its payment history (per process,
    caught up from the database every TRUSTDESK_FRAUD_REFRESH_S). Measured as the growth of
    this process's resident memory while `payments` payments (5,000 cards, 2,000 terminals, 58
    days) are added to a History, as `load_engine` does at start-up."""
    import gc
    from datetime import timedelta

    from trustdesk.fraud.learning.online import History, Transaction

    rng = np.random.default_rng(3)
    start = datetime.now(UTC) - timedelta(days=58)
    steps = np.sort(rng.integers(0, 58 * DAY, payments))
    cards, terminals = rng.integers(0, 5_000, payments), rng.integers(0, 2_000, payments)
    gc.collect()
    before = _rss()
    history = History(timedelta(days=7))
    for i in range(payments):
        history.add(
            Transaction(f"tx{i:09d}", start + timedelta(seconds=int(steps[i])),
                        f"card{cards[i]}", f"term{terminals[i]}", 42.0)
        )  # fmt: skip
    gc.collect()
    grown = _rss() - before
    print(f"\nfraud scorer history, per server process: {payments:,} payments held")
    print(f"  {grown / 2**20:,.0f} MiB resident, {grown / payments:,.0f} bytes per payment")


def _fraud_training(path: Path | None) -> None:
    """`fraud train` on a transactions file (None: the shipped model's simulation, 100 days of
    400 cards): the latest window (7 training days, 7 days' label delay, 7 validation days, with
    75 days of history before them for the feature windows), embedded against a 2-worker
    LocalCluster (`DaskGroups` features, `DaskTrainer` trees)."""
    from trustdesk.fraud.learning.backtest import load_transactions
    from trustdesk.fraud.learning.distributed import DaskTrainer
    from trustdesk.fraud.learning.features import DaskGroups
    from trustdesk.fraud.learning.simulator import simulate
    from trustdesk.fraud.training import (
        SHIPPED_SIMULATION,
        Engine,
        TrainingWindow,
        train_frame,
    )

    if path is not None and not path.is_file():
        print(f"\nfraud training: skipped ({path} not found; set TRUSTDESK_BENCH_TRANSACTIONS)")
        return
    frame = simulate(**SHIPPED_SIMULATION) if path is None else load_transactions(path)
    name = "simulated (100 days, 400 cards)" if path is None else path.name
    window = TrainingWindow(7, 7, 7)
    print(f"\nfraud training (`fraud train`), {name}: {len(frame):,} payments")

    def show(name: str, took: float, result: Any, base: float | None) -> None:
        m = result.metrics_all
        ratio = "(baseline)" if base is None else f"x{base / took:.2f}"
        print(f"  {name:<18} {took:>7.1f} s  {ratio:<10}  validation AUC {m.auc:.3f}  "
              f"AP {m.ap:.3f}  ({result.train_rows:,} training rows)")  # fmt: skip

    start = time.perf_counter()
    result, _ = train_frame(frame, window)
    embedded = time.perf_counter() - start
    show("embedded", embedded, result, None)
    with _cluster(2) as client:
        trainer = DaskTrainer(client)
        engine = Engine(DaskGroups(client, shards=8), trainer, trainer.describe)
        start = time.perf_counter()
        result, _ = train_frame(frame, window, engine)
        took = time.perf_counter() - start
    show("dask, 2 workers", took, result, embedded)
    print(f"  (workers that held training rows, per training: {trainer.machines})")


def _postgres_url() -> str | None:
    return os.environ.get("TRUSTDESK_BENCH_POSTGRES_URL") or os.environ.get(
        "TRUSTDESK_TEST_POSTGRES_URL"
    )


def _retention(rows: int) -> None:
    """The payments' retention sweep (`retention apply`: old payments lose their customer link)
    on PostgreSQL, against what a Dask path would have to add before any work: reading the same
    rows out of the database. `rows` payments over 400 days on a fresh database, half past the
    cut-off."""
    url = _postgres_url()
    if not url:
        print("\nretention sweep: skipped (set TRUSTDESK_BENCH_POSTGRES_URL)")
        return
    from datetime import timedelta

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from trustdesk import migrate
    from trustdesk.db import Database
    from trustdesk.fraud.retention import PAYMENT_RETENTION

    server_url = make_url(url)
    name = f"trustdesk_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        db = Database(server_url.set(database=name).render_as_string(hide_password=False))
        migrate.upgrade(db)
        now = datetime.now(UTC)
        with db.transaction() as session:
            session.execute(
                text(
                    "INSERT INTO fraud_transactions (transaction_id, at, received_at, customer_ref,"
                    " terminal_id, amount, currency, channel, device_id, content_hash)"
                    " SELECT 'tx' || g, :start + g * (interval '400 days' / :n), now(),"
                    " 'card' || (g % 50000), 'term' || (g % 5000), 42.00, 'EUR', 'pos',"
                    " 'dev' || (g % 50000), md5(g::text) FROM generate_series(1, :n) AS g"
                ),
                {"start": now - timedelta(days=400), "n": rows},
            )
        with db.transaction() as session:
            session.execute(text("ANALYZE fraud_transactions"))
        cutoff = now - timedelta(days=200)
        with db.transaction() as session:
            start = time.perf_counter()
            read = session.execute(
                text(
                    "SELECT id, customer_ref, device_id FROM fraud_transactions"
                    " WHERE at < :c AND customer_ref <> 'anonymised'"
                ),
                {"c": cutoff},
            ).all()
            read_s = time.perf_counter() - start
        with db.transaction() as session:
            start = time.perf_counter()
            changed = PAYMENT_RETENTION.apply(session, cutoff, "anonymise")
            sweep_s = time.perf_counter() - start
        assert changed == len(read), (changed, len(read))
        db.dispose()
        print(f"\nretention sweep on PostgreSQL, {rows:,} payments, {changed:,} past the cut-off")
        print(f"  set-based UPDATE (the service)  {sweep_s:>7.2f} s  "
              f"{changed / sweep_s:>10,.0f} rows/s   (baseline)")  # fmt: skip
        print(f"  only reading those rows out     {read_s:>7.2f} s  "
              f"{changed / read_s:>10,.0f} rows/s   x{sweep_s / read_s:.2f} of the sweep")  # fmt: skip
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _api(seconds: float) -> None:
    url = _postgres_url()
    if not url:
        print("\nAPI throughput: skipped (set TRUSTDESK_BENCH_POSTGRES_URL)")
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from trustdesk import migrate
    from trustdesk.auth import service as auth_service
    from trustdesk.config import Settings
    from trustdesk.db import Database

    server_url = make_url(url)
    name = f"trustdesk_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = server_url.set(database=name).render_as_string(hide_password=False)
    print(f"\nAPI throughput on PostgreSQL, 64 clients, {seconds:.0f} s per run, half scoring "
          "payments, half trust reads")  # fmt: skip
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(db_url)
            migrate.upgrade(db)
            settings = Settings(data_dir=Path(tmp), database_url=db_url, environment="test")
            from trustdesk.platform import Platform

            platform = Platform.open(settings)
            with platform.db.transaction() as session:
                token = auth_service.create_token(
                    session, name="bench", role="admin", actor="bench"
                ).token
            platform.close()
            db.dispose()
            env = {"TRUSTDESK_DATABASE_URL": db_url, "TRUSTDESK_JOBS_IN_SERVER": "false"}
            base_rate = None
            for workers in (1, 2, 4):
                rate, errors = _api_run(Path(tmp), env, token, workers, seconds)
                base_rate = base_rate or rate
                print(f"  {workers} worker{'s' if workers > 1 else ' '}  {rate:>7,.0f} requests/s"
                      f"   x{rate / base_rate:.2f}   {errors} errors")  # fmt: skip
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _api_run(
    data_dir: Path, env: dict[str, str], token: str, workers: int, seconds: float
) -> tuple[float, int]:
    with serve(
        data_dir, env=env, args=["--workers", str(workers)], inherit_trustdesk_env=False
    ) as server:
        time.sleep(2 * workers)  # every worker up and its scorer loaded
        return asyncio.run(_load(server.url, token, seconds))


async def _load(base: str, token: str, seconds: float) -> tuple[float, int]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    done = errors = 0
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)

    async def client_loop(k: int) -> None:
        nonlocal done, errors
        async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits) as c:
            i = 0
            while time.perf_counter() < stop:
                i += 1
                if i % 2:
                    at = datetime.now(UTC).replace(microsecond=0).isoformat()
                    body = {"transaction_id": f"b{k}-{i}-{uuid.uuid4().hex[:6]}", "at": at,
                            "customer_id": f"c{(k * 7919 + i) % 5000}", "terminal_id": f"t{i % 300}",
                            "amount": "42.00", "currency": "EUR", "channel": "pos"}  # fmt: skip
                    r = await c.post("/api/v1/transactions/score", json=body)
                else:
                    r = await c.get("/api/v1/trust", params={"by": "segment"})
                done += 1
                errors += r.status_code >= 400

    start = time.perf_counter()
    await asyncio.gather(*(client_loop(k) for k in range(64)))
    return done / (time.perf_counter() - start), errors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--feedback-rows", type=int, default=20_000 if QUICK else 10_000_000)
    parser.add_argument("--trust-rows", type=int, default=1_000_000 if QUICK else 10_000_000)
    parser.add_argument("--seconds", type=float, default=10 if QUICK else 30)
    parser.add_argument("--history", type=int, default=150_000 if QUICK else 1_500_000)
    parser.add_argument("--retention-rows", type=int, default=200_000 if QUICK else 2_000_000)
    parser.add_argument(
        "--transactions",
        type=Path,
        default=None
        if QUICK
        else Path(os.environ.get("TRUSTDESK_BENCH_TRANSACTIONS") or FRAUD_DATA),
        help="card transactions for the fraud training figure (quick: a small simulation)",
    )
    parser.add_argument(
        "--rows",
        type=int,
        help="feedback, trust and retention rows at once (e.g. 1000000: the 1 M-row mode)",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        help="feedback, trust, history, retention, fraud or api",
    )
    args = parser.parse_args()
    if args.rows:
        args.feedback_rows = args.trust_rows = args.retention_rows = args.rows
    print(f"bench_scale ({'quick' if QUICK else 'full'}): {os.cpu_count()} cores on this machine")
    tweets = _tweets()
    sections = {
        "feedback": lambda: _feedback_in_tmp(tweets, args.feedback_rows),
        "trust": lambda: _trust(tweets, args.trust_rows),
        "history": lambda: _history_memory(args.history),
        "retention": lambda: _retention(args.retention_rows),
        "fraud": lambda: _fraud_training(args.transactions),
        "api": lambda: _api(args.seconds),
    }
    for name, run in sections.items():
        if name not in args.skip:
            run()
            one, five, _ = os.getloadavg()
            print(f"  (load average {one:.1f} now, {five:.1f} over 5 minutes, "
                  f"{os.cpu_count()} cores)")  # fmt: skip


def _feedback_in_tmp(tweets: list[dict[str, str]], rows: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _feedback(tweets, rows, Path(tmp))


if __name__ == "__main__":
    main()
