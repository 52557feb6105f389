"""What the scorer reads from the database: stored payments, labels and customers' totals.

Streams, in the order the in-memory history needs them; used at start-up and by the catch-up.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.fraud.models import FraudLabel, FraudTransaction
from trustdesk.fraud.schemas import LabelKind
from trustdesk.fraud.scoring.engine import LabelRow

__all__ = [
    "HISTORY_COLUMNS",
    "HistoryRow",
    "customer_first_seen",
    "history_rows",
    "ids_after",
    "labels",
    "rows_by_pk",
]


# What the scorer and training read of a payment, in `HistoryRow`'s order.
HISTORY_COLUMNS = (
    FraudTransaction.id,
    FraudTransaction.transaction_id,
    FraudTransaction.at,
    FraudTransaction.customer_ref,
    FraudTransaction.terminal_id,
    FraudTransaction.amount,
)


@dataclass(frozen=True)
class HistoryRow:
    pk: int
    transaction_id: str
    at: datetime
    customer_ref: str
    terminal_id: str
    amount: Decimal


def ids_after(session: Session, after_pk: int) -> list[tuple[int, str]]:
    """(row id, transaction id) of payments stored after row `after_pk`, by any process.

    A range on the primary key: it reads only the new rows, however long the history is.
    """
    query = (
        select(FraudTransaction.id, FraudTransaction.transaction_id)
        .where(FraudTransaction.id > after_pk)
        .order_by(FraudTransaction.id)
    )
    return [(pk, tx_id) for pk, tx_id in session.execute(query)]


def rows_by_pk(session: Session, pks: list[int], *, since: datetime) -> list[HistoryRow]:
    """The given payments that are not older than `since`, in time order."""
    found: list[HistoryRow] = []
    for i in range(0, len(pks), 900):
        query = select(*HISTORY_COLUMNS).where(
            FraudTransaction.id.in_(pks[i : i + 900]), FraudTransaction.at >= since
        )
        found.extend(HistoryRow(*row) for row in session.execute(query))
    return sorted(found, key=lambda r: (r.at, r.pk))


def history_rows(session: Session, *, since: datetime, after_pk: int = 0) -> Iterator[HistoryRow]:
    """Stored transactions from `since` in time order (streamed: there can be millions)."""
    query = (
        select(*HISTORY_COLUMNS)
        .where(FraudTransaction.at >= since, FraudTransaction.id > after_pk)
        .order_by(FraudTransaction.at, FraudTransaction.id)
        .execution_options(yield_per=20_000)
    )
    for row in session.execute(query):
        yield HistoryRow(*row)


def labels(session: Session, *, after_id: int = 0) -> Iterator[LabelRow]:
    """Stored labels with ids above `after_id`, those not known yet included (an imported file's
    labels become known `delay` days after their payments): the scorer holds them until then.
    Catching up reads new ids in id order; start-up replays by known time."""
    query = (
        select(
            FraudLabel.id,
            FraudTransaction.transaction_id,
            FraudTransaction.customer_ref,
            FraudLabel.source,
            FraudLabel.label,
            FraudLabel.known_at,
        )
        .join(FraudTransaction, FraudTransaction.id == FraudLabel.transaction_pk)
        .where(FraudLabel.id > after_id)
        .order_by(*((FraudLabel.id,) if after_id else (FraudLabel.known_at, FraudLabel.id)))
        .execution_options(yield_per=20_000)
    )
    for label_id, tx_id, customer, source, label, known_at in session.execute(query):
        yield LabelRow(label_id, tx_id, customer, source, LabelKind(label).is_fraud, known_at)


def customer_first_seen(session: Session) -> Iterator[tuple[str, datetime, int, Decimal]]:
    """(customer ref, first transaction time, count, total amount) of every customer."""
    query = select(
        FraudTransaction.customer_ref,
        func.min(FraudTransaction.at),
        func.count(),
        func.sum(FraudTransaction.amount),
    ).group_by(FraudTransaction.customer_ref)
    for ref, first, count, total in session.execute(query):
        first_at = first if isinstance(first, datetime) else datetime.fromisoformat(str(first))
        first_at = first_at if first_at.tzinfo else first_at.replace(tzinfo=UTC)
        yield ref, first_at, int(count), Decimal(str(total or 0))
