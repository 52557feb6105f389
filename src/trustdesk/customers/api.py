"""Customer endpoints under /api/v1/customers."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field, ValidationError

from trustdesk.access.principal import Principal
from trustdesk.auth.http import (
    ReadSession,
    WriterTurn,
    WriteSession,
    get_platform,
    require,
)
from trustdesk.body_guard import BULK_BODY
from trustdesk.bounds import RowId
from trustdesk.customers import erasure, service
from trustdesk.customers.importing import import_customer_records, validation_reason
from trustdesk.customers.schemas import CustomerOut, CustomerPut, ImportReport
from trustdesk.errors import InvalidInput
from trustdesk.platform import Platform
from trustdesk.problems import problem_responses
from trustdesk.tabular import Row

router = APIRouter(prefix="/customers", tags=["customers"])


class CustomerPage(BaseModel):
    items: list[CustomerOut]
    next_cursor: int | None = Field(description="Pass as `cursor` to get the next page.")


@router.get("", response_model=CustomerPage)
def list_customers(
    *,
    cursor: RowId = 0,
    limit: int = Query(50, ge=1, le=500),
    segment: str | None = None,
    principal: Principal = Depends(require("customers:read")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> CustomerPage:
    items, next_cursor = service.list_customers(
        session,
        platform.vault,
        reveal=principal.can("customers:read_personal"),
        after_id=cursor,
        limit=limit,
        segment=segment,
    )
    return CustomerPage(items=items, next_cursor=next_cursor)


@router.get("/lookup", response_model=list[CustomerOut])
def lookup_by_email(
    *,
    email: str = Query(..., min_length=3, max_length=254),
    principal: Principal = Depends(require("customers:read_personal")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> list[CustomerOut]:
    return service.find_by_email(session, platform.vault, email, reveal=True)


@router.get("/{external_id}", response_model=CustomerOut)
def get_customer(
    *,
    external_id: str,
    principal: Principal = Depends(require("customers:read")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> CustomerOut:
    return service.get_customer(
        session, platform.vault, external_id, reveal=principal.can("customers:read_personal")
    )


@router.put(
    "/{external_id}",
    response_model=CustomerOut,
    responses={201: {"model": CustomerOut, "description": "Created"}},
)
def put_customer(
    *,
    external_id: str,
    body: CustomerPut,
    response: Response,
    principal: Principal = Depends(require("customers:write")),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> CustomerOut:
    """Create or replace a customer; idempotent on the external id (201 when created). The body
    need not repeat `external_id`."""
    if body.external_id is not None and body.external_id != external_id:
        raise InvalidInput("external_id in the body must match the URL")
    try:
        record = body.for_customer(external_id)
    except ValidationError as exc:
        raise InvalidInput(validation_reason(exc)) from exc
    counts = service.upsert_customers(session, platform.vault, [record], actor=principal.actor)
    if counts.erased:
        raise InvalidInput("customer was erased; their data cannot be re-imported")
    response.status_code = 201 if counts.created else 200
    return service.get_customer(session, platform.vault, external_id, reveal=True)


@router.post("/bulk", response_model=ImportReport, openapi_extra=BULK_BODY)
def bulk_import(
    *,
    rows: list[dict[str, object]],
    principal: Principal = Depends(require("customers:write")),
    platform: Platform = Depends(get_platform),
    _turn: WriterTurn,
) -> ImportReport:
    """Up to 5,000 customers; good rows are stored, every bad one is reported by position."""
    if len(rows) > 5000:
        raise InvalidInput("at most 5,000 customers per request")
    numbered = (Row(i, dict(r)) for i, r in enumerate(rows, start=1))
    try:
        return import_customer_records(platform.db, platform.vault, numbered, actor=principal.actor)
    except ValidationError as exc:  # pragma: no cover - rows are validated one by one
        raise InvalidInput(str(exc)) from exc


@router.delete(
    "/{external_id}/personal-data", response_model=CustomerOut, responses=problem_responses(409)
)
def forget_customer(
    *,
    external_id: str,
    principal: Principal = Depends(require("customers:erase")),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> CustomerOut:
    """Destroy the customer's data key: their personal data becomes unreadable everywhere."""
    return erasure.erase_customer(session, platform.vault, external_id, actor=principal.actor)
