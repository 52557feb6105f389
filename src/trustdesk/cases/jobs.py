"""Cases' background work for the job system: SLA clocks move with business time, so badges
and escalations must not wait for someone to open the inbox."""

from __future__ import annotations

from trustdesk.cases.from_alerts import open_from_alerts
from trustdesk.cases.public import evaluate_sla, send_csat_surveys
from trustdesk.jobs.public import JobContext

__all__ = ["evaluate", "from_alerts", "send_csat"]


def evaluate(context: JobContext) -> str:
    """Refresh every open case's SLA state; escalate new breaches once."""
    report = evaluate_sla(context.platform)
    return f"{report.evaluated} cases, {report.amber} amber, {report.breached} breached"


def send_csat(context: JobContext) -> str:
    """Ask "did we fix it?" after each resolution (consent permitting)."""
    run = send_csat_surveys(context.platform)
    return f"{run.sent} surveys sent, {run.not_allowed} not allowed by consent"


def from_alerts(context: JobContext) -> str:
    """Open a case for each new trust-index drop alert (idempotent per alert)."""
    platform = context.platform
    with platform.db.transaction() as session:
        run = open_from_alerts(session, platform.vault, actor="cases.from_alerts")
    return f"{run.alerts} trust-drop alerts, {run.opened} cases opened"
