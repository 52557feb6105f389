"""Erasing a customer everywhere TrustDesk holds their personal data, in one transaction.

Destroying the customer's data key makes every field encrypted under it unreadable, in the live
database and in earlier backups (crypto-shredding). What was *derived* from their text without that
key (the keyed search terms of their feedback) is deleted alongside. Non-identifying aggregates
(trust statistics) stay; the audit trail records that the erasure happened.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from trustdesk.crypto import Vault
from trustdesk.customers import public as customers
from trustdesk.customers.schemas import CustomerOut
from trustdesk.feedback import public as feedback

__all__ = ["erase_customer"]


def erase_customer(session: Session, vault: Vault, external_id: str, *, actor: str) -> CustomerOut:
    erased = customers.forget(session, vault, external_id, actor=actor)
    feedback.forget_customer_feedback(session, erased.id)
    return erased
