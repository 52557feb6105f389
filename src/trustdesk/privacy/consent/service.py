"""Consent use cases: record choices, stop all optional use, show preferences, issue links.

Every change appends to the ledger and updates the projection in the caller's transaction, after
the ledger head is locked: changes to one preference are applied one after another, never lost.
States and versions are read from the ledger, never from the projection (a summary that
`projection.py` verifies and rebuilds); checks live in `enforcement.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trustdesk import audit
from trustdesk.customers import public as customers
from trustdesk.db import utcnow
from trustdesk.errors import Conflict, InvalidInput, NotFound
from trustdesk.privacy.consent import ledger
from trustdesk.privacy.consent.links import LinkSigner
from trustdesk.privacy.consent.policy import ConsentState, Policy
from trustdesk.privacy.consent.schemas import EventOut, LinkOut, PreferenceOut, Source
from trustdesk.privacy.errors import FormReplayed
from trustdesk.privacy.models import ConsentFormNonce
from trustdesk.privacy.models import ConsentState as StateRow

__all__ = [
    "Choice",
    "apply_form",
    "create_link",
    "history",
    "place",
    "preferences",
    "record_choices",
    "set_consent",
    "stop_all",
    "use_form_nonce",
]


@dataclass(frozen=True)
class Choice:
    purpose: str
    channel: str
    state: ConsentState


def place(session: Session, external_id: str) -> customers.CustomerPlace:
    """The customer, or NotFound: consents are never stored for someone who does not exist."""
    found = customers.jurisdiction(session, external_id)
    if found is None:
        raise NotFound(f"no customer {external_id!r}")
    return found


def record_choices(
    session: Session,
    policy: Policy,
    *,
    external_id: str,
    choices: Sequence[Choice],
    source: Source,
    actor: str,
    notice_version: str | None = None,
    expected_version: int | None = None,
) -> list[EventOut]:
    """Append one event per choice, update the projection and audit each, all or nothing."""
    for choice in choices:
        purpose = policy.pair(choice.purpose, choice.channel)
        if not purpose.optional:
            raise InvalidInput(
                f"purpose {purpose.key!r} rests on {purpose.basis.label.lower()}, not consent: "
                "it cannot be granted or withdrawn"
            )
    customer = place(session, external_id)
    version = notice_version or policy.version
    events = ledger.append(
        session,
        [
            ledger.NewEvent(customer.id, c.purpose, c.channel, c.state, source, version)
            for c in choices
        ],
        actor=actor,
    )
    if not events:
        return []
    # The head is locked now: no other change to these preferences can come in between.
    found = ledger.preference_states(session, customer.id, before_id=events[0].id)
    out: list[EventOut] = []
    for event in events:
        current = found.get((event.purpose, event.channel), ("", 0))[1]
        found[(event.purpose, event.channel)] = (event.state, current + 1)
        key = (customer.id, event.purpose, event.channel)
        row = session.get(StateRow, key, populate_existing=True)
        if expected_version is not None and current != expected_version:
            raise Conflict(
                f"the preference {event.purpose}/{event.channel} is at version {current}, "
                f"not {expected_version}: read it again"
            )
        if row is None:
            row = StateRow(customer_id=customer.id, purpose=event.purpose, channel=event.channel)
            session.add(row)
        row.state, row.event_id, row.version, row.updated_at = (
            event.state,
            event.id,
            current + 1,
            event.at,
        )
        out.append(_event_out(event, external_id, current + 1))
    session.flush()
    audit.record_many(
        session,
        actor=actor,
        items=[
            audit.Change(
                f"consent.{e.state}",
                "customer",
                external_id,
                {
                    "purpose": e.purpose,
                    "channel": e.channel,
                    "source": e.source,
                    "consent_event": e.id,
                },
            )
            for e in events
        ],
    )
    return out


def set_consent(
    session: Session,
    policy: Policy,
    *,
    external_id: str,
    purpose: str,
    channel: str,
    state: ConsentState,
    source: Source,
    actor: str,
    notice_version: str | None = None,
    expected_version: int | None = None,
) -> EventOut:
    """Grant or withdraw one purpose on one channel; takes effect for the next check."""
    return record_choices(
        session,
        policy,
        external_id=external_id,
        choices=[Choice(purpose, channel, state)],
        source=source,
        actor=actor,
        notice_version=notice_version,
        expected_version=expected_version,
    )[0]


def stop_all(
    session: Session,
    policy: Policy,
    *,
    external_id: str,
    source: Source,
    actor: str,
    notice_version: str | None = None,
) -> list[EventOut]:
    """Withdraw every optional purpose on every channel not already withdrawn by a record."""
    customer = place(session, external_id)
    states = _states(session, customer.id)
    choices = [
        Choice(p, c, ConsentState.WITHDRAWN)
        for p, c in policy.optional_pairs()
        if states.get((p, c), (None, 0))[0] != ConsentState.WITHDRAWN
    ]
    return record_choices(
        session,
        policy,
        external_id=external_id,
        choices=choices,
        source=source,
        actor=actor,
        notice_version=notice_version,
    )


def _states(session: Session, customer_id: int) -> dict[tuple[str, str], tuple[str, int]]:
    return ledger.preference_states(session, customer_id)


def preferences(session: Session, policy: Policy, external_id: str) -> list[PreferenceOut]:
    """Each optional purpose and channel for this customer: allowed or not, why, its version."""
    customer = place(session, external_id)
    states = _states(session, customer.id)
    out = []
    for p, c in policy.optional_pairs():
        state, version = states.get((p, c), (None, 0))
        decision = policy.decide(policy.purposes[p], c, customer.jurisdiction, state)
        out.append(
            PreferenceOut(
                purpose=p,
                channel=c,
                allowed=decision.allowed,
                reason=decision.reason,
                state=ConsentState(state) if state else None,
                version=version,
            )
        )
    return out


def history(session: Session, external_id: str) -> list[EventOut]:
    """The customer's consent events, newest first."""
    customer = place(session, external_id)
    return [
        _event_out(e, external_id) for e in reversed(ledger.customer_events(session, customer.id))
    ]


def _event_out(event: ledger.StoredEvent, external_id: str, version: int | None = None) -> EventOut:
    return EventOut(
        id=event.id,
        at=event.at,
        customer_id=external_id,
        purpose=event.purpose,
        channel=event.channel,
        state=ConsentState(event.state),
        source=event.source,
        notice_version=event.notice_version,
        actor=event.actor,
        version=version,
    )


def use_form_nonce(session: Session, nonce: str, *, keep_s: int) -> None:
    """Marks a preference form as received; the same form again raises FormReplayed.

    Nonces older than `keep_s` (the form lifetime) are dropped: their forms have expired anyway.
    """
    now = utcnow()
    session.execute(
        delete(ConsentFormNonce).where(ConsentFormNonce.used_at < now - timedelta(seconds=keep_s))
    )
    try:
        with session.begin_nested():
            session.add(ConsentFormNonce(nonce=nonce, used_at=now))
    except IntegrityError:
        raise FormReplayed(
            "these choices were already sent; open your preferences again to make more changes"
        ) from None


def create_link(
    session: Session,
    signer: LinkSigner,
    external_id: str,
    *,
    base_url: str,
    actor: str,
    now: datetime,
) -> LinkOut:
    """A signed preference-centre link for an existing customer; its issue is audited."""
    place(session, external_id)
    link = signer.issue(external_id)
    audit.record(
        session,
        actor=actor,
        action="consent.link_issued",
        entity_type="customer",
        entity_id=external_id,
        changes={"link": link.nonce, "expires_in_s": signer.max_age_s},
    )
    return LinkOut(
        customer_id=external_id,
        url=f"{base_url.rstrip('/')}/preferences/{link.token}",
        token=link.token,
        expires_at=signer.expires_at(now),
    )


def apply_form(
    session: Session,
    policy: Policy,
    *,
    external_id: str,
    form_nonce: str,
    keep_s: int,
    choices: Sequence[Choice] | None,
    notice_version: str | None = None,
) -> list[EventOut]:
    """A preference-centre form, once: the changed choices, or stop-all when `choices` is None.

    Recorded with source preference_centre; the actor names the form, never the person, and the
    notice version is the one the page showed.
    """
    use_form_nonce(session, form_nonce, keep_s=keep_s)
    actor = f"preference-centre:{form_nonce[:12]}"
    if choices is None:
        return stop_all(
            session,
            policy,
            external_id=external_id,
            source=Source.PREFERENCE_CENTRE,
            actor=actor,
            notice_version=notice_version,
        )
    return record_choices(
        session,
        policy,
        external_id=external_id,
        choices=choices,
        source=Source.PREFERENCE_CENTRE,
        actor=actor,
        notice_version=notice_version,
    )
