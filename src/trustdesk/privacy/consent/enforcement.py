"""Enforcement: may a customer's data be used for a purpose over a channel, and why.

Reads the ledger itself, the chain `consent verify` checks, never the `consent_state` projection:
a projection edited behind the ledger's back cannot make a check more permissive. A covering index
(customer, purpose, channel, id, state) keeps it to one index lookup for a single check and one
query per chunk of customers in bulk; the policy and the defaults per jurisdiction are worked out
in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from trustdesk.customers import public as customers
from trustdesk.privacy.consent.policy import ConsentState, Decision, Policy, Reason
from trustdesk.privacy.consent.schemas import BulkCheckOut, CheckOut
from trustdesk.privacy.consent.service import place
from trustdesk.privacy.models import ConsentEvent as Event

__all__ = ["check", "check_ids", "contactable_ids", "filter_contactable"]

_CHUNK = 2000
# Cached statements; the expanding parameter avoids building SQL per customer id.
_STATES = select(Event.customer_id, Event.id, Event.state).where(
    Event.purpose == bindparam("purpose"),
    Event.channel == bindparam("channel"),
    Event.customer_id.in_(bindparam("ids", expanding=True)),
)
_STATE = (
    select(Event.state)
    .where(
        Event.customer_id == bindparam("customer_id"),
        Event.purpose == bindparam("purpose"),
        Event.channel == bindparam("channel"),
    )
    .order_by(Event.id.desc())
    .limit(1)
)


def _check_out(external_id: str, purpose: str, channel: str, decision: Decision) -> CheckOut:
    return CheckOut(
        customer_id=external_id,
        purpose=purpose,
        channel=channel,
        allowed=decision.allowed,
        reason=decision.reason,
        regime=decision.regime.value if decision.regime else None,
        legal_basis=decision.legal_basis,
    )


def check(
    session: Session, policy: Policy, *, external_id: str, purpose: str, channel: str
) -> CheckOut:
    """May we use this customer's data for `purpose` over `channel`, and why."""
    found = policy.pair(purpose, channel)
    customer = place(session, external_id)
    state = None
    if found.optional:
        params = {"customer_id": customer.id, "purpose": purpose, "channel": channel}
        state = session.connection().execute(_STATE, params).scalar()
    decision = policy.decide(found, channel, customer.jurisdiction, state)
    return _check_out(external_id, purpose, channel, decision)


def _decide_many(
    session: Session,
    policy: Policy,
    places: Sequence[customers.CustomerPlace],
    purpose: str,
    channel: str,
) -> list[Decision]:
    """Decisions for many customers: one projection query per chunk, defaults per jurisdiction."""
    found = policy.pair(purpose, channel)
    states: dict[int, str] = {}
    if found.optional:
        ids = [p.id for p in places]
        last: dict[int, int] = {}
        for start in range(0, len(ids), _CHUNK):
            params = {"purpose": purpose, "channel": channel, "ids": ids[start : start + _CHUNK]}
            for cid, event_id, latest in session.execute(_STATES, params):
                if event_id > last.get(cid, 0):  # the customer's latest event for the pair
                    last[cid], states[cid] = event_id, latest
    defaults: dict[str | None, Decision] = {}
    by_state = {
        s: policy.decide(found, channel, None, s)
        for s in (ConsentState.GRANTED, ConsentState.WITHDRAWN)
    }
    out: list[Decision] = []
    for customer in places:
        state = states.get(customer.id)
        if state is not None:
            out.append(by_state[ConsentState(state)])
            continue
        decision = defaults.get(customer.jurisdiction)
        if decision is None:
            decision = policy.decide(found, channel, customer.jurisdiction, None)
            defaults[customer.jurisdiction] = decision
        out.append(decision)
    return out


def filter_contactable(
    session: Session, policy: Policy, *, external_ids: Iterable[str], purpose: str, channel: str
) -> BulkCheckOut:
    """Splits customers into those who may be contacted, those who may not (why), and unknowns."""
    wanted = list(dict.fromkeys(external_ids))
    places = customers.jurisdictions(session, wanted)
    known = [places[e] for e in wanted if e in places]
    decisions = _decide_many(session, policy, known, purpose, channel)
    allowed: list[str] = []
    denied: dict[str, Reason] = {}
    for customer, decision in zip(known, decisions, strict=True):
        if decision.allowed:
            allowed.append(customer.external_id)
        else:
            denied[customer.external_id] = decision.reason
    # Built without re-validation: every value comes from the policy and the database.
    return BulkCheckOut.model_construct(
        purpose=purpose,
        channel=channel,
        allowed=allowed,
        denied=denied,
        unknown=[e for e in wanted if e not in places],
    )


def check_ids(
    session: Session, policy: Policy, customer_ids: Iterable[int], purpose: str, channel: str
) -> dict[int, Decision]:
    """Decisions by internal customer id (for other capabilities); unknown ids are left out."""
    places = list(customers.jurisdictions_by_id(session, customer_ids).values())
    return dict(
        zip(
            (p.id for p in places),
            _decide_many(session, policy, places, purpose, channel),
            strict=True,
        )
    )


def contactable_ids(
    session: Session, policy: Policy, customer_ids: Iterable[int], purpose: str, channel: str
) -> list[int]:
    """The given customers who may be contacted, in the order given."""
    wanted = list(dict.fromkeys(customer_ids))
    decisions = check_ids(session, policy, wanted, purpose, channel)
    return [i for i in wanted if i in decisions and decisions[i].allowed]
