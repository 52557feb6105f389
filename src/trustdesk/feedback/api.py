"""Feedback endpoints under /api/v1/feedback."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from trustdesk.access.principal import Principal
from trustdesk.auth.http import (
    ReadSession,
    WriterTurn,
    WriteSession,
    get_platform,
    require,
)
from trustdesk.body_guard import BULK_BODY
from trustdesk.bounds import Instant, RowId
from trustdesk.db import utcnow
from trustdesk.errors import InvalidInput
from trustdesk.feedback import service
from trustdesk.feedback.analysis import default_analyser
from trustdesk.feedback.importing import import_feedback_rows
from trustdesk.feedback.schemas import FeedbackIn, FeedbackOut, ImportReport, parse_record
from trustdesk.feedback.topics import Topic
from trustdesk.platform import Platform
from trustdesk.tabular import Row

router = APIRouter(prefix="/feedback", tags=["feedback"])
MAX_BULK = 5000


class FeedbackPage(BaseModel):
    items: list[FeedbackOut]
    next_cursor: int | None = Field(description="Pass as `cursor` to get the next page.")


@router.post(
    "",
    response_model=FeedbackOut,
    status_code=201,
    responses={200: {"model": FeedbackOut, "description": "Stored before under this id"}},
)
def post_feedback(
    *,
    body: FeedbackIn,
    response: Response,
    principal: Principal = Depends(require("feedback:write")),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> FeedbackOut:
    """Store one record (201), or return the one stored before under its (source, id) (200)."""
    try:
        record = parse_record(body.model_dump(), now=utcnow())
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    result = service.store_feedback(
        session,
        platform.vault,
        [record],
        default_analyser(platform.settings.data_dir),
        actor=principal.actor,
    )
    if result.rejected:
        raise InvalidInput(result.rejected[0])
    response.status_code = 201 if result.created else 200
    return service.find_feedback(session, platform.vault, record.source, record.external_id)


@router.post("/bulk", response_model=ImportReport, openapi_extra=BULK_BODY)
def bulk_import(
    *,
    rows: list[dict[str, object]],
    principal: Principal = Depends(require("feedback:write")),
    platform: Platform = Depends(get_platform),
    _turn: WriterTurn,
) -> ImportReport:
    """Up to 5,000 records; good ones are stored, each bad one is reported by its position."""
    if len(rows) > MAX_BULK:
        raise InvalidInput(f"at most {MAX_BULK:,} records per request")
    numbered = (Row(i, dict(r)) for i, r in enumerate(rows, start=1))
    return import_feedback_rows(
        platform.db,
        platform.vault,
        numbered,
        default_analyser(platform.settings.data_dir),
        actor=principal.actor,
    )


@router.get("", response_model=FeedbackPage)
def list_feedback(
    *,
    q: str | None = Query(
        None, max_length=500, description="Words that must all occur in the text (any case)."
    ),
    cursor: RowId = 0,
    limit: int = Query(50, ge=1, le=500),
    source: str | None = None,
    segment: str | None = None,
    sentiment: str | None = Query(None, pattern="^(negative|neutral|positive)$"),
    topic: Topic | None = Query(None, description="Only feedback with this trust topic."),
    customer_id: RowId | None = None,
    since: Instant | None = None,
    until: Instant | None = None,
    principal: Principal = Depends(require("feedback:read")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> FeedbackPage:
    filters = service.FeedbackFilter(
        text=q,
        source=source,
        segment=segment,
        sentiment=sentiment,
        topic=topic,
        customer_id=customer_id,
        since=since,
        until=until,
    )
    items, next_cursor = service.list_feedback(
        session, platform.vault, filters, after_id=cursor, limit=limit
    )
    return FeedbackPage(items=items, next_cursor=next_cursor)


@router.get("/{feedback_id:int}", response_model=FeedbackOut)  # /feedback/bulk: 405
def get_feedback(
    *,
    feedback_id: RowId,
    principal: Principal = Depends(require("feedback:read")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> FeedbackOut:
    return service.get_feedback(session, platform.vault, feedback_id)
