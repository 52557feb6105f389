"""How an HTTP request proves who it is: a bearer API token, or a logged-in web session."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from trustdesk.auth import service
from trustdesk.auth.principal import Principal
from trustdesk.errors import AuthenticationFailed
from trustdesk.platform import Platform

__all__ = ["current_principal", "get_platform", "read_session", "require", "write_session"]

SESSION_USER = "user_id"


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def write_session(platform: Platform = Depends(get_platform)) -> Iterator[Session]:
    """One transaction per request: committed if the handler returns, rolled back if it raises."""
    with platform.db.transaction() as session:
        yield session


def read_session(platform: Platform = Depends(get_platform)) -> Iterator[Session]:
    with platform.db.reading() as session:
        yield session


def current_principal(request: Request, platform: Platform = Depends(get_platform)) -> Principal:
    header = request.headers.get("authorization", "")
    with platform.db.reading() as session:
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise AuthenticationFailed("use 'Authorization: Bearer <token>'")
            return service.principal_for_token(session, token.strip())
        user_id = request.session.get(SESSION_USER) if "session" in request.scope else None
        if user_id is None:
            raise AuthenticationFailed("an API token or a logged-in session is required")
        return service.user_principal(session, int(user_id))


def require(permission: str) -> Callable[..., Principal]:
    """Dependency: the caller, if they hold `permission` (401 if anonymous, else 403)."""

    def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        principal.require(permission)
        return principal

    return dependency
