"""The public complaint form at /complaint: no login, no JavaScript, no cookie (see
`web_form.py` for the spam defences). Errors get the customer-facing shell, never the staff one;
a complaint sent redirects to a thank-you page (post/redirect/get)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from trustdesk.auth.http import WriteSession, get_platform
from trustdesk.cases import csat, web_form
from trustdesk.cases.routing import classifier_for
from trustdesk.errors import DomainError
from trustdesk.platform import Platform
from trustdesk.serving import public_base_url
from trustdesk.web.forms import Posted
from trustdesk.web.nav import Section
from trustdesk.web.templating import SECURITY_HEADERS, environment

__all__ = ["router", "section"]

router = APIRouter(
    prefix="/complaint", default_response_class=HTMLResponse, include_in_schema=False
)
section = Section(router=router)  # customer-facing: nothing in the staff menu

_HEADERS = {**SECURITY_HEADERS, "Referrer-Policy": "no-referrer"}
_FIELDS = ("name", "email", "subject", "body")


def _page(template: str, context: Mapping[str, Any], status_code: int = 200) -> HTMLResponse:
    html = environment().get_template(template).render(context)
    return HTMLResponse(html, status_code=status_code, headers=_HEADERS)


def _done(heading: str, detail: str, status_code: int = 200) -> HTMLResponse:
    return _page("cases/complaint_done.html", {"heading": heading, "detail": detail}, status_code)


def _form(
    platform: Platform, values: Mapping[str, str], error: str | None = None, status: int = 200
) -> HTMLResponse:
    token = web_form.signer_for(platform.vault).form_token()
    context = {
        "form_token": token,
        "values": {f: values.get(f, "") for f in _FIELDS},
        "error": error,
    }
    return _page("cases/complaint_form.html", context, status)


def _limiter(request: Request) -> web_form.RateLimiter:
    limiter = getattr(request.app.state, "case_form_limiter", None)
    if limiter is None:
        limiter = request.app.state.case_form_limiter = web_form.RateLimiter()
    return limiter


@router.get("")
def complaint_form(platform: Platform = Depends(get_platform)) -> Response:
    return _form(platform, {})


@router.post("")
def send_complaint(
    *,
    request: Request,
    posted: Posted,
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> Response:
    values = {f: str(posted.get(f) or "") for f in (*_FIELDS, "form", "website")}
    try:
        _limiter(request).hit(request.client.host if request.client else None)
        web_form.submit(
            session,
            platform.vault,
            web_form.signer_for(platform.vault),
            web_form.WebComplaint(
                name=values["name"],
                email=values["email"],
                subject=values["subject"],
                body=values["body"],
                form=values["form"],
                honeypot=values["website"],
            ),
            classify=classifier_for(platform.settings),
            base_url=public_base_url(platform.settings),
        )
    except DomainError as exc:
        if exc.status == 429:
            return _done("Please wait a little", exc.detail[:1].upper() + exc.detail[1:], 429)
        return _form(platform, values, exc.detail[:1].upper() + exc.detail[1:], exc.status)
    return RedirectResponse("/complaint/sent", status_code=303)


@router.get("/sent")
def complaint_sent() -> Response:
    return _done(
        "Thank you: we have your complaint",
        "We have sent you an email with a link to confirm your address. We will answer you there.",
    )


@router.get("/confirm/{token}")
def confirm_address(
    token: str, platform: Platform = Depends(get_platform), *, session: WriteSession
) -> Response:
    try:
        case_id = web_form.confirm(session, web_form.signer_for(platform.vault), token)
    except DomainError as exc:
        return _done("This link did not work", exc.detail[:1].upper() + exc.detail[1:], exc.status)
    return _done(
        "Your address is confirmed",
        f"Thank you. Your complaint is case #{case_id}; we will answer you by email.",
    )


@router.get("/survey/{token}")
def answer_survey(
    token: str,
    score: int = 0,
    platform: Platform = Depends(get_platform),
    *,
    session: WriteSession,
) -> Response:
    """One click from the "did we fix it?" email records the answer (the first one stands)."""
    try:
        answered = csat.answer_survey(session, platform.vault, token, score)
    except DomainError as exc:
        return _done("This link did not work", exc.detail[:1].upper() + exc.detail[1:], exc.status)
    if not answered.first:
        return _done(
            "We already have your answer",
            f"You told us: {csat.SCORES[answered.score].lower()}. Thank you.",
        )
    return _done(
        "Thank you for your answer",
        f"You told us: {csat.SCORES[answered.score].lower()}. "
        "If something is still not right, reply to our last email and the case opens again.",
    )
