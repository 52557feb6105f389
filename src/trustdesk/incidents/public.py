"""What other parts of TrustDesk may use of incidents: `evaluate_clocks(platform)` for the job
scheduler (run it every few minutes), the clock alerts it raised (`clock_alerts_raised_since`, for
the notifications capability, which tells subscribers through the outbox), and the public
statement of an incident for the trust centre."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from trustdesk.db import utcnow
from trustdesk.incidents.models import Incident, IncidentAlert, IncidentEntry, IncidentFulfilment
from trustdesk.incidents.obligations.service import (
    evaluate_clocks_in,
    obligations,
    reevaluate_open,
    rules_from,
)
from trustdesk.incidents.register.service import STATEMENT_PUBLISHED, load
from trustdesk.jobs.public import changed
from trustdesk.platform import Platform

__all__ = [
    "CLOCK_ALERTS_RAISED",
    "STATEMENT_PUBLISHED",
    "ClockAlert",
    "ClockRun",
    "DisclosedIncident",
    "NoticeTiming",
    "PublicStatement",
    "clock_alerts_raised_since",
    "disclosed_incidents",
    "evaluate_clocks",
    "incident_exists",
    "notice_timings",
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


def incident_exists(session: Session, incident_id: int) -> bool:
    return session.get(Incident, incident_id) is not None


@dataclass(frozen=True)
class DisclosedIncident:
    """An incident disclosed to the public: its statement and public timeline entries."""

    id: int
    title: str
    status: str
    statement: str
    aware_at: datetime
    closed_at: datetime | None
    updated_at: datetime
    timeline: tuple[tuple[datetime, str], ...]  # (when, text) of public entries, oldest first


def disclosed_incidents(session: Session, *, limit: int = 50) -> list[DisclosedIncident]:
    """Incidents with a public statement or public timeline entries, newest first."""
    public_ids = select(IncidentEntry.incident_id).where(IncidentEntry.visibility == "public")
    rows = session.scalars(
        select(Incident)
        .where(or_(Incident.public_statement != "", Incident.id.in_(public_ids)))
        .order_by(Incident.aware_at.desc(), Incident.id.desc())
        .limit(limit)
    ).all()
    entries: dict[int, list[tuple[datetime, str]]] = {r.id: [] for r in rows}
    for incident_id, at, text in session.execute(
        select(IncidentEntry.incident_id, IncidentEntry.at, IncidentEntry.text)
        .where(IncidentEntry.incident_id.in_(list(entries)), IncidentEntry.visibility == "public")
        .order_by(IncidentEntry.at, IncidentEntry.id)
    ):
        entries[incident_id].append((at, text))
    return [
        DisclosedIncident(
            r.id,
            r.title,
            r.status,
            r.public_statement.strip(),
            r.aware_at,
            r.closed_at,
            r.updated_at,
            tuple(entries[r.id]),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class NoticeTiming:
    """A required notice of an incident: when it was due by law, and when it went (None: not
    yet)."""

    incident_id: int
    audience: str
    jurisdiction: str
    due_at: datetime
    sent_at: datetime | None


def notice_timings(session: Session, since: datetime) -> list[NoticeTiming]:
    """Every required notice with a legal deadline of incidents known since `since`, evaluated
    under the shipped rules, with when it was recorded as sent."""
    rules = rules_from(None)
    ids = list(session.scalars(select(Incident.id).where(Incident.aware_at >= since)))
    done = {
        (i, j, a): at
        for i, j, a, at in session.execute(
            select(
                IncidentFulfilment.incident_id, IncidentFulfilment.jurisdiction,
                IncidentFulfilment.audience, IncidentFulfilment.at,
            ).where(IncidentFulfilment.incident_id.in_(ids))
        )
    }  # fmt: skip
    found: list[NoticeTiming] = []
    for incident_id in ids:
        for o in obligations(session, incident_id, rules):
            if o.required and o.due_at is not None:
                sent = done.get((incident_id, o.jurisdiction, o.audience))
                found.append(NoticeTiming(incident_id, o.audience, o.jurisdiction, o.due_at, sent))
    return found
