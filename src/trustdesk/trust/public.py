"""What other capabilities may know about trust: each customer's current trust index."""

from __future__ import annotations

from sqlalchemy.orm import Session

from trustdesk.config import Settings
from trustdesk.customers.public import customer_ids
from trustdesk.trust import reports
from trustdesk.trust.service import TrustParams

__all__ = ["customer_trust_indices"]

_PAGE = 5000


def customer_trust_indices(session: Session, settings: Settings) -> dict[str, float]:
    """{customer external id: trust index 0..100} of every customer the index knows."""
    params = TrustParams.from_settings(settings)
    found: dict[str, float] = {}
    after = 0
    while True:
        page = reports.customer_scores(session, params, after_id=after, limit=_PAGE)
        if not page:
            return found
        found.update({s.key: s.trust_index for s in page})
        if len(page) < _PAGE:
            return found
        last = customer_ids(session, [page[-1].key]).get(page[-1].key)
        if last is None:
            return found
        after = last
