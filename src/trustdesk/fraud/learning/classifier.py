"""The fraud model: gradient-boosted trees (LightGBM), versioned with its validation figures,
and per-decision reasons in plain words from the trees' feature contributions."""

from __future__ import annotations

import ctypes
import json
import math
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lightgbm as lgb
import lightgbm.basic as lgb_basic
import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

__all__ = [
    "FraudModel",
    "Reason",
    "Trainer",
    "fit_local",
    "fit_platt",
    "train_baseline",
    "train_forest",
    "train_model",
]

# Shallow trees (at most 15 leaves, depth 6): as accurate in the backtest as 31 leaves grown
# without a depth limit (AP 0.696-0.701 either way over four seeds), and their SHAP explanations
# cost a tenth (TreeSHAP is linear in leaves and quadratic in depth): see docs/fraud-decisions.md.
PARAMS: dict[str, Any] = {
    "n_estimators": 300,
    "learning_rate": 0.05,
    "num_leaves": 15,
    "max_depth": 6,
    "min_child_samples": 50,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "random_state": 7,
    "n_jobs": 2,
    "verbose": -1,
}

PLAIN_WORDS: dict[str, str] = {
    "tx_amount": "the amount",
    "amount_to_customer_baseline": "the amount compared with what this customer usually spends",
    "amount_to_customer_avg_30d": "the amount compared with this customer's last 30 days",
    "amount_to_customer_avg_7d": "the amount compared with this customer's last 7 days",
    "amount_to_customer_median_30d": "the amount compared with this customer's typical purchase",
    "amount_zscore_30d": "how unusual the amount is for this customer",
    "customer_avg_7d_to_baseline": "this customer's recent spending compared with their usual",
    "terminal_risk_1d": "recent confirmed fraud at this terminal",
    "terminal_risk_7d": "confirmed fraud at this terminal in the past week",
    "terminal_risk_30d": "confirmed fraud at this terminal in the past month",
    "customer_known_frauds_14d": "confirmed fraud on this card in the past two weeks",
    "hours_since_customer_last_tx": "the time since this card's previous purchase",
    "customer_nb_tx_1d": "how many purchases this card made today",
    "during_night": "the time of night",
    "during_weekend": "a weekend purchase",
    "hour": "the time of day",
    "customer_nb_tx_7d": "how many purchases this card made this week",
    "customer_nb_tx_30d": "how many purchases this card made this month",
    "customer_avg_amount_1d": "this card's average purchase today",
    "customer_avg_amount_7d": "this card's average purchase this week",
    "customer_avg_amount_30d": "this card's average purchase this month",
    "customer_max_amount_7d": "this card's largest purchase this week",
    "customer_max_amount_30d": "this card's largest purchase this month",
    "customer_std_amount_30d": "how much this card's purchases vary",
    "customer_median_amount_30d": "this card's typical purchase",
    "customer_baseline_nb_tx": "how much history this card has",
    "terminal_nb_tx_1d": "how busy this terminal was today",
    "terminal_nb_tx_7d": "how busy this terminal was this week",
    "terminal_nb_tx_30d": "how busy this terminal was this month",
    "terminal_nb_tx_last_day": "how busy this terminal was in the last day",
    "terminal_days_since_known_fraud": "a recent confirmed fraud at this terminal",
    "customer_days_since_known_fraud": "a recent confirmed fraud on this card",
}


@dataclass(frozen=True)
class Reason:
    feature: str
    words: str
    contribution: float  # in log-odds; positive pushes towards fraud


_PREDICT_NORMAL, _PREDICT_CONTRIB, _FLOAT64 = 0, 3, 1  # LightGBM's C API constants
_LIB: Any = vars(lgb_basic)["_LIB"]  # the package's handle on its own library
_safe_call = lgb_basic._safe_call


class _SingleRow:
    """LightGBM's single-row prediction, set up once (`LGBM_BoosterPredictForMatSingleRowFast`).

    `Booster.predict` spends about 50 µs per call on set-up (parameters, a predictor, array
    checks) before a few µs of tree walking. The C API keeps that set-up; the Python package does
    not expose it, so it is called here through the package's own library handle. It runs the same
    predictor as `Booster.predict` with the same parameters (`num_threads=1`) and iterations, so the
    numbers are the same (pinned by tests/unit/test_fraud_fast_path.py).
    """

    def __init__(self, booster: lgb.Booster, ncol: int, predict_type: int, width: int) -> None:
        self._booster = booster  # the configuration points into it: keep it alive
        self._row = ctypes.c_double * ncol
        self._out = ctypes.c_double * width
        handle = ctypes.c_void_p()
        _safe_call(
            _LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
                booster._handle,
                ctypes.c_int(predict_type),
                ctypes.c_int(0),  # start_iteration, as Booster.predict
                ctypes.c_int(booster.best_iteration),  # what Booster.predict uses by default
                ctypes.c_int(_FLOAT64),
                ctypes.c_int32(ncol),
                ctypes.c_char_p(b"num_threads=1"),
                ctypes.byref(handle),
            )
        )
        self._handle = handle
        weakref.finalize(self, _LIB.LGBM_FastConfigFree, handle)

    def __call__(self, row: Sequence[float]) -> ctypes.Array[ctypes.c_double]:
        out = self._out()
        length = ctypes.c_int64(0)
        _safe_call(
            _LIB.LGBM_BoosterPredictForMatSingleRowFast(
                self._handle, self._row(*row), ctypes.byref(length), out
            )
        )
        return out


@dataclass
class FraudModel:
    booster: lgb.Booster
    features: tuple[str, ...]
    meta: dict[str, Any] = field(default_factory=dict)
    _fast: dict[int, _SingleRow] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _fast_lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    @property
    def calibration(self) -> tuple[float, float] | None:
        """Platt scaling (slope, intercept) on the trees' log-odds, when the model has one."""
        found = self.meta.get("calibration")
        if not isinstance(found, dict):
            return None
        return float(found["slope"]), float(found["intercept"])

    def score(self, features: pd.DataFrame) -> np.ndarray:
        raw = np.asarray(self.booster.predict(features[list(self.features)]), dtype=float)
        platt = self.calibration
        if platt is None:
            return raw
        return np.asarray([_platt(p, *platt) for p in raw], dtype=float)

    def _single_row(self, predict_type: int) -> _SingleRow:
        fast = self._fast.get(predict_type)
        if fast is None:
            with self._fast_lock:
                fast = self._fast.get(predict_type)
                if fast is None:
                    n = len(self.features)
                    width = n + 1 if predict_type == _PREDICT_CONTRIB else 1
                    fast = self._fast[predict_type] = _SingleRow(
                        self.booster, n, predict_type, width
                    )
        return fast

    def row(self, features: dict[str, float]) -> list[float]:
        """The feature values in the model's order."""
        return [features[name] for name in self.features]

    def score_one(self, features: dict[str, float]) -> float:
        """One transaction, on one thread: thread start-up would cost 50 times the prediction.

        The same number as `booster.predict` on a one-row array, without its per-call set-up.
        """
        raw = float(self._single_row(_PREDICT_NORMAL)(self.row(features))[0])
        platt = self.calibration
        return raw if platt is None else _platt(raw, *platt)

    def reasons_one(self, features: dict[str, float], top: int = 3) -> list[Reason]:
        frame = pd.DataFrame([features], columns=list(self.features))
        return self.reasons(frame, top)[0]

    def explain_one(self, features: dict[str, float], top: int = 3) -> list[Reason]:
        """`reasons_one` without pandas and on one thread, for real-time scoring."""
        out = self._single_row(_PREDICT_CONTRIB)(self.row(features))
        contrib = np.asarray(out[:-1], dtype=float)
        order = np.argsort(-contrib)[:top]
        return [
            Reason(
                self.features[i],
                PLAIN_WORDS.get(self.features[i], self.features[i].replace("_", " ")),
                float(contrib[i]),
            )
            for i in order
            if contrib[i] > 0
        ]

    def reasons(self, features: pd.DataFrame, top: int = 3) -> list[list[Reason]]:
        """The features that pushed each score up most, in plain words."""
        contrib = np.asarray(
            self.booster.predict(features[list(self.features)], pred_contrib=True)
        )[:, :-1]
        out: list[list[Reason]] = []
        for row in contrib:
            order = np.argsort(-row)[:top]
            out.append(
                [
                    Reason(
                        self.features[i],
                        PLAIN_WORDS.get(self.features[i], self.features[i].replace("_", " ")),
                        float(row[i]),
                    )
                    for i in order
                    if row[i] > 0
                ]
            )
        return out

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(directory / "model.txt"))
        meta = {**self.meta, "features": list(self.features), "kind": "lightgbm"}
        (directory / "meta.json").write_text(json.dumps(meta, indent=2, default=str))

    @classmethod
    def load(cls, directory: Path) -> FraudModel:
        meta = json.loads((directory / "meta.json").read_text())
        booster = lgb.Booster(model_file=str(directory / "model.txt"))
        return cls(booster, tuple(meta["features"]), meta)


def _logit(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))


def _platt(p: float, slope: float, intercept: float) -> float:
    """The calibrated probability of a raw score `p` (the same arithmetic, row or batch)."""
    z = slope * _logit(p) + intercept
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def fit_platt(raw: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Platt scaling: a logistic regression of the labels on the scores' log-odds."""
    z = np.asarray([_logit(float(p)) for p in raw]).reshape(-1, 1)
    fit = LogisticRegression(C=1e6, max_iter=1000).fit(z, labels)
    return float(fit.coef_[0][0]), float(fit.intercept_[0])


Trainer = Callable[[pd.DataFrame, np.ndarray], lgb.Booster]
"""Grows the trees (PARAMS) on feature rows and their labels: `fit_local` in this process, or
`DaskTrainer` (`fraud/learning/distributed.py`) with LightGBM's data-parallel learner on a Dask
cluster."""


def fit_local(features: pd.DataFrame, labels: np.ndarray) -> lgb.Booster:
    """The trees grown here, on this process's threads."""
    return lgb.LGBMClassifier(**PARAMS).fit(features, labels).booster_


def train_model(
    features: pd.DataFrame,
    labels: np.ndarray,
    feature_names: tuple[str, ...],
    *,
    calibration_slice: np.ndarray | None = None,
    trainer: Trainer = fit_local,
) -> FraudModel:
    """Trees on every training row. With `calibration_slice` (a mask of the training window's
    later rows), the probabilities are calibrated out of time: trees trained on the earlier rows
    score the later ones, a Platt scaling is fitted there and applied to the final model's
    scores. Platt scaling is monotonic: rankings (AUC, AP, CP@100) are unchanged. `trainer`
    grows both sets of trees (here by default, or on a Dask cluster)."""
    columns = list(feature_names)
    booster = trainer(features[columns], labels)
    meta: dict[str, Any] = {
        "trained_at": datetime.now(UTC).isoformat(),
        "params": PARAMS,
        "training_rows": len(features),
        "training_fraud_rate": float(np.mean(labels)),
    }
    if calibration_slice is not None:
        later = np.asarray(calibration_slice, dtype=bool)
        if len(set(labels[later])) == 2 and len(set(labels[~later])) == 2:
            early = trainer(features[columns][~later], labels[~later])
            raw = np.asarray(early.predict(features[columns][later]), dtype=float)
            slope, intercept = fit_platt(raw, labels[later])
            meta["calibration"] = {
                "method": "platt",
                "slope": slope,
                "intercept": intercept,
                "fitted_on_rows": int(later.sum()),
            }
    return FraudModel(booster, feature_names, meta)


def train_baseline(
    features: pd.DataFrame, labels: np.ndarray, feature_names: tuple[str, ...]
) -> Any:
    """The handbook's logistic regression on its own features: the baseline for every figure."""
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    pipeline.fit(features[list(feature_names)].fillna(0), labels)
    return pipeline


# The handbook's random forest (chapter 5's model selection: 100 trees of depth up to 20) on its
# own features: the baseline of the rolling-window benchmark.
FOREST_PARAMS: dict[str, Any] = {
    "n_estimators": 100,
    "max_depth": 20,
    "random_state": 0,
    "n_jobs": 2,
}


def train_forest(features: pd.DataFrame, labels: np.ndarray, feature_names: tuple[str, ...]) -> Any:
    """A handbook-style random forest on the handbook's features (NaN read as 0)."""
    forest = RandomForestClassifier(**FOREST_PARAMS)
    forest.fit(features[list(feature_names)].fillna(0), labels)
    return forest
