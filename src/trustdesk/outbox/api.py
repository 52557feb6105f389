"""`/api/v1/outbox`: message status, counts and the delivery log (never addresses or bodies),
and retry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from trustdesk.access.principal import Principal
from trustdesk.auth.http import ReadSession, WriteSession, require
from trustdesk.bounds import RowId
from trustdesk.outbox import service
from trustdesk.outbox.schemas import MessageOut, MessageStatus

router = APIRouter(prefix="/outbox", tags=["outbox"])


class MessagePage(BaseModel):
    items: list[MessageOut]
    next_cursor: int | None


@router.get("/messages", response_model=MessagePage, dependencies=[Depends(require("outbox:read"))])
def list_messages(
    *,
    session: ReadSession,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    status: MessageStatus | None = None,
    cursor: Annotated[RowId, Query(description="Return messages after this id.")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> MessagePage:
    items, next_cursor = service.list_messages(
        session, kind=kind, status=status, after_id=cursor, limit=limit
    )
    return MessagePage(items=items, next_cursor=next_cursor)


@router.get(
    "/messages/{message_id}",
    response_model=MessageOut,
    dependencies=[Depends(require("outbox:read"))],
)
def show_message(message_id: RowId, session: ReadSession) -> MessageOut:
    return service.get_message(session, message_id)


@router.get("/counts", dependencies=[Depends(require("outbox:read"))])
def counts(
    session: ReadSession,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    key_prefix: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, int]:
    return service.status_counts(session, kind=kind, key_prefix=key_prefix).as_dict()


@router.post("/messages/{message_id}/retry", response_model=MessageOut)
def retry(
    message_id: RowId,
    session: WriteSession,
    principal: Annotated[Principal, Depends(require("outbox:manage"))],
) -> MessageOut:
    return service.retry(session, message_id, actor=principal.actor)
