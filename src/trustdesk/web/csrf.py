"""Cross-site request forgery protection for everything a browser session can change.

Each session holds one random token. Forms send it back in a hidden field (`csrf_field()` in
templates); scripts send it in the `X-CSRF-Token` header (the page's `<meta name="csrf-token">`).
Every state-changing request authenticated by the session cookie must carry it: the cookie alone,
which a browser attaches to requests made by any site, never authorises a change.
"""

from __future__ import annotations

import secrets

from markupsafe import Markup
from starlette.requests import Request

from trustdesk.errors import PermissionDenied

__all__ = [
    "FIELD",
    "HEADER",
    "SAFE_METHODS",
    "CsrfRejected",
    "check_header",
    "hidden_field",
    "protect",
    "token",
]

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SESSION_KEY = "csrf"
_FORM_EXPIRED = (
    "this form has expired or did not come from TrustDesk; reload the page and try again"
)


class CsrfRejected(PermissionDenied):
    title = "CSRF token missing or wrong"


def token(request: Request) -> str:
    """This session's token, created on first use (a new session after login gets a new one)."""
    current = request.session.get(_SESSION_KEY)
    if not isinstance(current, str) or not current:
        current = secrets.token_urlsafe(32)
        request.session[_SESSION_KEY] = current
    return current


def hidden_field(value: str) -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, value)


def _check(request: Request, sent: object, reason: str = _FORM_EXPIRED) -> None:
    expected = request.session.get(_SESSION_KEY) if "session" in request.scope else None
    if (
        not isinstance(expected, str)
        or not isinstance(sent, str)
        or not secrets.compare_digest(expected.encode(), sent.encode())
    ):
        raise CsrfRejected(reason)


async def protect(request: Request) -> None:
    """Page-router dependency: a state-changing request must send the session's token back."""
    if request.method in SAFE_METHODS:
        return
    sent: object = request.headers.get(HEADER)
    if sent is None:
        form = await request.form()  # parsed once; FastAPI reuses it for the route's Form fields
        sent = form.get(FIELD)
    _check(request, sent)


def check_header(request: Request) -> None:
    """For API calls authenticated by the session cookie: the token must be in the header."""
    if request.method not in SAFE_METHODS:
        _check(
            request,
            request.headers.get(HEADER),
            f"a change made with a session cookie needs the {HEADER} header "
            "(the page's csrf-token meta tag)",
        )
