"""Staff page for the data map (/privacy/datamap): the current version as tables, its history,
and a YAML editor whose save makes a new version and a new privacy notice. No JavaScript."""

from __future__ import annotations

from typing import Annotated

import yaml
from fastapi import Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from trustdesk.access.principal import Principal
from trustdesk.auth.http import ReadSession, WriteSession, require_page
from trustdesk.db import utcnow
from trustdesk.errors import InvalidInput
from trustdesk.privacy.datamap import datamap, notice, publishing
from trustdesk.web.nav import NavEntry, Section
from trustdesk.web.routing import page_router
from trustdesk.web.templating import flash, render

__all__ = ["router", "section"]

router = page_router(prefix="/privacy/datamap")
section = Section(
    router=router,
    nav=(
        NavEntry(
            "Data map",
            "/privacy/datamap",
            permission="privacy:datamap",
            description="Where personal data lives, why, for how long; the privacy notice.",
            order=36,
        ),
    ),
)
_Staff = Annotated[Principal, Depends(require_page("privacy:datamap"))]


def _page(
    request: Request, session: Session, text: str | None, error: str | None, status: int = 200
) -> Response:
    found = datamap.current(session)
    context = {
        "found": found,
        "versions": datamap.versions(session),
        "notice_version": notice.current(session).version,
        "text": text
        if text is not None
        else yaml.safe_dump(found.datamap.model_dump(mode="json"), sort_keys=False),
        "error": error,
    }
    return render(request, "privacy/datamap.html", context, status_code=status)


@router.get("")
def show(request: Request, principal: _Staff, session: ReadSession) -> Response:
    return _page(request, session, None, None)


@router.post("")
def save(
    request: Request,
    principal: _Staff,
    content: Annotated[str, Form(max_length=200_000)],
    session: WriteSession,
) -> Response:
    """Saves the edited YAML; a bad map shows the page again with the reason and the text kept."""
    try:
        published = publishing.update_datamap(session, content, actor=principal.actor, now=utcnow())
    except InvalidInput as exc:
        session.rollback()
        return _page(request, session, content, exc.detail, status=422)
    if published.changed:
        flash(
            request,
            f"Data map version {published.datamap_version} saved; privacy notice version "
            f"{published.notice_version} published.",
        )
    else:
        flash(request, "Nothing changed: the data map is the same as the current version.")
    return RedirectResponse("/privacy/datamap", status_code=303)
