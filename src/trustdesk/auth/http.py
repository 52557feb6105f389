"""How an HTTP request proves who it is: a bearer API token, or a logged-in web session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from trustdesk.access.principal import Principal
from trustdesk.auth import service
from trustdesk.errors import AuthenticationFailed
from trustdesk.platform import Platform
from trustdesk.web import csrf

__all__ = [
    "SESSION_TOKEN",
    "ReadSession",
    "WriteSession",
    "WriterTurn",
    "current_principal",
    "get_platform",
    "read_session",
    "require",
    "require_page",
    "session_principal",
    "write_session",
    "writer_turn",
]

SESSION_TOKEN = "sid"  # noqa: S105 - a key name; the server keeps only the token's hash
_PRINCIPAL = "trustdesk.principal"  # the request's authenticated caller, in the ASGI scope


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


async def writer_turn(request: Request) -> AsyncIterator[None]:
    """This request's turn to write (see `trustdesk.gate`), waited for on the event loop.

    Routes that write through `platform.db.transaction()` themselves take it with `WriterTurn`;
    `WriteSession` takes it for the others.
    """
    platform: Platform = request.app.state.platform
    async with platform.db.writers.turn():
        yield


def write_session(
    platform: Platform = Depends(get_platform),
    _turn: None = Depends(writer_turn, scope="function"),
) -> Iterator[Session]:
    """One transaction per request: committed if the handler returns, rolled back if it raises.

    Use it as `WriteSession` (function scope): the commit must happen before the response
    leaves, or a client could be told "stored" (or follow a redirect and read the page) before
    the data is there, and a failed commit would go unreported.
    """
    with platform.db.transaction() as session:
        yield session


def read_session(platform: Platform = Depends(get_platform)) -> Iterator[Session]:
    with platform.db.reading() as session:
        yield session


WriterTurn = Annotated[None, Depends(writer_turn, scope="function")]
WriteSession = Annotated[Session, Depends(write_session, scope="function")]
ReadSession = Annotated[Session, Depends(read_session)]


def _session_token(request: Request) -> object:
    return request.session.get(SESSION_TOKEN) if "session" in request.scope else None


def session_principal(request: Request, platform: Platform = Depends(get_platform)) -> Principal:
    """The staff user logged in to this browser session; pages accept nothing else."""
    token = _session_token(request)
    if not isinstance(token, str):
        raise AuthenticationFailed("log in to continue")
    with platform.db.reading() as session:
        try:
            principal = service.session_principal(session, token)
        except AuthenticationFailed:
            request.session.pop(SESSION_TOKEN, None)  # ended, expired or user disabled
            raise
    request.state.principal = principal  # error pages show who is logged in
    return principal


def current_principal(request: Request, platform: Platform = Depends(get_platform)) -> Principal:
    """The API caller: a bearer token, or a session cookie with the CSRF header for changes.

    Found once per request: `body_guard` asks before the body is read, the route's dependency
    then gets the same answer.
    """
    known = request.scope.get(_PRINCIPAL)
    if isinstance(known, Principal):
        return known
    principal = _api_caller(request, platform)
    request.scope[_PRINCIPAL] = principal
    return principal


def _api_caller(request: Request, platform: Platform) -> Principal:
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationFailed("use 'Authorization: Bearer <token>'")
        with platform.db.reading() as session:
            return service.principal_for_token(session, token.strip())
    if _session_token(request) is None:
        raise AuthenticationFailed("an API token or a logged-in session is required")
    principal = session_principal(request, platform)
    # The browser attaches the cookie to requests any site makes: changes need the CSRF token too.
    csrf.check_header(request)
    return principal


def require(permission: str) -> Callable[..., Principal]:
    """Dependency: the caller, if they hold `permission` (401 if anonymous, else 403)."""

    def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        principal.require(permission)
        return principal

    # `body_guard` reads this to refuse a caller without it before reading the request body.
    dependency.required_permission = permission  # type: ignore[attr-defined]
    return dependency


def require_page(permission: str | None = None) -> Callable[..., Principal]:
    """Page dependency: the logged-in user, if they hold `permission` (anonymous: to login)."""

    def dependency(principal: Principal = Depends(session_principal)) -> Principal:
        if permission is not None:
            principal.require(permission)
        return principal

    return dependency
