"""Data-subject request endpoints under /api/v1/privacy/requests (`privacy:requests`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from trustdesk.access.principal import Principal
from trustdesk.auth.http import (
    ReadSession,
    WriteSession,
    get_platform,
    require,
)
from trustdesk.bounds import RowId
from trustdesk.db import utcnow
from trustdesk.platform import Platform
from trustdesk.privacy.consent.policy import load_policy
from trustdesk.privacy.export.downloads import zip_download
from trustdesk.privacy.requests import fulfilment
from trustdesk.privacy.requests import service as requests
from trustdesk.privacy.requests.schemas import (
    ExtendIn,
    RejectIn,
    RequestIn,
    RequestOut,
    RequestSource,
    StepOut,
    VerifyIn,
)
from trustdesk.problems import problem_responses

router = APIRouter(prefix="/privacy/requests", tags=["privacy"])
_READ = Depends(require("privacy:requests"))
_CONFLICT = problem_responses(409)  # the request's state does not allow the step
_CONFLICT_404 = problem_responses(404, 409)


class RequestDetail(BaseModel):
    request: RequestOut
    steps: list[StepOut]


@router.get("", response_model=list[RequestOut], dependencies=[_READ])
def queue(
    *,
    include_closed: bool = Query(False, alias="all", description="Closed requests too."),
    session: ReadSession,
) -> list[RequestOut]:
    """Open requests, soonest due first, flagged overdue or due soon."""
    return requests.list_requests(session, now=utcnow(), include_closed=include_closed)


@router.post("", response_model=RequestOut, status_code=201, responses=_CONFLICT_404)
def open_request(
    *,
    body: RequestIn,
    principal: Principal = Depends(require("privacy:requests")),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> RequestOut:
    """Records a request; the due date follows from the customer's jurisdiction."""
    return requests.open_request(
        session,
        platform.vault,
        load_policy(platform.settings.consent_policy_file),
        external_id=body.customer_id,
        kind=body.type,
        source=RequestSource.API,
        actor=principal.actor,
        now=utcnow(),
        received_at=body.received_at,
        purposes=body.purposes,
        changes=body.changes,
    )


@router.get("/{request_id}", response_model=RequestDetail, dependencies=[_READ])
def detail(request_id: RowId, session: ReadSession) -> RequestDetail:
    return RequestDetail(
        request=requests.get(session, request_id, now=utcnow()),
        steps=requests.steps(session, request_id),
    )


@router.post("/{request_id}/verify", response_model=RequestOut, responses=_CONFLICT)
def verify(
    *,
    request_id: RowId,
    body: VerifyIn,
    principal: Principal = Depends(require("privacy:requests")),
    session: WriteSession,
) -> RequestOut:
    """Records how the requester's identity was checked, and by whom."""
    return requests.verify_identity(
        session, request_id, method=body.method, actor=principal.actor, now=utcnow()
    )


@router.post("/{request_id}/start", response_model=RequestOut, responses=_CONFLICT)
def start(
    *,
    request_id: RowId,
    principal: Principal = Depends(require("privacy:requests")),
    session: WriteSession,
) -> RequestOut:
    return requests.start(session, request_id, actor=principal.actor, now=utcnow())


@router.post("/{request_id}/extend", response_model=RequestOut, responses=_CONFLICT)
def extend(
    *,
    request_id: RowId,
    body: ExtendIn,
    principal: Principal = Depends(require("privacy:requests")),
    session: WriteSession,
) -> RequestOut:
    """Uses the regime's one extension (GDPR/UK: +2 months; CCPA: +45 days)."""
    return requests.extend(
        session, request_id, reason=body.reason, actor=principal.actor, now=utcnow()
    )


@router.post("/{request_id}/reject", response_model=RequestOut, responses=_CONFLICT)
def reject(
    *,
    request_id: RowId,
    body: RejectIn,
    principal: Principal = Depends(require("privacy:requests")),
    session: WriteSession,
) -> RequestOut:
    return requests.reject(
        session, request_id, reason=body.reason, actor=principal.actor, now=utcnow()
    )


@router.post("/{request_id}/complete", response_model=RequestOut, responses=_CONFLICT)
def complete(
    *,
    request_id: RowId,
    principal: Principal = Depends(require("privacy:requests")),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> RequestOut:
    """Carries out a verified request and closes it (409 before identity is verified)."""
    return fulfilment.complete(
        session,
        platform.vault,
        platform.settings,
        load_policy(platform.settings.consent_policy_file),
        request_id,
        actor=principal.actor,
        now=utcnow(),
    ).request


@router.get(
    "/{request_id}/export",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "The ZIP"}, **_CONFLICT},
)
def export(
    *,
    request_id: RowId,
    principal: Principal = Depends(require("privacy:requests")),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> Response:
    """The access export of a verified request's customer, as a ZIP of JSON files (audited)."""
    built = fulfilment.export_for(
        session, platform.vault, platform.settings, request_id, actor=principal.actor, now=utcnow()
    )
    return zip_download(built, f"request-{request_id}-export.zip")
