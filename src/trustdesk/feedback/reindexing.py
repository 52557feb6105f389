"""(Re)build the search index of stored feedback: for rows imported before it existed, or anew.

A job like an import: it decrypts and indexes `batch_size` rows per committed transaction, so a
killed run keeps what it did and a re-run rebuilds the same postings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from trustdesk import audit
from trustdesk.crypto import Vault
from trustdesk.db import Database
from trustdesk.feedback import service
from trustdesk.feedback.models import Feedback

__all__ = ["ReindexReport", "feedback_count", "reindex_feedback"]


@dataclass
class ReindexReport:
    rows: int = 0  # feedback rows read
    postings: int = 0  # (term, feedback) pairs written


def feedback_count(db: Database) -> int:
    with db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(Feedback)) or 0)


def reindex_feedback(
    db: Database,
    vault: Vault,
    *,
    actor: str,
    batch_size: int = 5000,
    on_batch: Callable[[ReindexReport], None] | None = None,
) -> ReindexReport:
    """Rebuild every row's search postings, in id order, one transaction per batch.

    It decrypts every readable text, so the run is audited (its counts, never a word).
    """
    report = ReindexReport()
    after = 0
    while True:
        with db.transaction() as session:
            rows, postings, last = service.reindex_terms(
                session, vault, after_id=after, limit=batch_size
            )
        if last is None:
            with db.transaction() as session:
                audit.record(
                    session,
                    actor=actor,
                    action="feedback.reindexed",
                    entity_type="feedback",
                    entity_id="search",
                    changes={"rows": report.rows, "postings": report.postings},
                )
            return report
        report.rows += rows
        report.postings += postings
        after = last
        if on_batch:
            on_batch(report)
