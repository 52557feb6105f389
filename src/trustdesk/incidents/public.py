"""What other parts of TrustDesk may use of incidents: `evaluate_clocks(platform)` for the job
scheduler (run it every few minutes), the clock alerts it raised (`clock_alerts_raised_since`, for
the notifications capability, which tells subscribers through the outbox), and the public
statement of an incident for the trust centre."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.db import utcnow
from trustdesk.incidents.models import Incident, IncidentAlert
from trustdesk.incidents.obligations.service import evaluate_clocks_in, reevaluate_open, rules_from
from trustdesk.incidents.register.service import load
from trustdesk.jobs.public import changed
from trustdesk.platform import Platform

__all__ = [
    "CLOCK_ALERTS_RAISED",
    "ClockAlert",
    "ClockRun",
    "PublicStatement",
    "clock_alerts_raised_since",
    "evaluate_clocks",
    "public_statement",
]

CLOCK_ALERTS_RAISED = "incidents.clock_alerts"
"""The job-system event recorded when clock alerts were raised (the notifier's trigger)."""


@dataclass(frozen=True)
class ClockRun:
    alerts: int  # new amber / red / overdue alerts
    reevaluated: int  # open incidents whose obligations changed (new rules)


def evaluate_clocks(platform: Platform, now: datetime | None = None) -> ClockRun:
    """Re-evaluate open incidents under the shipped rules (reporting what a rules change
    changed) and raise an alert for every clock that turned amber, red or overdue. One
    transaction; safe to run again (alerts are raised once per obligation and level)."""
    at = now or utcnow()
    rules = rules_from(None)
    with platform.db.transaction() as session:
        moved = reevaluate_open(session, rules, actor="system:clocks", now=at)
        alerts = evaluate_clocks_in(session, rules, at)
        if alerts:
            changed(session, CLOCK_ALERTS_RAISED, now=at)
        return ClockRun(alerts=len(alerts), reevaluated=len(moved))


@dataclass(frozen=True)
class ClockAlert:
    """A legal clock that turned amber, red or overdue (no customer, no personal data)."""

    id: int
    incident_id: int
    incident_title: str
    jurisdiction: str
    audience: str
    level: str  # amber, red or overdue
    due_at: datetime
    raised_at: datetime


def clock_alerts_raised_since(
    session: Session, since: datetime, *, limit: int = 500
) -> list[ClockAlert]:
    """Clock alerts raised at or after `since`, oldest first."""
    rows = session.execute(
        select(IncidentAlert, Incident.title)
        .join(Incident, Incident.id == IncidentAlert.incident_id)
        .where(IncidentAlert.raised_at >= since)
        .order_by(IncidentAlert.raised_at, IncidentAlert.id)
        .limit(limit)
    )
    return [
        ClockAlert(
            a.id, a.incident_id, title, a.jurisdiction, a.audience, a.level, a.due_at, a.raised_at
        )
        for a, title in rows
    ]


@dataclass(frozen=True)
class PublicStatement:
    incident_id: int
    title: str
    status: str
    statement: str
    updated_at: datetime


def public_statement(platform: Platform, incident_id: int) -> PublicStatement | None:
    """The statement staff wrote for the public, or None when there is none yet."""
    with platform.db.reading() as session:
        incident = load(session, incident_id)
        if not incident.public_statement.strip():
            return None
        return PublicStatement(
            incident.id,
            incident.title,
            incident.status,
            incident.public_statement,
            incident.updated_at,
        )
