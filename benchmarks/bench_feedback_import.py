"""Feedback import into SQLite: rows/s end to end, and with the text analysis taken out.

Rows are the shipped airline tweets replicated under new ids. Baseline: the same rows inserted as
plaintext with one executemany into a table of the same shape, in the same run. Target: 20,000 rows/s.
The search index's cost: the storage-only import with and without it (index writing stubbed out).
"""

from __future__ import annotations

import csv
import gzip
import os
import sqlite3
import tempfile
import time
from importlib.resources import files
from pathlib import Path

import numpy as np

from trustdesk import migrate
from trustdesk.config import Settings
from trustdesk.feedback import search
from trustdesk.feedback.analysis import TextAnalysis, default_analyser
from trustdesk.feedback.importing import ColumnMap, analyse_pending, import_feedback_rows
from trustdesk.platform import Platform
from trustdesk.tabular import Row

QUICK = os.environ.get("TRUSTDESK_BENCH_QUICK") == "1"
N = 10_000 if QUICK else 100_000
TARGET = 20_000
COLUMNS = ColumnMap(external_id="tweet_id", text="text", at="tweet_created", segment="airline")


def _rows() -> list[Row]:
    with gzip.open(
        str(files("trustdesk.data") / "airline_tweets.csv.gz"), "rt", encoding="utf-8"
    ) as fh:
        tweets = list(csv.DictReader(fh))
    rows = []
    for i in range(N):
        t = tweets[i % len(tweets)]
        fields = {
            "tweet_id": f"bench-{i}",
            "text": t["text"],
            "tweet_created": t["tweet_created"],
            "airline": t["airline"],
        }
        rows.append(Row(i + 1, fields))
    return rows


class _Precomputed:
    """Stands in for the analyser to measure what storage costs without the models."""

    version = "bench"

    def analyse(self, texts):
        n = len(texts)
        return TextAnalysis(
            ["neutral"] * n,
            np.full((n, 3), 1 / 3, dtype=np.float32),
            np.zeros(n, dtype=np.int32),
            "bench",
        )


def _import(base: Path, name: str, rows: list[Row], analyser) -> tuple[float, float]:
    platform = Platform.open(Settings(data_dir=base / name, log_level="WARNING"))
    migrate.upgrade(platform.db)
    start = time.perf_counter()
    report = import_feedback_rows(
        platform.db, platform.vault, rows, analyser, actor="bench", columns=COLUMNS, source="social"
    )
    first = N / (time.perf_counter() - start)
    start = time.perf_counter()
    again = import_feedback_rows(
        platform.db, platform.vault, rows, analyser, actor="bench", columns=COLUMNS, source="social"
    )
    rerun = N / (time.perf_counter() - start)
    platform.close()
    assert report.created == N and again.unchanged == N, (report.created, len(report.rejected))
    return first, rerun


def _staged(base: Path, rows: list[Row], analyser) -> tuple[float, float]:
    """Ingest with analysis deferred, then the analysis-and-indexing stage, each timed."""
    platform = Platform.open(Settings(data_dir=base / "staged", log_level="WARNING"))
    migrate.upgrade(platform.db)
    start = time.perf_counter()
    report = import_feedback_rows(
        platform.db, platform.vault, rows, None, actor="bench", columns=COLUMNS, source="social"
    )
    ingest = N / (time.perf_counter() - start)
    start = time.perf_counter()
    done = analyse_pending(platform.db, platform.vault, analyser)
    processing = N / (time.perf_counter() - start)
    platform.close()
    assert report.created == N and done == N
    return ingest, processing


def main() -> None:
    rows = _rows()
    analyser = default_analyser()
    texts = [r.fields["text"] for r in rows[:20_000]]
    start = time.perf_counter()
    analyser.analyse(texts)
    analysis = len(texts) / (time.perf_counter() - start)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        conn = sqlite3.connect(base / "plain.db")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            "CREATE TABLE f (id INTEGER PRIMARY KEY, source TEXT, external_id TEXT, at TEXT, segment TEXT, text TEXT, UNIQUE (source, external_id))"
        )
        start = time.perf_counter()
        with conn:
            conn.executemany(
                "INSERT INTO f (source, external_id, at, segment, text) VALUES ('social', :tweet_id, :tweet_created, :airline, :text)",
                [r.fields for r in rows],
            )
        plain = N / (time.perf_counter() - start)
        conn.close()
        index_terms = search.index_terms
        search.index_terms = lambda *_args: 0  # the import as it was before the search index
        try:
            unindexed, _ = _import(base, "store-unindexed", rows, _Precomputed())
        finally:
            search.index_terms = index_terms
        stored, _ = _import(base, "store", rows, _Precomputed())
        ingest, processing = _staged(base, rows, analyser)
        full, full_again = _import(base, "full", rows, analyser)
    print(f"rows: {N} (target {TARGET:,} rows/s)")
    print(f"baseline plaintext executemany:          {plain:10,.0f} rows/s")
    print(f"text analysis alone (sentiment+topics):  {analysis:10,.0f} texts/s")
    print(
        f"import, analysis precomputed, no search: {unindexed:10,.0f} rows/s  ({unindexed / plain:.3f} x baseline)"
    )
    print(
        f"import, analysis precomputed:            {stored:10,.0f} rows/s  ({stored / plain:.3f} x baseline,"
        f" {stored / unindexed:.2f} x without search index)"
    )
    print("import end to end (validate, analyse,")
    print(
        f"  encrypt, insert, audit):               {full:10,.0f} rows/s  ({full / plain:.3f} x baseline)"
    )
    print(
        f"idempotent re-import:                    {full_again:10,.0f} rows/s  ({full_again / plain:.3f} x baseline)"
    )
    print("staged, as `trustdesk feedback import` runs it:")
    print(
        f"  1. ingest (validate, encrypt, insert, audit): {ingest:10,.0f} rows/s  ({ingest / plain:.3f} x baseline;"
        f" target {TARGET:,})"
    )
    print(f"  2. analyse + index for search:               {processing:10,.0f} rows/s")


if __name__ == "__main__":
    main()
