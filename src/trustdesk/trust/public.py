"""The door other capabilities use into trust: a customer's own index, as plain frozen data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from trustdesk.config import Settings
from trustdesk.trust import reports
from trustdesk.trust.service import TrustParams

__all__ = ["CustomerTrust", "customer_trust"]


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
    found = reports.customer_scores(
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
