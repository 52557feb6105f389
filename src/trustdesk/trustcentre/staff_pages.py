"""Staff pages for the trust centre (/trust-centre-admin): publish statements, edit the Markdown
sections, decide document requests. Each form calls one service function, then redirects back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from trustdesk.access.principal import Principal
from trustdesk.auth.http import ReadSession, WriteSession, get_platform, require_page
from trustdesk.bounds import RowId
from trustdesk.db import utcnow
from trustdesk.errors import InvalidInput
from trustdesk.platform import Platform
from trustdesk.serving import public_base_url
from trustdesk.trustcentre import documents
from trustdesk.trustcentre.sections import KINDS, list_sections, set_section
from trustdesk.trustcentre.statements import list_statements, publish_statement
from trustdesk.web.nav import NavEntry, Section
from trustdesk.web.routing import page_router
from trustdesk.web.templating import flash, render

__all__ = ["section"]

router = page_router(prefix="/trust-centre-admin")
_PERMISSION = "trustcentre:publish"


def _back(request: Request, message: str) -> Response:
    flash(request, message)
    return RedirectResponse("/trust-centre-admin", status_code=303)


@router.get("")
def manage(
    request: Request,
    session: ReadSession,
    principal: Principal = Depends(require_page(_PERMISSION)),
) -> HTMLResponse:
    return render(
        request,
        "trustcentre/manage.html",
        {
            "statements": list_statements(session, limit=20),
            "sections": list_sections(session),
            "kinds": KINDS,
            "requests": documents.list_requests(session),
            "documents": documents.list_documents(session),
        },
    )


@router.post("/statements")
def post_statement(
    *,
    request: Request,
    title: Annotated[str, Form(max_length=200)],
    body: Annotated[str, Form(max_length=20_000)],
    incident_id: Annotated[str, Form(max_length=12)] = "",
    principal: Principal = Depends(require_page(_PERMISSION)),
    session: WriteSession,
) -> Response:
    incident = incident_id.strip()
    if incident and not incident.isdigit():
        raise InvalidInput("incident: give the incident's number, or leave it empty")
    row = publish_statement(
        session, title=title, body=body, incident_id=int(incident) if incident else None,
        actor=principal.actor, now=utcnow(),
    )  # fmt: skip
    return _back(request, f"Statement {row.id} published on the trust centre and its feed.")


@router.post("/sections")
def post_section(
    *,
    request: Request,
    key: Annotated[str, Form(max_length=64)],
    title: Annotated[str, Form(max_length=200)],
    body: Annotated[str, Form(max_length=50_000)],
    owner: Annotated[str, Form(max_length=64)],
    kind: Annotated[str, Form(max_length=16)] = "practice",
    review_due: Annotated[str, Form(max_length=10)] = "",
    principal: Principal = Depends(require_page(_PERMISSION)),
    session: WriteSession,
) -> Response:
    due = None
    if review_due.strip():
        try:
            due = datetime.fromisoformat(review_due.strip()).replace(tzinfo=UTC)
        except ValueError:
            raise InvalidInput("review date: expected YYYY-MM-DD") from None
    set_section(
        session, key=key.strip(), title=title, body=body, owner=owner.strip(), kind=kind,
        review_due=due, actor=principal.actor, now=utcnow(),
    )  # fmt: skip
    return _back(request, f"Section {key.strip()} saved.")


@router.post("/requests/{request_id}")
def post_decision(
    *,
    request: Request,
    request_id: RowId,
    decision: Annotated[str, Form(pattern=r"^(approve|refuse)$")],
    principal: Principal = Depends(require_page(_PERMISSION)),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> Response:
    status = documents.decide_request(
        session, platform.vault, request_id, approve=decision == "approve",
        base_url=public_base_url(platform.settings), actor=principal.actor, now=utcnow(),
    )  # fmt: skip
    return _back(request, f"Document request {request_id}: {status}.")


section = Section(
    router=router,
    nav=(
        NavEntry(
            "Trust centre",
            "/trust-centre-admin",
            permission=_PERMISSION,
            description="Publish statements, edit practice sections, decide document requests.",
            order=68,
        ),
    ),
)
