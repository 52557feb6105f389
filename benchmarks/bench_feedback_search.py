"""Keyword search over encrypted feedback at scale (SQLite): first page of 25, median of 9 runs.

Rows are the shipped airline tweets replicated under new ids (1,000,000; 50,000 with --quick), so
a word found in one tweet is found in about N / 11,791 rows. Each figure is the whole service call
`list_feedback` (query + decrypting the page). Baseline, same run and database: the same call with
no search (all rows, and the airline filter alone). Target: 300 ms per page.
"""

from __future__ import annotations

import csv
import gzip
import os
import statistics
import tempfile
import time
from collections import Counter
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import event, select

from trustdesk import migrate
from trustdesk.config import Settings
from trustdesk.feedback import service
from trustdesk.feedback.analysis import TextAnalysis
from trustdesk.feedback.importing import ColumnMap, import_feedback_rows
from trustdesk.feedback.models import Feedback
from trustdesk.feedback.terms import terms_of
from trustdesk.platform import Platform
from trustdesk.tabular import Row

QUICK = os.environ.get("TRUSTDESK_BENCH_QUICK") == "1"
N = 50_000 if QUICK else 1_000_000
RUNS = 9
TARGET_MS = 300
COLUMNS = ColumnMap(external_id="tweet_id", text="text", at="tweet_created", segment="airline")


def _tweets() -> list[dict[str, str]]:
    with gzip.open(
        str(files("trustdesk.data") / "airline_tweets.csv.gz"), "rt", encoding="utf-8"
    ) as fh:
        return list(csv.DictReader(fh))


def _rows(tweets: list[dict[str, str]]) -> list[Row]:
    return [
        Row(
            i + 1,
            {
                "tweet_id": f"bench-{i}",
                "text": tweets[i % len(tweets)]["text"],
                "tweet_created": tweets[i % len(tweets)]["tweet_created"],
                "airline": tweets[i % len(tweets)]["airline"],
            },
        )
        for i in range(N)
    ]


def _words(tweets: list[dict[str, str]]) -> tuple[str, str, float]:
    """The most common term and a word of exactly one tweet, with the common term's share."""
    df = Counter(t for tweet in tweets for t in terms_of(tweet["text"]))
    common, count = df.most_common(1)[0]
    rare = min(t for t, c in df.items() if c == 1 and t.isalpha() and 6 <= len(t) <= 10)
    return common, rare, count / len(tweets)


def _median_ms(platform: Platform, filters: service.FeedbackFilter, after_id: int = 0) -> float:
    times = []
    for _ in range(RUNS):
        with platform.db.reading() as session:
            start = time.perf_counter()
            service.list_feedback(session, platform.vault, filters, after_id=after_id, limit=25)
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


class _Precomputed:
    """Stands in for the analyser: building the table should not wait for the models."""

    version = "bench"

    def analyse(self, texts: list[str]) -> TextAnalysis:
        n = len(texts)
        return TextAnalysis(
            ["neutral"] * n,
            np.full((n, 3), 1 / 3, dtype=np.float32),
            np.zeros(n, dtype=np.int32),
            "bench",
        )


F = service.FeedbackFilter


def _plans(platform: Platform, filters: service.FeedbackFilter) -> list[str]:
    """SQLite's plans of the search statements `filters` runs (one per window of buckets)."""
    statements: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "AS posting" in statement:
            statements.append((statement, parameters))

    event.listen(platform.db.read_engine, "before_cursor_execute", record)
    _median_ms(platform, filters)
    event.remove(platform.db.read_engine, "before_cursor_execute", record)
    with platform.db.reading() as session:
        connection = session.connection()
        plans = (
            " | ".join(
                r[3] for r in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
            )
            for sql, params in dict(statements).items()
        )
        return list(dict.fromkeys(plans))


def main() -> None:
    tweets = _tweets()
    common, rare, share = _words(tweets)
    with tempfile.TemporaryDirectory() as tmp:
        platform = Platform.open(Settings(data_dir=Path(tmp), log_level="WARNING"))
        migrate.upgrade(platform.db)
        start = time.perf_counter()
        import_feedback_rows(
            platform.db,
            platform.vault,
            _rows(tweets),
            _Precomputed(),
            actor="bench",
            columns=COLUMNS,
            source="social",
        )
        built = time.perf_counter() - start
        with platform.db.reading() as session:
            middle = session.scalar(select(Feedback.id).offset(N // 2).limit(1)) or 0
        plans = _plans(platform, F(text=f"{common} {rare}"))
        size = sum(f.stat().st_size for f in Path(tmp).glob("trustdesk.db*"))
        cases = [
            ("baseline: no filter", F()),
            ("baseline: airline filter alone", F(segment="United")),
            (f"common word {common!r} ({share:.0%} of rows)", F(text=common)),
            (f"rare word {rare!r} ({N // len(tweets)}-{N // len(tweets) + 1} rows)", F(text=rare)),
            ("both words (AND)", F(text=f"{common} {rare}")),
            ("common word + airline filter", F(text=common, segment="United")),
            ("common word + small airline (3%)", F(text=common, segment="Virgin America")),
            ("no such word", F(text="zzzyqx")),
        ]
        print(
            f"rows: {N:,}, built in {built:.0f} s ({N / built:,.0f} rows/s), files {size / 1e6:.0f} MB"
        )
        for plan in plans:
            print(f"plan of a two-word search: {plan}")
        print(f"first page of 25, median of {RUNS} runs (target {TARGET_MS} ms):")
        for label, filters in cases:
            print(f"  {label:<48} {_median_ms(platform, filters):8.1f} ms")
        print(
            f"  {'common word, page from the middle':<48} "
            f"{_median_ms(platform, F(text=common), after_id=middle):8.1f} ms"
        )
        platform.close()


if __name__ == "__main__":
    main()
