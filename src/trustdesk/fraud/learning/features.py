"""Transaction features from history only, the same for training and scoring.

A feature of a transaction at time t uses transactions up to t (the current one included: its
amount is known when it is scored) and fraud labels only once they are known. Labels arrive late;
here a label is known `label_delay` after its transaction, so risk windows end at t - delay.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "FEATURES",
    "HANDBOOK_FEATURES",
    "REQUIRED_COLUMNS",
    "DaskGroups",
    "GroupMap",
    "build_features",
]

REQUIRED_COLUMNS = ("transaction_id", "tx_datetime", "customer_id", "terminal_id", "tx_amount")
WINDOWS = (1, 7, 30)

# The features of the handbook's published benchmark (chapter 3), kept as the baseline set.
HANDBOOK_FEATURES = (
    "tx_amount",
    "during_weekend",
    "during_night",
    *(f"customer_nb_tx_{w}d" for w in WINDOWS),
    *(f"customer_avg_amount_{w}d" for w in WINDOWS),
    *(f"terminal_nb_tx_{w}d" for w in WINDOWS),
    *(f"terminal_risk_{w}d" for w in WINDOWS),
)

FEATURES = (
    *HANDBOOK_FEATURES,
    "hour",
    "customer_max_amount_7d",
    "customer_max_amount_30d",
    "customer_std_amount_30d",
    "customer_median_amount_30d",
    "hours_since_customer_last_tx",
    "amount_to_customer_avg_7d",
    "amount_to_customer_avg_30d",
    "amount_zscore_30d",
    "customer_baseline_nb_tx",
    "amount_to_customer_baseline",
    "customer_avg_7d_to_baseline",
    "amount_to_customer_median_30d",
    "terminal_nb_tx_last_day",
    "customer_known_frauds_14d",
    "terminal_days_since_known_fraud",
    "customer_days_since_known_fraud",
)

# A customer's "normal" spending: days 14 to 60 before the transaction, before any recent
# compromise could have inflated it.
_BASELINE_FROM, _BASELINE_TO = 60, 14
# How far back (before t - delay) the latest known fraud of a card or terminal is looked for.
KNOWN_FRAUD_DAYS = 30


GroupMap = Callable[[pd.DataFrame, str, object], pd.DataFrame]
"""Runs `compute` on every group of rows sharing `key` and returns the results in row order."""


def _per_group(frame: pd.DataFrame, key: str, compute: object) -> pd.DataFrame:
    parts = []
    for _, group in frame.groupby(key, sort=False):
        series = group.set_index("tx_datetime")
        result = compute(series)  # type: ignore[operator]
        result.index = group.index
        parts.append(result)
    return pd.concat(parts).sort_index()


def _customer_history(g: pd.DataFrame) -> pd.DataFrame:
    amount = g["tx_amount"]
    one = amount * 0 + 1
    out: dict[str, np.ndarray] = {}
    for w in WINDOWS:
        rolling = amount.rolling(f"{w}D")
        out[f"customer_nb_tx_{w}d"] = rolling.count().to_numpy()
        out[f"customer_avg_amount_{w}d"] = rolling.mean().to_numpy()
        if w in (7, 30):
            out[f"customer_max_amount_{w}d"] = rolling.max().to_numpy()
    out["customer_std_amount_30d"] = amount.rolling("30D").std().fillna(0).to_numpy()
    out["customer_median_amount_30d"] = amount.rolling("30D").median().to_numpy()
    seconds = g.index.to_numpy().astype("datetime64[s]").astype(np.int64)
    gaps = np.diff(seconds, prepend=seconds[0] - 10**7) / 3600.0
    out["hours_since_customer_last_tx"] = gaps
    long_sum = amount.rolling(f"{_BASELINE_FROM}D").sum() - amount.rolling(f"{_BASELINE_TO}D").sum()
    long_n = one.rolling(f"{_BASELINE_FROM}D").sum() - one.rolling(f"{_BASELINE_TO}D").sum()
    n = long_n.to_numpy()
    out["customer_baseline_nb_tx"] = n
    out["_customer_baseline_avg"] = np.where(n > 0, long_sum.to_numpy() / np.maximum(n, 1), np.nan)
    return pd.DataFrame(out)


def _delayed_sum(values: pd.Series, window_days: int, delay: timedelta) -> np.ndarray:
    """Sum over (t - delay - window, t - delay]: what was known at t about that window."""
    wide = values.rolling(pd.Timedelta(days=window_days) + delay).sum()
    recent = values.rolling(delay).sum() if delay > timedelta(0) else values * 0
    return np.asarray((wide - recent).to_numpy())


def _days_since_known_fraud(g: pd.DataFrame, delay: timedelta) -> np.ndarray:
    """Days from the latest fraud known at t (in (t - delay - 30 days, t - delay]) to t, or NaN.

    A compromised card or terminal stays compromised for a while, so a recent known fraud tells
    more than a rate.
    """
    seconds = g.index.to_numpy().astype("datetime64[ns]").astype(np.int64) / 1e9
    frauds = seconds[g["tx_fraud"].to_numpy() == 1]
    known_until = seconds - delay.total_seconds()
    at = np.searchsorted(frauds, known_until, side="right") - 1
    latest = np.where(at >= 0, frauds[np.maximum(at, 0)] if len(frauds) else 0.0, np.nan)
    recent = latest > known_until - KNOWN_FRAUD_DAYS * 86_400.0
    return np.asarray(np.where(recent, (seconds - latest) / 86_400.0, np.nan))


def _terminal_history(delay: timedelta) -> object:
    def compute(g: pd.DataFrame) -> pd.DataFrame:
        fraud = g["tx_fraud"].astype(float)
        one = fraud * 0 + 1
        out: dict[str, np.ndarray] = {}
        for w in WINDOWS:
            n = _delayed_sum(one, w, delay)
            frauds = _delayed_sum(fraud, w, delay)
            out[f"terminal_nb_tx_{w}d"] = n
            out[f"terminal_risk_{w}d"] = np.where(n > 0, frauds / np.maximum(n, 1), 0.0)
        out["terminal_nb_tx_last_day"] = one.rolling("1D").sum().to_numpy()
        out["terminal_days_since_known_fraud"] = _days_since_known_fraud(g, delay)
        return pd.DataFrame(out)

    return compute


def _customer_labels(delay: timedelta) -> object:
    def compute(g: pd.DataFrame) -> pd.DataFrame:
        fraud = g["tx_fraud"].astype(float)
        return pd.DataFrame(
            {
                "customer_known_frauds_14d": _delayed_sum(fraud, 14, delay),
                "customer_days_since_known_fraud": _days_since_known_fraud(g, delay),
            }
        )

    return compute


class DaskGroups:
    """A GroupMap on a Dask cluster: the rows are split into `shards` by their key's hash (every
    group whole in one shard), each shard runs `_per_group` on a worker, the results come back
    in row order. The same per-group code, so the same features, value for value."""

    def __init__(self, client: Any, shards: int) -> None:
        self.client, self.shards = client, max(1, shards)

    def __call__(self, frame: pd.DataFrame, key: str, compute: object) -> pd.DataFrame:
        shard = pd.util.hash_pandas_object(frame[key], index=False).to_numpy() % self.shards
        futures = [
            self.client.submit(_per_group, frame[shard == k], key, compute, pure=False)
            for k in range(self.shards)
            if (shard == k).any()
        ]
        return pd.concat(self.client.gather(futures)).sort_index()


def build_features(
    transactions: pd.DataFrame, *, label_delay: timedelta, group_map: GroupMap = _per_group
) -> pd.DataFrame:
    """Features for every row, in the input's row order.

    `transactions` needs REQUIRED_COLUMNS and `tx_fraud` (1, 0; labels are only read through
    windows that end `label_delay` before each transaction). `group_map` runs the per-card and
    per-terminal windows: here by default, or `DaskGroups` on a Dask cluster.
    """
    missing = [c for c in (*REQUIRED_COLUMNS, "tx_fraud") if c not in transactions.columns]
    if missing:
        raise ValueError(f"missing columns: {', '.join(missing)}")
    frame = transactions.sort_values(["tx_datetime", "transaction_id"], kind="stable")
    frame = frame[[*REQUIRED_COLUMNS, "tx_fraud"]].copy()
    when = frame["tx_datetime"]
    frame["during_weekend"] = (when.dt.day_of_week >= 5).astype(int)
    frame["during_night"] = (when.dt.hour <= 6).astype(int)
    frame["hour"] = when.dt.hour
    frame = frame.join(group_map(frame, "customer_id", _customer_history))
    frame = frame.join(group_map(frame, "terminal_id", _terminal_history(label_delay)))
    frame = frame.join(group_map(frame, "customer_id", _customer_labels(label_delay)))
    amount = frame["tx_amount"]
    frame["amount_to_customer_avg_7d"] = amount / frame["customer_avg_amount_7d"]
    frame["amount_to_customer_avg_30d"] = amount / frame["customer_avg_amount_30d"]
    frame["amount_zscore_30d"] = (amount - frame["customer_avg_amount_30d"]) / (
        frame["customer_std_amount_30d"] + 1.0
    )
    frame["amount_to_customer_baseline"] = amount / frame["_customer_baseline_avg"]
    frame["customer_avg_7d_to_baseline"] = (
        frame["customer_avg_amount_7d"] / frame["_customer_baseline_avg"]
    )
    frame["amount_to_customer_median_30d"] = amount / frame["customer_median_amount_30d"]
    return frame.loc[transactions.index, list(FEATURES)]
