"""Fraud backtest on the handbook's simulated transactions (its protocol: train 7 days from
2018-07-25, 7-day label delay, test 7 days), LightGBM with history features against the handbook's
logistic regression baseline in the same run, and against the handbook's published table.
Then real-time scoring: payments scored and stored one at a time through `service.score_transaction`
(what `POST /api/v1/transactions/score` runs) against the model scoring them as one batch.

Reads ../shared/data/card-transactions/transactions.csv.gz (or TRUSTDESK_BENCH_TRANSACTIONS).
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from trustdesk import migrate
from trustdesk.config import Settings
from trustdesk.fraud import service
from trustdesk.fraud.learning.backtest import Protocol, load_transactions, run_backtest
from trustdesk.fraud.learning.classifier import FraudModel
from trustdesk.fraud.learning.features import build_features
from trustdesk.fraud.learning.online import History, Transaction
from trustdesk.fraud.rules.ruleset import default_rules_text, parse_rules
from trustdesk.fraud.schemas import TransactionIn
from trustdesk.fraud.scoring.engine import FraudEngine
from trustdesk.fraud.scoring.holder import limits_from
from trustdesk.platform import Platform

PUBLISHED_BEST = {"auc": 0.876, "ap": 0.687, "cp_at_100": 0.303}  # best of each column
QUICK = os.environ.get("TRUSTDESK_BENCH_QUICK") == "1"
DEFAULT = Path(__file__).resolve().parents[2] / "shared/data/card-transactions/transactions.csv.gz"


def main() -> None:
    path = Path(os.environ.get("TRUSTDESK_BENCH_TRANSACTIONS", DEFAULT))
    if not path.is_file():
        print(f"skipped: {path} not found")
        return
    start = time.perf_counter()
    frame = load_transactions(path)
    result = run_backtest(frame, Protocol(date(2018, 7, 25)), with_baseline=True)
    elapsed = time.perf_counter() - start
    m, b = result.metrics, result.baseline
    assert b is not None
    print(f"train rows {result.train_rows}, test rows {result.test_rows}, {elapsed:.1f} s")
    print(f"{'':34}{'AUC':>8}{'AP':>8}{'CP@100':>8}")
    print(f"{'LightGBM + history features':34}{m.auc:8.3f}{m.ap:8.3f}{m.cp_at_100:8.3f}")
    print(f"{'baseline: logistic regression':34}{b.auc:8.3f}{b.ap:8.3f}{b.cp_at_100:8.3f}")
    pub = PUBLISHED_BEST
    print(f"{'handbook best published':34}{pub['auc']:8.3f}{pub['ap']:8.3f}{pub['cp_at_100']:8.3f}")
    print(
        f"ratio to baseline: AUC {m.auc / b.auc:.3f}, AP {m.ap / b.ap:.3f}, "
        f"CP@100 {m.cp_at_100 / b.cp_at_100:.3f}"
    )
    _real_time(frame, result.model)


def _real_time(frame: pd.DataFrame, model: FraudModel) -> None:
    """In-process scoring one transaction at a time through `service.score_transaction`, the
    code `POST /api/v1/transactions/score` runs (checks, history, features, model, rules,
    decision and reasons, the payment stored in its own transaction; SQLite in a temporary
    folder), against scoring the same transactions as one batch (the baseline)."""
    engine = FraudEngine(
        model, "backtest", parse_rules(default_rules_text()), 0, History(timedelta(days=7))
    )
    warm = frame[(frame.tx_datetime >= "2018-06-01") & (frame.tx_datetime < "2018-08-08")]
    for row in warm.itertuples(index=False):
        engine.observe(_tx(row))
    test = frame[frame.tx_datetime >= "2018-08-08"].head(5000 if QUICK else 20000)
    txs = [_payment(row) for row in test.itertuples(index=False)]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), log_level="WARNING", environment="test")
        platform = Platform.open(settings)
        try:
            migrate.upgrade(platform.db)
            limits = limits_from(settings)
            start = time.perf_counter()
            for tx in txs:
                service.score_transaction(platform.db, engine, tx, limits)
            single = len(txs) / (time.perf_counter() - start)
        finally:
            platform.close()
    features = build_features(
        frame[frame.tx_datetime >= "2018-06-01"], label_delay=timedelta(days=7)
    )
    chunk = features.tail(len(txs))
    start = time.perf_counter()
    model.score(chunk)
    batch = len(txs) / (time.perf_counter() - start)
    print(f"real-time, one at a time, scored and stored: {single:10,.0f} transactions/s")
    print(
        f"baseline, model alone on a batch: {batch:10,.0f} transactions/s "
        f"(real-time = {single / batch:.3f} x baseline)"
    )


def _payment(row: object) -> TransactionIn:
    r: Any = row
    return TransactionIn(
        transaction_id=str(r.transaction_id),
        at=r.tx_datetime.tz_localize("UTC").to_pydatetime(),
        customer_id=str(r.customer_id),
        terminal_id=str(r.terminal_id),
        amount=Decimal(f"{r.tx_amount:.2f}"),
    )


def _tx(row: object) -> Transaction:
    r: Any = row
    return Transaction(
        str(r.transaction_id),
        r.tx_datetime.tz_localize("UTC").to_pydatetime(),
        str(r.customer_id),
        str(r.terminal_id),
        float(r.tx_amount),
    )


if __name__ == "__main__":
    main()
