"""The rule that opens a case for a trust-index drop: each unacknowledged `trust_drop` alert
raised in the look-back becomes one case (channel "alert", external id "trust-alert-<id>", so
running the rule again opens nothing new), category `trust_alert` (the configuration routes it;
the shipped one sends it to the `trust` queue with the `trust_drop` playbook), the alert's
segment on the case so the figures by segment count it. Opened through intake like any case:
audited (`case.opened`), counted, on the SLA clocks.

An alert is about a segment, not a person: the case has no customer, and its text (the alert's
figures, no personal data) is encrypted under a contact key of its own like any unknown
sender's. Reads alerts through trust's facade. Never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from trustdesk.cases.intake import open_case
from trustdesk.cases.models import Case
from trustdesk.cases.schemas import CaseIn
from trustdesk.crypto import Vault
from trustdesk.db import utcnow
from trustdesk.trust import public as trust

__all__ = ["ALERT_CATEGORY", "LOOKBACK", "AlertCases", "open_from_alerts"]

ALERT_CATEGORY = "trust_alert"
LOOKBACK = timedelta(days=30)


@dataclass(frozen=True)
class AlertCases:
    alerts: int  # trust-drop alerts seen
    opened: int


def _route(_text: str) -> tuple[str, float]:
    return ALERT_CATEGORY, 1.0


def _body(alert: trust.RaisedAlert) -> str:
    day = "%Y-%m-%d"
    return (
        f"The trust index of segment {alert.segment!r} dropped from {alert.baseline:.1f} to "
        f"{alert.observed:.1f} in the window {alert.window_start:{day}} to "
        f"{alert.window_end:{day}} (severity {alert.severity}"
        + (f", topic {alert.topic!r}" if alert.topic else "")
        + f"). Trust alert {alert.id}: see the trust index page for what drove it; "
        "acknowledge the alert once the cause is understood."
    )


def open_from_alerts(
    session: Session, vault: Vault, *, actor: str, now: datetime | None = None
) -> AlertCases:
    """Open a case for each unacknowledged trust-drop alert raised in the last `LOOKBACK`."""
    now = now or utcnow()
    alerts = [
        a for a in trust.alerts_raised_since(session, now - LOOKBACK) if a.kind == "trust_drop"
    ]
    opened = 0
    for alert in alerts:
        result = open_case(
            session,
            vault,
            CaseIn(
                channel="alert",
                external_id=f"trust-alert-{alert.id}",
                subject=f"Trust index dropped in segment {alert.segment}"[:200],
                body=_body(alert),
                at=alert.created_at,
            ),
            classify=_route,
            actor=actor,
        )
        if result.created:
            row = session.get(Case, result.id)
            if row is not None:
                row.segment = alert.segment[:64]
            opened += 1
    return AlertCases(alerts=len(alerts), opened=opened)
