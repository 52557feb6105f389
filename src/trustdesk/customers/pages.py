"""Customer pages: the list (cursor paging, segment filter) and one customer's details.

Personal data appears only for roles with `customers:read_personal`; the service decides what is
decrypted, the templates only show what they were given.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from starlette.responses import Response

from trustdesk.access.principal import Principal
from trustdesk.auth.http import ReadSession, get_platform, require_page
from trustdesk.bounds import RowId
from trustdesk.customers import service
from trustdesk.platform import Platform
from trustdesk.web.nav import NavEntry, Section
from trustdesk.web.routing import page_router
from trustdesk.web.templating import render

__all__ = ["PAGE_SIZE", "router", "section"]

PAGE_SIZE = 25

router = page_router(prefix="/customers")
section = Section(
    router=router,
    nav=(
        NavEntry(
            "Customers",
            "/customers",
            permission="customers:read",
            description="Look up customers, their segments and their personal data.",
            order=10,
        ),
    ),
)


@router.get("")
def customer_list(
    *,
    request: Request,
    cursor: RowId = 0,
    limit: int = Query(PAGE_SIZE, ge=1, le=200),
    segment: str = Query("", max_length=64),
    principal: Principal = Depends(require_page("customers:read")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> Response:
    segment = segment.strip()
    reveal = principal.can("customers:read_personal")
    customers, next_cursor = service.list_customers(
        session,
        platform.vault,
        reveal=reveal,
        after_id=cursor,
        limit=limit,
        segment=segment or None,
    )
    context = {
        "customers": customers,
        "reveal": reveal,
        "segment": segment,
        "cursor": cursor,
        "first_href": _list_href(segment, limit) if cursor else None,
        "next_href": _list_href(segment, limit, next_cursor) if next_cursor else None,
    }
    return render(request, "customers/list.html", context)


def _list_href(segment: str, limit: int, cursor: int | None = None) -> str:
    """A link to a page of the list that keeps the filter and page size."""
    params: dict[str, str | int] = {}
    if segment:
        params["segment"] = segment
    if limit != PAGE_SIZE:
        params["limit"] = limit
    if cursor:
        params["cursor"] = cursor
    return "/customers" + (f"?{urlencode(params)}" if params else "")


@router.get("/{external_id}")
def customer_detail(
    *,
    request: Request,
    external_id: str,
    principal: Principal = Depends(require_page("customers:read")),
    platform: Platform = Depends(get_platform),
    session: ReadSession,
) -> Response:
    customer = service.get_customer(
        session, platform.vault, external_id, reveal=principal.can("customers:read_personal")
    )
    return render(request, "customers/detail.html", {"customer": customer})
