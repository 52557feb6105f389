"""The trust centre's erasure step: a subscriber's address is the customer's (encrypted under
their key, so erasing it shreds it); what is left here is the subscription row with the
address's blind index, which would still link the address to the erased person: drop it.

Wired to customers' eraser registry by the manifest (`trustdesk.capabilities`).
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from trustdesk.crypto import Vault
from trustdesk.customers.public import Eraser
from trustdesk.trustcentre.models import Subscriber

__all__ = ["TRUSTCENTRE_ERASER"]


def _forget(session: Session, customer_id: int) -> int:
    result = session.execute(delete(Subscriber).where(Subscriber.customer_id == customer_id))
    return int(getattr(result, "rowcount", 0) or 0)


def _left(session: Session, vault: Vault, customer_id: int) -> int:
    """Subscriptions still linking an address to the customer (0 after erasure)."""
    found = session.scalar(
        select(func.count()).select_from(Subscriber).where(Subscriber.customer_id == customer_id)
    )
    return int(found or 0)


TRUSTCENTRE_ERASER = Eraser(name="trustcentre", erase=_forget, readable=_left)
