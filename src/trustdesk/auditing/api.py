"""Read-only audit endpoints: the trail has no route that edits or deletes entries."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from trustdesk import audit
from trustdesk.auth.http import ReadSession, require
from trustdesk.bounds import RowId

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    changes: dict[str, Any]
    hash: str


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: int | None


class ChainOut(BaseModel):
    ok: bool
    checked: int
    broken_id: int | None
    reason: str | None


@router.get("", response_model=AuditPage, dependencies=[Depends(require("audit:read"))])
def list_entries(
    *,
    cursor: Annotated[RowId, Query(description="Return entries after this id.")] = 0,
    limit: int = Query(100, ge=1, le=1000),
    entity_type: str | None = None,
    entity_id: str | None = None,
    session: ReadSession,
) -> AuditPage:
    rows = audit.entries(
        session, entity_type=entity_type, entity_id=entity_id, after_id=cursor, limit=limit + 1
    )
    items = [
        AuditEntryOut(
            id=r.id,
            at=r.at,
            actor=r.actor,
            action=r.action,
            entity_type=r.entity_type,
            entity_id=r.entity_id,
            changes=json.loads(r.diff),
            hash=r.hash,
        )
        for r in rows[:limit]
    ]
    return AuditPage(items=items, next_cursor=items[-1].id if len(rows) > limit else None)


@router.get("/verify", response_model=ChainOut, dependencies=[Depends(require("audit:read"))])
def verify_chain(session: ReadSession) -> ChainOut:
    report = audit.verify(session)
    return ChainOut(
        ok=report.ok, checked=report.checked, broken_id=report.broken_id, reason=report.reason
    )
