"""Trust scores from the stored aggregates: per segment, overall or customer, their trends,
the dashboard's overview, a segment's drivers and its detail.

Nothing here recomputes from feedback: see `levels` for how stored statistics become scores.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.customers import public as customers
from trustdesk.errors import InvalidInput, NotFound
from trustdesk.trust.aggregates import (
    ALL_TIME,
    FACET_ALL,
    Scope,
    topic_facet,
)
from trustdesk.trust.alert_reads import list_alerts
from trustdesk.trust.drivers import rank_drivers
from trustdesk.trust.levels import (
    Point,
    Points,
    as_of_parents,
    combine_segments,
    customer_points,
    customer_rows,
    facets_for,
    latest_evidence,
    level_points,
    read_levels,
    score_at,
    segment_points,
    to_time,
)
from trustdesk.trust.models import TrustStat, TrustState
from trustdesk.trust.schemas import (
    DriverOut,
    SegmentDetail,
    TrendPoint,
    TrustOverview,
    TrustScore,
)
from trustdesk.trust.service import TrustParams

__all__ = ["customer_scores", "overview", "scores", "segment_detail", "segment_drivers", "trend"]


LEVELS = ("overall", "segment", "customer")


def scores(
    session: Session,
    params: TrustParams,
    *,
    by: str = "segment",
    dimension: str | None = None,
    bucket: str | None = None,
    as_of: datetime | None = None,
    since: datetime | None = None,
) -> list[TrustScore]:
    """Scores of every segment (or overall), all-time or per day/week bucket, as of a time.

    Each segment's figure is as of its own latest evidence (within `since`..`as_of` when given);
    the all-time overall figure combines the segments (`levels.combine_segments`).
    """
    if by not in LEVELS:
        raise InvalidInput(f"by must be one of {', '.join(LEVELS)}")
    if by == "customer":
        if bucket is not None or as_of is not None or since is not None:
            raise InvalidInput("customer scores are all-time and as of the latest feedback")
        return customer_scores(session, params, dimension=dimension)
    state = session.get(TrustState, 1)
    if state is None:
        return []
    cutoff = int(as_of.timestamp()) if as_of is not None else None
    start = int(since.timestamp()) if since is not None else None
    if cutoff is not None and start is not None and start > cutoff:
        raise InvalidInput("since must not be after as_of")
    overall, segments = read_levels(session, bucket=bucket, as_of=cutoff, since=start)
    main, dims = facets_for(dimension)
    latest = latest_evidence(session, as_of=cutoff, since=start)
    k = params.prior_strength
    parents = (
        as_of_parents(session, latest, k, since=start, facets=[main, *dims])
        if bucket is None
        else None
    )
    top, seg_points = level_points(overall, segments, k, parents)
    computed = state.updated_at
    found: list[TrustScore] = []
    if by == "overall" and bucket is None:
        overall_score = _overall(top, seg_points, main, dims, latest, computed)
        return [overall_score] if overall_score is not None else []
    source = top if by == "overall" else seg_points
    keys = sorted({(s, b) for s, f, b in source if f == main})
    for seg, b in keys:
        own = latest.get(seg)
        score = score_at(
            by, seg, source, seg, b, main, dims, own, evidence_up_to=own, computed_at=computed
        )
        if score is not None:
            found.append(score)
    return found


def _overall(
    top: Points,
    seg_points: Points,
    main: str,
    dims: list[str],
    latest: dict[str, int],
    computed: datetime,
) -> TrustScore | None:
    """The all-time overall figure: the segments combined, each at its own as-of.

    Without segments (feedback from customers in none), the pooled overall rows.
    """
    combined = combine_segments(seg_points, main, dims)
    segs = [s for s in latest if s and (s, main, ALL_TIME) in seg_points]
    if not combined:
        own = latest.get("")
        return score_at(
            "overall",
            "",
            top,
            "",
            ALL_TIME,
            main,
            dims,
            own,
            evidence_up_to=own,
            computed_at=computed,
        )
    days = [latest[s] for s in segs]
    return score_at(
        "overall",
        "",
        combined,
        "",
        ALL_TIME,
        main,
        dims,
        max(days) if days else None,
        evidence_up_to=max(days) if days else None,
        as_of_earliest=min(days) if days else None,
        computed_at=computed,
    )


def trend(
    session: Session,
    params: TrustParams,
    *,
    segment: str | None = None,
    bucket: str = "day",
    dimension: str | None = None,
) -> list[TrendPoint]:
    """The index per day or week for one segment (or overall when segment is None)."""
    main, _ = facets_for(dimension)
    overall, segments = read_levels(
        session, bucket=bucket, as_of=None, segment=segment, facets=[main]
    )
    top, seg_points = level_points(overall, segments, params.prior_strength)
    source = top if segment is None else seg_points
    seg = segment or ""
    return [
        TrendPoint(
            bucket_start=to_time(b), trust_index=p.index, ci_low=p.ci_low, ci_high=p.ci_high, n=p.n
        )
        for (s, f, b), p in sorted(source.items(), key=lambda kv: kv[0][2])
        if s == seg and f == main and p.n > 0
    ]


def overview(
    session: Session,
    params: TrustParams,
    *,
    bucket: str = "day",
    since: datetime | None = None,
    until: datetime | None = None,
) -> TrustOverview:
    """Overall and per-segment scores with their trends, for the dashboard's first page.

    Reads of stored statistics only (all-time or ranged rows, then the main facet's per-bucket
    rows), so the cost depends on segments x days, never on how many feedback items lie behind
    them. `since`/`until` restrict everything to the days in that range.
    """
    state = session.get(TrustState, 1)
    if state is None:
        return TrustOverview(overall=None, segments=[], overall_trend=[], segment_trends={})
    segments = scores(session, params, by="segment", as_of=until, since=since)
    overall = scores(session, params, by="overall", as_of=until, since=since)
    cutoff = int(until.timestamp()) if until is not None else None
    start = int(since.timestamp()) if since is not None else None
    main, _dims = facets_for(None)
    top_trend, seg_trend = level_points(
        *read_levels(
            session,
            bucket=bucket,
            as_of=cutoff,
            since=start,
            facets=[main],
        ),
        params.prior_strength,
    )
    return TrustOverview(
        overall=overall[0] if overall else None,
        segments=segments,
        overall_trend=_trends(top_trend, main).get("", []),
        segment_trends=_trends(seg_trend, main),
    )


def _trends(points: Points, main: str) -> dict[str, list[TrendPoint]]:
    """Segment -> its points in bucket order, leaving out buckets without own data (as `trend`)."""
    found: dict[str, list[TrendPoint]] = defaultdict(list)
    for (seg, f, b), p in sorted(points.items(), key=lambda kv: kv[0][2]):
        if p.n > 0 and f == main:
            found[seg].append(
                TrendPoint(
                    bucket_start=to_time(b),
                    trust_index=p.index,
                    ci_low=p.ci_low,
                    ci_high=p.ci_high,
                    n=p.n,
                )
            )
    return dict(found)


def customer_scores(
    session: Session,
    params: TrustParams,
    *,
    dimension: str | None = None,
    customer_ids: Sequence[int] | None = None,
    after_id: int = 0,
    limit: int = 100,
    with_dimensions: bool = True,
) -> list[TrustScore]:
    """Customers' scores in customer-id order (a page), or of the given customers; without
    dimensions (`dimensions` left empty) when only the index is wanted, as the fraud scorer does."""
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
    rows = customer_rows(session, customer_ids)
    top, seg_points = segment_points(session, params)
    external = customers.external_ids(session, list(rows))
    main, dims = facets_for(dimension)
    dims = dims if with_dimensions else []
    k = params.prior_strength
    mains = customer_points(rows, main, top, seg_points, k)
    by_facet = {facet: customer_points(rows, facet, top, seg_points, k) for facet in dims}
    found = []
    for cid in customer_ids:
        point = mains.get(cid)
        if point is None:
            continue
        dimensions = {}
        for facet in dims:
            p = by_facet[facet].get(cid)
            if p is None:  # no own data on that dimension: the parent's score
                p = Point(point.parent, 0, 0, 0, 0, 0, point.parent, 0)
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
                as_of=to_time(state.latest_at),
            )
        )
    return found


def segment_drivers(session: Session, segment: str) -> list[DriverOut]:
    """Topics ranked by how much they pull the segment's trust down (first) or up."""
    from trustdesk.feedback.public import TOPIC_LABELS

    _overall, segments = read_levels(session, bucket=None, as_of=None, segment=segment)
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
