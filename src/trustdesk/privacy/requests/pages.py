"""Staff pages for data-subject requests: the queue (/privacy/requests) and one request with a
button per step. Plain forms with the session's CSRF token; no JavaScript."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from trustdesk.access.principal import Principal
from trustdesk.auth.http import (
    ReadSession,
    WriteSession,
    get_platform,
    require_page,
)
from trustdesk.bounds import RowId
from trustdesk.db import utcnow
from trustdesk.platform import Platform
from trustdesk.privacy.consent.policy import load_policy
from trustdesk.privacy.deadlines import RULES
from trustdesk.privacy.export.downloads import zip_download
from trustdesk.privacy.requests import fulfilment
from trustdesk.privacy.requests import service as requests
from trustdesk.privacy.requests.schemas import RequestKind, RequestSource
from trustdesk.web.nav import NavEntry, Section
from trustdesk.web.routing import page_router
from trustdesk.web.templating import flash, render

__all__ = ["router", "section"]

router = page_router(prefix="/privacy/requests")
section = Section(
    router=router,
    nav=(
        NavEntry(
            "Privacy requests",
            "/privacy/requests",
            permission="privacy:requests",
            description="Access, erasure, rectification and objection requests, by due date.",
            order=35,
        ),
    ),
)
_Staff = Annotated[Principal, Depends(require_page("privacy:requests"))]
_Text = Annotated[str, Form(min_length=3, max_length=2000)]


def _back(request_id: int) -> RedirectResponse:
    return RedirectResponse(f"/privacy/requests/{request_id}", status_code=303)


@router.get("")
def queue(
    *,
    request: Request,
    principal: _Staff,
    show_closed: bool = Query(False, alias="all"),
    session: ReadSession,
) -> Response:
    items = requests.list_requests(session, now=utcnow(), include_closed=show_closed)
    context = {"items": items, "show_closed": show_closed, "kinds": list(RequestKind)}
    return render(request, "privacy/requests.html", context)


@router.post("")
def open_request(
    *,
    request: Request,
    principal: _Staff,
    customer: Annotated[str, Form(min_length=1, max_length=128)],
    kind: Annotated[RequestKind, Form()],
    purposes: Annotated[str, Form(max_length=400)] = "",
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> Response:
    """Records a request received by staff (objections name purposes, comma-separated)."""
    opened = requests.open_request(
        session,
        platform.vault,
        load_policy(platform.settings.consent_policy_file),
        external_id=customer.strip(),
        kind=kind,
        source=RequestSource.STAFF,
        actor=principal.actor,
        now=utcnow(),
        purposes=[p.strip() for p in purposes.split(",") if p.strip()],
    )
    flash(request, f"Request {opened.id} recorded; due {opened.due_at:%Y-%m-%d}.")
    return _back(opened.id)


@router.get("/{request_id}")
def detail(
    request: Request,
    request_id: RowId,
    principal: _Staff,
    session: ReadSession,
) -> Response:
    item = requests.get(session, request_id, now=utcnow())
    context = {
        "item": item,
        "steps": requests.steps(session, request_id),
        "rule": RULES[item.regime],
    }
    return render(request, "privacy/request.html", context)


@router.post("/{request_id}/verify")
def verify(
    request: Request,
    request_id: RowId,
    principal: _Staff,
    method: _Text,
    session: WriteSession,
) -> Response:
    requests.verify_identity(
        session, request_id, method=method, actor=principal.actor, now=utcnow()
    )
    flash(request, f"Identity verified for request {request_id}.")
    return _back(request_id)


@router.post("/{request_id}/start")
def start(
    request: Request,
    request_id: RowId,
    principal: _Staff,
    session: WriteSession,
) -> Response:
    requests.start(session, request_id, actor=principal.actor, now=utcnow())
    flash(request, f"Request {request_id} is in progress.")
    return _back(request_id)


@router.post("/{request_id}/extend")
def extend(
    request: Request,
    request_id: RowId,
    principal: _Staff,
    reason: _Text,
    session: WriteSession,
) -> Response:
    done = requests.extend(session, request_id, reason=reason, actor=principal.actor, now=utcnow())
    flash(request, f"Request {request_id} extended; now due {done.due_at:%Y-%m-%d}.")
    return _back(request_id)


@router.post("/{request_id}/reject")
def reject(
    request: Request,
    request_id: RowId,
    principal: _Staff,
    reason: _Text,
    session: WriteSession,
) -> Response:
    requests.reject(session, request_id, reason=reason, actor=principal.actor, now=utcnow())
    flash(request, f"Request {request_id} rejected.")
    return _back(request_id)


@router.post("/{request_id}/complete")
def complete(
    *,
    request: Request,
    request_id: RowId,
    principal: _Staff,
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> Response:
    fulfilment.complete(
        session,
        platform.vault,
        platform.settings,
        load_policy(platform.settings.consent_policy_file),
        request_id,
        actor=principal.actor,
        now=utcnow(),
    )
    flash(request, f"Request {request_id} completed.")
    return _back(request_id)


@router.post("/{request_id}/export")
def export(
    *,
    request_id: RowId,
    principal: _Staff,
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> Response:
    """Downloads the customer's export (verified requests only; audited as `exported`)."""
    built = fulfilment.export_for(
        session, platform.vault, platform.settings, request_id, actor=principal.actor, now=utcnow()
    )
    return zip_download(built, f"request-{request_id}-export.zip")
