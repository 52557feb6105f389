"""Daily monitoring figures of the fraud decisions, from stored decisions and the labels so far.

Per day: how precise the reviews were (reviewed cases labelled fraud), how much labelled fraud
was caught (declined or sent to review), how often a decline hit a genuine customer, and how far
the day's scores drifted from the model's validation scores (population stability index, PSI:
under 0.1 stable, 0.1 to 0.25 worth a look, above 0.25 a shift). Pure: no database here.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

__all__ = ["DayFigures", "daily_figures", "psi"]

FRAUD_LABELS = frozenset({"fraud", "chargeback"})
_FLOOR = 1e-4  # empty bins would make the PSI infinite


@dataclass(frozen=True)
class DayFigures:
    day: date
    decided: int
    reviewed: int
    declined: int
    review_precision: float | None  # reviewed and labelled fraud / reviewed and labelled
    fraud_caught: float | None  # labelled fraud declined or reviewed / labelled fraud
    false_declines: float | None  # declined and labelled genuine / declined
    psi: float | None


def psi(scores: Sequence[float], edges: Sequence[float], expected: Sequence[float]) -> float:
    """Population stability index of `scores` against shares `expected` in bins `edges`."""
    counts, _ = np.histogram(np.clip(np.asarray(scores, dtype=float), 0.0, 1.0), bins=edges)
    actual = counts / max(1, counts.sum())
    total = 0.0
    for a, e in zip(actual, expected, strict=True):
        a, e = max(float(a), _FLOOR), max(float(e), _FLOOR)
        total += (a - e) * math.log(a / e)
    return total


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def daily_figures(
    rows: Sequence[tuple[datetime, float, str, str | None]],
    baseline: dict[str, list[float]] | None,
) -> list[DayFigures]:
    """One entry per day with decisions, oldest first; `baseline` holds the validation bins."""
    by_day: dict[date, list[tuple[float, str, str | None]]] = defaultdict(list)
    for at, score, decision, label in rows:
        by_day[at.date()].append((score, decision, label))
    out = []
    for day in sorted(by_day):
        items = by_day[day]
        reviewed = [label for _, d, label in items if d == "review"]
        declined = [label for _, d, label in items if d == "decline"]
        reviewed_labelled = [label for label in reviewed if label is not None]
        frauds = [d for _, d, label in items if label in FRAUD_LABELS]
        out.append(
            DayFigures(
                day=day,
                decided=len(items),
                reviewed=len(reviewed),
                declined=len(declined),
                review_precision=_share(
                    sum(label in FRAUD_LABELS for label in reviewed_labelled),
                    len(reviewed_labelled),
                ),
                fraud_caught=_share(sum(d in ("decline", "review") for d in frauds), len(frauds)),
                false_declines=_share(sum(label == "genuine" for label in declined), len(declined)),
                psi=(
                    psi([s for s, _, _ in items], baseline["edges"], baseline["shares"])
                    if baseline
                    else None
                ),
            )
        )
    return out
