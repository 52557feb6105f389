"""SLA clocks: due times from the queue's calendar and the priority's policy, pauses while
waiting on the customer, amber at the configured share of a target, breach -> escalation.

`evaluate_sla` is the periodic step (the job system calls it); it never commits.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk import audit
from trustdesk.cases.calendar import BusinessCalendar, add_business_time, business_time_between
from trustdesk.cases.config import CasesConfig, current_config
from trustdesk.cases.models import Case, CaseEvent
from trustdesk.cases.schemas import SlaReport
from trustdesk.db import utcnow

__all__ = [
    "ACTIVE_STATUSES",
    "ESCALATION_TEAM",
    "clock_state",
    "evaluate_sla_in",
    "pause",
    "resume",
    "set_dues",
]

ACTIVE_STATUSES = ("new", "open", "waiting_on_third_party", "reopened", "waiting_on_customer")
ESCALATION_TEAM = "supervisors"


def _hours(value: float) -> timedelta:
    return timedelta(seconds=round(value * 3600))


def set_dues(case: Case, config: CasesConfig, now: datetime) -> None:
    """Due times of a case opened (or reopened) at `now`, from its queue and priority."""
    calendar = config.calendar_for(case.queue)
    policy = config.policy_for(case.priority)
    if case.first_response_at is None:
        case.first_response_due = add_business_time(calendar, now, _hours(policy.first_response))
    case.resolution_due = add_business_time(calendar, now, _hours(policy.resolution))


def responded(case: Case, config: CasesConfig, now: datetime) -> None:
    """An answer reached the customer: first response recorded, next-update clock restarted."""
    if case.first_response_at is None:
        case.first_response_at = now
    case.last_update_at = now
    policy = config.policy_for(case.priority)
    case.next_update_due = add_business_time(
        config.calendar_for(case.queue), now, _hours(policy.next_update)
    )


def pause(case: Case, now: datetime) -> None:
    if case.paused_at is None:
        case.paused_at = now


def resume(case: Case, config: CasesConfig, now: datetime) -> None:
    """Move every running due time on by the business time the clock stood still."""
    if case.paused_at is None:
        return
    calendar = config.calendar_for(case.queue)
    paused_at = case.paused_at
    case.paused_at = None
    for name in ("first_response_due", "next_update_due", "resolution_due"):
        due = getattr(case, name)
        if due is None or due <= paused_at:
            continue  # already past when the clock stopped: stays breached
        if name == "first_response_due" and case.first_response_at is not None:
            continue
        left = business_time_between(calendar, paused_at, due)
        setattr(case, name, add_business_time(calendar, now, left))


def _running_clocks(case: Case) -> list[tuple[datetime, datetime, datetime | None]]:
    """(start, due, stop) of each clock that matters now."""
    clocks: list[tuple[datetime, datetime, datetime | None]] = []
    if case.first_response_due is not None and case.first_response_at is None:
        clocks.append((case.opened_at, case.first_response_due, None))
    if case.next_update_due is not None and case.last_update_at is not None:
        clocks.append((case.last_update_at, case.next_update_due, None))
    if case.resolution_due is not None and case.resolved_at is None:
        clocks.append((case.opened_at, case.resolution_due, None))
    return clocks


def clock_state(case: Case, calendar: BusinessCalendar, amber_ratio: float, now: datetime) -> str:
    """ "breached", "amber" or "ok" for a case's running clocks at `now` (paused: frozen)."""
    at = case.paused_at or now
    state = "ok"
    for start, due, _stop in _running_clocks(case):
        if at > due:
            return "breached"
        target = business_time_between(calendar, start, due)
        used = business_time_between(calendar, start, at)
        if target > timedelta(0) and used >= target * amber_ratio:
            state = "amber"
    return state


def evaluate_sla_in(session: Session, *, now: datetime | None = None) -> SlaReport:
    """Refresh every active case's SLA state; escalate new breaches (to the supervisors' team,
    unassigned, with an event and an audit entry). The caller commits."""
    now = now or utcnow()
    config = current_config(session)
    cases = session.scalars(
        select(Case).where(Case.status.in_(ACTIVE_STATUSES)).order_by(Case.id)
    ).all()
    amber = breached = 0
    newly: list[int] = []
    for case in cases:
        state = clock_state(case, config.calendar_for(case.queue), config.amber_ratio, now)
        if state == "amber":
            amber += 1
        if state == "breached":
            breached += 1
            if not case.breached:
                newly.append(case.id)
                case.breached = 1
                _escalate(session, case, now)
        if state != case.sla_state:
            case.sla_state = state
    if newly:
        audit.record(
            session,
            actor="sla",
            action="cases.sla_breached",
            entity_type="cases",
            entity_id=",".join(str(i) for i in newly[:50]),
            changes={"count": len(newly)},
        )
    session.flush()
    return SlaReport(evaluated=len(cases), amber=amber, breached=breached, newly_breached=newly)


def _escalate(session: Session, case: Case, now: datetime) -> None:
    before = {"team": case.team, "assignee": case.assignee}
    case.team, case.assignee, case.updated_at = ESCALATION_TEAM, None, now
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            actor="sla",
            kind="escalated",
            detail=json.dumps(
                {"reason": "SLA breached", **{f"from_{k}": v for k, v in before.items()}}
            ),
        )
    )
