"""Cases' erasure step: the customer's key is gone, so their complaints no longer decrypt; drop
the ciphertext too, and count what still reads in clear (none after a complete erasure).

Wired to customers' eraser registry by the manifest (`trustdesk.capabilities`).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from trustdesk.cases.public import customer_cases, forget_customer_cases
from trustdesk.crypto import Vault
from trustdesk.customers.public import Eraser

__all__ = ["CASES_ERASER"]


def _readable(session: Session, vault: Vault, customer_id: int) -> int:
    return sum(1 for case in customer_cases(session, vault, customer_id) if case.body)


CASES_ERASER = Eraser(name="cases", erase=forget_customer_cases, readable=_readable)
