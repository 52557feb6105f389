"""Builder of synthetic trust observations (the columnar shape every signal produces)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from trustdesk.trust.signals import Observations

DAY = 86_400
T0 = 1_424_044_800  # 2015-02-16 00:00 UTC, the start of the demo tweets
TOPICS = ("service_care", "reliability_delivery", "billing_honesty", "privacy_security")


def observations(
    n: int,
    *,
    seed: int = 0,
    segments: Sequence[str] = ("north", "south", "east"),
    customers: int = 50,
    days: int = 9,
    start: int = T0,
    mean: float = 60.0,
    sd: float = 20.0,
    topic_rate: float = 0.3,
    negative_rate: float = 0.2,
    signal: str = "feedback",
    first_ref: int = 1,
) -> Observations:
    """n observations spread uniformly over `days` days, segments and customers."""
    rng = np.random.default_rng(seed)
    at = np.sort(start + rng.integers(0, days * DAY, n)).astype(np.int64)
    topics = np.zeros(n, dtype=np.int32)
    for bit in range(len(TOPICS)):
        topics |= (rng.random(n) < topic_rate).astype(np.int32) << bit
    dims = topics.copy()  # topic i speaks to dimension i in these tests
    return Observations(
        signal=signal,
        ref=np.arange(first_ref, first_ref + n, dtype=np.int64),
        at=at,
        customer_id=rng.integers(0, customers, n).astype(np.int64),
        segment=np.array([segments[i] for i in rng.integers(0, len(segments), n)], dtype=object),
        value=np.clip(rng.normal(mean, sd, n), 0, 100),
        weight=np.ones(n),
        dims=dims,
        topics=topics,
        negative=rng.random(n) < negative_rate,
        last_ref=first_ref + n - 1,
    )


def concat(*parts: Observations) -> Observations:
    def cat(name: str) -> np.ndarray:
        return np.concatenate([getattr(p, name) for p in parts])

    return Observations(
        signal=parts[0].signal,
        ref=cat("ref"),
        at=cat("at"),
        customer_id=cat("customer_id"),
        segment=cat("segment"),
        value=cat("value"),
        weight=cat("weight"),
        dims=cat("dims"),
        topics=cat("topics"),
        negative=cat("negative"),
        last_ref=max(p.last_ref for p in parts),
    )
