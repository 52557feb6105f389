"""Friendly HTML for errors on page routes; API and operations routes keep problem+json.

`app.py` maps every error once and asks `is_page_request` which form the answer takes.
"""

from __future__ import annotations

from http import HTTPStatus

from fastapi.responses import RedirectResponse
from starlette.requests import Request
from starlette.responses import Response

from trustdesk.errors import DomainError
from trustdesk.web.csrf import CsrfRejected
from trustdesk.web.redirects import login_url
from trustdesk.web.templating import render

__all__ = ["domain_error_page", "error_page", "is_page_request"]

_NOT_PAGES = ("/api/", "/static/", "/docs", "/redoc", "/openapi.json", "/healthz", "/metrics")

_HEADINGS = {
    401: "Please log in",
    403: "You do not have access to this",
    404: "Not found",
    405: "That action is not available here",
    422: "Please check what you entered",
    429: "Too many attempts",
}


_EXPLANATIONS = {
    401: "Log in to continue.",
    403: "Your role does not allow this. Ask an administrator if you need it.",
    404: "There is nothing at this address. Check the link, or start again from the home page.",
    405: "This page cannot be used that way.",
}


def is_page_request(request: Request) -> bool:
    path = request.url.path
    return path != "/api" and not path.startswith(_NOT_PAGES)


def domain_error_page(request: Request, exc: DomainError) -> Response:
    heading = "This form has expired" if isinstance(exc, CsrfRejected) else None
    return error_page(request, exc.status, exc.detail, heading=heading)


def error_page(
    request: Request, status: int, detail: str | None = None, *, heading: str | None = None
) -> Response:
    """An error page; an anonymous visitor asking for a page is sent to the login form instead.

    `detail` must be safe to show (domain errors' details are); None or the bare status phrase
    get a plain explanation.
    """
    if status == 401 and request.method in {"GET", "HEAD"}:
        return RedirectResponse(login_url(request), status_code=303)
    if status >= 500:
        heading = "Something went wrong"
        detail = (
            "TrustDesk could not show this page. Try again in a moment; if it keeps happening, "
            "tell your administrator when it happened."
        )
    else:
        heading = heading or _HEADINGS.get(status, "The request could not be completed")
        if not detail or detail == _phrase(status):
            detail = _EXPLANATIONS.get(status, "Go back and try again.")
    context = {"status": status, "heading": heading, "detail": detail[:1].upper() + detail[1:]}
    return render(request, "error.html", context, status_code=status)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
