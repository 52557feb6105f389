"""Breach notices to the people affected, through the shared transactional outbox.

A breach notice rests on a legal obligation: marketing opt-outs do not apply. Contact data is not
read here: the outbox decrypts it only when it sends, so an erasure before then is honoured (an
erased customer is `unreachable`, counted and reported). Customers without an email go to the
postal export for the mail house. One message per customer and incident (its idempotency key),
so running `notify` again never sends a second notice; the exact text sent is kept, encrypted,
with each delivery, and the notice version in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.audit import chain as audit
from trustdesk.crypto import Vault
from trustdesk.customers.public import contacts
from trustdesk.errors import Conflict, InvalidInput
from trustdesk.incidents.models import AffectedRecord
from trustdesk.incidents.notices.drafting import OFFER_PLACEHOLDER
from trustdesk.incidents.notices.offers import assign_codes
from trustdesk.incidents.notices.service import approved
from trustdesk.incidents.register.service import load
from trustdesk.outbox.public import Email, enqueue_emails, status_counts

__all__ = ["KIND", "NotifyResult", "delivery_counts", "notify"]

KIND = "incident.notice"
_BATCH = 5000


@dataclass(frozen=True)
class NotifyResult:
    audience: str
    notice_id: int | None
    notice_version: int | None
    approved: bool
    customers: int
    queued: int
    sent: int
    unreachable: int
    postal: int
    dry_run: bool


def key_prefix(incident_id: int, audience: str) -> str:
    return f"incident:{incident_id}:notice:{audience}:"


def _affected_ids(session: Session, incident_id: int) -> list[int]:
    return list(
        session.scalars(
            select(AffectedRecord.customer_id)
            .where(AffectedRecord.incident_id == incident_id)
            .order_by(AffectedRecord.customer_id)
        )
    )


def delivery_counts(session: Session, incident_id: int, audience: str) -> dict[str, int]:
    return status_counts(session, key_prefix=key_prefix(incident_id, audience)).as_dict()


def notify(
    session: Session,
    vault: Vault,
    incident_id: int,
    audience: str,
    *,
    dry_run: bool,
    actor: str,
    now: datetime,
    codes: dict[int, str] | None = None,
) -> NotifyResult:
    """Queue the approved notice to every affected customer (`dry_run`: only count)."""
    load(session, incident_id)
    if audience != "individuals":
        raise InvalidInput(
            f"notices to {audience} are filed by staff (portal, letter); record them with "
            "`trustdesk incidents fulfil`"
        )
    ids = _affected_ids(session, incident_id)
    if dry_run:
        try:
            notice = approved(session, incident_id, audience)
        except Conflict:
            notice = None
        reach = contacts(session, vault, ids)
        unreachable = sum(1 for c in reach.values() if not c.reachable)
        postal = sum(1 for c in reach.values() if c.reachable and not c.email)
        return NotifyResult(
            audience, notice.id if notice else None, notice.version if notice else None,
            notice is not None, len(ids), len(ids) - unreachable, 0, unreachable, postal, True,
        )  # fmt: skip
    notice = approved(session, incident_id, audience)  # Conflict unless approved
    if codes is None and OFFER_PLACEHOLDER in notice.body:
        codes = assign_codes(session, incident_id, now)
    prefix = key_prefix(incident_id, audience)
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        enqueue_emails(
            session,
            vault,
            [
                Email(
                    kind=KIND,
                    key=f"{prefix}{cid}",
                    subject=notice.subject,
                    text=notice.body.replace(OFFER_PLACEHOLDER, (codes or {}).get(cid, "")),
                    customer_id=cid,
                    postal_fallback=True,
                )
                for cid in batch
            ],
            actor=actor,
        )
    counts = status_counts(session, key_prefix=prefix)
    audit.record(
        session,
        actor=actor,
        action="incident.notices_queued",
        entity_type="incident",
        entity_id=incident_id,
        changes={
            "audience": audience,
            "notice": notice.id,
            "version": notice.version,
            "customers": len(ids),
            "unreachable": counts.unreachable,
        },
    )
    return NotifyResult(
        audience, notice.id, notice.version, True, len(ids), counts.queued, counts.delivered,
        counts.unreachable, counts["handed_over"], False,
    )  # fmt: skip
