"""Trust reads: scores, trends, drivers, explanations and alerts, all from the stored aggregates.

Nothing here recomputes from feedback: a score is a closed-form function of a few stored rows of
statistics (trust/index.py), so reads stay fast however many items are behind them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from trustdesk.crypto import Vault
from trustdesk.customers import public as customers
from trustdesk.errors import InvalidInput, NotFound
from trustdesk.trust.aggregates import (
    ALL_TIME,
    FACET_ALL,
    STAT_FIELDS,
    Scope,
    dimension_facet,
    recency_weight,
    topic_facet,
    week_start,
)
from trustdesk.trust.drivers import rank_drivers
from trustdesk.trust.index import NEUTRAL, NEUTRAL_VARIANCE, contributions, estimate, item_moves
from trustdesk.trust.models import TrustAlert, TrustEvidence, TrustStat, TrustState
from trustdesk.trust.schemas import (
    AlertOut,
    DriverOut,
    EvidenceOut,
    Explanation,
    SegmentDetail,
    SegmentView,
    SignalContribution,
    TrendPoint,
    TrustOverview,
    TrustScore,
)
from trustdesk.trust.service import TrustParams
from trustdesk.trust.signals import DIMENSIONS, registered_signals

__all__ = [
    "alert",
    "customer_scores",
    "explain_customer",
    "explain_segment",
    "list_alerts",
    "overview",
    "scores",
    "segment_detail",
    "segment_drivers",
    "segment_view",
    "trend",
]

LEVELS = ("overall", "segment", "customer")
BUCKETS = ("day", "week")
_EVIDENCE_WINDOW = 5_000
"""Segment explanations rank the latest this many rows (older ones weigh less anyway)."""


@dataclass(frozen=True)
class _Point:
    index: float
    ci_low: float
    ci_high: float
    n: int
    n_eff: float
    credibility: float
    parent: float
    variance: float


def _ts(epoch_s: int) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


def _estimates(
    stats: np.ndarray, parent: np.ndarray, parent_var: np.ndarray, k: float
) -> list[_Point]:
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
    return [_Point(*c) for c in columns]


def _estimate(stats: np.ndarray, parent: _Point | None, k: float) -> _Point:
    p, pv = (NEUTRAL, NEUTRAL_VARIANCE) if parent is None else (parent.index, parent.variance)
    return _estimates(np.atleast_2d(stats), np.array([p]), np.array([pv]), k)[0]


def _state(session: Session) -> TrustState:
    state = session.get(TrustState, 1)
    if state is None:
        raise NotFound("no trust index yet: run `trustdesk trust recompute`")
    return state


def _facets(dimension: str | None) -> tuple[str, list[str]]:
    if dimension is None:
        return FACET_ALL, [dimension_facet(d) for d in DIMENSIONS]
    if dimension not in DIMENSIONS:
        raise InvalidInput(f"dimension must be one of {', '.join(DIMENSIONS)}")
    return dimension_facet(dimension), []


_Level = dict[tuple[str, str, int], np.ndarray]  # (segment, facet, bucket) -> stats
_Points = dict[tuple[str, str, int], _Point]


def _read_levels(
    session: Session,
    *,
    bucket: str | None,
    as_of: int | None,
    segment: str | None = None,
    facets: Sequence[str] | None = None,
) -> tuple[_Level, _Level]:
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
    overall: _Level = {}
    segments: _Level = {}
    columns = [getattr(TrustStat, f) for f in STAT_FIELDS]
    query = select(TrustStat.scope, TrustStat.segment, TrustStat.facet, TrustStat.bucket, *columns)
    for scope, seg, facet, day, *values in session.execute(query.where(*where)):
        b = ALL_TIME if bucket is None else week_start(day) if bucket == "week" else day
        target = overall if scope == Scope.OVERALL else segments
        key = (seg, facet, b)
        vector = np.array(values, dtype=np.float64)
        target[key] = target[key] + vector if key in target else vector
    return overall, segments


def _points(overall: _Level, segments: _Level, k: float) -> tuple[_Points, _Points]:
    """Estimates keyed like the statistics: overall shrunk to neutral, segments to overall.

    A segment without rows on a facet in a bucket still gets a score there: its parent's.
    """
    keys = list(overall)
    stats = np.array([overall[key] for key in keys]).reshape(len(keys), len(STAT_FIELDS))
    n = len(keys)
    top = dict(
        zip(
            keys,
            _estimates(stats, np.full(n, NEUTRAL), np.full(n, NEUTRAL_VARIANCE), k),
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
    estimates = _estimates(
        seg_stats,
        np.array([p.index for p in parents]),
        np.array([p.variance for p in parents]),
        k,
    )
    return top, dict(zip(seg_keys, estimates, strict=True))


def _score(
    level: str,
    key: str,
    points: _Points,
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
        bucket_start=_ts(bucket) if bucket != ALL_TIME else None,
        as_of=_ts(as_of) if as_of is not None else None,
    )


def scores(
    session: Session,
    params: TrustParams,
    *,
    by: str = "segment",
    dimension: str | None = None,
    bucket: str | None = None,
    as_of: datetime | None = None,
) -> list[TrustScore]:
    """Scores of every segment (or overall), all-time or per day/week bucket, as of a time."""
    if by not in LEVELS:
        raise InvalidInput(f"by must be one of {', '.join(LEVELS)}")
    if by == "customer":
        if bucket is not None or as_of is not None:
            raise InvalidInput("customer scores are all-time and as of the latest feedback")
        return customer_scores(session, params, dimension=dimension)
    state = session.get(TrustState, 1)
    if state is None:
        return []
    cutoff = int(as_of.timestamp()) if as_of is not None else None
    overall, segments = _read_levels(session, bucket=bucket, as_of=cutoff)
    top, seg_points = _points(overall, segments, params.prior_strength)
    main, dims = _facets(dimension)
    shown_as_of = min(cutoff, state.latest_at) if cutoff is not None else state.latest_at
    found: list[TrustScore] = []
    source = top if by == "overall" else seg_points
    keys = sorted({(s, b) for s, f, b in source if f == main})
    for seg, b in keys:
        score = _score(by, seg, source, seg, b, main, dims, shown_as_of)
        if score is not None:
            found.append(score)
    return found


def trend(
    session: Session,
    params: TrustParams,
    *,
    segment: str | None = None,
    bucket: str = "day",
    dimension: str | None = None,
) -> list[TrendPoint]:
    """The index per day or week for one segment (or overall when segment is None)."""
    main, _ = _facets(dimension)
    overall, segments = _read_levels(
        session, bucket=bucket, as_of=None, segment=segment, facets=[main]
    )
    top, seg_points = _points(overall, segments, params.prior_strength)
    source = top if segment is None else seg_points
    seg = segment or ""
    return [
        TrendPoint(
            bucket_start=_ts(b), trust_index=p.index, ci_low=p.ci_low, ci_high=p.ci_high, n=p.n
        )
        for (s, f, b), p in sorted(source.items(), key=lambda kv: kv[0][2])
        if s == seg and f == main and p.n > 0
    ]


def overview(session: Session, params: TrustParams, *, bucket: str = "day") -> TrustOverview:
    """Overall and per-segment scores with their trends, for the dashboard's first page.

    Two reads of stored statistics (all-time rows, then the main facet's per-bucket rows), so the
    cost depends on segments x days, never on how many feedback items lie behind them.
    """
    state = session.get(TrustState, 1)
    if state is None:
        return TrustOverview(overall=None, segments=[], overall_trend=[], segment_trends={})
    main, dims = _facets(None)
    top, seg_points = _segment_points(session, params)
    overall = _score("overall", "", top, "", ALL_TIME, main, dims, state.latest_at)
    segments = [
        score
        for seg in sorted({s for s, f, _b in seg_points if f == main})
        if (score := _score("segment", seg, seg_points, seg, ALL_TIME, main, dims, state.latest_at))
    ]
    top_trend, seg_trend = _points(
        *_read_levels(session, bucket=bucket, as_of=None, facets=[main]), params.prior_strength
    )
    return TrustOverview(
        overall=overall,
        segments=segments,
        overall_trend=_trends(top_trend).get("", []),
        segment_trends=_trends(seg_trend),
    )


def _trends(points: _Points) -> dict[str, list[TrendPoint]]:
    """Segment -> its points in bucket order, leaving out buckets without own data (as `trend`)."""
    found: dict[str, list[TrendPoint]] = defaultdict(list)
    for (seg, _f, b), p in sorted(points.items(), key=lambda kv: kv[0][2]):
        if p.n > 0:
            found[seg].append(
                TrendPoint(
                    bucket_start=_ts(b),
                    trust_index=p.index,
                    ci_low=p.ci_low,
                    ci_high=p.ci_high,
                    n=p.n,
                )
            )
    return dict(found)


def _segment_points(session: Session, params: TrustParams) -> tuple[_Points, _Points]:
    overall, segments = _read_levels(session, bucket=None, as_of=None)
    return _points(overall, segments, params.prior_strength)


def _customer_rows(
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


def _customer_point(
    rows: dict[tuple[str, str], np.ndarray],
    facet: str,
    top: _Points,
    seg_points: _Points,
    k: float,
) -> _Point | None:
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
    parent = _Point(index, index, index, 0, 0.0, 0.0, index, variance)
    return _estimate(np.sum([s for _, s in mine], axis=0), parent, k)


def customer_scores(
    session: Session,
    params: TrustParams,
    *,
    dimension: str | None = None,
    customer_ids: Sequence[int] | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[TrustScore]:
    """Customers' scores in customer-id order (a page), or of the given customers."""
    state = session.get(TrustState, 1)
    if state is None:
        return []
    if customer_ids is None:
        page = session.scalars(
            select(TrustStat.customer_id)
            .where(TrustStat.scope == Scope.CUSTOMER, TrustStat.customer_id > after_id)
            .group_by(TrustStat.customer_id)
            .order_by(TrustStat.customer_id)
            .limit(limit)
        )
        customer_ids = list(page)
    rows = _customer_rows(session, customer_ids)
    top, seg_points = _segment_points(session, params)
    external = customers.external_ids(session, list(rows))
    main, dims = _facets(dimension)
    found = []
    for cid in customer_ids:
        point = _customer_point(rows.get(cid, {}), main, top, seg_points, params.prior_strength)
        if point is None:
            continue
        dimensions = {}
        for facet in dims:
            p = _customer_point(rows[cid], facet, top, seg_points, params.prior_strength)
            if p is None:  # no own data on that dimension: the parent's score
                p = _customer_point(rows[cid], main, top, seg_points, params.prior_strength)
                p = None if p is None else _Point(p.parent, 0, 0, 0, 0, 0, p.parent, 0)
            if p is not None:
                dimensions[facet.removeprefix("dim:")] = p.index
        found.append(
            TrustScore(
                level="customer",
                key=external.get(cid, str(cid)),
                trust_index=point.index,
                ci_low=point.ci_low,
                ci_high=point.ci_high,
                n=point.n,
                n_eff=point.n_eff,
                credibility=point.credibility,
                parent=point.parent,
                dimensions=dimensions,
                as_of=_ts(state.latest_at),
            )
        )
    return found


def segment_drivers(session: Session, segment: str) -> list[DriverOut]:
    """Topics ranked by how much they pull the segment's trust down (first) or up."""
    from trustdesk.feedback.public import TOPIC_LABELS

    _overall, segments = _read_levels(session, bucket=None, as_of=None, segment=segment)
    whole = segments.get((segment, FACET_ALL, ALL_TIME))
    if whole is None:
        return []
    prefix = topic_facet("")
    topics = {
        f.removeprefix(prefix): stats
        for (s, f, _b), stats in segments.items()
        if s == segment and f.startswith(prefix)
    }
    return [
        DriverOut(
            topic=d.topic,
            label=TOPIC_LABELS.get(d.topic, d.topic),
            n=d.n,
            share=round(d.share, 4),
            effect=round(d.effect, 2),
            ci_low=round(d.ci_low, 2),
            ci_high=round(d.ci_high, 2),
            impact=round(d.impact, 2),
            direction=d.direction,
        )
        for d in rank_drivers(whole, topics)
    ]


def _alert_out(a: TrustAlert) -> AlertOut:
    return AlertOut(
        id=a.id,
        kind=a.kind,
        segment=a.segment,
        topic=a.topic or None,
        window_start=a.window_start,
        window_end=a.window_end,
        severity=a.severity,
        baseline=round(a.baseline, 2),
        observed=round(a.observed, 2),
        effect=round(a.effect, 2),
        p_value=a.p_value,
        acknowledged_by=a.acknowledged_by,
        acknowledged_at=a.acknowledged_at,
    )


def alert(session: Session, alert_id: int) -> AlertOut:
    found = session.get(TrustAlert, alert_id)
    if found is None:
        raise NotFound(f"no alert with id {alert_id}")
    return _alert_out(found)


def list_alerts(
    session: Session,
    *,
    segment: str | None = None,
    unacknowledged: bool = False,
    limit: int = 500,
    kind: str | None = None,
    acknowledged: bool | None = None,
) -> list[AlertOut]:
    """Alerts, the most recent window first (`acknowledged`: True only those, False only open)."""
    query = select(TrustAlert).order_by(TrustAlert.window_start.desc(), TrustAlert.id).limit(limit)
    if segment is not None:
        query = query.where(TrustAlert.segment == segment)
    if unacknowledged or acknowledged is False:
        query = query.where(TrustAlert.acknowledged_at.is_(None))
    elif acknowledged:
        query = query.where(TrustAlert.acknowledged_at.is_not(None))
    if kind is not None:
        query = query.where(TrustAlert.kind == kind)
    return [_alert_out(a) for a in session.scalars(query)]


def segment_detail(session: Session, params: TrustParams, segment: str) -> SegmentDetail:
    """One segment: its score and dimensions, daily trend, drivers and alerts."""
    found = [s for s in scores(session, params, by="segment") if s.key == segment]
    if not found:
        raise NotFound(f"no trust index for segment {segment!r}")
    return SegmentDetail(
        score=found[0],
        trend=trend(session, params, segment=segment),
        drivers=segment_drivers(session, segment),
        alerts=list_alerts(session, segment=segment, limit=50),
    )


def _signal_parts(
    per_signal: dict[str, np.ndarray], parent: float, k: float
) -> list[SignalContribution]:
    labels = {s.name: s.label for s in registered_signals()}
    names = sorted(per_signal)
    rows = np.array([per_signal[n] for n in names])
    points = contributions(rows, parent, prior_strength=k)
    return [
        SignalContribution(
            signal=name,
            label=labels.get(name, name),
            n=int(row[0]),
            mean=round(float(row[3] / row[2]), 2) if row[2] > 0 else None,
            points=round(float(p), 2),
        )
        for name, row, p in zip(names, rows, points, strict=True)
    ]


def _evidence(
    session: Session,
    vault: Vault,
    evidence: list[TrustEvidence],
    state: TrustState,
    point: _Point,
    total_sw: float,
    *,
    with_text: bool,
    top: int,
) -> tuple[list[EvidenceOut], list[EvidenceOut]]:
    if not evidence:
        return [], []
    at = np.array([e.at for e in evidence], dtype=np.int64)
    w = np.array([e.weight for e in evidence]) * recency_weight(
        at, epoch=state.epoch, half_life_s=state.half_life_s
    )
    values = np.array([e.value for e in evidence])
    moves = item_moves(values, w, total_sw, point.credibility, point.parent)
    order = np.argsort(moves)
    down = [int(i) for i in order[:top] if moves[i] < 0]
    up = [int(i) for i in order[::-1][:top] if moves[i] > 0]
    texts: dict[tuple[str, int], str] = {}
    if with_text:
        by_signal: dict[str, list[int]] = defaultdict(list)
        for i in down + up:
            by_signal[evidence[i].signal].append(evidence[i].ref)
        for signal in registered_signals():
            if by_signal.get(signal.name):
                described = signal.describe(session, vault, by_signal[signal.name])
                texts.update({(signal.name, r): t for r, t in described.items()})

    def out(i: int) -> EvidenceOut:
        e = evidence[i]
        return EvidenceOut(
            signal=e.signal,
            ref=e.ref,
            at=_ts(e.at),
            value=round(e.value, 2),
            points=round(float(moves[i]), 3),
            text=texts.get((e.signal, e.ref)),
        )

    return [out(i) for i in down], [out(i) for i in up]


def _explanation(
    session: Session,
    vault: Vault,
    params: TrustParams,
    state: TrustState,
    score: TrustScore,
    parent_level: str,
    per_signal: dict[str, np.ndarray],
    evidence: list[TrustEvidence],
    *,
    with_text: bool,
    top: int,
) -> Explanation:
    """Signal contributions and the rows that moved a score most, relative to its parent."""
    point = _Point(0, 0, 0, 0, 0, score.credibility, score.parent, 0)
    total_sw = float(sum(v[2] for v in per_signal.values()))
    down, up = _evidence(
        session, vault, evidence, state, point, total_sw, with_text=with_text, top=top
    )
    return Explanation(
        score=score,
        parent_level=parent_level,
        signals=_signal_parts(per_signal, score.parent, params.prior_strength),
        pulled_down=down,
        pulled_up=up,
    )


def explain_segment(
    session: Session,
    vault: Vault,
    params: TrustParams,
    segment: str,
    *,
    with_text: bool = False,
    top: int = 5,
) -> Explanation:
    """Which signals and which rows moved a segment's index away from the overall index."""
    state = _state(session)
    found = [s for s in scores(session, params, by="segment") if s.key == segment]
    if not found:
        raise NotFound(f"no trust index for segment {segment!r}")
    score = found[0]
    per_signal: dict[str, np.ndarray] = {}
    columns = [getattr(TrustStat, f) for f in STAT_FIELDS]
    for signal, *values in session.execute(
        select(TrustStat.signal, *columns).where(
            TrustStat.scope == Scope.SEGMENT,
            TrustStat.segment == segment,
            TrustStat.facet == FACET_ALL,
            TrustStat.bucket == ALL_TIME,
        )
    ):
        per_signal[signal] = np.array(values, dtype=np.float64)
    evidence = list(
        session.scalars(
            select(TrustEvidence)
            .where(TrustEvidence.segment == segment)
            .order_by(TrustEvidence.at.desc())
            .limit(_EVIDENCE_WINDOW)
        )
    )
    return _explanation(
        session,
        vault,
        params,
        state,
        score,
        "overall",
        per_signal,
        evidence,
        with_text=with_text,
        top=top,
    )


def explain_customer(
    session: Session,
    vault: Vault,
    params: TrustParams,
    external_id: str,
    *,
    with_text: bool = False,
    top: int = 5,
) -> Explanation:
    """Which signals and which rows moved a customer's index away from their segments'."""
    state = _state(session)
    ids = customers.customer_ids(session, [external_id])
    if external_id not in ids:
        raise NotFound(f"no customer with external id {external_id!r}")
    cid = ids[external_id]
    found = customer_scores(session, params, customer_ids=[cid])
    if not found:
        raise NotFound(f"no trust observations for customer {external_id!r}")
    score = found[0]
    per_signal: dict[str, np.ndarray] = {}
    columns = [getattr(TrustStat, f) for f in STAT_FIELDS]
    for signal, *values in session.execute(
        select(TrustStat.signal, *columns).where(
            TrustStat.scope == Scope.CUSTOMER,
            TrustStat.customer_id == cid,
            TrustStat.facet == FACET_ALL,
        )
    ):
        vector = np.array(values, dtype=np.float64)
        per_signal[signal] = per_signal[signal] + vector if signal in per_signal else vector
    evidence = list(session.scalars(select(TrustEvidence).where(TrustEvidence.customer_id == cid)))
    return _explanation(
        session,
        vault,
        params,
        state,
        score,
        "segment",
        per_signal,
        evidence,
        with_text=with_text,
        top=top,
    )


def segment_view(
    session: Session,
    vault: Vault,
    params: TrustParams,
    segment: str,
    *,
    with_text: bool = False,
) -> SegmentView:
    """Everything the dashboard's segment page shows, from the stored aggregates and evidence.

    Each dimension's score comes with its own interval (a dimension the segment has no data on
    shows the overall index on it, with n = 0).
    """
    detail = segment_detail(session, params, segment)
    _main, dims = _facets(None)
    _top, seg_points = _segment_points(session, params)
    as_of = _state(session).latest_at
    dimensions = {
        facet.removeprefix("dim:"): score
        for facet in dims
        if (score := _score("segment", segment, seg_points, segment, ALL_TIME, facet, [], as_of))
    }
    explanation = explain_segment(session, vault, params, segment, with_text=with_text)
    return SegmentView(detail=detail, dimensions=dimensions, explanation=explanation)
