"""Who am I, and API token management under /api/v1."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field

from trustdesk.access.principal import Principal
from trustdesk.access.roles import ROLE_PERMISSIONS, Role
from trustdesk.auth import service
from trustdesk.auth.http import (
    ReadSession,
    WriteSession,
    current_principal,
    require,
)
from trustdesk.bounds import Instant, RowId

router = APIRouter(tags=["auth"])


class MeOut(BaseModel):
    kind: str
    name: str
    role: Role
    permissions: list[str]


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    role: Role
    expires_at: Instant | None = None


class TokenCreated(BaseModel):
    id: int
    name: str
    role: Role
    token: str = Field(description="Shown once; store it now. Only its hash is kept.")


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    role: Role
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


@router.get("/me", response_model=MeOut)
def me(principal: Principal = Depends(current_principal)) -> MeOut:
    return MeOut(
        kind=principal.kind,
        name=principal.name,
        role=principal.role,
        permissions=sorted(ROLE_PERMISSIONS[principal.role]),
    )


@router.post("/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED)
def create_token(
    *,
    body: TokenIn,
    principal: Principal = Depends(require("tokens:manage")),
    session: WriteSession,
) -> TokenCreated:
    created = service.create_token(
        session,
        name=body.name,
        role=body.role,
        actor=principal.actor,
        created_by=principal.id if principal.kind == "user" else None,
        expires_at=body.expires_at,
    )
    return TokenCreated(id=created.id, name=created.name, role=created.role, token=created.token)


@router.get(
    "/tokens", response_model=list[TokenOut], dependencies=[Depends(require("tokens:manage"))]
)
def list_tokens(session: ReadSession) -> list[TokenOut]:
    return [
        TokenOut(
            id=t.id,
            name=t.name,
            prefix=t.prefix,
            role=Role(t.role),
            created_at=t.created_at,
            expires_at=t.expires_at,
            revoked_at=t.revoked_at,
        )
        for t in service.list_tokens(session)
    ]


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(
    *,
    token_id: RowId,
    principal: Principal = Depends(require("tokens:manage")),
    session: WriteSession,
) -> None:
    service.revoke_token(session, token_id, actor=principal.actor)
