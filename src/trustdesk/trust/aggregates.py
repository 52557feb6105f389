"""Additive sufficient statistics of observations: the map and reduce steps of the trust index.

`aggregate(partition)` maps any partition of observations to statistics per key; `merge` adds two
such results. Because every statistic is a plain sum, any split of the rows, merged in any order,
gives the same result as computing on all rows at once, so the work can be spread over processes
or machines, and a new batch is folded in by adding its statistics to the stored ones.

Recency: an observation at time t weighs `weight * 2**((t - epoch) / half_life)`. The weight
grows with t relative to a fixed epoch instead of decaying relative to "now", so old sums never
need rewriting; scores are ratios of these sums, so the common factor 2**((epoch - as_of)/H) that
would turn them into "decayed to as_of" weights cancels. The epoch is rebased (full recompute)
before the exponent could overflow (see REBASE_AFTER_HALF_LIVES).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from trustdesk.trust.signals import DIMENSIONS, Observations

__all__ = [
    "ALL_TIME",
    "DAY",
    "FACET_ALL",
    "REBASE_AFTER_HALF_LIVES",
    "STAT_FIELDS",
    "Aggregates",
    "Key",
    "Scope",
    "aggregate",
    "day_start",
    "dimension_facet",
    "recency_weight",
    "topic_facet",
    "week_start",
]

DAY = 86_400
ALL_TIME = 0
"""Bucket value of the all-time (recency-weighted) statistics; other buckets are day starts."""
FACET_ALL = "all"
STAT_FIELDS = ("n", "n_neg", "sw", "swx", "swx2", "sw2")
"""Count, negative count, Σw, Σw·x, Σw·x², Σw² (w includes the recency factor)."""
REBASE_AFTER_HALF_LIVES = 400.0
"""Σw² grows like 2**(2·age/H); float64 holds 2**1023, so rebase the epoch well before."""


class Scope:
    OVERALL = "overall"
    SEGMENT = "segment"
    CUSTOMER = "customer"


class Key(NamedTuple):
    scope: str
    segment: str
    customer_id: int
    signal: str
    facet: str
    bucket: int


def dimension_facet(dimension: str) -> str:
    return f"dim:{dimension}"


def topic_facet(topic: str) -> str:
    return f"topic:{topic}"


def day_start(at: np.ndarray) -> np.ndarray:
    return (at // DAY) * DAY


def week_start(day: int) -> int:
    """Monday 00:00 UTC of the week holding `day` (1970-01-01 was a Thursday)."""
    return day - ((day // DAY + 3) % 7) * DAY


def recency_weight(at: np.ndarray, *, epoch: int, half_life_s: float) -> np.ndarray:
    return np.exp2((at.astype(np.float64) - float(epoch)) / half_life_s)


@dataclass
class Aggregates:
    """Statistics per key: `values[index[key]]` holds STAT_FIELDS. Merging adds them."""

    index: dict[Key, int]
    values: np.ndarray  # float64 (len(index), len(STAT_FIELDS))

    @classmethod
    def empty(cls) -> Aggregates:
        return cls({}, np.zeros((0, len(STAT_FIELDS))))

    def __len__(self) -> int:
        return len(self.index)

    def get(self, key: Key) -> np.ndarray | None:
        row = self.index.get(key)
        return None if row is None else self.values[row]

    def items(self) -> Iterator[tuple[Key, np.ndarray]]:
        for key, row in self.index.items():
            yield key, self.values[row]

    def merge(self, other: Aggregates) -> Aggregates:
        """The statistics of both inputs' rows together (neither input is changed)."""
        index = dict(self.index)
        rows = np.empty(len(other.index), dtype=np.int64)
        for i, key in enumerate(other.index):
            rows[i] = index.setdefault(key, len(index))
        values = np.zeros((len(index), len(STAT_FIELDS)))
        values[: len(self.index)] = self.values
        order = np.fromiter(other.index.values(), dtype=np.int64, count=len(other.index))
        np.add.at(values, rows, other.values[order])
        return Aggregates(index, values)

    @classmethod
    def merge_all(cls, parts: Sequence[Aggregates]) -> Aggregates:
        result = cls.empty()
        for part in parts:
            result = result.merge(part)
        return result


def _factorize(labels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    lookup: dict[str, int] = {}
    codes = np.fromiter(
        (lookup.setdefault(s, len(lookup)) for s in labels), dtype=np.int64, count=len(labels)
    )
    return codes, list(lookup)


def _group_sums(codes: np.ndarray, stats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, inverse = np.unique(codes, return_inverse=True)
    sums = np.column_stack(
        [np.bincount(inverse, weights=stats[:, j], minlength=len(uniq)) for j in range(6)]
    )
    return uniq, sums


def aggregate(
    obs: Observations, *, epoch: int, half_life_s: float, topics: Sequence[str] = ()
) -> Aggregates:
    """Map one partition of observations to its statistics.

    Keys produced: overall and per segment, for all rows, each dimension and each topic, both
    all-time and per day; per (segment, customer) for all rows and each dimension, all-time only.
    Rows with segment "" count only overall; rows with customer_id < 0 have no customer key.
    """
    if len(obs) == 0:
        return Aggregates.empty()
    w = obs.weight.astype(np.float64) * recency_weight(obs.at, epoch=epoch, half_life_s=half_life_s)
    x = obs.value.astype(np.float64)
    stats = np.column_stack(
        [np.ones_like(x), obs.negative.astype(np.float64), w, w * x, w * x * x, w * w]
    )
    days = day_start(obs.at.astype(np.int64))
    seg_codes, seg_names = _factorize(obs.segment)
    has_segment = obs.segment != ""
    customer = obs.customer_id.astype(np.int64)
    has_customer = customer >= 0
    day0 = int(days.min())
    day_idx = (days - day0) // DAY
    n_days = int(day_idx.max()) + 1

    selectors: list[tuple[str, np.ndarray, bool]] = [(FACET_ALL, np.ones(len(x), bool), True)]
    for bit, dimension in enumerate(DIMENSIONS):
        selectors.append((dimension_facet(dimension), (obs.dims & (1 << bit)) != 0, True))
    for bit, topic in enumerate(topics):
        selectors.append((topic_facet(topic), (obs.topics & (1 << bit)) != 0, False))

    index: dict[Key, int] = {}
    blocks: list[np.ndarray] = []

    def emit(keys: list[Key], sums: np.ndarray) -> None:
        for key in keys:
            index[key] = len(index)
        blocks.append(sums)

    sig = obs.signal
    for facet, chosen, per_customer in selectors:
        if not chosen.any():
            continue
        sub = stats[chosen]
        emit([Key(Scope.OVERALL, "", -1, sig, facet, ALL_TIME)], sub.sum(axis=0, keepdims=True))
        uniq, sums = _group_sums(day_idx[chosen], sub)
        emit([Key(Scope.OVERALL, "", -1, sig, facet, day0 + int(d) * DAY) for d in uniq], sums)
        seg_rows = chosen & has_segment
        if seg_rows.any():
            seg_sub = stats[seg_rows]
            uniq, sums = _group_sums(seg_codes[seg_rows], seg_sub)
            emit([Key(Scope.SEGMENT, seg_names[s], -1, sig, facet, ALL_TIME) for s in uniq], sums)
            uniq, sums = _group_sums(seg_codes[seg_rows] * n_days + day_idx[seg_rows], seg_sub)
            emit(
                [
                    Key(
                        Scope.SEGMENT,
                        seg_names[c // n_days],
                        -1,
                        sig,
                        facet,
                        day0 + c % n_days * DAY,
                    )
                    for c in uniq.tolist()
                ],
                sums,
            )
        cust_rows = chosen & has_customer
        if per_customer and cust_rows.any():
            pair = (seg_codes[cust_rows] << 40) | customer[cust_rows]
            uniq, sums = _group_sums(pair, stats[cust_rows])
            mask = (1 << 40) - 1
            emit(
                [
                    Key(Scope.CUSTOMER, seg_names[c >> 40], c & mask, sig, facet, ALL_TIME)
                    for c in uniq.tolist()
                ],
                sums,
            )
    return Aggregates(index, np.vstack(blocks))
