"""The consent projection (`consent_state`) checked against the ledger, and rebuilt from it.

The projection sits outside the hash chain, so an edit to it leaves the chain intact. Nothing
decides from it (checks, preferences and versions read the ledger), but it is what reports and
SQL users see: `verify` replays the ledger and names every preference where the two differ, and
`verify_and_repair` rebuilds the projection from the ledger, audited, when the chain is intact.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from trustdesk import audit
from trustdesk.customers import public as customers
from trustdesk.privacy.consent import ledger, proof
from trustdesk.privacy.consent.schemas import ConsentVerifyOut, ProjectionMismatchOut, ProjectionOut
from trustdesk.privacy.models import ConsentEvent
from trustdesk.privacy.models import ConsentState as StateRow

__all__ = ["verify", "verify_and_repair"]

_BATCH = 5000
_NAMED = 20

Key = tuple[int, str, str]  # customer id, purpose, channel
Expected = tuple[str, int, int, datetime]  # state, last event id, events, last event time


def verify(session: Session) -> ConsentVerifyOut:
    """The chain's verification and the projection compared with the ledger."""
    chain = proof.verify_chain(session)
    return ConsentVerifyOut(**chain.model_dump(), projection=_compare(session, _replay(session)))


def verify_and_repair(session: Session, *, actor: str) -> ConsentVerifyOut:
    """`verify`, then, if only the projection is wrong, rebuild it from the ledger (audited).

    A broken chain is left alone: rebuilding from a tampered ledger would hide the tampering.
    """
    ledger.lock_head(session)  # no append between reading the ledger and rewriting the projection
    report = verify(session)
    if not report.ok or report.projection.ok:
        return report
    expected = _replay(session)
    session.execute(delete(StateRow))
    rows = [
        {
            "customer_id": key[0],
            "purpose": key[1],
            "channel": key[2],
            "state": state,
            "event_id": event_id,
            "version": version,
            "updated_at": at,
        }
        for key, (state, event_id, version, at) in expected.items()
    ]
    for start in range(0, len(rows), _BATCH):
        session.execute(insert(StateRow), rows[start : start + _BATCH])
    audit.record(
        session,
        actor=actor,
        action="consent.projection_rebuilt",
        entity_type="consent_state",
        entity_id="all",
        changes={"rows": len(rows), "corrected": report.projection.mismatches},
    )
    return report.model_copy(update={"repaired": report.projection.mismatches})


def _events(session: Session) -> Iterator[Any]:
    last = 0
    query = select(
        ConsentEvent.id,
        ConsentEvent.customer_id,
        ConsentEvent.purpose,
        ConsentEvent.channel,
        ConsentEvent.state,
        ConsentEvent.at,
    ).order_by(ConsentEvent.id)
    while rows := session.execute(query.where(ConsentEvent.id > last).limit(_BATCH)).all():
        yield from rows
        last = rows[-1].id


def _replay(session: Session) -> dict[Key, Expected]:
    """What the projection must hold: per preference, the ledger's latest event and the count."""
    expected: dict[Key, Expected] = {}
    for e in _events(session):
        key = (e.customer_id, e.purpose, e.channel)
        before = expected.get(key)
        expected[key] = (e.state, e.id, (before[2] if before else 0) + 1, e.at)
    return expected


def _compare(session: Session, expected: dict[Key, Expected]) -> ProjectionOut:
    wrong: list[tuple[Key, str | None, Expected | None]] = []
    checked = 0
    rows = session.execute(
        select(
            StateRow.customer_id,
            StateRow.purpose,
            StateRow.channel,
            StateRow.state,
            StateRow.event_id,
            StateRow.version,
        )
    )
    for customer_id, purpose, channel, state, event_id, version in rows:
        checked += 1
        key = (customer_id, purpose, channel)
        want = expected.pop(key, None)
        if want is None or (state, event_id, version) != want[:3]:
            wrong.append((key, state, want))
    checked += len(expected)
    wrong.extend((key, None, want) for key, want in expected.items())  # rows missing
    wrong.sort(key=lambda w: w[0])
    places = customers.jurisdictions_by_id(session, {w[0][0] for w in wrong[:_NAMED]})
    first = [
        ProjectionMismatchOut(
            customer_id=places[key[0]].external_id if key[0] in places else f"#{key[0]}",
            purpose=key[1],
            channel=key[2],
            projection_state=state,
            ledger_state=want[0] if want else None,
            ledger_event_id=want[1] if want else None,
        )
        for key, state, want in wrong[:_NAMED]
    ]
    return ProjectionOut(ok=not wrong, checked=checked, mismatches=len(wrong), first=first)
