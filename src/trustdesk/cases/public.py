"""What others may use of cases: the periodic SLA evaluation (for the job system), a customer's
open cases (ids and states only), and their cases in clear for access exports and erasure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from trustdesk.cases.csat import SurveyRun, send_surveys
from trustdesk.cases.intake import BODY_FIELD, SUBJECT_FIELD, open_case
from trustdesk.cases.models import Case, CaseEvent
from trustdesk.cases.routing import classifier_for, routing_model_figures
from trustdesk.cases.schemas import CaseIn, SlaReport
from trustdesk.cases.sla import ACTIVE_STATUSES, evaluate_sla_in
from trustdesk.cases.stats import case_figures
from trustdesk.crypto import KeyDestroyed, Vault
from trustdesk.jobs import public as jobs
from trustdesk.platform import Platform
from trustdesk.serving import public_base_url

__all__ = [
    "CaseState",
    "CustomerCase",
    "SlaBreach",
    "SlaReport",
    "breached_case_ids",
    "case_figures",
    "customer_cases",
    "evaluate_sla",
    "forget_customer_cases",
    "open_cases_of",
    "open_public_case",
    "routing_model_figures",
    "send_csat_surveys",
    "sla_breaches_since",
]


def evaluate_sla(platform: Platform) -> SlaReport:
    """One SLA pass in a transaction of its own: states refreshed, breaches escalated."""
    with platform.db.transaction() as session:
        report = evaluate_sla_in(session)
        if report.newly_breached:
            jobs.changed(session, "cases.breached")  # notifications.notify runs at once
        return report


def send_csat_surveys(platform: Platform) -> SurveyRun:
    """One survey pass in a transaction of its own (the `cases.csat` job)."""
    with platform.db.transaction() as session:
        return send_surveys(
            session,
            platform.vault,
            base_url=public_base_url(platform.settings),
            policy_file=platform.settings.consent_policy_file,
        )


@dataclass(frozen=True)
class CaseState:
    id: int
    queue: str
    status: str
    sla_state: str


def open_cases_of(session: Session, customer_id: int) -> list[CaseState]:
    rows = session.execute(
        select(Case.id, Case.queue, Case.status, Case.sla_state)
        .where(Case.customer_id == customer_id, Case.status.in_(ACTIVE_STATUSES))
        .order_by(Case.id.desc())
    )
    return [CaseState(*r) for r in rows]


@dataclass(frozen=True)
class CustomerCase:
    id: int
    channel: str
    opened_at: datetime
    status: str
    category: str
    subject: str | None  # None once the customer's key is destroyed
    body: str | None


def customer_cases(session: Session, vault: Vault, customer_id: int) -> list[CustomerCase]:
    """A customer's cases, text decrypted while their key lives."""
    rows = session.scalars(
        select(Case).where(Case.customer_id == customer_id).order_by(Case.id)
    ).all()
    keys = vault.data_keys({r.key_subject for r in rows})
    found: list[CustomerCase] = []
    for r in rows:
        key = keys.get(r.key_subject)
        try:
            subject = vault.decrypt(key, r.key_subject, SUBJECT_FIELD, r.subject_enc)
            body = vault.decrypt(key, r.key_subject, BODY_FIELD, r.body_enc)
        except KeyDestroyed:
            subject = body = None
        found.append(
            CustomerCase(r.id, r.channel, r.opened_at, r.status, r.category, subject, body)
        )
    return found


def forget_customer_cases(session: Session, customer_id: int) -> int:
    """After the customer's key is gone: drop the unreadable ciphertext of their cases."""
    result = session.execute(
        update(Case).where(Case.customer_id == customer_id).values(subject_enc=None, body_enc=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class SlaBreach:
    """A case escalated for breaching its SLA (no complaint text, no customer)."""

    event_id: int
    case_id: int
    queue: str
    priority: str
    at: datetime


def sla_breaches_since(session: Session, since: datetime) -> list[SlaBreach]:
    """Escalations (SLA breaches) at or after `since`, oldest first (for notifications)."""
    rows = session.execute(
        select(CaseEvent.id, CaseEvent.case_id, Case.queue, Case.priority, CaseEvent.at)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(CaseEvent.kind == "escalated", CaseEvent.at >= since)
        .order_by(CaseEvent.id)
    )
    return [SlaBreach(*r) for r in rows]


def open_public_case(
    session: Session,
    platform: Platform,
    *,
    external_id: str,
    subject: str,
    body: str,
    email: str,
    actor: str,
) -> int:
    """Open (or find again) a case from a public web form, routed like any other; its id."""
    case = CaseIn(channel="web", external_id=external_id, subject=subject, body=body, email=email)
    opened = open_case(
        session, platform.vault, case, classify=classifier_for(platform.settings), actor=actor
    )
    return opened.id


def breached_case_ids(session: Session, *, limit: int = 10) -> list[int]:
    """Ids of cases that breached their SLA, newest first (e.g. to link to a risk)."""
    return list(
        session.scalars(
            select(Case.id).where(Case.breached == 1).order_by(Case.id.desc()).limit(limit)
        )
    )
