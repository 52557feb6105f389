"""Staff administration pages: users (list, create, disable) and API tokens (list, create, revoke).

A new user's authenticator URI and a new token's secret are shown once, on the answer to the form
that created them (never stored in the session, never shown again).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from trustdesk.access.principal import Principal
from trustdesk.access.roles import Role
from trustdesk.auth import accounts, service
from trustdesk.auth.http import ReadSession, WriteSession, get_platform, require_page
from trustdesk.bounds import RowId
from trustdesk.errors import DomainError
from trustdesk.platform import Platform
from trustdesk.web.nav import NavEntry, Section
from trustdesk.web.routing import page_router
from trustdesk.web.templating import flash, render

__all__ = ["router", "section"]

router = page_router()
section = Section(
    router=router,
    nav=(
        NavEntry(
            "Users",
            "/users",
            permission="users:manage",
            description="Create staff users with their role, and disable those who left.",
            order=80,
        ),
        NavEntry(
            "API tokens",
            "/tokens",
            permission="tokens:manage",
            description="Create and revoke the tokens other systems call the API with.",
            order=85,
        ),
    ),
)

ROLES = tuple(role.value for role in Role)


def _users_page(
    request: Request,
    session: Any,
    *,
    created: service.CreatedUser | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "users": accounts.list_users(session),
        "roles": ROLES,
        "created": created,
        "error": error,
        "form": form or {"username": "", "role": "analyst"},
    }
    return render(request, "auth/users.html", context, status_code=status)


@router.get("/users")
def user_list(
    request: Request,
    session: ReadSession,
    _: Principal = Depends(require_page("users:manage")),
) -> Response:
    return _users_page(request, session)


@router.post("/users")
def create_user(
    *,
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    role: Annotated[str, Form(max_length=32)] = "",
    totp: Annotated[str, Form(max_length=8)] = "",
    principal: Principal = Depends(require_page("users:manage")),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> Response:
    form = {"username": username, "role": role}
    try:
        with session.begin_nested():  # a refused user leaves nothing behind
            created = service.create_user(
                session,
                platform.vault,
                username=username,
                password=password,
                role=role,
                with_totp=True if totp else None,
                actor=principal.actor,
            )
    except DomainError as exc:
        return _users_page(request, session, error=exc.detail, form=form, status=exc.status)
    return _users_page(request, session, created=created)


@router.post("/users/{user_id}/disable")
def disable_user(
    *,
    request: Request,
    user_id: RowId,
    principal: Principal = Depends(require_page("users:manage")),
    session: WriteSession,
) -> Response:
    name = accounts.disable_user(
        session,
        user_id,
        actor=principal.actor,
        actor_user_id=principal.id if principal.kind == "user" else None,
    )
    flash(request, f"User {name} is disabled: they cannot log in, and their sessions have ended.")
    return RedirectResponse("/users", status_code=303)


def _tokens_page(
    request: Request,
    session: Any,
    *,
    created: service.CreatedToken | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context = {
        "tokens": service.list_tokens(session),
        "roles": ROLES,
        "created": created,
        "error": error,
        "form": form or {"name": "", "role": "agent"},
    }
    return render(request, "auth/tokens.html", context, status_code=status)


@router.get("/tokens")
def token_list(
    request: Request,
    session: ReadSession,
    _: Principal = Depends(require_page("tokens:manage")),
) -> Response:
    return _tokens_page(request, session)


@router.post("/tokens")
def create_token(
    *,
    request: Request,
    name: Annotated[str, Form(max_length=120)] = "",
    role: Annotated[str, Form(max_length=32)] = "",
    principal: Principal = Depends(require_page("tokens:manage")),
    session: WriteSession,
) -> Response:
    form = {"name": name, "role": role}
    try:
        with session.begin_nested():
            created = service.create_token(
                session,
                name=name,
                role=role,
                actor=principal.actor,
                created_by=principal.id if principal.kind == "user" else None,
            )
    except DomainError as exc:
        return _tokens_page(request, session, error=exc.detail, form=form, status=exc.status)
    return _tokens_page(request, session, created=created)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(
    *,
    request: Request,
    token_id: RowId,
    principal: Principal = Depends(require_page("tokens:manage")),
    session: WriteSession,
) -> Response:
    service.revoke_token(session, token_id, actor=principal.actor)
    flash(request, f"Token {token_id} is revoked: calls made with it are refused from now on.")
    return RedirectResponse("/tokens", status_code=303)
