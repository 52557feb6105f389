"""The fraud model: gradient-boosted trees (LightGBM), versioned with its validation figures,
and per-decision reasons in plain words from the trees' feature contributions."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

__all__ = ["FraudModel", "Reason", "train_baseline", "train_model"]

PARAMS: dict[str, Any] = {
    "n_estimators": 300,
    "learning_rate": 0.05,
    "num_leaves": 31,
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
    "hour": "the time of day",
}


@dataclass(frozen=True)
class Reason:
    feature: str
    words: str
    contribution: float  # in log-odds; positive pushes towards fraud


@dataclass
class FraudModel:
    booster: lgb.Booster
    features: tuple[str, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def score(self, features: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.booster.predict(features[list(self.features)]), dtype=float)

    def score_one(self, features: dict[str, float]) -> float:
        """One transaction, on one thread: thread start-up would cost 50 times the prediction."""
        row = np.array([[features[name] for name in self.features]], dtype=float)
        return float(self.booster.predict(row, num_threads=1)[0])

    def reasons_one(self, features: dict[str, float], top: int = 3) -> list[Reason]:
        frame = pd.DataFrame([features], columns=list(self.features))
        return self.reasons(frame, top)[0]

    def explain_one(self, features: dict[str, float], top: int = 3) -> list[Reason]:
        """`reasons_one` without pandas and on one thread, for real-time scoring."""
        row = np.array([[features[name] for name in self.features]], dtype=float)
        contrib = np.asarray(self.booster.predict(row, pred_contrib=True, num_threads=1))[0, :-1]
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


def train_model(
    features: pd.DataFrame, labels: np.ndarray, feature_names: tuple[str, ...]
) -> FraudModel:
    classifier = lgb.LGBMClassifier(**PARAMS)
    classifier.fit(features[list(feature_names)], labels)
    meta = {
        "trained_at": datetime.now(UTC).isoformat(),
        "params": PARAMS,
        "training_rows": len(features),
        "training_fraud_rate": float(np.mean(labels)),
    }
    return FraudModel(classifier.booster_, feature_names, meta)


def train_baseline(
    features: pd.DataFrame, labels: np.ndarray, feature_names: tuple[str, ...]
) -> Any:
    """The handbook's logistic regression on its own features: the baseline for every figure."""
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    pipeline.fit(features[list(feature_names)].fillna(0), labels)
    return pipeline
