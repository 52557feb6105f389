"""The feedback explorer: search and filters as a GET form, cursor paging, one item's analysis.

Text is personal data: it is decrypted for the page only (these pages need `feedback:read`) and
never logged. Lists are one indexed query in id order that stops after a page (`list_feedback`;
keyword search goes through the blind term index), so they stay fast at millions of items.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from trustdesk.access.principal import Principal
from trustdesk.auth.http import ReadSession, get_platform, require_page
from trustdesk.bounds import RowId
from trustdesk.customers import public as customers
from trustdesk.errors import InvalidInput
from trustdesk.feedback import service
from trustdesk.feedback.schemas import FeedbackOut
from trustdesk.feedback.topics import DIMENSIONS, TOPIC_DIMENSIONS, TOPIC_LABELS, TOPICS
from trustdesk.platform import Platform
from trustdesk.web.nav import NavEntry, Section
from trustdesk.web.routing import page_router
from trustdesk.web.templating import render

__all__ = ["PAGE_SIZE", "router", "section"]

PAGE_SIZE = 25
SENTIMENTS = ("negative", "neutral", "positive")
_FILTERS = ("q", "source", "segment", "sentiment", "topic", "customer", "since", "until")

router = page_router(prefix="/feedback")
section = Section(
    router=router,
    nav=(
        NavEntry(
            "Feedback",
            "/feedback",
            permission="feedback:read",
            description="Search and filter what customers said, with each item's analysis.",
            order=25,
        ),
    ),
)

_SHARED = {
    "topics": TOPICS,
    "topic_labels": TOPIC_LABELS,
    "topic_dimensions": TOPIC_DIMENSIONS,
    "dimensions": DIMENSIONS,
    "sentiments": SENTIMENTS,
}


def _day(raw: str, name: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a date such as 2015-02-24") from None


def _start(day: date | None) -> datetime | None:
    return datetime.combine(day, time(), tzinfo=UTC) if day else None


@router.get("")
def explorer(
    *,
    request: Request,
    q: str = Query("", max_length=200),
    source: str = Query("", max_length=64),
    segment: str = Query("", max_length=64),
    sentiment: str = Query("", max_length=16),
    topic: str = Query("", max_length=64),
    customer: str = Query("", max_length=128),
    since: str = Query("", max_length=10),
    until: str = Query("", max_length=10),
    cursor: RowId = 0,
    principal: Principal = Depends(require_page("feedback:read")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> Response:
    values = {
        "q": q.strip(),
        "source": source.strip().lower(),
        "segment": segment.strip(),
        "sentiment": sentiment if sentiment in SENTIMENTS else "",
        "topic": topic if topic in TOPICS else "",
        "customer": customer.strip(),
        "since": since.strip(),
        "until": until.strip(),
    }
    items: list[FeedbackOut] = []
    next_cursor: int | None = None
    error: str | None = None
    try:
        first, last = _day(values["since"], "From"), _day(values["until"], "To")
        customer_id = None
        if values["customer"]:
            found = customers.customer_ids(session, [values["customer"]])
            if values["customer"] not in found:
                raise InvalidInput(f"no customer with id {values['customer']!r}")
            customer_id = found[values["customer"]]
        filters = service.FeedbackFilter(
            text=values["q"] or None,
            source=values["source"] or None,
            segment=values["segment"] or None,
            sentiment=values["sentiment"] or None,
            topic=values["topic"] or None,
            customer_id=customer_id,
            since=_start(first),
            until=_start(last + timedelta(days=1)) if last else None,  # the To day is included
        )
        items, next_cursor = service.list_feedback(
            session, platform.vault, filters, after_id=cursor, limit=PAGE_SIZE
        )
    except InvalidInput as exc:
        error = exc.detail
    kept = {k: v for k, v in values.items() if v}
    context = {
        **_SHARED,
        **values,
        "items": items,
        "error": error,
        "cursor": cursor,
        "filtered": bool(kept),
        "first_href": _href(kept) if cursor else None,
        "next_href": _href(kept, next_cursor) if next_cursor else None,
        "customer_refs": _customer_refs(session, items),
    }
    return render(request, "feedback/list.html", context)


def _href(filters: dict[str, str], cursor: int | None = None) -> str:
    """A link to a page of the explorer that keeps the filters."""
    params: dict[str, str | int] = dict(filters)
    if cursor:
        params["cursor"] = cursor
    return "/feedback" + (f"?{urlencode(params)}" if params else "")


def _customer_refs(session: Session, items: list[FeedbackOut]) -> dict[int, str]:
    """The external id of each item's customer, to link to their page."""
    ids = {f.customer_id for f in items if f.customer_id is not None}
    return customers.external_ids(session, ids) if ids else {}


@router.get("/{feedback_id}")
def feedback_item(
    *,
    request: Request,
    feedback_id: RowId,
    principal: Principal = Depends(require_page("feedback:read")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> Response:
    item = service.get_feedback(session, platform.vault, feedback_id)
    context = {
        **_SHARED,
        "item": item,
        "customer_refs": _customer_refs(session, [item]),
        "can_see_trust": principal.can("trust:read"),
    }
    return render(request, "feedback/detail.html", context)
