"""Proof of consent: one customer's ledger entries with their hashes, each checked, and the whole
chain verified at the time of export, so a choice can be shown years later to be untouched."""

from __future__ import annotations

from sqlalchemy.orm import Session

from trustdesk.db import utcnow
from trustdesk.privacy.consent import ledger
from trustdesk.privacy.consent.policy import ConsentState
from trustdesk.privacy.consent.schemas import ChainOut, ProofEntryOut, ProofOut
from trustdesk.privacy.consent.service import place

__all__ = ["export", "verify_chain"]


def verify_chain(session: Session) -> ChainOut:
    """Walk the whole ledger; the report names the first bad event."""
    report = ledger.verify(session)
    return ChainOut(
        ok=report.ok,
        checked=report.checked,
        broken_id=report.broken_id,
        reason=report.reason,
        head_id=report.head_id,
        head_hash=report.head_hash,
    )


def export(session: Session, external_id: str) -> ProofOut:
    """The customer's proof package (events oldest first)."""
    customer = place(session, external_id)
    events = ledger.customer_events(session, customer.id)
    checks = {c.id: c for c in ledger.check_entries(session, events)}
    entries = [
        ProofEntryOut(
            id=e.id,
            at=e.at,
            purpose=e.purpose,
            channel=e.channel,
            state=ConsentState(e.state),
            source=e.source,
            notice_version=e.notice_version,
            actor=e.actor,
            prev_hash=e.prev_hash,
            hash=e.hash,
            content_ok=checks[e.id].content_ok,
            link_ok=checks[e.id].link_ok,
        )
        for e in events
    ]
    entries_ok = all(e.content_ok and e.link_ok for e in entries)
    chain = verify_chain(session)
    return ProofOut(
        customer_id=external_id,
        customer_key=customer.id,
        generated_at=utcnow(),
        entries=entries,
        entries_ok=entries_ok,
        chain=chain,
        verified=entries_ok and chain.ok,
    )
