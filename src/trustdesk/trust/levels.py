"""Stored trust statistics read back and shrunk into estimates, level by level.

Overall is shrunk to neutral, a segment to overall, a customer to their segments (weighted by
evidence): a closed-form function of a few stored rows of statistics (trust/index.py), so reads
stay fast however many items are behind them. Used by `score_reads` and `explanations`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from trustdesk.errors import InvalidInput, NotFound
from trustdesk.trust.aggregates import (
    ALL_TIME,
    FACET_ALL,
    STAT_FIELDS,
    Scope,
    dimension_facet,
    week_start,
)
from trustdesk.trust.index import NEUTRAL, NEUTRAL_VARIANCE, estimate
from trustdesk.trust.models import TrustStat, TrustState
from trustdesk.trust.schemas import TrustScore
from trustdesk.trust.service import TrustParams
from trustdesk.trust.signals import DIMENSIONS

__all__ = [
    "BUCKETS",
    "Level",
    "Point",
    "Points",
    "customer_point",
    "customer_rows",
    "estimate_point",
    "estimate_rows",
    "facets_for",
    "level_points",
    "read_levels",
    "score_at",
    "segment_points",
    "to_time",
    "trust_state",
]


BUCKETS = ("day", "week")


@dataclass(frozen=True)
class Point:
    index: float
    ci_low: float
    ci_high: float
    n: int
    n_eff: float
    credibility: float
    parent: float
    variance: float


def to_time(epoch_s: int) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


def estimate_rows(
    stats: np.ndarray, parent: np.ndarray, parent_var: np.ndarray, k: float
) -> list[Point]:
    """Vectorised: one point per row of `stats`."""
    if len(stats) == 0:
        return []
    e = estimate(stats, parent, parent_var, prior_strength=k)
    columns = zip(
        np.round(e.index, 2).tolist(),
        np.round(e.ci_low, 2).tolist(),
        np.round(e.ci_high, 2).tolist(),
        e.n.astype(np.int64).tolist(),
        np.round(e.n_eff, 2).tolist(),
        np.round(e.credibility, 4).tolist(),
        np.round(e.parent, 2).tolist(),
        e.variance.tolist(),
        strict=True,
    )
    return [Point(*c) for c in columns]


def estimate_point(stats: np.ndarray, parent: Point | None, k: float) -> Point:
    p, pv = (NEUTRAL, NEUTRAL_VARIANCE) if parent is None else (parent.index, parent.variance)
    return estimate_rows(np.atleast_2d(stats), np.array([p]), np.array([pv]), k)[0]


def trust_state(session: Session) -> TrustState:
    state = session.get(TrustState, 1)
    if state is None:
        raise NotFound("no trust index yet: run `trustdesk trust recompute`")
    return state


def facets_for(dimension: str | None) -> tuple[str, list[str]]:
    if dimension is None:
        return FACET_ALL, [dimension_facet(d) for d in DIMENSIONS]
    if dimension not in DIMENSIONS:
        raise InvalidInput(f"dimension must be one of {', '.join(DIMENSIONS)}")
    return dimension_facet(dimension), []


Level = dict[tuple[str, str, int], np.ndarray]  # (segment, facet, bucket) -> stats


Points = dict[tuple[str, str, int], Point]


def read_levels(
    session: Session,
    *,
    bucket: str | None,
    as_of: int | None,
    segment: str | None = None,
    facets: Sequence[str] | None = None,
) -> tuple[Level, Level]:
    """Overall and segment statistics summed over signals, by (segment, facet, bucket)."""
    if bucket is not None and bucket not in BUCKETS:
        raise InvalidInput("bucket must be day or week")
    where: list[ColumnElement[bool]] = [TrustStat.scope.in_((Scope.OVERALL, Scope.SEGMENT))]
    if bucket is None and as_of is None:
        where.append(TrustStat.bucket == ALL_TIME)
    else:
        where.append(TrustStat.bucket > ALL_TIME)
        if as_of is not None:
            where.append(TrustStat.bucket <= as_of)
    if segment is not None:
        where.append(TrustStat.segment.in_(("", segment)))
    if facets is not None:
        where.append(TrustStat.facet.in_(list(facets)))
    overall: Level = {}
    segments: Level = {}
    columns = [getattr(TrustStat, f) for f in STAT_FIELDS]
    query = select(TrustStat.scope, TrustStat.segment, TrustStat.facet, TrustStat.bucket, *columns)
    for scope, seg, facet, day, *values in session.execute(query.where(*where)):
        b = ALL_TIME if bucket is None else week_start(day) if bucket == "week" else day
        target = overall if scope == Scope.OVERALL else segments
        key = (seg, facet, b)
        vector = np.array(values, dtype=np.float64)
        target[key] = target[key] + vector if key in target else vector
    return overall, segments


def level_points(overall: Level, segments: Level, k: float) -> tuple[Points, Points]:
    """Estimates keyed like the statistics: overall shrunk to neutral, segments to overall.

    A segment without rows on a facet in a bucket still gets a score there: its parent's.
    """
    keys = list(overall)
    stats = np.array([overall[key] for key in keys]).reshape(len(keys), len(STAT_FIELDS))
    n = len(keys)
    top = dict(
        zip(
            keys,
            estimate_rows(stats, np.full(n, NEUTRAL), np.full(n, NEUTRAL_VARIANCE), k),
            strict=True,
        )
    )
    facets_by_bucket: dict[int, list[str]] = defaultdict(list)
    for _, facet, b in keys:
        facets_by_bucket[b].append(facet)
    wanted = dict(segments)
    empty = np.zeros(len(STAT_FIELDS))
    for seg, b in {(seg, b) for seg, _f, b in segments}:
        for facet in facets_by_bucket.get(b, ()):
            wanted.setdefault((seg, facet, b), empty)
    seg_keys = [key for key in wanted if ("", key[1], key[2]) in top]
    parents = [top[("", f, b)] for _, f, b in seg_keys]
    seg_stats = np.array([wanted[key] for key in seg_keys]).reshape(len(seg_keys), len(STAT_FIELDS))
    estimates = estimate_rows(
        seg_stats,
        np.array([p.index for p in parents]),
        np.array([p.variance for p in parents]),
        k,
    )
    return top, dict(zip(seg_keys, estimates, strict=True))


def score_at(
    level: str,
    key: str,
    points: Points,
    seg: str,
    bucket: int,
    main: str,
    dims: list[str],
    as_of: int | None,
) -> TrustScore | None:
    point = points.get((seg, main, bucket))
    if point is None:
        return None
    dimensions = {}
    for facet in dims:
        p = points.get((seg, facet, bucket))
        if p is not None:
            dimensions[facet.removeprefix("dim:")] = p.index
    return TrustScore(
        level=level,
        key=key,
        trust_index=point.index,
        ci_low=point.ci_low,
        ci_high=point.ci_high,
        n=point.n,
        n_eff=point.n_eff,
        credibility=point.credibility,
        parent=point.parent,
        dimensions=dimensions,
        bucket_start=to_time(bucket) if bucket != ALL_TIME else None,
        as_of=to_time(as_of) if as_of is not None else None,
    )


def segment_points(session: Session, params: TrustParams) -> tuple[Points, Points]:
    overall, segments = read_levels(session, bucket=None, as_of=None)
    return level_points(overall, segments, params.prior_strength)


def customer_rows(
    session: Session, customer_ids: Sequence[int] | None
) -> dict[int, dict[tuple[str, str], np.ndarray]]:
    """customer id -> (segment, facet) -> statistics summed over signals."""
    columns = [getattr(TrustStat, f) for f in STAT_FIELDS]
    query = select(TrustStat.customer_id, TrustStat.segment, TrustStat.facet, *columns).where(
        TrustStat.scope == Scope.CUSTOMER
    )
    if customer_ids is not None:
        query = query.where(TrustStat.customer_id.in_(list(customer_ids)))
    found: dict[int, dict[tuple[str, str], np.ndarray]] = defaultdict(dict)
    for cid, seg, facet, *values in session.execute(query):
        vector = np.array(values, dtype=np.float64)
        rows = found[cid]
        rows[(seg, facet)] = rows[(seg, facet)] + vector if (seg, facet) in rows else vector
    return found


def customer_point(
    rows: dict[tuple[str, str], np.ndarray],
    facet: str,
    top: Points,
    seg_points: Points,
    k: float,
) -> Point | None:
    """The customer's score on a facet, shrunk to their segments' scores weighted by evidence."""
    mine = [(seg, stats) for (seg, f), stats in rows.items() if f == facet]
    if not mine:
        return None
    weights, parents, variances = [], [], []
    for seg, stats in mine:
        p = seg_points.get((seg, facet, ALL_TIME)) if seg else None
        p = p if p is not None else top.get(("", facet, ALL_TIME))
        if p is None:
            continue
        weights.append(stats[2])
        parents.append(p.index)
        variances.append(p.variance)
    if not weights or sum(weights) <= 0:
        return None
    w = np.array(weights) / sum(weights)
    index, variance = float(w @ np.array(parents)), float(w @ np.array(variances))
    parent = Point(index, index, index, 0, 0.0, 0.0, index, variance)
    return estimate_point(np.sum([s for _, s in mine], axis=0), parent, k)
