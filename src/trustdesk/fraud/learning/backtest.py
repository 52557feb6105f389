"""The handbook's backtest protocol: train on a week, skip the label delay, test on the next week.

Test-period labels are hidden (set to unknown) before any feature is built, so nothing downstream
can use them; they come back only to measure the scores.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trustdesk.errors import InvalidInput
from trustdesk.fraud.learning.classifier import (
    FraudModel,
    Trainer,
    fit_local,
    train_baseline,
    train_forest,
    train_model,
)
from trustdesk.fraud.learning.features import (
    FEATURES,
    HANDBOOK_FEATURES,
    REQUIRED_COLUMNS,
    GroupMap,
    build_features,
)
from trustdesk.fraud.learning.metrics import Scores, score
from trustdesk.input_files import check_input_file

__all__ = [
    "BacktestResult",
    "Protocol",
    "load_transactions",
    "rolling_windows",
    "run_backtest",
]

HISTORY_DAYS = 75  # enough for the longest feature window (60 days) before the training week
CALIBRATION_SHARE = 2 / 7  # of the training days, the latest ones, for calibration
LONGEST_WINDOW_DAYS = 60  # the card's baseline spending, 14-60 days back


@dataclass(frozen=True)
class Protocol:
    train_start: date
    train_days: int = 7
    delay_days: int = 7
    test_days: int = 7

    @property
    def test_start(self) -> pd.Timestamp:
        return pd.Timestamp(self.train_start) + pd.Timedelta(days=self.train_days + self.delay_days)

    @property
    def test_end(self) -> pd.Timestamp:
        return self.test_start + pd.Timedelta(days=self.test_days)


@dataclass
class BacktestResult:
    scores: pd.DataFrame  # transaction_id, score: every transaction of the test period
    metrics: Scores  # on the handbook's test set (cards already known as compromised removed)
    metrics_all: Scores  # on every test transaction
    baseline: Scores | None
    model: FraudModel
    train_rows: int
    test_rows: int
    forest: Scores | None = None  # the handbook-style random forest, same window

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "train_rows": self.train_rows,
            "test_rows": self.test_rows,
            "model": self.metrics.as_dict(),
            "model_all_test_transactions": self.metrics_all.as_dict(),
        }
        if self.baseline:
            out["baseline_logistic_regression"] = self.baseline.as_dict()
        if self.forest:
            out["baseline_random_forest"] = self.forest.as_dict()
        return out


def rolling_windows(
    first: date,
    last: date,
    *,
    train_days: int = 7,
    delay_days: int = 7,
    test_days: int = 7,
    step_days: int = 7,
) -> list[Protocol]:
    """Every window (oldest first) of a rolling-origin evaluation over the days [first, last].

    The latest window's test period ends with `last`; each earlier one starts `step_days` sooner,
    as long as its first training day has the longest feature window of history before it.
    """
    span = timedelta(days=train_days + delay_days + test_days)
    start = last + timedelta(days=1) - span
    out: list[Protocol] = []
    while start - timedelta(days=LONGEST_WINDOW_DAYS) >= first:
        out.append(Protocol(start, train_days, delay_days, test_days))
        start -= timedelta(days=step_days)
    return out[::-1]


def load_transactions(path: Path) -> pd.DataFrame:
    """Read a transactions CSV (maybe gzipped); the simulator's scenario column is never read."""
    check_input_file(path)
    wanted = {*REQUIRED_COLUMNS, "tx_fraud"}
    try:
        frame = pd.read_csv(path, usecols=lambda c: c in wanted)
    except (ValueError, pd.errors.ParserError, OSError, EOFError, zlib.error) as exc:
        raise InvalidInput(f"{path.name}: not a readable CSV ({exc})") from exc
    missing = wanted - set(frame.columns)
    if missing:
        raise InvalidInput(f"{path.name}: missing column(s): {', '.join(sorted(missing))}")
    frame["tx_datetime"] = pd.to_datetime(frame["tx_datetime"], errors="coerce")
    if frame["tx_datetime"].isna().any():
        raise InvalidInput(f"{path.name}: some tx_datetime values are not dates")
    return frame


def _handbook_test_set(frame: pd.DataFrame, protocol: Protocol) -> pd.DataFrame:
    """Drop, each test day, the cards already known as compromised (as the handbook does)."""
    day0 = pd.Timestamp(protocol.train_start)
    train = frame[
        (frame["tx_datetime"] >= day0)
        & (frame["tx_datetime"] < day0 + pd.Timedelta(days=protocol.train_days))
    ]
    known = set(train.loc[train["tx_fraud"] == 1, "customer_id"])
    kept = []
    for k in range(protocol.test_days):
        day = protocol.test_start + pd.Timedelta(days=k)
        # Labels of the day `delay` days earlier have just become known.
        revealed = day - pd.Timedelta(days=protocol.delay_days + 1)
        newly = frame[
            (frame["tx_datetime"] >= revealed)
            & (frame["tx_datetime"] < revealed + pd.Timedelta(days=1))
        ]
        known |= set(newly.loc[newly["tx_fraud"] == 1, "customer_id"])
        today = frame[
            (frame["tx_datetime"] >= day) & (frame["tx_datetime"] < day + pd.Timedelta(days=1))
        ]
        kept.append(today[~today["customer_id"].isin(known)])
    return pd.concat(kept)


def run_backtest(
    transactions: pd.DataFrame,
    protocol: Protocol,
    *,
    with_baseline: bool = False,
    group_map: GroupMap | None = None,
    with_forest: bool = False,
    feature_names: tuple[str, ...] = FEATURES,
    calibrate: bool = True,
    trainer: Trainer = fit_local,
) -> BacktestResult:
    """Train on the training days, score the test days. `group_map`: where the per-card and
    per-terminal feature windows run (`DaskGroups` for a Dask cluster: the same features);
    `trainer`: where the trees grow (here, or `DaskTrainer`: LightGBM's data-parallel learner on
    the cluster, a slightly different model). Scoring and metrics run here."""
    start = pd.Timestamp(protocol.train_start) - pd.Timedelta(days=HISTORY_DAYS)
    frame = transactions[
        (transactions["tx_datetime"] >= start) & (transactions["tx_datetime"] < protocol.test_end)
    ].reset_index(drop=True)
    in_test = frame["tx_datetime"] >= protocol.test_start
    if not in_test.any():
        raise InvalidInput("no transactions in the test period")
    truth = frame["tx_fraud"].copy()
    hidden = frame.assign(tx_fraud=np.where(in_test, 0, frame["tx_fraud"]))  # test labels unknown
    delay = timedelta(days=protocol.delay_days)
    features = (
        build_features(hidden, label_delay=delay, group_map=group_map)
        if group_map is not None
        else build_features(hidden, label_delay=delay)
    )
    day0 = pd.Timestamp(protocol.train_start)
    in_train = (frame["tx_datetime"] >= day0) & (
        frame["tx_datetime"] < day0 + pd.Timedelta(days=protocol.train_days)
    )
    if truth[in_train].nunique() < 2:
        raise InvalidInput("the training period needs both fraudulent and genuine transactions")
    # The training window's later days (two of seven) calibrate the probabilities out of time.
    later = frame.loc[in_train, "tx_datetime"] >= day0 + pd.Timedelta(
        days=protocol.train_days - max(1, round(protocol.train_days * CALIBRATION_SHARE))
    )
    model = train_model(
        features[in_train],
        truth[in_train].to_numpy(),
        feature_names,
        calibration_slice=later.to_numpy() if calibrate and protocol.train_days >= 3 else None,
        trainer=trainer,
    )
    test_scores = model.score(features[in_test])
    scored = frame.loc[in_test, ["transaction_id"]].assign(score=test_scores)

    evaluation = frame.assign(
        day=(frame["tx_datetime"] - day0).dt.days, tx_fraud=truth, score=np.nan
    )
    evaluation.loc[in_test, "score"] = test_scores
    handbook = _handbook_test_set(evaluation, protocol)
    metrics = score(handbook, handbook["score"].to_numpy())
    all_test = evaluation[in_test]
    metrics_all = score(all_test, all_test["score"].to_numpy())
    baseline = None
    if with_baseline:
        lr = train_baseline(features[in_train], truth[in_train].to_numpy(), HANDBOOK_FEATURES)
        base_scores = lr.predict_proba(
            features.loc[handbook.index, list(HANDBOOK_FEATURES)].fillna(0)
        )[:, 1]
        baseline = score(handbook, base_scores)
    forest = None
    if with_forest:
        rf = train_forest(features[in_train], truth[in_train].to_numpy(), HANDBOOK_FEATURES)
        rf_scores = rf.predict_proba(
            features.loc[handbook.index, list(HANDBOOK_FEATURES)].fillna(0)
        )[:, 1]
        forest = score(handbook, rf_scores)
    model.meta["validation"] = {"protocol": protocol.__dict__, **metrics.as_dict()}
    return BacktestResult(
        scores=scored.reset_index(drop=True),
        metrics=metrics,
        metrics_all=metrics_all,
        baseline=baseline,
        forest=forest,
        model=model,
        train_rows=int(in_train.sum()),
        test_rows=int(in_test.sum()),
    )
