"""The trust index: statistics → a 0..100 score with a confidence interval, and its explanation.

Finalisation of the map/reduce in `aggregates.py`. Every function is vectorised over rows of
STAT_FIELDS and touches no database.

Shrinkage (empirical-Bayes credibility): a subject's weighted mean m with effective sample size
n_eff = (Σw)²/Σw² is pulled towards its parent level's score P (customer → segment → overall →
neutral 50) with the strength of k pseudo-observations:

    Z = n_eff / (n_eff + k),    index = P + Z·(m - P)

The interval treats the prior as k observations with the parent's item variance s_P² (the
normal-normal model with between-subject variance s_P²/k):

    s² = (n_eff·s_m² + k·s_P²) / (n_eff + k),    index ± z·sqrt(s² / (n_eff + k)), clipped to 0..100
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "NEUTRAL",
    "NEUTRAL_VARIANCE",
    "Estimate",
    "contributions",
    "describe",
    "estimate",
    "item_moves",
]

NEUTRAL = 50.0
NEUTRAL_VARIANCE = 100.0**2 / 12.0
"""Prior of the overall level: the scale's midpoint, with a uniform-on-0..100 spread."""
Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Moments:
    """Per row: count, effective sample size, weighted mean, weighted item variance."""

    n: np.ndarray
    n_eff: np.ndarray
    mean: np.ndarray
    variance: np.ndarray
    sw: np.ndarray


def describe(
    stats: np.ndarray, fallback_variance: np.ndarray | float = NEUTRAL_VARIANCE
) -> Moments:
    """Moments of rows of STAT_FIELDS; the variance falls back where n_eff ≤ 1 cannot give one."""
    stats = np.atleast_2d(np.asarray(stats, dtype=np.float64))
    n, sw, swx, swx2, sw2 = stats[:, 0], stats[:, 2], stats[:, 3], stats[:, 4], stats[:, 5]
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where(sw2 > 0, sw * sw / np.where(sw2 > 0, sw2, 1.0), 0.0)
        mean = np.where(sw > 0, swx / np.where(sw > 0, sw, 1.0), np.nan)
        raw = np.maximum(np.where(sw > 0, swx2 / np.where(sw > 0, sw, 1.0), 0.0) - mean**2, 0.0)
        corrected = raw * n_eff / np.where(n_eff > 1, n_eff - 1, 1.0)
    fallback = np.broadcast_to(np.asarray(fallback_variance, dtype=np.float64), n.shape)
    variance = np.where(n_eff > 1.0 + 1e-9, corrected, fallback)
    return Moments(n=n, n_eff=n_eff, mean=mean, variance=variance, sw=sw)


@dataclass(frozen=True)
class Estimate:
    """Per row: the shrunk index, its interval, the credibility Z and the parent it leans on."""

    index: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    n: np.ndarray
    n_eff: np.ndarray
    credibility: np.ndarray
    parent: np.ndarray
    raw_mean: np.ndarray
    variance: np.ndarray


def estimate(
    stats: np.ndarray,
    parent: np.ndarray | float,
    parent_variance: np.ndarray | float,
    *,
    prior_strength: float,
    z: float = Z_95,
) -> Estimate:
    """Shrunk scores of rows of STAT_FIELDS towards their parents (see the module docstring)."""
    m = describe(stats, parent_variance)
    p = np.broadcast_to(np.asarray(parent, dtype=np.float64), m.n.shape)
    pv = np.broadcast_to(np.asarray(parent_variance, dtype=np.float64), m.n.shape)
    k = float(prior_strength)
    credibility = m.n_eff / (m.n_eff + k) if k > 0 else np.where(m.n_eff > 0, 1.0, 0.0)
    own = np.where(np.isnan(m.mean), p, m.mean)
    index = np.clip(p + credibility * (own - p), 0.0, 100.0)
    denominator = np.maximum(m.n_eff + k, 1e-12)
    pooled = (m.n_eff * m.variance + k * pv) / denominator
    half = z * np.sqrt(pooled / denominator)
    return Estimate(
        index=index,
        ci_low=np.clip(index - half, 0.0, 100.0),
        ci_high=np.clip(index + half, 0.0, 100.0),
        n=m.n,
        n_eff=m.n_eff,
        credibility=credibility,
        parent=p.copy(),
        raw_mean=m.mean,
        variance=pooled,
    )


def contributions(signal_stats: np.ndarray, parent: float, *, prior_strength: float) -> np.ndarray:
    """Points each signal (a row of STAT_FIELDS) moves the subject's index away from its parent.

    With Z from the signals' stats together, signal s contributes Z·(W_s/W)·(m_s - P); these add
    up exactly to index - P.
    """
    rows = np.atleast_2d(np.asarray(signal_stats, dtype=np.float64))
    total = rows.sum(axis=0)
    whole = describe(total)
    sw = total[2]
    if sw <= 0:
        return np.zeros(len(rows))
    credibility = whole.n_eff[0] / (whole.n_eff[0] + prior_strength)
    means = describe(rows).mean
    share = rows[:, 2] / sw
    return np.where(rows[:, 2] > 0, credibility * share * (np.nan_to_num(means) - parent), 0.0)


def item_moves(
    values: np.ndarray, weights: np.ndarray, total_sw: float, credibility: float, parent: float
) -> np.ndarray:
    """Points each single observation moves its subject's index: Z·(w_i/W)·(x_i - P).

    `weights` must include the same recency factor as `total_sw` (same epoch).
    """
    if total_sw <= 0:
        return np.zeros(len(values))
    return credibility * (weights / total_sw) * (values.astype(np.float64) - parent)
