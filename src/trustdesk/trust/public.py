"""What other capabilities may know about trust: customers' indices, as plain frozen data; the
registry of signals (`register_signal`), which the manifest wires every declared signal to; and
a time-windowed read of a signal's observations (`observations_between`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.config import Settings
from trustdesk.customers.public import external_ids
from trustdesk.trust import customer_ranks, score_reads
from trustdesk.trust.customer_ranks import RankedCustomer, SegmentEnds, customer_index_pages
from trustdesk.trust.models import TrustAlert
from trustdesk.trust.service import TrustParams
from trustdesk.trust.signals import (
    DIMENSIONS,
    Observations,
    Signal,
    TimeColumnSignal,
    WindowedSignal,
    dimension_mask,
    observations_between,
    register_signal,
    registered_signals,
    utc_of,
)

__all__ = [
    "DIMENSIONS",
    "CustomerTrust",
    "Observations",
    "RaisedAlert",
    "RankedCustomer",
    "SegmentEnds",
    "Signal",
    "TimeColumnSignal",
    "WindowedSignal",
    "alerts_raised_since",
    "customer_trust",
    "customer_trust_indices",
    "dimension_mask",
    "observations_between",
    "register_signal",
    "registered_signals",
    "segment_ends",
    "utc_of",
]


@dataclass(frozen=True)
class CustomerTrust:
    trust_index: float
    ci_low: float
    ci_high: float
    observations: int
    dimensions: dict[str, float]
    as_of: datetime | None


def customer_trust(session: Session, settings: Settings, customer_id: int) -> CustomerTrust | None:
    """The customer's trust index as last computed, or None when nothing was observed of them."""
    found = score_reads.customer_scores(
        session, TrustParams.from_settings(settings), customer_ids=[customer_id]
    )
    if not found:
        return None
    score = found[0]
    return CustomerTrust(
        trust_index=score.trust_index,
        ci_low=score.ci_low,
        ci_high=score.ci_high,
        observations=score.n,
        dimensions=dict(score.dimensions),
        as_of=score.as_of,
    )


def customer_trust_indices(session: Session, settings: Settings) -> dict[str, float]:
    """{customer external id: trust index 0..100} of every customer the index knows."""
    found: dict[str, float] = {}
    for page in customer_index_pages(session, TrustParams.from_settings(settings)):
        external = external_ids(session, page)
        found.update({external.get(cid, str(cid)): index for cid, index in page.items()})
    return found


def segment_ends(session: Session, settings: Settings, *, n: int) -> dict[str, SegmentEnds]:
    """Per customer segment ("" for customers in none), how many customers the index knows and
    the `n` with the highest and the `n` with the lowest trust index (ties: by external id), read
    without holding every customer's index (see `trust/customer_ranks.py`)."""
    return customer_ranks.segment_ends(session, TrustParams.from_settings(settings), n)


@dataclass(frozen=True)
class RaisedAlert:
    """A trust alert as a notification tells it (no feedback text, no customer)."""

    id: int
    kind: str  # trust_drop or topic_surge
    segment: str
    topic: str
    severity: str
    window_start: datetime
    window_end: datetime
    baseline: float
    observed: float
    created_at: datetime


def alerts_raised_since(
    session: Session, since: datetime, *, limit: int = 500
) -> list[RaisedAlert]:
    """Unacknowledged alerts first raised at or after `since`, oldest first."""
    rows = session.scalars(
        select(TrustAlert)
        .where(TrustAlert.created_at >= since, TrustAlert.acknowledged_at.is_(None))
        .order_by(TrustAlert.created_at, TrustAlert.id)
        .limit(limit)
    )
    return [
        RaisedAlert(
            a.id, a.kind, a.segment, a.topic, a.severity, a.window_start, a.window_end,
            a.baseline, a.observed, a.created_at,
        )
        for a in rows
    ]  # fmt: skip
