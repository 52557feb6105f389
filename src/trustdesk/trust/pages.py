"""The trust dashboard: overview, one segment, alerts (with acknowledgement), one customer.

Every number comes from the trust reads (`score_reads`, `explanations`, `alert_reads`), which
read the stored aggregates (a closed-form score over a few rows per segment, day and facet) and
indexed evidence rows: no page recomputes the index from feedback, so pages stay fast at
millions of items. Charts are inline SVG drawn on
the server (`web/charts.py`); each has a table with the same numbers next to it. Feedback text
appears only for roles holding `feedback:read`.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from trustdesk.access.principal import Principal
from trustdesk.auth.http import (
    ReadSession,
    WriteSession,
    get_platform,
    require_page,
)
from trustdesk.bounds import RowId
from trustdesk.customers import public as customers
from trustdesk.errors import NotFound
from trustdesk.feedback import public as feedback
from trustdesk.feedback.public import TOPIC_DIMENSIONS, TOPIC_LABELS
from trustdesk.platform import Platform
from trustdesk.trust import alert_reads, explanations, score_reads, service
from trustdesk.trust.schemas import TrendPoint, TrustScore
from trustdesk.trust.signals import DIMENSIONS
from trustdesk.web.charts import Bar, Point, bar_chart, date_labels, line_chart
from trustdesk.web.nav import NavEntry, Section
from trustdesk.web.redirects import safe_next
from trustdesk.web.routing import page_router
from trustdesk.web.templating import flash, render

__all__ = ["router", "section"]

ALERT_KINDS = ("trust_drop", "topic_surge")
ALERT_STATES = ("open", "acknowledged")
TIMELINE_SIZE = 50
NARROW_WIDTH = 360  # charts for phones: drawn at about the screen's width

router = page_router(prefix="/trust")
section = Section(
    router=router,
    nav=(
        NavEntry(
            "Trust",
            "/trust",
            permission="trust:read",
            description="The trust index overall and per segment, its trend, drivers and why.",
            order=20,
        ),
        NavEntry(
            "Alerts",
            "/trust/alerts",
            permission="trust:read",
            description="Drops in trust and surges of complaints beyond what history explains.",
            order=30,
        ),
    ),
)

_SHARED = {
    "dimensions": DIMENSIONS,
    "topic_labels": TOPIC_LABELS,
    "topic_dimensions": TOPIC_DIMENSIONS,
}


def _params(platform: Platform) -> service.TrustParams:
    return service.TrustParams.from_settings(platform.settings)


def _points(trend: Sequence[TrendPoint]) -> list[Point]:
    labels = date_labels([p.bucket_start.date() for p in trend])
    return [
        Point(label, p.trust_index, p.ci_low, p.ci_high)
        for label, p in zip(labels, trend, strict=True)
    ]


def _day(p: TrendPoint, years: bool) -> str:
    return f"{p.bucket_start:%d %b %Y}" if years else f"{p.bucket_start:%b %d}"


def _trend_chart(
    trend: Sequence[TrendPoint], chart_id: str, subject: str, *, small: bool = False
) -> str:
    if trend:
        first, last = trend[0], trend[-1]
        years = first.bucket_start.year != last.bucket_start.year
        description = (
            f"Daily trust index of {subject} with its 95% interval, from "
            f"{_day(first, years)} ({first.trust_index:.1f}) to "
            f"{_day(last, years)} ({last.trust_index:.1f}), {len(trend)} days with items."
        )
    else:
        description = f"No daily trust index for {subject} yet."
    return line_chart(
        _points(trend),
        chart_id=chart_id,
        title=f"Trust index of {subject} per day",
        description=description,
        width=360 if small else 900,
        height=190 if small else 260,
        max_labels=4 if small else 8,
    )


def _segment_href(segment: str) -> str:
    return "/trust/segments/" + quote(segment, safe="")


def _parse_day(value: str, label: str, errors: list[str]) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"{label}: {value!r} is not a date (YYYY-MM-DD)")
        return None


def _range(
    start: date | None, end: date | None, label: str, errors: list[str]
) -> tuple[datetime | None, datetime | None]:
    """Days `start`..`end` inclusive as UTC times (the end day's last second)."""
    if start is not None and end is not None and start > end:
        errors.append(f"{label}: the start is after the end")
        return None, None
    since = datetime.combine(start, time.min, UTC) if start else None
    until = datetime.combine(end, time.min, UTC) + timedelta(days=1, seconds=-1) if end else None
    return since, until


def ago(when: datetime | None, now: datetime | None = None) -> str:
    """ "3 hours ago": how long since `when`, in the largest whole unit."""
    if when is None:
        return "never"
    seconds = max(((now or datetime.now(UTC)) - when).total_seconds(), 0)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def _comparison(
    first: Sequence[TrustScore], second: Sequence[TrustScore]
) -> list[tuple[str, TrustScore | None, TrustScore | None]]:
    a = {s.key: s for s in first}
    b = {s.key: s for s in second}
    return [(key, a.get(key), b.get(key)) for key in sorted(a.keys() | b.keys())]


@router.get("")
def overview(
    *,
    request: Request,
    since: Annotated[str, Query(max_length=10, alias="from")] = "",
    until: Annotated[str, Query(max_length=10, alias="to")] = "",
    compare_from: Annotated[str, Query(max_length=10)] = "",
    compare_to: Annotated[str, Query(max_length=10)] = "",
    principal: Principal = Depends(require_page("trust:read")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> Response:
    errors: list[str] = []
    start, end = _parse_day(since, "From", errors), _parse_day(until, "To", errors)
    c_start = _parse_day(compare_from, "Compare from", errors)
    c_end = _parse_day(compare_to, "Compare to", errors)
    range_since, range_until = _range(start, end, "Period", errors)
    params = _params(platform)
    found = score_reads.overview(session, params, since=range_since, until=range_until)
    comparison = None
    if c_start is not None or c_end is not None:
        c_since, c_until = _range(c_start, c_end, "Comparison period", errors)
        other = score_reads.scores(session, params, by="segment", since=c_since, as_of=c_until)
        other_overall = score_reads.scores(
            session, params, by="overall", since=c_since, as_of=c_until
        )
        comparison = {
            "rows": _comparison(found.segments, other),
            "overall": (found.overall, other_overall[0] if other_overall else None),
        }
    bars = [
        Bar(s.key, s.trust_index, s.ci_low, s.ci_high, href=_segment_href(s.key))
        for s in found.segments
    ]
    ranked = sorted(found.segments, key=lambda s: s.trust_index)
    summary = (
        f"Lowest: {ranked[0].key} ({ranked[0].trust_index:.1f}); "
        f"highest: {ranked[-1].key} ({ranked[-1].trust_index:.1f})."
        if ranked
        else "No segments yet."
    )
    days = sorted({p.bucket_start for t in found.segment_trends.values() for p in t})
    by_day = {
        seg: {p.bucket_start: p for p in trend} for seg, trend in found.segment_trends.items()
    }
    segment_description = f"{len(bars)} segments on a 0 to 100 scale with 95% intervals. {summary}"
    context = {
        **_SHARED,
        "overview": found,
        "segment_chart": bar_chart(
            bars,
            chart_id="chart-segments",
            title="Trust index by segment",
            description=segment_description,
        ),
        # Phones get charts drawn at their width, so labels keep their size (CSS picks one).
        "segment_chart_narrow": bar_chart(
            bars,
            chart_id="chart-segments-narrow",
            title="Trust index by segment",
            description=segment_description,
            width=NARROW_WIDTH,
        ),
        "overall_chart": _trend_chart(found.overall_trend, "chart-overall", "all customers"),
        "overall_chart_narrow": _trend_chart(
            found.overall_trend, "chart-overall-narrow", "all customers", small=True
        ),
        "segment_charts": [
            (seg, _trend_chart(trend, f"chart-trend-{i}", seg, small=True))
            for i, (seg, trend) in enumerate(sorted(found.segment_trends.items()))
        ],
        "days": days,
        "by_day": by_day,
        "overall_by_day": {p.bucket_start: p for p in found.overall_trend},
        "segment_href": _segment_href,
        "form": {
            "from": since,
            "to": until,
            "compare_from": compare_from,
            "compare_to": compare_to,
        },
        "errors": errors,
        "comparison": comparison,
        "computed_ago": ago(found.overall.computed_at if found.overall else None),
    }
    return render(request, "trust/overview.html", context)


@router.get("/alerts")
def alert_list(
    *,
    request: Request,
    state: str = Query("", max_length=16),
    kind: str = Query("", max_length=24),
    segment: str = Query("", max_length=120),
    principal: Principal = Depends(require_page("trust:read")),
    session: ReadSession,
) -> Response:
    state = state if state in ALERT_STATES else ""
    kind = kind if kind in ALERT_KINDS else ""
    segment = segment.strip()
    alerts = alert_reads.list_alerts(
        session,
        segment=segment or None,
        kind=kind or None,
        acknowledged={"open": False, "acknowledged": True}.get(state),
        limit=200,
    )
    context = {
        **_SHARED,
        "alerts": alerts,
        "state": state,
        "kind": kind,
        "segment": segment,
        "kinds": ALERT_KINDS,
        "states": ALERT_STATES,
        "can_manage": principal.can("alerts:manage"),
        "back": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "segment_href": _segment_href,
    }
    return render(request, "trust/alerts.html", context)


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(
    *,
    request: Request,
    alert_id: RowId,
    next: Annotated[str, Form(max_length=2000)] = "/trust/alerts",
    principal: Principal = Depends(require_page("alerts:manage")),
    session: WriteSession,
) -> Response:
    """Acknowledge one alert (recorded with who and when, and audited) and go back."""
    service.acknowledge_alert(session, alert_id, actor=principal.actor)
    flash(request, f"Alert {alert_id} acknowledged.")
    return RedirectResponse(safe_next(next, "/trust/alerts"), status_code=303)


@router.get("/segments/{segment:path}")
def segment_page(
    *,
    request: Request,
    segment: str,
    principal: Principal = Depends(require_page("trust:read")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> Response:
    with_text = principal.can("feedback:read")
    view = explanations.segment_view(
        session, platform.vault, _params(platform), segment, with_text=with_text
    )
    context = {
        **_SHARED,
        "view": view,
        "segment": segment,
        "with_text": with_text,
        "trend_chart": _trend_chart(view.detail.trend, "chart-trend", segment),
        "trend_chart_narrow": _trend_chart(
            view.detail.trend, "chart-trend-narrow", segment, small=True
        ),
        "can_manage": principal.can("alerts:manage"),
        "back": request.url.path,
    }
    return render(request, "trust/segment.html", context)


@router.get("/customers/{external_id}")
def customer_page(
    *,
    request: Request,
    external_id: str,
    principal: Principal = Depends(require_page("trust:read")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> Response:
    """A customer's index explained, and the timeline of what they said (text if permitted)."""
    ids = customers.customer_ids(session, [external_id])
    if external_id not in ids:
        raise NotFound(f"no customer with external id {external_id!r}")
    with_text = principal.can("feedback:read")
    explanation = None
    with suppress(NotFound):  # a known customer without feedback yet: the page says so
        explanation = explanations.explain_customer(
            session, platform.vault, _params(platform), external_id, with_text=with_text
        )
    timeline, next_cursor = (
        feedback.recent_feedback(session, platform.vault, ids[external_id], limit=TIMELINE_SIZE)
        if with_text
        else ([], None)
    )
    context = {
        **_SHARED,
        "external_id": external_id,
        "explanation": explanation,
        "timeline": timeline,
        "more_href": (
            "/feedback?"
            + urlencode({"customer": external_id, "order": "oldest", "cursor": next_cursor})
            if next_cursor
            else None
        ),
        "with_text": with_text,
        "score_dims": _dims(explanation.score) if explanation else [],
    }
    return render(request, "trust/customer.html", context)


def _dims(score: TrustScore) -> list[tuple[str, float | None]]:
    return [(d, score.dimensions.get(d)) for d in DIMENSIONS]
