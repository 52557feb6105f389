"""The web shell's Jinja2 environment and `render`, the one way a page answers with HTML.

`render` gives every template what the shell needs (who is logged in, their menu, the CSRF token,
a one-time notice) and sends the security headers every page shares. Templates live in
`web/templates/`, one folder per capability (`customers/list.html`); they extend `base.html`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.requests import Request

from trustdesk import __version__
from trustdesk.access.principal import Principal
from trustdesk.web import csrf
from trustdesk.web.nav import Navigation, current_entry

__all__ = ["SECURITY_HEADERS", "TEMPLATES", "environment", "flash", "render"]

TEMPLATES = Path(__file__).parent / "templates"
_FLASH = "flash"

# No inline script or style anywhere, so the policy can forbid them outright.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages may show personal data: keep them out of caches
}


@pass_context
def _csrf_field(context: Context) -> Markup:
    return csrf.hidden_field(str(context["csrf_token"]))


def _humanize(value: object) -> str:
    """`privacy_officer` → `Privacy officer`, for roles and other identifiers shown to people."""
    return str(value).replace("_", " ").capitalize()


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html",)),
        undefined=StrictUndefined,  # a misspelt variable fails the test instead of rendering ""
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["csrf_field"] = _csrf_field
    env.globals["version"] = __version__
    env.filters["humanize"] = _humanize
    return env


def flash(request: Request, message: str) -> None:
    """A notice shown once, on the next page this session renders ("You have logged out.")."""
    request.session[_FLASH] = message


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    principal: Principal | None = None,
) -> HTMLResponse:
    """Render `template` inside the shell. The principal defaults to the one the page resolved."""
    principal = principal or getattr(request.state, "principal", None)
    nav: Navigation | None = getattr(request.app.state, "nav", None)
    has_session = "session" in request.scope
    entries = nav.visible_to(principal) if nav is not None and principal is not None else []
    values: dict[str, Any] = {
        "request": request,
        "principal": principal,
        "nav": entries,
        "current_path": request.url.path,
        "current_entry": current_entry(entries, request.url.path),
        "csrf_token": csrf.token(request) if has_session else "",
        "notice": request.session.pop(_FLASH, None) if has_session else None,
        **(context or {}),
    }
    html = environment().get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
