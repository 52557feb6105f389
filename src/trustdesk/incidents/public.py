"""What other parts of TrustDesk may use of incidents: `evaluate_clocks(platform)` for the job
scheduler (run it every few minutes), and the public statement of an incident for the trust
centre."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from trustdesk.db import utcnow
from trustdesk.incidents.obligations.service import evaluate_clocks_in, reevaluate_open, rules_from
from trustdesk.incidents.register.service import load
from trustdesk.platform import Platform

__all__ = ["ClockRun", "PublicStatement", "evaluate_clocks", "public_statement"]


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
        changed = reevaluate_open(session, rules, actor="system:clocks", now=at)
        alerts = evaluate_clocks_in(session, rules, at)
        return ClockRun(alerts=len(alerts), reevaluated=len(changed))


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
