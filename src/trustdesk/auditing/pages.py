"""The audit trail page: entries newest first (filter by kind of action and actor, cursor paging)
and a button that verifies the whole hash chain and shows the result."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from starlette.responses import Response

from trustdesk import audit
from trustdesk.access.principal import Principal
from trustdesk.auth.http import ReadSession, require_page
from trustdesk.web.nav import NavEntry, Section
from trustdesk.web.routing import page_router
from trustdesk.web.templating import render

__all__ = ["PAGE_SIZE", "router", "section"]

PAGE_SIZE = 50

router = page_router(prefix="/audit")
section = Section(
    router=router,
    nav=(
        NavEntry(
            "Audit trail",
            "/audit",
            permission="audit:read",
            description="Read and verify the audit trail: who changed what, and when.",
            order=90,
        ),
    ),
)


def _href(filters: dict[str, str], before: int | None = None) -> str:
    params: dict[str, str | int] = {k: v for k, v in filters.items() if v}
    if before:
        params["before"] = before
    return "/audit" + (f"?{urlencode(params)}" if params else "")


def _changes(raw: str) -> str:
    """The recorded changes as compact `field: value` text (they never hold personal data)."""
    try:
        data: Any = json.loads(raw)
    except ValueError:
        return raw
    if isinstance(data, dict):
        return "; ".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in data.items())
    return raw


@router.get("")
def audit_trail(
    *,
    request: Request,
    kind: str = Query("", max_length=80),
    actor: str = Query("", max_length=120),
    before: int = Query(0, ge=0, le=2**62),
    verify: str = Query("", max_length=8),
    _: Principal = Depends(require_page("audit:read")),
    session: ReadSession,
) -> Response:
    filters = {"kind": kind.strip(), "actor": actor.strip()}
    rows, older = audit.newest_entries(
        session,
        action=filters["kind"] or None,
        actor=filters["actor"] or None,
        before_id=before or None,
        limit=PAGE_SIZE,
    )
    context = {
        **filters,
        "entries": [(r, _changes(r.diff)) for r in rows],
        "kinds": audit.kinds(session),
        "report": audit.verify(session) if verify else None,
        "filtered": any(filters.values()),
        "before": before,
        "first_href": _href(filters) if before else None,
        "next_href": _href(filters, older) if older else None,
    }
    return render(request, "audit/list.html", context)
