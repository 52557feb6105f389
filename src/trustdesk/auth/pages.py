"""Staff login (password, then the TOTP code when the user has one) and logout.

A login in progress lives in the session as a pending marker (user id, when, where to go next);
only a completed login opens a server-side session (its token under `SESSION_TOKEN`), in a
cookie session cleared first so nothing from before the login (a planted or stale session)
carries over. Logging out ends the server-side session: a copied cookie is worthless after.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from trustdesk.auth import service
from trustdesk.auth.http import SESSION_TOKEN, WriterTurn, get_platform
from trustdesk.errors import AuthenticationFailed, TooManyAttempts
from trustdesk.platform import Platform
from trustdesk.web.nav import Section
from trustdesk.web.redirects import safe_next
from trustdesk.web.routing import page_router
from trustdesk.web.templating import flash, render

__all__ = ["PENDING_LOGIN", "router", "section"]

router = page_router()
section = Section(router=router)

PENDING_LOGIN = "login.pending"
PENDING_TTL_S = 300  # time allowed between the password and the code

WRONG_LOGIN = "Wrong username or password."
WRONG_CODE = "That code is wrong or has already been used. Wait for the next code and try again."
THROTTLED = "Too many failed attempts. Wait a few minutes, then try again."


def _login_form(
    request: Request, *, next_path: str, username: str = "", error: str | None = None, status: int
) -> Response:
    context = {"next_path": next_path, "username": username, "error": error}
    return render(request, "auth/login.html", context, status_code=status)


def _totp_form(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    return render(request, "auth/totp.html", {"error": error}, status_code=status)


def _client(request: Request) -> str | None:
    """The client's address (behind a proxy: as uvicorn's --forwarded-allow-ips trusts it)."""
    return request.client.host if request.client else None


def _pending(request: Request) -> dict[str, Any] | None:
    pending = request.session.get(PENDING_LOGIN)
    if not isinstance(pending, dict) or not isinstance(pending.get("user_id"), int):
        return None
    if time.time() - float(pending.get("since", 0)) > PENDING_TTL_S:
        request.session.pop(PENDING_LOGIN, None)
        return None
    return pending


def _complete_login(request: Request, platform: Platform, user_id: int, next_path: str) -> Response:
    max_age = timedelta(seconds=platform.settings.session_max_age_s)
    with platform.db.transaction() as session:
        token = service.open_session(session, user_id, max_age=max_age)
    request.session.clear()  # no session fixation: nothing from before the login survives
    request.session[SESSION_TOKEN] = token
    return RedirectResponse(safe_next(next_path), status_code=303)


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    if request.session.get(SESSION_TOKEN) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_form(request, next_path=safe_next(next), status=200)


@router.post("/login")
def login(
    *,
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
    platform: Platform = Depends(get_platform),
    _turn: WriterTurn,
) -> Response:
    next_path = safe_next(next)
    username = username.strip()
    if not username or not password:
        error = "Enter your username and your password."
        return _login_form(request, next_path=next_path, username=username, error=error, status=422)
    settings = platform.settings
    try:
        step = service.authenticate_password(
            platform.db,
            username=username,
            password=password,
            max_failures=settings.login_max_failures,
            lockout=timedelta(seconds=settings.login_lockout_s),
            client=_client(request),
            client_max_failures=settings.login_client_max_failures,
            username_max_failures=settings.login_username_max_failures,
        )
    except TooManyAttempts:
        return _login_form(
            request, next_path=next_path, username=username, error=THROTTLED, status=429
        )
    except AuthenticationFailed:
        return _login_form(
            request, next_path=next_path, username=username, error=WRONG_LOGIN, status=401
        )
    if not step.needs_totp:
        return _complete_login(request, platform, step.user_id, next_path)
    request.session.clear()
    request.session[PENDING_LOGIN] = {
        "user_id": step.user_id,
        "since": int(time.time()),
        "next": next_path,
    }
    return RedirectResponse("/login/totp", status_code=303)


@router.get("/login/totp")
def totp_page(request: Request) -> Response:
    if _pending(request) is None:
        return RedirectResponse("/login", status_code=303)
    return _totp_form(request)


@router.post("/login/totp")
def verify_totp(
    *,
    request: Request,
    code: Annotated[str, Form(max_length=32)] = "",
    platform: Platform = Depends(get_platform),
    _turn: WriterTurn,
) -> Response:
    pending = _pending(request)
    if pending is None:
        flash(request, "Your login took too long. Enter your username and password again.")
        return RedirectResponse("/login", status_code=303)
    if not code.strip():
        return _totp_form(request, error="Enter the code from your authenticator app.", status=422)
    settings = platform.settings
    try:
        principal = service.verify_totp(
            platform.db,
            platform.vault,
            user_id=pending["user_id"],
            code=code,
            max_failures=settings.login_max_failures,
            lockout=timedelta(seconds=settings.login_lockout_s),
            client=_client(request),
            client_max_failures=settings.login_client_max_failures,
        )
    except TooManyAttempts:
        return _totp_form(request, error=THROTTLED, status=429)
    except AuthenticationFailed:
        return _totp_form(request, error=WRONG_CODE, status=401)
    return _complete_login(request, platform, principal.id, str(pending.get("next", "/")))


@router.post("/logout")
def logout(
    request: Request, _turn: WriterTurn, platform: Platform = Depends(get_platform)
) -> Response:
    token = request.session.get(SESSION_TOKEN)
    if isinstance(token, str):
        with platform.db.transaction() as session:
            service.end_session(session, token)
    request.session.clear()
    flash(request, "You have logged out.")
    return RedirectResponse("/login", status_code=303)
