"""Incident endpoints under /api/v1/incidents (`incidents:read`, `incidents:manage`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from trustdesk.access.principal import Principal
from trustdesk.auth.http import ReadSession, WriteSession, require
from trustdesk.bounds import RowId
from trustdesk.db import utcnow
from trustdesk.incidents import recovery as trust_recovery
from trustdesk.incidents.affected import counts as affected_counts
from trustdesk.incidents.affected.derive import derive_affected
from trustdesk.incidents.notices import offers
from trustdesk.incidents.obligations import service as obligations
from trustdesk.incidents.obligations.rules import Audience
from trustdesk.incidents.register import service as register
from trustdesk.incidents.register.lifecycle import StatusFilter
from trustdesk.incidents.schemas import (
    AffectedCounts,
    DecisionIn,
    EntryOut,
    IncidentIn,
    IncidentOut,
    IncidentPatch,
    TaskIn,
    TaskOut,
    UpdateIn,
)
from trustdesk.problems import problem_responses

router = APIRouter(prefix="/incidents", tags=["incidents"])
_READ = Depends(require("incidents:read"))
_404 = problem_responses(404)
_404_409 = problem_responses(404, 409)


class Created(BaseModel):
    id: int


class FulfilIn(BaseModel):
    jurisdiction: str = Field(min_length=1, max_length=16, description="e.g. DE, US-FL, EU.")
    audience: Audience
    reference: str = Field("", max_length=300)


class DerivedOut(BaseModel):
    systems: list[str]
    not_derivable: list[str]
    added: int
    changed: int


@router.get("", response_model=list[IncidentOut], dependencies=[_READ])
def list_incidents(
    *,
    status: StatusFilter | None = Query(
        None, description="A status, or `open`: every status but closed."
    ),
    session: ReadSession,
) -> list[IncidentOut]:
    """Incidents, newest first; `status` filters (a status, or `open`)."""
    return register.list_incidents(session, status=status)


@router.post("", response_model=Created, status_code=201)
def open_incident(
    *,
    body: IncidentIn,
    principal: Principal = Depends(require("incidents:manage")),
    session: WriteSession,
) -> Created:
    return Created(id=register.open_incident(session, body, actor=principal.actor, now=utcnow()).id)


@router.get("/{incident_id}", response_model=IncidentOut, dependencies=[_READ], responses=_404)
def show_incident(incident_id: RowId, session: ReadSession) -> IncidentOut:
    return register.get(session, incident_id)


@router.patch("/{incident_id}", response_model=IncidentOut, responses=_404_409)
def update_incident(
    incident_id: RowId,
    *,
    body: IncidentPatch,
    principal: Principal = Depends(require("incidents:manage")),
    session: WriteSession,
) -> IncidentOut:
    """Change fields or move the status (allowed moves only; 409 names them)."""
    register.update_incident(session, incident_id, body, actor=principal.actor, now=utcnow())
    return register.get(session, incident_id)


@router.post("/{incident_id}/tasks", response_model=TaskOut, status_code=201, responses=_404)
def add_task(
    incident_id: RowId,
    *,
    body: TaskIn,
    principal: Principal = Depends(require("incidents:manage")),
    session: WriteSession,
) -> TaskOut:
    t = register.add_task(session, incident_id, body, actor=principal.actor, now=utcnow())
    return TaskOut(id=t.id, title=t.title, owner=t.owner, due_at=t.due_at, done_at=t.done_at)


@router.post("/{incident_id}/updates", response_model=EntryOut, status_code=201, responses=_404)
def add_update(
    incident_id: RowId,
    *,
    body: UpdateIn,
    principal: Principal = Depends(require("incidents:manage")),
    session: WriteSession,
) -> EntryOut:
    e = register.add_update(session, incident_id, body, actor=principal.actor, now=utcnow())
    return EntryOut.model_validate(e, from_attributes=True)


@router.post("/{incident_id}/decisions", response_model=EntryOut, status_code=201, responses=_404)
def add_decision(
    incident_id: RowId,
    *,
    body: DecisionIn,
    principal: Principal = Depends(require("incidents:manage")),
    session: WriteSession,
) -> EntryOut:
    e = register.add_decision(session, incident_id, body, actor=principal.actor, now=utcnow())
    return EntryOut.model_validate(e, from_attributes=True)


@router.post("/{incident_id}/affected/derive", response_model=DerivedOut, responses=_404)
def derive(
    incident_id: RowId,
    *,
    principal: Principal = Depends(require("incidents:manage")),
    session: WriteSession,
) -> DerivedOut:
    """Add the customers whose records lived in the breached systems during the window."""
    found = derive_affected(session, incident_id, actor=principal.actor)
    return DerivedOut(
        systems=found.systems,
        not_derivable=found.not_derivable,
        added=found.report.added,
        changed=found.report.changed,
    )


@router.get(
    "/{incident_id}/affected", response_model=AffectedCounts, dependencies=[_READ], responses=_404
)
def affected(incident_id: RowId, session: ReadSession) -> AffectedCounts:
    """Affected customers per jurisdiction and data category."""
    register.load(session, incident_id)
    total, places, categories = affected_counts.counts(
        affected_counts.exposure_groups(session, incident_id)
    )
    return AffectedCounts(total=total, by_jurisdiction=places, by_category=categories)


@router.get(
    "/{incident_id}/obligations",
    response_model=list[dict[str, Any]],
    dependencies=[_READ],
    responses=_404,
)
def list_obligations(incident_id: RowId, session: ReadSession) -> list[dict[str, Any]]:
    """One per (jurisdiction, audience) with its clock (green, amber, red, overdue, done)."""
    found = obligations.clocks(session, incident_id, obligations.rules_from(None), utcnow())
    return [
        {**c.obligation.as_dict(), "clock": c.state, "seconds_left": c.seconds_left} for c in found
    ]


@router.get(
    "/{incident_id}/recovery",
    response_model=dict[str, Any],
    dependencies=[_READ],
    responses=_404,
)
def get_recovery(
    incident_id: RowId,
    session: ReadSession,
    window_days: int = Query(trust_recovery.DEFAULT_WINDOW_DAYS, ge=7, le=730),
) -> dict[str, Any]:
    """Trust recovery: difference in differences of affected vs unaffected customers' trust
    (95% interval), weekly course, days to recover, feedback about privacy and security."""
    found = trust_recovery.recovery(session, incident_id, window_days=window_days)
    return trust_recovery.as_dict(found)


@router.post("/{incident_id}/fulfilments", status_code=204, responses=_404)
def fulfil(
    incident_id: RowId,
    *,
    body: FulfilIn,
    principal: Principal = Depends(require("incidents:manage")),
    session: WriteSession,
) -> None:
    """Record that an obligation was met (its clock stops)."""
    obligations.fulfil(
        session,
        incident_id,
        body.jurisdiction,
        body.audience,
        reference=body.reference,
        actor=principal.actor,
        now=utcnow(),
    )


class RedeemIn(BaseModel):
    code: str = Field(min_length=1, max_length=64)


class UptakeOut(BaseModel):
    pool: int
    given: int
    redeemed: int
    rate: float | None


@router.post("/{incident_id}/offers/redemptions", status_code=204, responses=_404)
def redeem_offer(
    incident_id: RowId,
    *,
    body: RedeemIn,
    principal: Principal = Depends(require("incidents:manage")),
    session: WriteSession,
) -> None:
    """Record that a remediation code given in a notice was used (idempotent)."""
    offers.redeem(session, incident_id, body.code, actor=principal.actor, now=utcnow())


@router.get("/{incident_id}/offers", response_model=UptakeOut, dependencies=[_READ], responses=_404)
def offer_uptake(incident_id: RowId, session: ReadSession) -> UptakeOut:
    found = offers.uptake(session, incident_id)
    return UptakeOut(pool=found.pool, given=found.given, redeemed=found.redeemed, rate=found.rate)
