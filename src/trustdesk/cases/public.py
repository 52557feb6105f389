"""What others may use of cases: the periodic SLA evaluation (for the job system) and a
customer's open cases (ids and states only, no text)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.cases.models import Case
from trustdesk.cases.schemas import SlaReport
from trustdesk.cases.sla import ACTIVE_STATUSES, evaluate_sla_in
from trustdesk.platform import Platform

__all__ = ["CaseState", "SlaReport", "evaluate_sla", "open_cases_of"]


def evaluate_sla(platform: Platform) -> SlaReport:
    """One SLA pass in a transaction of its own: states refreshed, breaches escalated."""
    with platform.db.transaction() as session:
        return evaluate_sla_in(session)


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
