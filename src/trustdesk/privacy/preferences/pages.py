"""The customer-facing preference centre at /preferences/{token}: no staff login, no JavaScript.

The signed link is the customer's only credential. Each page carries a signed one-time form token
instead of a session cookie, so a form cannot be forged without the link nor sent twice. Errors
(expired or altered links, a form sent twice) get a friendly page of the customer-facing shell,
never the staff one. Saving redirects back to the page (post/redirect/get).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from trustdesk.auth.http import ReadSession, WriteSession, get_platform
from trustdesk.db import utcnow
from trustdesk.errors import DomainError
from trustdesk.platform import Platform
from trustdesk.privacy.consent import service
from trustdesk.privacy.consent.links import LinkSigner, signer_for
from trustdesk.privacy.consent.policy import ConsentState, Policy, load_policy
from trustdesk.privacy.datamap import notice
from trustdesk.privacy.errors import FormReplayed, LinkExpired
from trustdesk.privacy.export.downloads import zip_download
from trustdesk.privacy.preferences import self_service
from trustdesk.web.forms import Posted
from trustdesk.web.nav import Section
from trustdesk.web.templating import SECURITY_HEADERS, environment

__all__ = ["router", "section"]

router = APIRouter(
    prefix="/preferences", default_response_class=HTMLResponse, include_in_schema=False
)
section = Section(router=router)  # customer-facing: nothing in the staff menu

# The token in the address is a credential: never send it on in a Referer header.
_HEADERS = {**SECURITY_HEADERS, "Referrer-Policy": "no-referrer"}
_NOTICES = {
    "saved": "Your choices are saved. They apply from now on.",
    "stopped": "Done: we have stopped all optional use of your data. "
    "You can switch things back on below at any time.",
    "unchanged": "Nothing changed: your choices were already as you left them.",
    "erasure": "We have received your request to erase your data. Our privacy team will carry "
    "it out and confirm within the time the law allows (at most one month in most places).",
}
_SOURCES = {
    "preference_centre": "You, on this page",
    "staff": "Our staff, at your request",
    "api": "Our systems",
    "import": "Imported from our records",
    "request": "Our staff, carrying out your request",
}


def _page(template: str, context: Mapping[str, Any], status_code: int = 200) -> HTMLResponse:
    html = environment().get_template(template).render(context)
    return HTMLResponse(html, status_code=status_code, headers=_HEADERS)


def _problem(exc: DomainError) -> HTMLResponse:
    if isinstance(exc, FormReplayed):
        heading = "These choices were already sent"
        detail = "Your earlier choices were saved. Open your preferences again to change more."
    elif isinstance(exc, LinkExpired):
        heading = "This link has expired"
        detail = (
            "For your security, preference links work for a limited time. Ask us for a new "
            "link, or use the one in our most recent message."
        )
    elif exc.status == 404:
        heading, detail = "We could not find your preferences", "Ask us for a new link."
    elif exc.status == 422:
        heading, detail = "Something in the form was not right", exc.detail
    else:
        heading = "This link is not valid"
        detail = (
            "It may have been copied incompletely. Open the link from our message again, or ask "
            "us for a new one."
        )
    return _page(
        "privacy/problem.html",
        {"heading": heading, "detail": detail[:1].upper() + detail[1:]},
        status_code=exc.status,
    )


def _notice_version(session: Session, policy: Policy) -> str:
    """What the page shows and each choice records: the consent wording's version and the
    privacy notice's (`2026-01+notice.3`)."""
    return f"{policy.version}+notice.{notice.current(session).version}"


def _policy(platform: Platform = Depends(get_platform)) -> Policy:
    return load_policy(platform.settings.consent_policy_file)


def _signer(platform: Platform = Depends(get_platform)) -> LinkSigner:
    return signer_for(platform)


@router.get("/{token}")
def preference_centre(
    *,
    token: str,
    done: str = "",
    policy: Policy = Depends(_policy),
    signer: LinkSigner = Depends(_signer),
    session: ReadSession,
) -> Response:
    try:
        link = signer.open(token)
        current = service.preferences(session, policy, link.external_id)
        past = service.history(session, link.external_id)
    except DomainError as exc:
        return _problem(exc)
    by_purpose: dict[str, list[Any]] = {}
    for item in current:
        by_purpose.setdefault(item.purpose, []).append(item)
    context = {
        "notice_version": _notice_version(session, policy),
        "token": token,
        "form_token": signer.form_token(link),
        "export_form_token": signer.form_token(link),
        "erasure_form_token": signer.form_token(link),
        "notice": _NOTICES.get(done),
        "policy": policy,
        "choices": [(policy.purposes[p], items) for p, items in by_purpose.items()],
        "required": [p for p in policy.purposes.values() if not p.optional],
        "history": past,
        "sources": _SOURCES,
    }
    return _page("privacy/preferences.html", context)


@router.post("/{token}")
def save(
    *,
    token: str,
    form: Posted,
    policy: Policy = Depends(_policy),
    signer: LinkSigner = Depends(_signer),
    session: WriteSession,
) -> Response:
    """Records the choices the customer changed on the page they saw (others are left alone)."""
    choices: list[service.Choice] = []
    for purpose, channel in policy.optional_pairs():
        key = f"{purpose}.{channel}"
        shown, wanted = form.get(f"shown.{key}"), form.get(f"allow.{key}") is not None
        if shown in {"0", "1"} and (shown == "1") != wanted:
            state = ConsentState.GRANTED if wanted else ConsentState.WITHDRAWN
            choices.append(service.Choice(purpose, channel, state))
    return _apply(token, str(form.get("form", "")), choices, policy, signer, session)


@router.post("/{token}/stop-all")
def stop_all(
    *,
    token: str,
    form: Posted,
    policy: Policy = Depends(_policy),
    signer: LinkSigner = Depends(_signer),
    session: WriteSession,
) -> Response:
    """Withdraws every optional purpose on every channel at once."""
    return _apply(token, str(form.get("form", "")), None, policy, signer, session)


def _apply(
    token: str,
    form_token: str,
    choices: list[service.Choice] | None,
    policy: Policy,
    signer: LinkSigner,
    session: Session,
) -> Response:
    try:
        link = signer.open(token)
        form = signer.open_form(link, form_token)
        events = service.apply_form(
            session,
            policy,
            external_id=link.external_id,
            form_nonce=form.nonce,
            keep_s=signer.max_age_s,
            choices=choices,
            notice_version=_notice_version(session, policy),
        )
    except DomainError as exc:
        session.rollback()  # nothing of a refused form is stored
        return _problem(exc)
    done = "stopped" if choices is None else ("saved" if events else "unchanged")
    return RedirectResponse(f"/preferences/{token}?done={done}", status_code=303)


@router.post("/{token}/export")
def download_my_data(
    *,
    token: str,
    form: Posted,
    policy: Policy = Depends(_policy),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> Response:
    """The customer's own access export, as a ZIP download (recorded as a completed request)."""
    return _export(token, str(form.get("form", "")), policy, platform, session)


def _export(
    token: str, form_token: str, policy: Policy, platform: Platform, session: Session
) -> Response:
    signer = signer_for(platform)
    try:
        link = signer.open(token)
        form = signer.open_form(link, form_token)
        export = self_service.download_my_data(
            session,
            platform.vault,
            platform.settings,
            policy,
            external_id=link.external_id,
            form_nonce=form.nonce,
            keep_s=signer.max_age_s,
            now=utcnow(),
        )
    except DomainError as exc:
        session.rollback()
        return _problem(exc)
    return zip_download(export, "my-data.zip", _HEADERS)


@router.post("/{token}/erasure")
def request_erasure(
    *,
    token: str,
    form: Posted,
    policy: Policy = Depends(_policy),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> Response:
    """Records an erasure request (identity proven by the link) for the privacy team."""
    return _erasure(token, str(form.get("form", "")), policy, platform, session)


def _erasure(
    token: str, form_token: str, policy: Policy, platform: Platform, session: Session
) -> Response:
    signer = signer_for(platform)
    try:
        link = signer.open(token)
        form = signer.open_form(link, form_token)
        self_service.request_my_erasure(
            session,
            platform.vault,
            policy,
            external_id=link.external_id,
            form_nonce=form.nonce,
            keep_s=signer.max_age_s,
            now=utcnow(),
        )
    except DomainError as exc:
        session.rollback()
        return _problem(exc)
    return RedirectResponse(f"/preferences/{token}?done=erasure", status_code=303)
