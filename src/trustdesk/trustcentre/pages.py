"""The public trust centre (/trust-centre, /trust-centre/feed.atom: no login, no JavaScript,
printable, cached) and the staff risk register pages (/risks)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from trustdesk.access.principal import Principal
from trustdesk.auth.http import ReadSession, get_platform, require_page
from trustdesk.db import utcnow
from trustdesk.platform import Platform
from trustdesk.trustcentre import risks as register
from trustdesk.trustcentre.feed import atom_feed
from trustdesk.trustcentre.view import CACHE, gather, own_stamp
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


@public_router.get("")
def trust_centre(
    request: Request, session: ReadSession, platform: Platform = Depends(get_platform)
) -> HTMLResponse:
    def build() -> str:
        centre = gather(session, utcnow())
        return environment().get_template("trustcentre/public.html").render({"c": centre})

    html = CACHE.get(_db_key(platform), "page", own_stamp(session), build)
    return HTMLResponse(html, headers=_PUBLIC_HEADERS)


@public_router.get("/feed.atom")
def feed(
    request: Request, session: ReadSession, platform: Platform = Depends(get_platform)
) -> Response:
    base = str(request.base_url)

    def build() -> bytes:
        return atom_feed(gather(session, utcnow()), base)

    body = CACHE.get(_db_key(platform), f"feed {base}", own_stamp(session), build)
    return Response(
        body,
        media_type="application/atom+xml",
        headers={"Cache-Control": "public, max-age=30", "X-Content-Type-Options": "nosniff"},
    )


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
