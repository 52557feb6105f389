"""The customer-facing response pages: /s/{token} (a personal, single-use invitation link) and
/s/open/{token} (the survey's anonymous public link). No login, no JavaScript: plain forms,
radio buttons in fieldsets, labels on every control, a layout that reflows on a phone.

"Save and continue later" keeps the numeric answers on the invitation, so the same link opens
the form filled in again. Errors (an answer off its scale is impossible with radio buttons, but
a hand-made POST is checked all the same, an altered or expired link, a second submission) get a
page of their own with the right status, never a stack trace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData
from starlette.responses import Response

from trustdesk.auth.http import ReadSession, WriteSession, get_platform
from trustdesk.db import utcnow
from trustdesk.errors import DomainError
from trustdesk.platform import Platform
from trustdesk.surveys import distribution
from trustdesk.surveys.errors import AlreadyAnswered, LinkExpired
from trustdesk.surveys.service import SurveyOut
from trustdesk.web.forms import Posted
from trustdesk.web.nav import Section
from trustdesk.web.templating import SECURITY_HEADERS, environment

__all__ = ["router", "section"]

router = APIRouter(prefix="/s", default_response_class=HTMLResponse, include_in_schema=False)
section = Section(router=router)  # customer-facing: nothing in the staff menu

# The token in the address is a credential: never send it on in a Referer header.
_HEADERS = {**SECURITY_HEADERS, "Referrer-Policy": "no-referrer"}


def _page(template: str, context: Mapping[str, Any], status_code: int = 200) -> HTMLResponse:
    html = environment().get_template(template).render(context)
    return HTMLResponse(html, status_code=status_code, headers=_HEADERS)


def _problem(exc: DomainError) -> HTMLResponse:
    if isinstance(exc, AlreadyAnswered):
        heading = "You have already answered"
        detail = "Thank you: your answers were received. Each invitation link works once."
    elif isinstance(exc, LinkExpired):
        heading = "This link has expired"
        detail = "The survey is closed for this link. Thank you for your interest."
    else:
        heading = "This link is not valid"
        detail = "It may have been copied incompletely. Open the link from our message again."
    return _page(
        "surveys/problem.html", {"heading": heading, "detail": detail}, status_code=exc.status
    )


def _fields(form: FormData) -> dict[str, str]:
    return {k: str(v) for k, v in form.items() if k not in {"action", "started"}}


def _form(
    survey: SurveyOut,
    action: str,
    values: Mapping[str, Any],
    *,
    error: str | None = None,
    notice: str | None = None,
    resumable: bool,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "survey": survey,
        "action": action,
        "values": {k: str(v) for k, v in values.items()},
        "error": error,
        "notice": notice,
        "resumable": resumable,
        "started": utcnow().isoformat(),
    }
    return _page("surveys/respond.html", context, status_code)


@router.get("/{token}")
def invitation_page(
    token: str, session: WriteSession, saved: str = "", platform: Platform = Depends(get_platform)
) -> Response:
    try:
        invitation = distribution.open_invitation(session, platform.vault, token)
    except DomainError as exc:
        return _problem(exc)
    notice = "Your answers are saved. Come back with the same link to finish." if saved else None
    return _form(invitation.survey, f"/s/{token}", invitation.draft, notice=notice, resumable=True)


@router.post("/{token}")
def answer(
    token: str, form: Posted, session: WriteSession, platform: Platform = Depends(get_platform)
) -> Response:
    fields = _fields(form)
    try:
        if form.get("action") == "save":
            distribution.save_draft(session, platform.vault, token, fields)
            return RedirectResponse(f"/s/{token}?saved=1", status_code=303)
        distribution.submit_invitation(session, platform.vault, token, fields)
    except DomainError as exc:
        if exc.status != 422:
            return _problem(exc)
        survey = distribution.open_invitation(session, platform.vault, token).survey
        return _form(
            survey, f"/s/{token}", fields, error=exc.detail, resumable=True, status_code=422
        )
    return _page("surveys/thanks.html", {})


@router.get("/open/{token}")
def public_page(token: str, session: ReadSession) -> Response:
    try:
        survey = distribution.survey_for_public(session, token)
    except DomainError as exc:
        return _problem(exc)
    return _form(survey, f"/s/open/{token}", {}, resumable=False)


@router.post("/open/{token}")
def public_answer(
    token: str, form: Posted, session: WriteSession, platform: Platform = Depends(get_platform)
) -> Response:
    fields = _fields(form)
    try:
        distribution.submit_public(session, platform.vault, token, fields)
    except DomainError as exc:
        if exc.status != 422:
            return _problem(exc)
        survey = distribution.survey_for_public(session, token)
        return _form(
            survey, f"/s/open/{token}", fields, error=exc.detail, resumable=False, status_code=422
        )
    return _page("surveys/thanks.html", {})
