"""The public trust centre (/trust-centre, /trust-centre/feed.atom: no login, no JavaScript,
printable, cached) and the staff risk register pages (/risks)."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from trustdesk.access.principal import Principal
from trustdesk.auth.http import ReadSession, WriteSession, get_platform, require_page
from trustdesk.bounds import RowId
from trustdesk.cases import public as cases
from trustdesk.db import utcnow
from trustdesk.errors import DomainError
from trustdesk.platform import Platform
from trustdesk.serving import public_base_url
from trustdesk.trustcentre import documents, subscriptions
from trustdesk.trustcentre import risks as register
from trustdesk.trustcentre.feed import atom_feed
from trustdesk.trustcentre.view import CACHE, gather, own_stamp
from trustdesk.web.forms import Posted
from trustdesk.web.nav import NavEntry, Section
from trustdesk.web.routing import page_router
from trustdesk.web.templating import SECURITY_HEADERS, environment, render

__all__ = ["public_section", "section"]

public_router = APIRouter(
    prefix="/trust-centre", default_response_class=HTMLResponse, include_in_schema=False
)
public_section = Section(router=public_router)  # public: nothing in the staff menu

# Public and the same for everyone: shared caches may keep it briefly.
_PUBLIC_HEADERS = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=30"}


def _db_key(platform: Platform) -> str:
    return platform.settings.effective_database_url


def _render_page(platform: Platform) -> str:
    """On a worker thread: read the stamp and, when stale, gather and render the page."""
    with platform.db.reading() as session:

        def build() -> str:
            centre = gather(session, utcnow(), platform.settings)
            return environment().get_template("trustcentre/public.html").render({"c": centre})

        html: str = CACHE.get(_db_key(platform), "page", own_stamp(session), build)
        return html


def _render_feed(platform: Platform, base: str) -> bytes:
    with platform.db.reading() as session:
        body: bytes = CACHE.get(
            _db_key(platform), f"feed {base}", own_stamp(session),
            lambda: atom_feed(gather(session, utcnow(), platform.settings), base),
        )  # fmt: skip
        return body


@public_router.get("")
async def trust_centre(request: Request) -> HTMLResponse:
    """Served from memory on the event loop when the cache is fresh (no thread, no database);
    otherwise a worker thread checks the stamp and rebuilds if needed."""
    platform = get_platform(request)
    html = CACHE.peek(_db_key(platform), "page")
    if html is None:
        html = await run_in_threadpool(_render_page, platform)
    return HTMLResponse(html, headers=_PUBLIC_HEADERS)


@public_router.get("/feed.atom")
async def feed(request: Request) -> Response:
    platform = get_platform(request)
    base = str(request.base_url)
    body = CACHE.peek(_db_key(platform), f"feed {base}")
    if body is None:
        body = await run_in_threadpool(_render_feed, platform, base)
    return Response(
        body,
        media_type="application/atom+xml",
        headers={"Cache-Control": "public, max-age=30", "X-Content-Type-Options": "nosniff"},
    )


_REVIEW_FIELDS = ("email", "decision", "details")


def _review_page(context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    html = environment().get_template("trustcentre/human_review.html").render(context)
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


@public_router.get("/human-review")
def human_review_form() -> HTMLResponse:
    """Ask for a person to review an automated decision (no login)."""
    return _review_page({"values": {}, "error": None, "case_id": None})


@public_router.post("/human-review")
def human_review(
    form: Posted, session: WriteSession, platform: Platform = Depends(get_platform)
) -> HTMLResponse:
    """The request lands as a complaint case in the cases queue, routed like any other."""
    values = {k: str(form.get(k, "")).strip() for k in _REVIEW_FIELDS}
    if not all(values.values()):
        missing = ", ".join(k for k, v in values.items() if not v)
        return _review_page(
            {"values": values, "error": f"Please fill in: {missing}.", "case_id": None}, 422
        )
    digest = hashlib.sha256("\0".join(values.values()).encode()).hexdigest()[:32]
    try:
        case_id = cases.open_public_case(
            session, platform, external_id=f"human-review-{digest}",
            subject=f"Human review of an automated decision: {values['decision'][:200]}",
            body=values["details"], email=values["email"], actor="public:trust-centre",
        )  # fmt: skip
    except DomainError as exc:
        return _review_page({"values": values, "error": exc.detail, "case_id": None}, 422)
    return _review_page({"values": {}, "error": None, "case_id": case_id})


def _document_page(context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    html = environment().get_template("trustcentre/document_request.html").render(context)
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


def _document_info(session: ReadSession, key: str) -> documents.DocumentInfo | None:
    return next((d for d in documents.list_documents(session) if d.key == key), None)


@public_router.get("/documents/{key}/request")
def document_request_form(key: str, session: ReadSession) -> HTMLResponse:
    found = _document_info(session, key)
    if found is None or found.access != "request":
        return _document_page({"doc": None, "error": None, "done": False, "values": {}}, 404)
    return _document_page({"doc": found, "error": None, "done": False, "values": {}})


@public_router.post("/documents/{key}/request")
def document_request(
    key: str, form: Posted, session: WriteSession, platform: Platform = Depends(get_platform)
) -> HTMLResponse:
    """Ask for a document given on request: staff approve it, then a link is emailed."""
    values = {k: str(form.get(k, "")).strip() for k in ("email", "company")}
    found = _document_info(session, key)
    try:
        documents.request_document(
            session, platform.vault, key=key, email=values["email"], company=values["company"],
            accepted_terms=form.get("accept") == "yes", now=utcnow(),
        )  # fmt: skip
    except DomainError as exc:
        status = 404 if found is None else 422
        context = {"doc": found, "error": exc.detail, "done": False, "values": values}
        return _document_page(context, status)
    return _document_page({"doc": found, "error": None, "done": True, "values": {}})


@public_router.get("/documents/{key}/download", response_model=None)
def document_download(key: str, session: WriteSession, token: str | None = None) -> Response:
    """A public document, or a requested one with the emailed link (downloads are audited)."""
    try:
        filename, media_type, content = documents.download(session, key, token=token, now=utcnow())
    except DomainError as exc:
        html = (
            environment()
            .get_template("trustcentre/document_request.html")
            .render({"doc": None, "error": exc.detail, "done": False, "values": {}})
        )
        return HTMLResponse(html, status_code=exc.status, headers=SECURITY_HEADERS)
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in filename)
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{safe}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _message_page(
    heading: str, message: str, status_code: int = 200, form: str = ""
) -> HTMLResponse:
    html = (
        environment()
        .get_template("trustcentre/message.html")
        .render({"heading": heading, "message": message, "form": form})
    )
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


@public_router.post("/subscribe")
def subscribe(
    form: Posted, session: WriteSession, platform: Platform = Depends(get_platform)
) -> HTMLResponse:
    """Double opt-in: a confirmation link is emailed; nothing else is sent before it is used."""
    try:
        subscriptions.subscribe(
            session, platform.vault, str(form.get("email", "")),
            base_url=public_base_url(platform.settings), now=utcnow(),
        )  # fmt: skip
    except DomainError as exc:
        return _message_page("Subscription not started", exc.detail, 422)
    return _message_page(
        "Check your inbox",
        "We sent you a link to confirm. Updates start only once you have used it.",
    )


@public_router.get("/subscribe/confirm")
def confirm_subscription(
    token: str, session: WriteSession, platform: Platform = Depends(get_platform)
) -> HTMLResponse:
    try:
        subscriptions.confirm(
            session, token, now=utcnow(), policy_file=platform.settings.consent_policy_file
        )
    except DomainError as exc:
        return _message_page("Link not valid", exc.detail, exc.status)
    return _message_page(
        "Subscribed", "You will get an email when we publish a statement, disclose an incident or "
        "change who receives your data. Every email has a one-click link to stop them."
    )  # fmt: skip


@public_router.get("/unsubscribe")
def unsubscribe_page(id: RowId, token: str) -> HTMLResponse:
    """Shows a button (a link fetched by a mail scanner must not unsubscribe anyone)."""
    return _message_page("Stop trust centre emails", "", form=f"{id}:{token}")


@public_router.post("/unsubscribe")
def unsubscribe(
    id: RowId, token: str, session: WriteSession, platform: Platform = Depends(get_platform)
) -> HTMLResponse:
    """One click (RFC 8058 style: a POST to the link itself)."""
    try:
        subscriptions.unsubscribe(
            session, platform.vault, id, token, now=utcnow(),
            policy_file=platform.settings.consent_policy_file,
        )  # fmt: skip
    except DomainError as exc:
        return _message_page("Link not valid", exc.detail, exc.status)
    return _message_page("Unsubscribed", "You will get no more emails from our trust centre.")


router = page_router(prefix="/risks")


def _heat(risks: list[register.RiskView], residual: bool) -> list[dict[str, Any]]:
    cells = register.heat_map(risks, residual=residual)
    return [
        {"impact": impact, "cells": [(lk, cells[impact - 1][lk - 1]) for lk in range(1, 6)]}
        for impact in range(5, 0, -1)
    ]


@router.get("")
def risk_register(
    request: Request,
    session: ReadSession,
    principal: Principal = Depends(require_page("risks:read")),
) -> HTMLResponse:
    now = utcnow()
    found = register.list_risks(session, now=now)
    return render(
        request,
        "trustcentre/risks.html",
        {"risks": found, "inherent": _heat(found, False), "residual": _heat(found, True)},
    )


@router.get("/export.csv")
def risk_csv(
    session: ReadSession, principal: Principal = Depends(require_page("risks:read"))
) -> Response:
    text = register.export_csv(register.list_risks(session, now=utcnow(), include_closed=True))
    return Response(
        text,
        media_type="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="risks.csv"',
            "Cache-Control": "no-store",
        },
    )


section = Section(
    router=router,
    nav=(
        NavEntry(
            "Risks",
            "/risks",
            permission="risks:read",
            description="The risk register: scores, owners, reviews and linked events.",
            order=70,
        ),
    ),
)
