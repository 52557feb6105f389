"""Staff pages: the incident register (/incidents) and an incident's page with its legal clocks,
affected customers by jurisdiction and category, notices with readability, delivery progress
and remediation uptake. Read-only; work is done through the CLI and API. No JavaScript."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import Response

from trustdesk.access.principal import Principal
from trustdesk.auth.http import ReadSession, require_page
from trustdesk.bounds import RowId
from trustdesk.db import utcnow
from trustdesk.incidents import recovery as trust_recovery
from trustdesk.incidents.affected import counts as affected_counts
from trustdesk.incidents.notices import delivery, offers
from trustdesk.incidents.notices import service as notices
from trustdesk.incidents.obligations import service as obligations
from trustdesk.incidents.register import service as register
from trustdesk.web.nav import NavEntry, Section
from trustdesk.web.routing import page_router
from trustdesk.web.templating import render

__all__ = ["router", "section"]

router = page_router(prefix="/incidents")
section = Section(
    router=router,
    nav=(
        NavEntry(
            "Incidents",
            "/incidents",
            permission="incidents:read",
            description="Breaches and their legal clocks, affected customers, notices.",
            order=38,
        ),
    ),
)
_Staff = Annotated[Principal, Depends(require_page("incidents:read"))]


def _left(seconds: float | None) -> str:
    if seconds is None:
        return ""
    hours = abs(seconds) / 3600
    text = f"{hours:.0f} h" if hours < 72 else f"{hours / 24:.0f} days"
    return f"{text} overdue" if seconds < 0 else f"{text} left"


@router.get("")
def register_page(request: Request, principal: _Staff, session: ReadSession) -> Response:
    return render(request, "incidents/list.html", {"items": register.list_incidents(session)})


@router.get("/{incident_id}")
def incident_page(
    request: Request, incident_id: RowId, principal: _Staff, session: ReadSession
) -> Response:
    incident = register.get(session, incident_id)
    clocks = obligations.clocks(session, incident_id, obligations.rules_from(None), utcnow())
    total, places, categories = affected_counts.counts(
        affected_counts.exposure_groups(session, incident_id)
    )
    context = {
        "incident": incident,
        "clocks": [(c, _left(c.seconds_left)) for c in clocks if c.obligation.required],
        "not_required": sum(1 for c in clocks if not c.obligation.required),
        "total": total,
        "places": places,
        "categories": categories,
        "notices": notices.list_notices(session, incident_id),
        "delivery": delivery.delivery_counts(session, incident_id, "individuals"),
        "uptake": offers.uptake(session, incident_id),
        "recovery": trust_recovery.recovery(session, incident_id),
    }
    return render(request, "incidents/incident.html", context)
