"""Pure result statistics: a mean with its t interval, NPS with its interval, and item drivers
with significance (Benjamini-Hochberg across items). No database."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from trustdesk.surveys.scoring import scipy_stats

__all__ = ["Driver", "Estimate", "benjamini_hochberg", "drivers", "mean_interval", "nps_interval"]


@dataclass(frozen=True)
class Estimate:
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int


def mean_interval(values: np.ndarray, level: float = 0.95) -> Estimate:
    """Mean with a Student t interval (None with fewer than two values)."""
    n = len(values)
    if n == 0:
        return Estimate(None, None, None, 0)
    m = float(values.mean())
    if n < 2:
        return Estimate(round(m, 2), None, None, 1)
    half = (
        float(scipy_stats().t.ppf(0.5 + level / 2, n - 1))
        * float(values.std(ddof=1))
        / math.sqrt(n)
    )
    return Estimate(round(m, 2), round(max(m - half, 0.0), 2), round(min(m + half, 100.0), 2), n)


def nps_interval(scores: np.ndarray, level: float = 0.95) -> Estimate:
    """Net Promoter Score (% promoters 9-10 minus % detractors 0-6, -100..100) with the normal
    interval of a difference of two multinomial shares:
    var = (p + d - (p - d)^2) / n."""
    n = len(scores)
    if n == 0:
        return Estimate(None, None, None, 0)
    p = float((scores >= 9).mean())
    d = float((scores <= 6).mean())
    nps = 100.0 * (p - d)
    z = float(scipy_stats().norm.ppf(0.5 + level / 2))
    half = 100.0 * z * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n)
    return Estimate(
        round(nps, 2), round(max(nps - half, -100.0), 2), round(min(nps + half, 100.0), 2), n
    )


@dataclass(frozen=True)
class Driver:
    item: str
    dimension: str | None
    r: float  # Pearson correlation of the item with the outcome
    p_value: float
    q_value: float  # Benjamini-Hochberg adjusted across the items
    n: int
    significant: bool  # q < 0.05


def benjamini_hochberg(p: Sequence[float]) -> list[float]:
    """Adjusted p-values (q) controlling the false discovery rate across the tests."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    q = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p[i] * m / rank)
        q[i] = running
    return q


def drivers(
    items: Sequence[tuple[str, str | None]], answers: np.ndarray, outcome: np.ndarray
) -> list[Driver]:
    """Which items go with the outcome (likelihood to recommend): per item, Pearson r over the
    respondents who answered both, a two-sided t test of r = 0, BH-adjusted; strongest first.
    `answers` is respondents x items with NaN for unanswered. Correlation, not cause."""
    found: list[tuple[str, str | None, float, float, int]] = []
    for j, (item, dimension) in enumerate(items):
        both = ~np.isnan(answers[:, j]) & ~np.isnan(outcome)
        n = int(both.sum())
        if n < 5:
            continue
        x, y = answers[both, j], outcome[both]
        if x.std() == 0 or y.std() == 0:
            continue
        r = float(np.corrcoef(x, y)[0, 1])
        r = max(min(r, 0.999999), -0.999999)
        t = r * math.sqrt((n - 2) / (1 - r * r))
        p = float(2 * scipy_stats().t.sf(abs(t), n - 2))
        found.append((item, dimension, r, p, n))
    q = benjamini_hochberg([f[3] for f in found])
    result = [
        Driver(item, dim, round(r, 3), p, round(qv, 6), n, qv < 0.05)
        for (item, dim, r, p, n), qv in zip(found, q, strict=True)
    ]
    return sorted(result, key=lambda d: -abs(d.r))
