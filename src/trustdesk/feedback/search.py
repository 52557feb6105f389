"""Keyword search over encrypted feedback: a keyed blind term index, written and queried in SQL.

Each distinct term of a text (`terms.terms_of`) is stored as `(bucket, keyed hash, feedback id)`
in `feedback_terms`; the words themselves are never stored. A search hashes its words the same
way and lets the database intersect the postings: bucket by bucket in id order, the rarest term's
postings are read as one range of the primary key and the other terms are point lookups, so a
page stops as soon as it is full, whatever the size of the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, delete, exists, func, literal, select
from sqlalchemy.orm import Session, aliased

from trustdesk.crypto import Vault
from trustdesk.errors import InvalidInput
from trustdesk.feedback.models import TERM_BUCKET_BITS, Feedback, FeedbackTerm
from trustdesk.feedback.terms import MIN_TERM_CHARS, terms_of

__all__ = [
    "count_matches",
    "drop_terms",
    "index_terms",
    "query_hashes",
    "search_page",
    "search_page_newest",
]

# Counting a term's postings stops here: enough to tell a rare term from a common one.
_COUNT_CAP = 2_000
_INSERT_QMARK = "INSERT INTO feedback_terms (bucket, term_hash, feedback_id) VALUES (?, ?, ?)"
_INSERT_FORMAT = "INSERT INTO feedback_terms (bucket, term_hash, feedback_id) VALUES (%s, %s, %s)"


def index_terms(session: Session, vault: Vault, texts: Iterable[tuple[int, str]]) -> int:
    """Add the postings of (feedback id, plaintext) pairs; returns how many were written.

    Each distinct term of the batch is hashed once; postings are inserted with one executemany.
    A batch lands in one or two buckets, small enough that sorting it first does not pay (measured:
    15 % slower with the sort).
    """
    per_row = [(feedback_id, terms_of(text)) for feedback_id, text in texts]
    vocabulary = list(set().union(*(terms for _, terms in per_row)))
    hash_of = dict(zip(vocabulary, vault.term_hashes(vocabulary), strict=True))
    postings = [
        (feedback_id >> TERM_BUCKET_BITS, hash_of[t], feedback_id)
        for feedback_id, terms in per_row
        for t in terms
    ]
    if postings:
        # Plain tuples straight to the driver: SQLAlchemy's per-row parameter processing would
        # cost more than the insert itself at ~12 postings per row.
        connection = session.connection()
        qmark = connection.dialect.paramstyle == "qmark"
        connection.exec_driver_sql(_INSERT_QMARK if qmark else _INSERT_FORMAT, postings)
    return len(postings)


def drop_terms(session: Session, feedback_ids: Select[Any]) -> int:
    """Delete the postings of the feedback selected by `feedback_ids` (a select of ids)."""
    result = session.execute(
        delete(FeedbackTerm).where(FeedbackTerm.feedback_id.in_(feedback_ids.scalar_subquery()))
    )
    return int(getattr(result, "rowcount", 0) or 0)


def query_hashes(vault: Vault, text: str) -> list[int]:
    """The hashes of a query's terms; a query with no searchable word is refused."""
    terms = sorted(terms_of(text))
    if not terms:
        raise InvalidInput(
            f"search needs a word of at least {MIN_TERM_CHARS} letters or digits "
            "that is not a stop word (the, and, …)"
        )
    return vault.term_hashes(terms)


def _rarest_first(session: Session, hashes: Sequence[int], buckets: range) -> list[int]:
    if len(hashes) < 2:
        return list(hashes)

    def postings(term_hash: int) -> int:
        capped = (
            select(literal(1))
            .where(FeedbackTerm.bucket.in_(buckets), FeedbackTerm.term_hash == term_hash)
            .limit(_COUNT_CAP)
        )
        return int(session.scalar(select(func.count()).select_from(capped.subquery())) or 0)

    counts = {h: postings(h) for h in hashes}
    return sorted(hashes, key=counts.__getitem__)


def _in_buckets(
    query: Select[Any],
    hashes: Sequence[int],
    buckets: range,
    after_id: int,
    *,
    before_id: int | None = None,
) -> Select[Any]:
    drive, *rest = hashes
    posting = aliased(FeedbackTerm, name="posting")
    query = query.join(posting, posting.feedback_id == Feedback.id).where(
        posting.bucket.in_(buckets), posting.term_hash == drive, posting.feedback_id > after_id
    )
    if before_id is not None:
        query = query.where(posting.feedback_id < before_id)
    for n, term_hash in enumerate(rest):
        other = aliased(FeedbackTerm, name=f"also_{n}")
        query = query.where(
            exists().where(
                other.bucket == posting.bucket,
                other.term_hash == term_hash,
                other.feedback_id == posting.feedback_id,
            )
        )
    if before_id is not None:  # newest first
        return query.order_by(posting.bucket.desc(), posting.feedback_id.desc())
    return query.order_by(posting.bucket, posting.feedback_id)


def search_page(
    session: Session, query: Select[Any], hashes: Sequence[int], *, after_id: int, limit: int
) -> list[Any]:
    """Up to `limit` rows of `query` (over Feedback) holding every term, after `after_id`, in id
    order. Reads one bucket, then windows of 2, 4, … buckets until the page is full."""
    newest = session.scalar(select(func.max(Feedback.id)))
    if newest is None or newest <= after_id:
        return []
    first, last = (after_id + 1) >> TERM_BUCKET_BITS, newest >> TERM_BUCKET_BITS
    ordered = _rarest_first(session, hashes, range(first, last + 1))
    rows: list[Any] = []
    width = 1
    while first <= last and len(rows) < limit:
        buckets = range(first, min(first + width, last + 1))
        window = _in_buckets(query, ordered, buckets, after_id).limit(limit - len(rows))
        rows += session.scalars(window).all()
        first += width
        width *= 2
    return rows


def search_page_newest(
    session: Session,
    query: Select[Any],
    hashes: Sequence[int],
    *,
    before_id: int | None,
    limit: int,
) -> list[Any]:
    """`search_page` backwards: up to `limit` rows holding every term with an id below
    `before_id` (None: from the newest), newest id first, reading windows of 1, 2, 4, … buckets
    down from the top."""
    newest = session.scalar(select(func.max(Feedback.id)))
    if newest is None:
        return []
    top = newest if before_id is None else min(newest, before_id - 1)
    before_id = top + 1  # within the column's range (PostgreSQL integers are 32-bit)
    if top < 1:
        return []
    last, first = top >> TERM_BUCKET_BITS, 0
    ordered = _rarest_first(session, hashes, range(first, last + 1))
    rows: list[Any] = []
    width = 1
    while last >= first and len(rows) < limit:
        buckets = range(max(first, last - width + 1), last + 1)
        window = _in_buckets(query, ordered, buckets, 0, before_id=before_id)
        rows += session.scalars(window.limit(limit - len(rows))).all()
        last -= width
        width *= 2
    return rows


def count_matches(session: Session, query: Select[Any], hashes: Sequence[int], cap: int) -> int:
    """How many rows of `query` hold every term, counting no further than `cap` + 1."""
    for n, term_hash in enumerate(hashes):
        posting = aliased(FeedbackTerm, name=f"has_{n}")
        query = query.where(
            exists().where(
                posting.bucket == Feedback.id.op(">>")(TERM_BUCKET_BITS),
                posting.term_hash == term_hash,
                posting.feedback_id == Feedback.id,
            )
        )
    capped = query.with_only_columns(Feedback.id).limit(cap + 1).subquery()
    return int(session.scalar(select(func.count()).select_from(capped)) or 0)
