"""Turn what happened into outbox messages for the subscribers, idempotently.

Each event has a stable key (`trust_alert:<id>`, `overdue_request:<id>`, `job_failure:<run id>`,
`fraud_queue:<threshold>:<day>`, `incident_clock:<alert id>`, `case_breach:<event id>`); the
message for one subscription and one event has the outbox idempotency key
`notify:<subscription>:<event>`, so however often the producer runs, each subscriber hears of
each event once. Events that happened before a
subscription was made are not sent to it, except standing conditions (a request still overdue,
a queue still too long).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from trustdesk.cases.public import sla_breaches_since
from trustdesk.crypto import Vault
from trustdesk.fraud.public import review_queue_length
from trustdesk.incidents.public import clock_alerts_raised_since
from trustdesk.jobs.public import changed, failed_runs_since
from trustdesk.notifications.models import Subscription
from trustdesk.notifications.service import active, address_of
from trustdesk.outbox.public import enqueue_email, enqueue_webhook
from trustdesk.privacy.public import overdue_requests
from trustdesk.trust.public import alerts_raised_since

__all__ = ["LOOKBACK", "Event", "produce"]

LOOKBACK = timedelta(days=7)
"""Events older than this are not notified (a subscriber added today hears of today's news)."""
OUTBOX_ENQUEUED = "outbox.enqueued"  # the delivery job's trigger


@dataclass(frozen=True)
class Event:
    kind: str
    key: str
    at: datetime
    title: str
    text: str
    fields: dict[str, str] = field(default_factory=dict)
    standing: bool = False  # a condition that still holds: sent to new subscribers too


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _trust_alerts(session: Session, now: datetime) -> list[Event]:
    events = []
    for a in alerts_raised_since(session, now - LOOKBACK):
        what = "Trust drop" if a.kind == "trust_drop" else f"Negative surge on {a.topic}"
        events.append(
            Event(
                "trust_alert",
                f"trust_alert:{a.id}",
                a.created_at,
                f"{what} in {a.segment} ({a.severity})",
                f"{what} in segment {a.segment}, {_when(a.window_start)} to "
                f"{_when(a.window_end)}: observed {a.observed:.1f} against {a.baseline:.1f} "
                f"expected. Severity {a.severity}. See /trust/alerts.",
                {"segment": a.segment, "severity": a.severity, "alert_id": str(a.id)},
            )
        )
    return events


def _overdue(session: Session, now: datetime) -> list[Event]:
    return [
        Event(
            "overdue_request",
            f"overdue_request:{r.id}",
            r.due_at,
            f"Privacy request {r.id} is overdue",
            f"The {r.kind} request {r.id} ({r.regime}) received {_when(r.received_at)} was due "
            f"{_when(r.due_at)} and is still open. See /privacy/requests/{r.id}.",
            {"request_id": str(r.id), "kind": r.kind, "due_at": r.due_at.isoformat()},
            standing=True,
        )
        for r in overdue_requests(session, now)
    ]


def _fraud_queue(session: Session, now: datetime, threshold: int, length: int) -> list[Event]:
    if length <= threshold:
        return []
    return [
        Event(
            "fraud_queue",
            f"fraud_queue:{threshold}:{now.date().isoformat()}",  # at most once a day
            now,
            f"Fraud review queue: {length} payments waiting",
            f"{length} payments wait for a review decision (your threshold is {threshold}). "
            "See /fraud/review.",
            {"length": str(length), "threshold": str(threshold)},
            standing=True,
        )
    ]


def _job_failures(session: Session, now: datetime) -> list[Event]:
    return [
        Event(
            "job_failure",
            f"job_failure:{r.run_id}",
            r.finished_at,
            f"Job {r.job} {r.status} after {r.attempt} attempt(s)",
            f"The background job {r.job} {r.status} at {_when(r.finished_at)}: "
            f"{r.error or 'no error recorded'}. See /jobs.",
            {"job": r.job, "run_id": str(r.run_id), "status": r.status},
        )
        for r in failed_runs_since(session, now - LOOKBACK)
    ]


_LEVEL = {"amber": "half its time gone", "red": "nearly due", "overdue": "overdue"}


def _incident_clocks(session: Session, now: datetime) -> list[Event]:
    events = []
    for a in clock_alerts_raised_since(session, now - LOOKBACK):
        audience = a.audience.replace("_", " ")
        what = f"Incident {a.incident_id}: notice to {audience} in {a.jurisdiction}"
        events.append(
            Event(
                "incident_clock",
                f"incident_clock:{a.id}",
                a.raised_at,
                f"{what} is {_LEVEL.get(a.level, a.level)}",
                f"{what} ({a.incident_title}) is {a.level}: due {_when(a.due_at)}. Send it, or "
                f"record it with `trustdesk incidents fulfil`. See /incidents/{a.incident_id}.",
                {
                    "incident_id": str(a.incident_id),
                    "jurisdiction": a.jurisdiction,
                    "audience": a.audience,
                    "level": a.level,
                    "due_at": a.due_at.isoformat(),
                },
            )
        )
    return events


def _case_breaches(session: Session, now: datetime) -> list[Event]:
    return [
        Event(
            "case_breach",
            f"case_breach:{b.event_id}",
            b.at,
            f"Case {b.case_id} breached its SLA ({b.priority}, {b.queue})",
            f"The {b.priority} complaint case {b.case_id} in queue {b.queue} breached its SLA at "
            f"{_when(b.at)} and was escalated to the supervisors. See /cases/{b.case_id}.",
            {"case_id": str(b.case_id), "queue": b.queue, "priority": b.priority},
        )
        for b in sla_breaches_since(session, now - LOOKBACK)
    ]


def _events(session: Session, subs: list[Subscription], now: datetime) -> dict[str, list[Event]]:
    kinds = {s.kind for s in subs}
    found: dict[str, list[Event]] = {}
    if "trust_alert" in kinds:
        found["trust_alert"] = _trust_alerts(session, now)
    if "overdue_request" in kinds:
        found["overdue_request"] = _overdue(session, now)
    if "job_failure" in kinds:
        found["job_failure"] = _job_failures(session, now)
    if "incident_clock" in kinds:
        found["incident_clock"] = _incident_clocks(session, now)
    if "case_breach" in kinds:
        found["case_breach"] = _case_breaches(session, now)
    if "fraud_queue" in kinds:
        found["fraud_queue"] = []  # per subscription: each has its own threshold
    return found


def produce(session: Session, vault: Vault, now: datetime) -> int:
    """Enqueue every message subscribers are owed; returns how many are new. Never commits."""
    subs = active(session)
    if not subs:
        return 0
    events = _events(session, subs, now)
    queue = review_queue_length(session) if "fraud_queue" in events else 0
    created = 0
    for sub in subs:
        owed = events.get(sub.kind, [])
        if sub.kind == "fraud_queue" and sub.threshold is not None:
            owed = _fraud_queue(session, now, sub.threshold, queue)
        for event in owed:
            if not event.standing and event.at < sub.created_at:
                continue
            key = f"notify:{sub.id}:{event.key}"
            kind = f"notification.{event.kind}"
            address = address_of(vault, sub)
            if address is not None:
                ref = enqueue_email(
                    session, vault, kind=kind, key=key, subject=f"[TrustDesk] {event.title}",
                    text=event.text, to_address=address, actor="notifications",
                )  # fmt: skip
            elif sub.endpoint is not None:
                ref = enqueue_webhook(
                    session, vault, kind=kind, key=key, endpoint=sub.endpoint,
                    text=f"*{event.title}*\n{event.text}",
                    fields={"kind": event.kind, "event": event.key, **event.fields},
                    actor="notifications",
                )  # fmt: skip
            else:  # pragma: no cover - a subscription always has one channel
                continue
            created += int(ref.created)
    if created:
        changed(session, OUTBOX_ENQUEUED, now=now)
    return created
