"""Stored trust statistics read back and shrunk into estimates, level by level.

Overall is shrunk to neutral, a segment to the overall level *as of the segment's own latest
evidence* (`as_of_parents`), a customer to their segments (weighted by evidence). So rows dated
after a segment's latest evidence (e.g. a new segment's) never move it. The overall all-time
figure combines the segments, each as of its own latest evidence (`combine_segments`); per day
or week, overall pools that bucket's rows and segments shrink to it. All are
closed-form functions of a few stored rows of statistics (trust/index.py), so reads stay fast
however many items are behind them. Used by `score_reads` and `explanations`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import ColumnElement, func, select
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
    "as_of_parents",
    "combine_segments",
    "customer_point",
    "customer_points",
    "customer_rows",
    "estimate_point",
    "estimate_rows",
    "facets_for",
    "latest_evidence",
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
    since: int | None = None,
) -> tuple[Level, Level]:
    """Overall and segment statistics summed over signals, by (segment, facet, bucket).

    `since` and `as_of` bound the days summed (a date range); without either, all-time rows.
    """
    if bucket is not None and bucket not in BUCKETS:
        raise InvalidInput("bucket must be day or week")
    where: list[ColumnElement[bool]] = [TrustStat.scope.in_((Scope.OVERALL, Scope.SEGMENT))]
    if bucket is None and as_of is None and since is None:
        where.append(TrustStat.bucket == ALL_TIME)
    else:
        where.append(TrustStat.bucket > ALL_TIME)
        if as_of is not None:
            where.append(TrustStat.bucket <= as_of)
        if since is not None:
            where.append(TrustStat.bucket >= since)
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


def level_points(
    overall: Level, segments: Level, k: float, parents: Points | None = None
) -> tuple[Points, Points]:
    """Estimates keyed like the statistics: overall shrunk to neutral, segments to overall.

    `parents` (from `as_of_parents`) replaces a segment's parent: the overall level as of that
    segment's own latest evidence, so rows dated after it never move it. A segment without rows
    on a facet in a bucket still gets a score there: its parent's (all-time: only when the
    overall level had evidence on that facet by the segment's own latest day).
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

    def parent_of(key: tuple[str, str, int]) -> Point | None:
        if parents is not None:
            if key in parents:
                return parents[key]
            if key[2] == ALL_TIME and key not in segments:
                # Nobody had evidence on this facet as of the segment's own latest day: no
                # score, rather than the overall level of later rows (they must not move it).
                return None
        return top.get(("", key[1], key[2]))

    chosen = [(key, p) for key in wanted if (p := parent_of(key)) is not None]
    seg_keys = [key for key, _ in chosen]
    seg_stats = np.array([wanted[key] for key in seg_keys]).reshape(len(seg_keys), len(STAT_FIELDS))
    estimates = estimate_rows(
        seg_stats,
        np.array([p.index for _, p in chosen]),
        np.array([p.variance for _, p in chosen]),
        k,
    )
    return top, dict(zip(seg_keys, estimates, strict=True))


def as_of_parents(
    session: Session,
    latest: dict[str, int],
    k: float,
    *,
    since: int | None = None,
    facets: Sequence[str] | None = None,
) -> Points:
    """Per segment and facet: the overall level as of that segment's own latest evidence.

    The overall day rows are summed up to each segment's as-of day (within `since` when given)
    and shrunk to neutral, as the overall level is. Keyed (segment, facet, ALL_TIME).
    """
    where: list[ColumnElement[bool]] = [
        TrustStat.scope == Scope.OVERALL,
        TrustStat.bucket > ALL_TIME,
    ]
    if since is not None:
        where.append(TrustStat.bucket >= since)
    if facets is not None:
        where.append(TrustStat.facet.in_(list(facets)))
    if latest:
        where.append(TrustStat.bucket <= max(latest.values()))
    columns = [getattr(TrustStat, f) for f in STAT_FIELDS]
    by_facet: dict[str, list[tuple[int, np.ndarray]]] = defaultdict(list)
    for facet, day, *values in session.execute(
        select(TrustStat.facet, TrustStat.bucket, *columns).where(*where)
    ):
        by_facet[facet].append((int(day), np.array(values, dtype=np.float64)))
    keys: list[tuple[str, str, int]] = []
    rows: list[np.ndarray] = []
    for facet, days in by_facet.items():
        days.sort(key=lambda d: d[0])
        starts = np.array([d for d, _ in days])
        totals = np.cumsum(np.array([v for _, v in days]), axis=0)
        for seg, as_of in latest.items():
            if not seg:
                continue
            i = int(np.searchsorted(starts, as_of, side="right")) - 1
            if i >= 0:
                keys.append((seg, facet, ALL_TIME))
                rows.append(totals[i])
    if not keys:
        return {}
    n = len(keys)
    points = estimate_rows(
        np.array(rows).reshape(n, len(STAT_FIELDS)),
        np.full(n, NEUTRAL),
        np.full(n, NEUTRAL_VARIANCE),
        k,
    )
    return dict(zip(keys, points, strict=True))


def latest_evidence(
    session: Session, *, as_of: int | None = None, since: int | None = None
) -> dict[str, int]:
    """Segment -> the start of the latest day with evidence (within the range), '' for overall."""
    query = (
        select(TrustStat.segment, func.max(TrustStat.bucket))
        .where(
            TrustStat.scope.in_((Scope.OVERALL, Scope.SEGMENT)),
            TrustStat.facet == FACET_ALL,
            TrustStat.bucket > ALL_TIME,
        )
        .group_by(TrustStat.segment)
    )
    if as_of is not None:
        query = query.where(TrustStat.bucket <= as_of)
    if since is not None:
        query = query.where(TrustStat.bucket >= since)
    return {seg: int(day) for seg, day in session.execute(query)}


def combine_segments(seg_points: Points, main: str, dims: Sequence[str]) -> Points:
    """The overall figure from the segments' own: weighted by each segment's effective evidence.

    Each segment enters as of its own latest evidence, so a segment with recent rows does not
    swamp (or age) the others. Returns points keyed like `top` ('' segment, ALL_TIME).
    """
    segs = sorted({s for s, f, b in seg_points if f == main and b == ALL_TIME})
    mains = [seg_points[(s, main, ALL_TIME)] for s in segs]
    weights = np.array([p.n_eff for p in mains], dtype=np.float64)
    if not segs or weights.sum() <= 0:
        return {}
    w = weights / weights.sum()
    se2 = np.array([p.variance / (p.n_eff + 1.0) for p in mains])
    half = 1.959963984540054 * float(np.sqrt(np.sum(w * w * se2)))
    found: Points = {}
    for facet in [main, *dims]:
        points = [seg_points.get((s, facet, ALL_TIME)) for s in segs]
        values = np.array([(p or m).index for p, m in zip(points, mains, strict=True)])
        index = float(w @ values)
        found[("", facet, ALL_TIME)] = Point(
            index=round(index, 2),
            ci_low=round(max(index - half, 0.0), 2),
            ci_high=round(min(index + half, 100.0), 2),
            n=int(sum(p.n for p in mains)),
            n_eff=round(float(weights.sum()), 2),
            credibility=1.0,
            parent=round(index, 2),
            variance=float(w @ np.array([p.variance for p in mains])),
        )
    return found


def score_at(
    level: str,
    key: str,
    points: Points,
    seg: str,
    bucket: int,
    main: str,
    dims: list[str],
    as_of: int | None,
    *,
    evidence_up_to: int | None = None,
    as_of_earliest: int | None = None,
    computed_at: datetime | None = None,
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
        evidence_up_to=to_time(evidence_up_to) if evidence_up_to is not None else None,
        as_of_earliest=to_time(as_of_earliest) if as_of_earliest is not None else None,
        computed_at=computed_at,
    )


def segment_points(session: Session, params: TrustParams) -> tuple[Points, Points]:
    """All-time points; each segment as of its own latest evidence."""
    overall, segments = read_levels(session, bucket=None, as_of=None)
    k = params.prior_strength
    parents = as_of_parents(session, latest_evidence(session), k)
    return level_points(overall, segments, k, parents)


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


def _customer_prior(
    rows: dict[tuple[str, str], np.ndarray], facet: str, top: Points, seg_points: Points
) -> tuple[np.ndarray, float, float] | None:
    """(summed stats, parent index, parent variance) of a customer on a facet: the parent is
    their segments' scores weighted by evidence; None without evidence or a parent."""
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
    return np.sum([s for _, s in mine], axis=0), index, variance


def customer_point(
    rows: dict[tuple[str, str], np.ndarray],
    facet: str,
    top: Points,
    seg_points: Points,
    k: float,
) -> Point | None:
    """The customer's score on a facet, shrunk to their segments' scores weighted by evidence."""
    prior = _customer_prior(rows, facet, top, seg_points)
    if prior is None:
        return None
    stats, index, variance = prior
    parent = Point(index, index, index, 0, 0.0, 0.0, index, variance)
    return estimate_point(stats, parent, k)


def customer_points(
    rows_of: dict[int, dict[tuple[str, str], np.ndarray]],
    facet: str,
    top: Points,
    seg_points: Points,
    k: float,
) -> dict[int, Point]:
    """`customer_point` of many customers in one vectorised estimate (the fraud scorer reads
    every customer's index when a server starts: one estimate per customer took minutes at
    100,000 customers)."""
    ids, stats, parents, variances = [], [], [], []
    for cid, rows in rows_of.items():
        prior = _customer_prior(rows, facet, top, seg_points)
        if prior is None:
            continue
        ids.append(cid)
        stats.append(prior[0])
        parents.append(prior[1])
        variances.append(prior[2])
    if not ids:
        return {}
    points = estimate_rows(np.vstack(stats), np.array(parents), np.array(variances), k)
    return dict(zip(ids, points, strict=True))
