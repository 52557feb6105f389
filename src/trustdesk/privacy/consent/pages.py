"""Consent lookup for staff: one customer's current consent per purpose and channel, and the
history of every choice recorded for them (newest first)."""

from __future__ import annotations

from fastapi import Depends, Query, Request
from starlette.responses import Response

from trustdesk.access.principal import Principal
from trustdesk.auth.http import ReadSession, get_platform, require_page
from trustdesk.errors import NotFound
from trustdesk.platform import Platform
from trustdesk.privacy.consent import service
from trustdesk.privacy.consent.policy import load_policy
from trustdesk.privacy.consent.schemas import EventOut, PreferenceOut
from trustdesk.web.nav import NavEntry, Section
from trustdesk.web.routing import page_router
from trustdesk.web.templating import render

__all__ = ["router", "section"]

router = page_router(prefix="/consent")
section = Section(
    router=router,
    nav=(
        NavEntry(
            "Consent",
            "/consent",
            permission="consent:read",
            description="Check customers' consent: what each may be contacted for, and why.",
            order=34,
        ),
    ),
)

REASONS = {
    "record": "the customer's own choice",
    "default_regime": "no choice recorded: the default for their jurisdiction",
    "legal_obligation": "not based on consent (a legal obligation or contract)",
}


@router.get("")
def consent_lookup(
    *,
    request: Request,
    customer: str = Query("", max_length=128),
    _: Principal = Depends(require_page("consent:read")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> Response:
    customer = customer.strip()
    preferences: list[PreferenceOut] = []
    history: list[EventOut] = []
    error = None
    if customer:
        try:
            policy = load_policy(platform.settings.consent_policy_file)
            preferences = service.preferences(session, policy, customer)
            history = service.history(session, customer)
        except NotFound as exc:
            error = exc.detail
    context = {
        "customer": customer,
        "preferences": preferences,
        "history": history,
        "error": error,
        "reasons": REASONS,
    }
    return render(request, "privacy/consent.html", context)
