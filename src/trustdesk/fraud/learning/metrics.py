"""The fraud-detection handbook's metrics: AUC ROC, average precision, card precision@k."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

__all__ = ["Scores", "card_precision_at_k", "score"]


@dataclass(frozen=True)
class Scores:
    auc: float
    ap: float
    cp_at_100: float

    def as_dict(self) -> dict[str, float]:
        return {
            "auc_roc": self.auc,
            "average_precision": self.ap,
            "card_precision_at_100": self.cp_at_100,
        }


def card_precision_at_k(frame: pd.DataFrame, scores: np.ndarray, k: int = 100) -> float:
    """Each day, of the k cards with the highest score, the share really compromised; averaged.

    `frame` needs `day`, `customer_id` and `tx_fraud`; a card's score for a day is its highest.
    """
    data = frame[["day", "customer_id", "tx_fraud"]].assign(score=scores)
    daily = []
    for _, day in data.groupby("day"):
        cards = day.groupby("customer_id").agg(score=("score", "max"), fraud=("tx_fraud", "max"))
        top = cards.sort_values("score", ascending=False, kind="stable").head(k)
        daily.append(float(top["fraud"].sum()) / k)
    return float(np.mean(daily)) if daily else float("nan")


def score(frame: pd.DataFrame, scores: np.ndarray) -> Scores:
    labels = frame["tx_fraud"].to_numpy()
    return Scores(
        auc=float(roc_auc_score(labels, scores)),
        ap=float(average_precision_score(labels, scores)),
        cp_at_100=card_precision_at_k(frame, scores, 100),
    )
