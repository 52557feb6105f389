"""The notifications page: who hears of which alerts, add a subscription, end one."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from trustdesk.access.principal import Principal
from trustdesk.auth.http import ReadSession, WriteSession, get_platform, require_page
from trustdesk.bounds import RowId
from trustdesk.db import utcnow
from trustdesk.errors import InvalidInput
from trustdesk.notifications import service
from trustdesk.notifications.schemas import KINDS, SubscriptionIn, SubscriptionOut
from trustdesk.platform import Platform
from trustdesk.web.nav import NavEntry, Section
from trustdesk.web.routing import page_router
from trustdesk.web.templating import flash, render

__all__ = ["router", "section"]

router = page_router(prefix="/notifications")
section = Section(
    router=router,
    nav=(
        NavEntry(
            "Notifications",
            "/notifications",
            permission="notifications:manage",
            description="Choose who hears of trust alerts, overdue requests, the fraud queue and "
            "job failures, by email or webhook.",
            order=95,
        ),
    ),
)


def _page(
    request: Request, subs: list[SubscriptionOut], made: SubscriptionOut | None = None
) -> Response:
    return render(request, "notifications/index.html", {"subs": subs, "kinds": KINDS, "made": made})


@router.get("")
def notifications_page(
    *,
    request: Request,
    _: Principal = Depends(require_page("notifications:manage")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> Response:
    return _page(request, service.list_subscriptions(session, platform.vault))


@router.post("")
def subscribe(
    *,
    request: Request,
    kind: Annotated[str, Form(max_length=32)],
    channel: Annotated[str, Form(pattern="^(email|webhook)$")],
    target: Annotated[str, Form(min_length=3, max_length=2000)],
    threshold: Annotated[int | None, Form(ge=1, le=1_000_000)] = None,
    principal: Principal = Depends(require_page("notifications:manage")),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> Response:
    """Add a subscription; a webhook's signing secret is shown on the answer, once."""
    fields = {"email": target} if channel == "email" else {"webhook_url": target}
    try:
        wanted = SubscriptionIn.model_validate({"kind": kind, "threshold": threshold, **fields})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidInput(f"{where}: {reason}" if where else reason) from None
    made = service.subscribe(session, platform.vault, wanted, actor=principal.actor, now=utcnow())
    return _page(request, service.list_subscriptions(session, platform.vault), made)


@router.post("/{sub_id}/delete")
def unsubscribe(
    *,
    request: Request,
    sub_id: RowId,
    principal: Principal = Depends(require_page("notifications:manage")),
    session: WriteSession,
) -> Response:
    service.unsubscribe(session, sub_id, actor=principal.actor, now=utcnow())
    flash(request, f"Subscription {sub_id} ended.")
    return RedirectResponse("/notifications", status_code=303)
