"""The public privacy notice: /privacy-notice (current), /privacy-notice/v/{n}, and
/privacy-notice/diff/{a}/{b}. No login; the same customer-facing shell as the preference centre."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from trustdesk.auth.http import ReadSession
from trustdesk.bounds import RowId
from trustdesk.privacy.datamap import notice
from trustdesk.web.nav import Section
from trustdesk.web.templating import SECURITY_HEADERS, environment

__all__ = ["render_notice", "router", "section"]

router = APIRouter(
    prefix="/privacy-notice", default_response_class=HTMLResponse, include_in_schema=False
)
section = Section(router=router)  # public: nothing in the staff menu


def _html(template: str, context: Mapping[str, Any]) -> str:
    return environment().get_template(template).render(context)


def render_notice(
    found: notice.Notice,
    *,
    is_current: bool = True,
    versions: list[tuple[int, int, Any]] | None = None,
) -> str:
    """The notice as a whole HTML document (the page, and `privacy notice show --format html`)."""
    return _html(
        "privacy/notice.html",
        {"notice": found, "is_current": is_current, "versions": versions or []},
    )


def _page(html: str) -> HTMLResponse:
    return HTMLResponse(html, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


@router.get("")
def current_notice(session: ReadSession) -> HTMLResponse:
    found = notice.current(session)
    return _page(render_notice(found, versions=notice.versions(session)))


@router.get("/v/{version}")
def notice_version(version: RowId, session: ReadSession) -> HTMLResponse:
    found = notice.load_version(session, version)
    latest = notice.current(session).version
    return _page(
        render_notice(found, is_current=found.version == latest, versions=notice.versions(session))
    )


@router.get("/diff/{a}/{b}")
def notice_diff(*, a: RowId, b: RowId, session: ReadSession) -> HTMLResponse:
    return _page(
        _html("privacy/notice_diff.html", {"a": a, "b": b, "diff": notice.diff(session, a, b)})
    )
