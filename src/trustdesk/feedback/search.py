"""Keyword search over encrypted feedback: a keyed blind term index, written and queried in SQL.

Each distinct term of a text (`terms.terms_of`) is stored as `(keyed hash, feedback id)` in
`feedback_terms`; the words themselves are never stored. A search hashes its words the same way
and lets the database intersect the postings: the rarest term's postings are read in id order
(one range of the primary key), the other terms are point lookups, so a page of 25 stops early
whatever the size of the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, delete, exists, func, literal, select
from sqlalchemy.orm import Session, aliased

from trustdesk.crypto import Vault
from trustdesk.errors import InvalidInput
from trustdesk.feedback.models import Feedback, FeedbackTerm
from trustdesk.feedback.terms import MIN_TERM_CHARS, terms_of

__all__ = ["drop_terms", "index_terms", "matching", "query_hashes"]

# Counting a term's postings stops here: enough to tell a rare term from a common one.
_COUNT_CAP = 2_000
_INSERT_QMARK = "INSERT INTO feedback_terms (term_hash, feedback_id) VALUES (?, ?)"
_INSERT_FORMAT = "INSERT INTO feedback_terms (term_hash, feedback_id) VALUES (%s, %s)"


def index_terms(session: Session, vault: Vault, texts: Iterable[tuple[int, str]]) -> int:
    """Add the postings of (feedback id, plaintext) pairs; returns how many were written.

    Each distinct term of the batch is hashed once; postings are inserted sorted by key with one
    executemany, so the index pages they touch are visited in order.
    """
    per_row = [(feedback_id, terms_of(text)) for feedback_id, text in texts]
    vocabulary = list(set().union(*(terms for _, terms in per_row)))
    hash_of = dict(zip(vocabulary, vault.term_hashes(vocabulary), strict=True))
    postings = sorted((hash_of[t], feedback_id) for feedback_id, terms in per_row for t in terms)
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


def _rarest_first(session: Session, hashes: Sequence[int]) -> list[int]:
    if len(hashes) < 2:
        return list(hashes)

    def postings(term_hash: int) -> int:
        capped = select(literal(1)).where(FeedbackTerm.term_hash == term_hash).limit(_COUNT_CAP)
        return int(session.scalar(select(func.count()).select_from(capped.subquery())) or 0)

    counts = {h: postings(h) for h in hashes}
    return sorted(hashes, key=counts.__getitem__)


def matching(
    session: Session, query: Select[Any], hashes: Sequence[int], *, after_id: int
) -> Select[Any]:
    """`query` (over Feedback) restricted to rows holding every term, after `after_id`, in id order.

    Ordered by the driving posting's feedback id, which the primary key already yields in order.
    """
    drive, *rest = _rarest_first(session, hashes)
    posting = aliased(FeedbackTerm, name="posting")
    query = (
        query.join(posting, posting.feedback_id == Feedback.id)
        .where(posting.term_hash == drive, posting.feedback_id > after_id)
        .order_by(posting.feedback_id)
    )
    for n, term_hash in enumerate(rest):
        other = aliased(FeedbackTerm, name=f"also_{n}")
        query = query.where(
            exists().where(other.term_hash == term_hash, other.feedback_id == posting.feedback_id)
        )
    return query
