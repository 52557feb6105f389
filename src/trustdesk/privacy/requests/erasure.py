"""Erasing a customer everywhere TrustDesk holds their personal data, in one transaction.

Destroying the customer's data key makes every field encrypted under it unreadable, in the live
database and in earlier backups (crypto-shredding). What was *derived* from their text without that
key (the keyed search terms of their feedback) is deleted alongside, by the erasure steps
capabilities declare in the manifest (run by `customers.public.erase`). Non-identifying aggregates
(trust statistics) stay; the audit trail records that the erasure happened.

`verified_erasure` erases and then checks that it worked: the key is gone, no ciphertext of theirs
is left to decrypt, none of their texts decrypts (every eraser counts its own), and their access
export is empty.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from trustdesk.config import Settings
from trustdesk.crypto import Vault
from trustdesk.customers import public as customers
from trustdesk.customers.public import CustomerOut
from trustdesk.privacy.export.archive import build_export
from trustdesk.privacy.requests.schemas import ErasureReport

__all__ = ["erase_customer", "verified_erasure", "verify_erased"]


def erase_customer(session: Session, vault: Vault, external_id: str, *, actor: str) -> CustomerOut:
    return customers.erase(session, vault, external_id, actor=actor)


def verify_erased(
    session: Session, vault: Vault, settings: Settings, external_id: str, *, now: datetime
) -> ErasureReport:
    """Checks, without changing anything, that nothing personal of the customer is readable."""
    record = customers.personal_record(session, vault, external_id)
    subject = customers.customer_subjects(session, [record.id])[record.id]
    key_destroyed = vault.is_destroyed(subject)
    stored = customers.stored_personal_fields(session, external_id)
    readable = customers.readable_items(session, vault, record.id)
    empty = build_export(session, vault, settings, external_id, now=now).is_empty
    return ErasureReport(
        customer_id=external_id,
        key_destroyed=key_destroyed,
        stored_personal_fields=stored,
        readable_feedback_texts=readable,
        export_empty=empty,
        verified=key_destroyed and not stored and readable == 0 and empty,
    )


def verified_erasure(
    session: Session,
    vault: Vault,
    settings: Settings,
    external_id: str,
    *,
    actor: str,
    now: datetime,
) -> ErasureReport:
    """Erase the customer (crypto-shredding), then verify it (see `verify_erased`)."""
    erase_customer(session, vault, external_id, actor=actor)
    return verify_erased(session, vault, settings, external_id, now=now)
