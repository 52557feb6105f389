"""Subscriptions under /api/v1/notifications/subscriptions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from trustdesk.access.principal import Principal
from trustdesk.auth.http import ReadSession, WriteSession, get_platform, require
from trustdesk.db import utcnow
from trustdesk.notifications import service
from trustdesk.notifications.schemas import SubscriptionIn, SubscriptionOut
from trustdesk.platform import Platform
from trustdesk.problems import problem_responses

router = APIRouter(prefix="/notifications", tags=["notifications"])


@router.get("/subscriptions", response_model=list[SubscriptionOut])
def list_subscriptions(
    *,
    _: Principal = Depends(require("notifications:manage")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> list[SubscriptionOut]:
    return service.list_subscriptions(session, platform.vault)


@router.post("/subscriptions", response_model=SubscriptionOut, status_code=201)
def subscribe(
    body: SubscriptionIn,
    *,
    principal: Principal = Depends(require("notifications:manage")),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> SubscriptionOut:
    return service.subscribe(session, platform.vault, body, actor=principal.actor, now=utcnow())


@router.delete("/subscriptions/{sub_id}", status_code=204, responses=problem_responses(404))
def unsubscribe(
    sub_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    *,
    principal: Principal = Depends(require("notifications:manage")),
    session: WriteSession,
) -> Response:
    service.unsubscribe(session, sub_id, actor=principal.actor, now=utcnow())
    return Response(status_code=204)
