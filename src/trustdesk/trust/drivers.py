"""Drivers: which topics pull a segment's trust down or up, with their share and effect.

For a topic t in a segment, from the all-time statistics of the segment and of its rows
mentioning t (the rows without t are their difference, since the statistics are sums):

    share  = W_t / W                              (recency-weighted share of feedback)
    effect = mean(with t) - mean(without t)       (points; Welch interval from n_eff)
    impact = share · effect                       (points the topic moves the segment's index:
                                                   it would rise by -impact if items with t
                                                   scored like the rest)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from trustdesk.trust.index import Z_95, describe

__all__ = ["Driver", "rank_drivers"]

MIN_ITEMS = 5
"""Topics with fewer mentions (or fewer rows without them) get no effect estimate."""


@dataclass(frozen=True)
class Driver:
    topic: str
    n: int
    share: float
    effect: float
    ci_low: float
    ci_high: float
    impact: float
    direction: str  # "down" | "up" | "unclear" (interval includes 0)


def rank_drivers(
    segment_stats: np.ndarray, topic_stats: Mapping[str, np.ndarray], *, z: float = Z_95
) -> list[Driver]:
    """Drivers of one segment, the strongest downward pull first, then the strongest upward."""
    whole = np.asarray(segment_stats, dtype=np.float64)
    if whole[2] <= 0:
        return []
    found: list[Driver] = []
    for topic, stats in topic_stats.items():
        with_t = np.asarray(stats, dtype=np.float64)
        without = np.maximum(whole - with_t, 0.0)
        if with_t[0] < MIN_ITEMS or without[0] < MIN_ITEMS or with_t[2] <= 0 or without[2] <= 0:
            continue
        a, b = describe(with_t), describe(without)
        effect = float(a.mean[0] - b.mean[0])
        se = float(np.sqrt(a.variance[0] / a.n_eff[0] + b.variance[0] / b.n_eff[0]))
        share = float(with_t[2] / whole[2])
        low, high = effect - z * se, effect + z * se
        direction = "down" if high < 0 else "up" if low > 0 else "unclear"
        found.append(
            Driver(
                topic=topic,
                n=int(with_t[0]),
                share=share,
                effect=effect,
                ci_low=low,
                ci_high=high,
                impact=share * effect,
                direction=direction,
            )
        )
    return sorted(found, key=lambda d: (d.impact >= 0, -abs(d.impact)))
