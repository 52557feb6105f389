"""Reading the stored trust alerts: one, or a filtered list, most recent window first."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.errors import NotFound
from trustdesk.trust.models import TrustAlert
from trustdesk.trust.schemas import AlertOut

__all__ = ["alert", "list_alerts"]


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
