"""Feedback search results as CSV rows: what the explorer lists, for a spreadsheet.

Rows hold the decrypted text (the export needs `feedback:read`, like the page); the web layer
writes them through the formula-safe CSV writer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from trustdesk.crypto import Vault
from trustdesk.customers import public as customers
from trustdesk.feedback.browsing import Order, browse
from trustdesk.feedback.corrections import corrections_of
from trustdesk.feedback.service import FeedbackFilter

__all__ = ["HEADER", "search_rows"]

HEADER = (
    "id",
    "at",
    "source",
    "external_id",
    "segment",
    "customer",
    "sentiment",
    "p_negative",
    "p_neutral",
    "p_positive",
    "topics",
    "rating",
    "corrected_sentiment",
    "corrected_topics",
    "text",
)
_BATCH = 1000


def _round(value: float | None) -> float | str:
    return round(value, 4) if value is not None else ""


def search_rows(
    session: Session, vault: Vault, filters: FeedbackFilter, *, order: Order, limit: int
) -> list[list[Any]]:
    """Up to `limit` matching items, in the explorer's order, one CSV row each."""
    rows: list[list[Any]] = []
    cursor = ""
    while len(rows) < limit:
        page = browse(
            session,
            vault,
            filters,
            order=order,
            cursor=cursor,
            limit=min(_BATCH, limit - len(rows)),
        )
        ids = {f.customer_id for f in page.items if f.customer_id is not None}
        refs = customers.external_ids(session, ids) if ids else {}
        fixed = corrections_of(session, (f.id for f in page.items))
        for f in page.items:
            c = fixed.get(f.id)
            rows.append(
                [
                    f.id,
                    f.at.isoformat(),
                    f.source,
                    f.external_id,
                    f.segment or "",
                    refs.get(f.customer_id, "") if f.customer_id is not None else "",
                    f.sentiment or "",
                    _round(f.p_negative),
                    _round(f.p_neutral),
                    _round(f.p_positive),
                    ";".join(f.topics),
                    f.rating_raw if f.rating_raw is not None else "",
                    (c.sentiment or "") if c else "",
                    ";".join(c.topics) if c and c.topics is not None else "",
                    f.text if f.text is not None else "",
                ]
            )
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    return rows
