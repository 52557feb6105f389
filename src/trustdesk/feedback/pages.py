"""The feedback explorer: search and filters as a GET form, cursor paging, one item's analysis.

Text is personal data: it is decrypted for the page only (these pages need `feedback:read`) and
never logged. Lists are one indexed query in id order that stops after a page (`list_feedback`;
keyword search goes through the blind term index), so they stay fast at millions of items.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from trustdesk.access.principal import Principal
from trustdesk.auth.http import ReadSession, WriteSession, get_platform, require_page
from trustdesk.bounds import RowId
from trustdesk.customers import public as customers
from trustdesk.errors import InvalidInput
from trustdesk.feedback import browsing, corrections, exporting, service
from trustdesk.feedback.schemas import FeedbackOut
from trustdesk.feedback.terms import highlight
from trustdesk.feedback.topics import DIMENSIONS, TOPIC_DIMENSIONS, TOPIC_LABELS, TOPICS
from trustdesk.platform import Platform
from trustdesk.web.downloads import csv_download
from trustdesk.web.nav import NavEntry, Section
from trustdesk.web.routing import page_router
from trustdesk.web.templating import flash, render

__all__ = ["EXPORT_LIMIT", "PAGE_SIZE", "router", "section"]

PAGE_SIZE = 25
EXPORT_LIMIT = 10_000
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


def _filters(session: Session, values: dict[str, str]) -> service.FeedbackFilter:
    """The explorer's form values as a service filter (InvalidInput names a bad field)."""
    first, last = _day(values["since"], "From"), _day(values["until"], "To")
    customer_id = None
    if values["customer"]:
        found = customers.customer_ids(session, [values["customer"]])
        if values["customer"] not in found:
            raise InvalidInput(f"no customer with id {values['customer']!r}")
        customer_id = found[values["customer"]]
    return service.FeedbackFilter(
        text=values["q"] or None,
        source=values["source"] or None,
        segment=values["segment"] or None,
        sentiment=values["sentiment"] or None,
        topic=values["topic"] or None,
        customer_id=customer_id,
        since=_start(first),
        until=_start(last + timedelta(days=1)) if last else None,  # the To day is included
    )


def _values(
    q: str,
    source: str,
    segment: str,
    sentiment: str,
    topic: str,
    customer: str,
    since: str,
    until: str,
) -> dict[str, str]:
    return {
        "q": q.strip(),
        "source": source.strip().lower(),
        "segment": segment.strip(),
        "sentiment": sentiment if sentiment in SENTIMENTS else "",
        "topic": topic if topic in TOPICS else "",
        "customer": customer.strip(),
        "since": since.strip(),
        "until": until.strip(),
    }


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
    order: str = Query("newest", max_length=8),
    cursor: str = Query("", max_length=80),
    principal: Principal = Depends(require_page("feedback:read")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> Response:
    values = _values(q, source, segment, sentiment, topic, customer, since, until)
    sort: browsing.Order = "oldest" if order == "oldest" else "newest"
    items: list[FeedbackOut] = []
    next_cursor: str | None = None
    total: int | None = None
    error: str | None = None
    try:
        filters = _filters(session, values)
        found = browsing.browse(
            session, platform.vault, filters, order=sort, cursor=cursor, limit=PAGE_SIZE
        )
        items, next_cursor = found.items, found.next_cursor
        total = browsing.count_feedback(session, platform.vault, filters)
    except InvalidInput as exc:
        error = exc.detail
    kept = {k: v for k, v in values.items() if v}
    sorted_params = {**kept, **({"order": "oldest"} if sort == "oldest" else {})}
    context = {
        **_SHARED,
        **values,
        "items": items,
        "error": error,
        "cursor": cursor,
        "order": sort,
        "total": total,
        "count_cap": browsing.COUNT_CAP,
        "filtered": bool(kept),
        "first_href": _href(sorted_params) if cursor else None,
        "next_href": _href(sorted_params, next_cursor) if next_cursor else None,
        "newest_href": _href(kept),
        "oldest_href": _href({**kept, "order": "oldest"}),
        "export_href": "/feedback/export.csv"
        + (f"?{urlencode(sorted_params)}" if sorted_params else ""),
        "customer_refs": _customer_refs(session, items),
        "corrections": corrections.corrections_of(session, (f.id for f in items)),
        "marked": lambda text: highlight(text, values["q"]),
    }
    return render(request, "feedback/list.html", context)


@router.get("/export.csv")
def export_csv(
    *,
    q: str = Query("", max_length=200),
    source: str = Query("", max_length=64),
    segment: str = Query("", max_length=64),
    sentiment: str = Query("", max_length=16),
    topic: str = Query("", max_length=64),
    customer: str = Query("", max_length=128),
    since: str = Query("", max_length=10),
    until: str = Query("", max_length=10),
    order: str = Query("newest", max_length=8),
    principal: Principal = Depends(require_page("feedback:read")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> Response:
    """The search's results as CSV (at most `EXPORT_LIMIT` rows), in the page's order."""
    values = _values(q, source, segment, sentiment, topic, customer, since, until)
    filters = _filters(session, values)
    rows = exporting.search_rows(
        session,
        platform.vault,
        filters,
        order="oldest" if order == "oldest" else "newest",
        limit=EXPORT_LIMIT,
    )
    return csv_download("feedback-search.csv", exporting.HEADER, rows)


@router.post("/{feedback_id}/correct")
def correct(
    *,
    request: Request,
    feedback_id: RowId,
    sentiment: Annotated[str, Form(max_length=16)] = "",
    topics: Annotated[list[str] | None, Form()] = None,
    change_topics: Annotated[str, Form(max_length=8)] = "",
    principal: Principal = Depends(require_page("feedback:write")),
    session: WriteSession,
) -> Response:
    """Record a staff correction of the item's sentiment and/or topics (audited)."""
    corrections.correct_feedback(
        session,
        feedback_id,
        sentiment=sentiment or None,
        topics=list(topics or []) if change_topics else None,
        actor=principal.actor,
    )
    flash(request, f"Correction saved for feedback #{feedback_id}. It will teach the next model.")
    return RedirectResponse(f"/feedback/{feedback_id}", status_code=303)


def _href(filters: dict[str, str], cursor: str | None = None) -> str:
    """A link to a page of the explorer that keeps the filters."""
    params: dict[str, str] = dict(filters)
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
        "correction": corrections.corrections_of(session, [item.id]).get(item.id),
        "can_correct": principal.can("feedback:write"),
    }
    return render(request, "feedback/detail.html", context)
