"""Trust-centre endpoints under /api/v1/trustcentre and the risk register under /api/v1/risks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response

from trustdesk.access.principal import Principal
from trustdesk.auth.http import ReadSession, WriteSession, require
from trustdesk.bounds import RowId
from trustdesk.db import utcnow
from trustdesk.problems import problem_responses
from trustdesk.trustcentre import risks as register
from trustdesk.trustcentre.promises import compute_promises
from trustdesk.trustcentre.schemas import (
    LinkIn,
    PromiseOut,
    RiskCategory,
    RiskIn,
    RiskPatch,
    SectionIn,
    StatementIn,
    StatementOut,
)
from trustdesk.trustcentre.sections import set_section
from trustdesk.trustcentre.statements import list_statements, publish_statement

__all__ = ["risks_router", "router"]

router = APIRouter(prefix="/trustcentre", tags=["trust centre"])


@router.post(
    "/statements", response_model=StatementOut, status_code=201, responses=problem_responses(404)
)
def post_statement(
    *,
    body: StatementIn,
    principal: Principal = Depends(require("trustcentre:publish")),
    session: WriteSession,
) -> StatementOut:
    """Publish a statement on the public trust centre and its feed (optionally about an
    incident)."""
    row = publish_statement(
        session, title=body.title, body=body.body, incident_id=body.incident_id,
        actor=principal.actor, now=utcnow(),
    )  # fmt: skip
    return StatementOut.model_validate(row, from_attributes=True)


@router.get("/statements", response_model=list[StatementOut])
def get_statements(
    *, principal: Principal = Depends(require("trustcentre:read")), session: ReadSession
) -> list[StatementOut]:
    return [StatementOut.model_validate(s, from_attributes=True) for s in list_statements(session)]


@router.get("/promises", response_model=list[PromiseOut])
def get_promises(
    *, principal: Principal = Depends(require("trustcentre:read")), session: ReadSession
) -> list[PromiseOut]:
    """Each promise with its measured figure, target, count, period and whether it is kept."""
    return [PromiseOut(**p.as_json()) for p in compute_promises(session, utcnow())]


@router.put("/sections/{key}", status_code=204, response_class=Response)
def put_section(
    key: Annotated[str, Path(pattern=r"^[a-z][a-z0-9-]{0,63}$")],
    *,
    body: SectionIn,
    principal: Principal = Depends(require("trustcentre:publish")),
    session: WriteSession,
) -> Response:
    """Create or replace a Markdown section (practice, FAQ or document) of the public page."""
    set_section(
        session, key=key, title=body.title, body=body.body, owner=body.owner, kind=body.kind,
        review_due=body.review_due, position=body.position, actor=principal.actor, now=utcnow(),
    )  # fmt: skip
    return Response(status_code=204)


@router.get("/risks.csv", response_class=Response)
def export_risks(
    *, principal: Principal = Depends(require("risks:read")), session: ReadSession
) -> Response:
    """The whole risk register as formula-safe CSV (under /trustcentre: /risks/{id} takes the
    register's own paths)."""
    text = register.export_csv(register.list_risks(session, now=utcnow(), include_closed=True))
    return Response(text, media_type="text/csv")


risks_router = APIRouter(prefix="/risks", tags=["risks"])


@risks_router.post("", status_code=201)
def add_risk(
    *,
    body: RiskIn,
    principal: Principal = Depends(require("risks:manage")),
    session: WriteSession,
) -> dict[str, Any]:
    return register.add_risk(
        session, body.model_dump(), actor=principal.actor, now=utcnow()
    ).as_json()


@risks_router.get("")
def list_risks(
    *,
    category: RiskCategory | None = None,
    overdue: bool = False,
    include_closed: bool = False,
    principal: Principal = Depends(require("risks:read")),
    session: ReadSession,
) -> list[dict[str, Any]]:
    """Highest inherent score first; `overdue=true` only those past their review date."""
    found = register.list_risks(
        session, now=utcnow(), category=category, overdue_only=overdue,
        include_closed=include_closed,
    )  # fmt: skip
    return [r.as_json() for r in found]


@risks_router.get("/{risk_id}", responses=problem_responses(404))
def get_risk(
    risk_id: RowId,
    *,
    principal: Principal = Depends(require("risks:read")),
    session: ReadSession,
) -> dict[str, Any]:
    return register.get_risk(session, risk_id, now=utcnow()).as_json()


@risks_router.patch("/{risk_id}", responses=problem_responses(404))
def patch_risk(
    risk_id: RowId,
    *,
    body: RiskPatch,
    principal: Principal = Depends(require("risks:manage")),
    session: WriteSession,
) -> dict[str, Any]:
    return register.update_risk(
        session, risk_id, body.given(), actor=principal.actor, now=utcnow()
    ).as_json()


@risks_router.post("/{risk_id}/review", responses=problem_responses(404))
def review(
    risk_id: RowId,
    *,
    principal: Principal = Depends(require("risks:manage")),
    session: WriteSession,
) -> dict[str, Any]:
    """Record a review: the next is due one cadence from now."""
    return register.review_risk(session, risk_id, actor=principal.actor, now=utcnow()).as_json()


@risks_router.post("/{risk_id}/links", status_code=201, responses=problem_responses(404, 409))
def link(
    risk_id: RowId,
    *,
    body: LinkIn,
    principal: Principal = Depends(require("risks:manage")),
    session: WriteSession,
) -> dict[str, Any]:
    """Link an incident, trust alert, fraud spike or case to the risk it materialised."""
    return register.link_event(
        session, risk_id, kind=body.kind, ref=body.ref, note=body.note, actor=principal.actor,
        now=utcnow(),
    ).as_json()  # fmt: skip
