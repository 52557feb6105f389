"""The feedback explorer's reads: a page sorted by date (newest or oldest first), the number of
matching items, and the matched words to highlight.

Without words, items are ordered by when they were said (`at`, then id), paged by a keyset
cursor over the `at` index. With words, the blind term index is read in id order (the order
items were received), forwards or backwards: ordering search hits by date would mean reading
every hit first, which does not scale to millions of items.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import and_, or_
from sqlalchemy.orm import Session

from trustdesk.crypto import Vault
from trustdesk.errors import InvalidInput
from trustdesk.feedback import search
from trustdesk.feedback.models import Feedback
from trustdesk.feedback.schemas import FeedbackOut
from trustdesk.feedback.service import (
    FeedbackFilter,
    decrypt_texts,
    feedback_out,
    filtered_query,
)

__all__ = ["COUNT_CAP", "BrowsePage", "Order", "browse", "count_feedback"]

Order = Literal["newest", "oldest"]
COUNT_CAP = 100_000  # beyond this, the page says "more than 100,000"


@dataclass(frozen=True)
class BrowsePage:
    items: list[FeedbackOut]
    next_cursor: str | None  # opaque: pass back as `cursor` for the next page


def _has_words(filters: FeedbackFilter) -> bool:
    return filters.text is not None and bool(filters.text.strip())


_MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL


def _parse_cursor(session: Session, cursor: str, by_date: bool) -> tuple[datetime | None, int]:
    try:
        if cursor.rpartition("_")[2].isdigit() and int(cursor.rpartition("_")[2]) > _MAX_ID:
            raise ValueError("id out of range")
        if by_date and cursor.isdigit():  # a plain id (links from other pages): its place
            row = session.get(Feedback, int(cursor))
            if row is None:
                raise ValueError("unknown id")
            return row.at, row.id
        if by_date:
            at, _, row_id = cursor.rpartition("_")
            moment = datetime.fromisoformat(at)
            if moment.tzinfo is None:
                raise ValueError("naive")
            return moment, int(row_id)
        return None, int(cursor)
    except ValueError:
        raise InvalidInput(
            "the page cursor is not valid; start again from the first page"
        ) from None


def browse(
    session: Session,
    vault: Vault,
    filters: FeedbackFilter,
    *,
    order: Order = "newest",
    cursor: str = "",
    limit: int = 25,
) -> BrowsePage:
    """One page of matching feedback in the asked order, decrypted for display."""
    newest = order == "newest"
    by_date = not _has_words(filters)
    at, row_id = _parse_cursor(session, cursor, by_date) if cursor else (None, 0)
    query = filtered_query(filters)
    if not by_date:
        hashes = search.query_hashes(vault, filters.text or "")
        if newest:
            before = row_id if cursor else None
            rows = search.search_page_newest(
                session, query, hashes, before_id=before, limit=limit + 1
            )
        else:
            rows = search.search_page(session, query, hashes, after_id=row_id, limit=limit + 1)
    else:
        if at is not None:
            if newest:
                query = query.where(
                    or_(Feedback.at < at, and_(Feedback.at == at, Feedback.id < row_id))
                )
            else:
                query = query.where(
                    or_(Feedback.at > at, and_(Feedback.at == at, Feedback.id > row_id))
                )
        keys = (Feedback.at.desc(), Feedback.id.desc()) if newest else (Feedback.at, Feedback.id)
        rows = list(session.scalars(query.order_by(*keys).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        feedback_out(r, t) for r, t in zip(rows, decrypt_texts(session, vault, rows), strict=True)
    ]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = f"{last.at.isoformat()}_{last.id}" if by_date else str(last.id)
    return BrowsePage(items, next_cursor)


def count_feedback(
    session: Session, vault: Vault, filters: FeedbackFilter, *, cap: int = COUNT_CAP
) -> int:
    """How many items match (at most `cap` + 1: the caller says "more than cap")."""
    hashes = search.query_hashes(vault, filters.text or "") if _has_words(filters) else []
    return search.count_matches(session, filtered_query(filters), hashes, cap)
