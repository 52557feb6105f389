"""Trust endpoints under /api/v1/trust and /api/v1/alerts."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from trustdesk.access.principal import Principal
from trustdesk.access.roles import PERMISSIONS
from trustdesk.auth.http import (
    ReadSession,
    WriteSession,
    get_platform,
    require,
)
from trustdesk.bounds import Instant, RowId
from trustdesk.platform import Platform
from trustdesk.problems import problem_responses
from trustdesk.trust import alert_reads, explanations, score_reads, service
from trustdesk.trust.schemas import (
    AlertOut,
    Dimension,
    Explanation,
    RecomputeReport,
    SegmentDetail,
    TrendPoint,
    TrustScore,
)

router = APIRouter(prefix="/trust", tags=["trust"])
alerts_router = APIRouter(prefix="/alerts", tags=["alerts"])


def _params(platform: Platform) -> service.TrustParams:
    return service.TrustParams.from_settings(platform.settings)


def _may_read_text(principal: Principal) -> bool:
    """Feedback text is shown only to those allowed to read feedback itself."""
    return "feedback:read" in PERMISSIONS and principal.can("feedback:read")


@router.get("", response_model=list[TrustScore])
def get_scores(
    *,
    by: Literal["segment", "customer", "overall"] = "segment",
    dimension: Dimension | None = None,
    bucket: Literal["day", "week"] | None = None,
    as_of: Annotated[
        Instant | None, Query(description="Only data up to this time (segments).")
    ] = None,
    after_id: Annotated[RowId, Query(description="Customers: page after this customer id.")] = 0,
    limit: int = Query(100, ge=1, le=1000, description="Customers: page size."),
    principal: Principal = Depends(require("trust:read")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> list[TrustScore]:
    if by == "customer" and bucket is None and as_of is None:
        return score_reads.customer_scores(
            session, _params(platform), dimension=dimension, after_id=after_id, limit=limit
        )
    return score_reads.scores(
        session, _params(platform), by=by, dimension=dimension, bucket=bucket, as_of=as_of
    )


@router.get("/trend", response_model=list[TrendPoint])
def get_trend(
    *,
    segment: str | None = None,
    bucket: Literal["day", "week"] = "day",
    dimension: Dimension | None = None,
    principal: Principal = Depends(require("trust:read")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> list[TrendPoint]:
    return score_reads.trend(
        session, _params(platform), segment=segment, bucket=bucket, dimension=dimension
    )


@router.get("/segments/{segment}", response_model=SegmentDetail)
def get_segment(
    *,
    segment: str,
    principal: Principal = Depends(require("trust:read")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> SegmentDetail:
    """Index, dimensions, daily trend, drivers and alerts of one segment."""
    return score_reads.segment_detail(session, _params(platform), segment)


@router.get("/segments/{segment}/explain", response_model=Explanation)
def explain_segment(
    *,
    segment: str,
    principal: Principal = Depends(require("trust:read")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> Explanation:
    return explanations.explain_segment(
        session,
        platform.vault,
        _params(platform),
        segment,
        with_text=_may_read_text(principal),
    )


@router.get("/customers/{external_id}", response_model=Explanation)
def explain_customer(
    *,
    external_id: str,
    principal: Principal = Depends(require("trust:read")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> Explanation:
    """A customer's index, explained: each signal's part and the feedback that moved it."""
    return explanations.explain_customer(
        session,
        platform.vault,
        _params(platform),
        external_id,
        with_text=_may_read_text(principal),
    )


@router.post("/recompute", response_model=RecomputeReport)
def recompute(
    *,
    full: bool = False,
    principal: Principal = Depends(require("alerts:manage")),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> RecomputeReport:
    """Fold new feedback into the index (incremental unless `full`) and raise alerts."""
    return service.recompute(session, _params(platform), full=full)


@alerts_router.get("", response_model=list[AlertOut])
def list_alerts(
    *,
    segment: str | None = None,
    unacknowledged: bool = False,
    limit: int = Query(500, ge=1, le=5000),
    principal: Principal = Depends(require("trust:read")),
    session: ReadSession,
) -> list[AlertOut]:
    return alert_reads.list_alerts(
        session, segment=segment, unacknowledged=unacknowledged, limit=limit
    )


@alerts_router.post("/{alert_id}/ack", response_model=AlertOut, responses=problem_responses(409))
def acknowledge(
    *,
    alert_id: RowId,
    principal: Principal = Depends(require("alerts:manage")),
    session: WriteSession,
) -> AlertOut:
    """Acknowledge an alert (recorded with who and when, and in the audit trail)."""
    service.acknowledge_alert(session, alert_id, actor=principal.actor)
    return alert_reads.alert(session, alert_id)
