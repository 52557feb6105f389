"""Email updates from the trust centre: double opt-in (a confirmation link), one-click
unsubscribe, and the updates themselves (new statements; incidents' public statements; a new
recipient of personal data with the earliest day it may start, `notice_days` after the notice)
sent once each through the shared outbox.

The consent is the consent ledger's, never this module's: a subscriber is the customer with that
address, or an email-only contact (`customers.public.email_contact`); following the confirmation
link records a grant of `PURPOSE` on email, unsubscribing a withdrawal, and every update goes only
to those the ledger allows at send time (a withdrawal made anywhere else stops them too).
Addresses are encrypted (the customer's) and never audited; every state change is."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.audit import chain as audit
from trustdesk.crypto import Vault
from trustdesk.customers import public as customers
from trustdesk.errors import InvalidInput, NotFound
from trustdesk.incidents import public as incidents
from trustdesk.outbox import public as outbox
from trustdesk.privacy import public as privacy
from trustdesk.trustcentre.models import SentUpdate, Subscriber, TrustStatement

__all__ = [
    "CHANNEL",
    "PURPOSE",
    "UPDATE_EVENT",
    "confirm",
    "send_updates",
    "subscribe",
    "unsubscribe",
    "unsubscribe_link",
]

UPDATE_EVENT = "trustcentre.updated"
PURPOSE = "trust_centre_updates"  # in the shipped consent policy, on email only
CHANNEL = "email"
ACTOR = "public:trust-centre"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _stop_token(vault: Vault, subscriber_id: int) -> str:
    token = vault.blind_index("trustcentre.unsubscribe", str(subscriber_id))
    assert token is not None
    return token


def unsubscribe_link(vault: Vault, base_url: str, subscriber_id: int) -> str:
    """The one-click link in every update: a keyed hash of the id, so it cannot be guessed."""
    token = _stop_token(vault, subscriber_id)
    return f"{base_url.rstrip('/')}/trust-centre/unsubscribe?id={subscriber_id}&token={token}"


def subscribe(session: Session, vault: Vault, email: str, *, base_url: str, now: datetime) -> None:
    """Start (or restart) a subscription and mail the confirmation link. The same answer whether
    or not the address was subscribed already, so the form reveals nothing."""
    email = email.strip()
    if not _EMAIL.match(email) or len(email) > 254:
        raise InvalidInput("email: give a valid email address")
    index = vault.blind_index("email", email.lower())
    assert index is not None
    row = session.scalar(select(Subscriber).where(Subscriber.email_index == index))
    if row is not None and row.status == "active":
        return
    confirm_token = secrets.token_urlsafe(24)
    if row is None or row.customer_id is None:
        place = customers.email_contact(session, vault, email, actor=ACTOR)
        subject = customers.customer_subjects(session, [place.id])[place.id]
        if row is None:
            row = Subscriber(email_index=index, created_at=now)
            session.add(row)
        row.customer_id, row.key_subject, row.email_enc = place.id, subject, None
    row.status, row.confirm_hash = "pending", _hash(confirm_token)
    session.flush()
    base = base_url.rstrip("/")
    outbox.enqueue_email(
        session, vault, kind="trustcentre.confirm",
        key=f"trust-confirm-{row.id}-{row.confirm_hash[:16]}",
        subject="Confirm your trust centre updates",
        text=(
            "Someone (we hope you) asked for email updates from our trust centre.\n\n"
            f"Confirm here: {base}/trust-centre/subscribe/confirm?token={confirm_token}\n\n"
            "If it was not you, ignore this message: nothing will be sent."
        ),
        to_address=email, actor="public:trust-centre",
    )  # fmt: skip
    audit.record(
        session, actor="public:trust-centre", action="trustcentre.subscription_requested",
        entity_type="trust_subscriber", entity_id=row.id,
    )  # fmt: skip


def _external_id(session: Session, row: Subscriber) -> str | None:
    if row.customer_id is None:
        return None
    return customers.external_ids(session, [row.customer_id]).get(row.customer_id)


def confirm(
    session: Session, token: str, *, now: datetime, policy_file: Path | None = None
) -> None:
    """The link was followed: the grant goes into the consent ledger (its proof: source
    `double_opt_in`, the notice version, the time), then the subscription is active."""
    row = session.scalar(select(Subscriber).where(Subscriber.confirm_hash == _hash(token)))
    external_id = None if row is None else _external_id(session, row)
    if row is None or row.status == "unsubscribed" or external_id is None:
        raise NotFound("this confirmation link is not valid (any more)")
    if row.status == "pending":
        privacy.record_consent(
            session, external_id, PURPOSE, CHANNEL, granted=True, actor=ACTOR,
            policy_file=policy_file,
        )  # fmt: skip
        row.status, row.confirmed_at = "active", now
        audit.record(
            session, actor=ACTOR, action="trustcentre.subscription_confirmed",
            entity_type="trust_subscriber", entity_id=row.id,
        )  # fmt: skip


def unsubscribe(
    session: Session,
    vault: Vault,
    subscriber_id: int,
    token: str,
    *,
    now: datetime,
    policy_file: Path | None = None,
) -> None:
    """One click: a withdrawal in the consent ledger, and the subscription ends."""
    row = session.get(Subscriber, subscriber_id)
    if row is None or not hmac.compare_digest(token, _stop_token(vault, subscriber_id)):
        raise NotFound("this unsubscribe link is not valid")
    if row.status != "unsubscribed":
        external_id = _external_id(session, row)
        if external_id is not None:
            privacy.record_consent(
                session, external_id, PURPOSE, CHANNEL, granted=False, actor=ACTOR,
                policy_file=policy_file,
            )  # fmt: skip
        row.status, row.unsubscribed_at = "unsubscribed", now
        audit.record(
            session, actor="public:trust-centre", action="trustcentre.unsubscribed",
            entity_type="trust_subscriber", entity_id=row.id,
        )  # fmt: skip


@dataclass(frozen=True)
class _Update:
    kind: str
    ref: str
    subject: str
    text: str


def _pending_updates(session: Session, now: datetime, notice_days: int) -> list[_Update]:
    sent = {(k, r) for k, r in session.execute(select(SentUpdate.kind, SentUpdate.ref))}
    updates: list[_Update] = []
    for s in session.scalars(select(TrustStatement).order_by(TrustStatement.id)):
        if ("statement", str(s.id)) not in sent:
            updates.append(_Update("statement", str(s.id), s.title, s.body))
    for incident in reversed(incidents.disclosed_incidents(session)):  # oldest first
        if incident.statement and ("incident", str(incident.id)) not in sent:
            updates.append(
                _Update(
                    "incident",
                    str(incident.id),
                    f"Incident: {incident.title}",
                    f"{incident.statement}\n\nStatus: {incident.status}.",
                )
            )
    history = privacy.datamap_sharing_history(session)
    if len(history) > 1:  # recipients added since the shipped map, newest version first
        current = set(history[0].recipients)
        shipped = set(history[-1].recipients)
        earliest = (now + timedelta(days=notice_days)).date().isoformat()
        for name, role, system in sorted(current - shipped):
            ref = f"{name}|{system}"[:300]
            if ("recipient", ref) not in sent:
                updates.append(
                    _Update(
                        "recipient",
                        ref,
                        f"New {role}: {name}",
                        f"{name} will receive personal data held in {system} ({role}), not "
                        f"before {earliest}. See who receives your data on our trust centre.",
                    )
                )
    return updates


def send_updates(
    session: Session,
    vault: Vault,
    *,
    base_url: str,
    now: datetime,
    notice_days: int,
    policy_file: Path | None = None,
) -> int:
    """Mail every update not sent yet to every active subscriber whose consent the ledger
    allows now (a subscription is never more than the ledger says); the number of updates."""
    updates = _pending_updates(session, now, notice_days)
    if not updates:
        return 0
    active = list(
        session.scalars(
            select(Subscriber).where(
                Subscriber.status == "active", Subscriber.customer_id.is_not(None)
            )
        )
    )
    ids = [s.customer_id for s in active if s.customer_id is not None]
    allowed = set(privacy.may_contact(session, ids, PURPOSE, CHANNEL, policy_file=policy_file))
    reach = customers.contacts(session, vault, allowed)
    base = base_url.rstrip("/")
    for update in updates:
        messages = []
        for sub in active:
            found = reach.get(sub.customer_id) if sub.customer_id is not None else None
            email = found.email if found is not None else None
            if email is None:  # no consent in the ledger, or erased since
                continue
            messages.append(
                outbox.Email(
                    "trustcentre.update",
                    f"trust-update-{update.kind}-{_hash(update.ref)[:24]}-{sub.id}",
                    update.subject,
                    f"{update.text}\n\n{base}/trust-centre\n\nStop these emails (one click): "
                    f"{unsubscribe_link(vault, base, sub.id)}",
                    to_address=email,
                )
            )
        outbox.enqueue_emails(session, vault, messages, actor="system:trust-centre")
        sent = SentUpdate(kind=update.kind, ref=update.ref, sent_at=now, recipients=len(messages))
        session.add(sent)
    session.flush()
    return len(updates)
