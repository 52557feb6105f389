"""Data-subject requests: open, verify identity, start, extend, reject, and the queue.

A request's clock starts when it reaches us; its regime (from the customer's jurisdiction) sets
the due date and the one extension allowed. Nothing may be carried out before the requester's
identity is verified (`fulfilment.complete` checks). Every step writes an audit entry holding
ids, dates and the step's non-personal details only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk import audit
from trustdesk.crypto import Vault
from trustdesk.customers import public as customers
from trustdesk.errors import Conflict, InvalidInput, NotFound
from trustdesk.privacy.consent.policy import Policy
from trustdesk.privacy.deadlines import DUE_SOON, Regime, due_at, extended_due_at, regime_for
from trustdesk.privacy.errors import IdentityNotVerified
from trustdesk.privacy.models import PrivacyRequest
from trustdesk.privacy.requests.schemas import (
    OPEN_STATUSES,
    RequestKind,
    RequestOut,
    RequestSource,
    RequestStatus,
    StepOut,
)

__all__ = [
    "ENTITY",
    "PAYLOAD_FIELD",
    "extend",
    "get",
    "list_requests",
    "load",
    "open_request",
    "record_step",
    "reject",
    "require_verified",
    "start",
    "steps",
    "to_out",
    "verify_identity",
]

ENTITY = "privacy_request"
PAYLOAD_FIELD = "privacy_request.changes"
_CLOCK_SKEW = timedelta(minutes=5)  # a sender's clock a little ahead of ours is not the future


def _check_changes(external_id: str, changes: dict[str, str | None]) -> dict[str, str | None]:
    if not changes:
        raise InvalidInput("a rectification needs at least one corrected field")
    return customers.validate_personal(external_id, changes)


def open_request(
    session: Session,
    vault: Vault,
    policy: Policy,
    *,
    external_id: str,
    kind: RequestKind,
    source: RequestSource,
    actor: str,
    now: datetime,
    received_at: datetime | None = None,
    purposes: Sequence[str] = (),
    changes: dict[str, str | None] | None = None,
) -> RequestOut:
    """Records a request and its due date. What it covers is checked now, not when carried out."""
    place = customers.jurisdiction(session, external_id)
    if place is None:
        raise NotFound(f"no customer {external_id!r}")
    received = received_at or now
    if received.tzinfo is None:
        raise InvalidInput("received_at must include a time zone")
    if received > now + _CLOCK_SKEW:
        raise InvalidInput("received_at cannot be in the future")
    scope, payload = None, None
    if kind is RequestKind.OBJECTION:
        wanted = list(dict.fromkeys(purposes))
        if not wanted:
            raise InvalidInput("an objection names at least one purpose")
        for key in wanted:
            if not policy.purpose(key).optional:
                raise InvalidInput(
                    f"purpose {key!r} rests on {policy.purpose(key).basis.label.lower()}: "
                    "it cannot be objected to here"
                )
        scope = ",".join(wanted)
    elif purposes:
        raise InvalidInput("purposes apply to objections only")
    if kind is RequestKind.RECTIFICATION:
        checked = _check_changes(external_id, changes or {})
        scope = ",".join(checked)
        subject = customers.customer_subjects(session, [place.id])[place.id]
        data_key = vault.data_keys([subject]).get(subject)
        if data_key is None:
            raise Conflict(f"customer {external_id!r} was erased; there is nothing to rectify")
        payload = vault.encrypt(data_key, subject, PAYLOAD_FIELD, json.dumps(checked))
    elif changes:
        raise InvalidInput("changes apply to rectifications only")
    regime = regime_for(place.jurisdiction)
    row = PrivacyRequest(
        customer_id=place.id,
        kind=kind.value,
        regime=regime.value,
        status=RequestStatus.RECEIVED.value,
        source=source.value,
        received_at=received,
        due_at=due_at(received, regime),
        scope=scope,
        payload_enc=payload,
    )
    session.add(row)
    session.flush()
    record_step(
        session,
        row,
        actor,
        "received",
        {
            "customer": external_id,
            "type": row.kind,
            "regime": row.regime,
            "source": row.source,
            "due_at": row.due_at.isoformat(),
        },
    )
    return to_out(session, row, now)


def load(session: Session, request_id: int, *, lock: bool = False) -> PrivacyRequest:
    row = session.get(PrivacyRequest, request_id, with_for_update=lock)
    if row is None:
        raise NotFound(f"no privacy request {request_id}")
    return row


def _open(session: Session, request_id: int) -> PrivacyRequest:
    row = load(session, request_id, lock=True)
    if row.status not in OPEN_STATUSES:
        raise Conflict(f"request {request_id} is {row.status}; it can no longer change")
    return row


def verify_identity(
    session: Session, request_id: int, *, method: str, actor: str, now: datetime
) -> RequestOut:
    """Records who verified the requester's identity and how; needed before carrying it out."""
    row = _open(session, request_id)
    if row.verified_at is not None:
        raise Conflict(f"request {request_id}: identity was already verified")
    row.verified_at, row.verified_by, row.verification_method = now, actor, method.strip()
    row.status = RequestStatus.IDENTITY_VERIFIED.value
    record_step(session, row, actor, "identity_verified", {"method": row.verification_method})
    return to_out(session, row, now)


def require_verified(row: PrivacyRequest) -> None:
    if row.verified_at is None:
        raise IdentityNotVerified(
            f"request {row.id}: the requester's identity must be verified before it is carried out"
        )


def start(session: Session, request_id: int, *, actor: str, now: datetime) -> RequestOut:
    row = _open(session, request_id)
    require_verified(row)
    if row.status == RequestStatus.IN_PROGRESS:
        raise Conflict(f"request {request_id} is already in progress")
    row.status = RequestStatus.IN_PROGRESS.value
    record_step(session, row, actor, "started", {})
    return to_out(session, row, now)


def extend(
    session: Session, request_id: int, *, reason: str, actor: str, now: datetime
) -> RequestOut:
    """Moves the due date by the regime's one extension; a second one is refused."""
    row = _open(session, request_id)
    if not reason.strip():
        raise InvalidInput("an extension needs a reason")
    before = row.due_at
    row.due_at = extended_due_at(
        row.due_at, Regime(row.regime), already_extended=row.extended_at is not None
    )
    row.extended_at, row.extension_reason = now, reason.strip()
    record_step(
        session,
        row,
        actor,
        "extended",
        {"due_at": [before.isoformat(), row.due_at.isoformat()]},
    )
    return to_out(session, row, now)


def reject(
    session: Session, request_id: int, *, reason: str, actor: str, now: datetime
) -> RequestOut:
    row = _open(session, request_id)
    row.status = RequestStatus.REJECTED.value
    row.closed_at, row.closed_by = now, actor
    row.outcome = json.dumps({"reason": reason.strip()})
    row.payload_enc = None
    record_step(session, row, actor, "rejected", {})
    return to_out(session, row, now)


def record_step(
    session: Session, row: PrivacyRequest, actor: str, step: str, details: dict[str, object]
) -> None:
    audit.record(
        session,
        actor=actor,
        action=f"{ENTITY}.{step}",
        entity_type=ENTITY,
        entity_id=row.id,
        changes=details,
    )


def to_out(
    session: Session,
    row: PrivacyRequest,
    now: datetime,
    external_ids: dict[int, str] | None = None,
) -> RequestOut:
    """The request as callers see it; pass `external_ids` when converting many at once."""
    if external_ids is None:
        external_ids = customers.external_ids(session, [row.customer_id])
    external = external_ids.get(row.customer_id, "")
    is_open = row.status in OPEN_STATUSES
    scope = row.scope.split(",") if row.scope else []
    return RequestOut(
        id=row.id,
        customer_id=external,
        type=RequestKind(row.kind),
        regime=Regime(row.regime),
        status=RequestStatus(row.status),
        source=row.source,
        received_at=row.received_at,
        due_at=row.due_at,
        extended=row.extended_at is not None,
        extension_reason=row.extension_reason,
        verified_at=row.verified_at,
        verified_by=row.verified_by,
        verification_method=row.verification_method,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        outcome=json.loads(row.outcome) if row.outcome else None,
        purposes=scope if row.kind == RequestKind.OBJECTION else [],
        fields=scope if row.kind == RequestKind.RECTIFICATION else [],
        is_open=is_open,
        overdue=is_open and row.due_at < now,
        due_soon=is_open and now <= row.due_at <= now + DUE_SOON,
    )


def get(session: Session, request_id: int, *, now: datetime) -> RequestOut:
    return to_out(session, load(session, request_id), now)


def list_requests(
    session: Session, *, now: datetime, include_closed: bool = False, limit: int = 500
) -> list[RequestOut]:
    """The queue: open requests, soonest due first (closed ones after them when asked for)."""
    query = select(PrivacyRequest).order_by(PrivacyRequest.due_at, PrivacyRequest.id).limit(limit)
    if not include_closed:
        query = query.where(PrivacyRequest.status.in_([s.value for s in OPEN_STATUSES]))
    rows = list(session.scalars(query))
    external = customers.external_ids(session, {r.customer_id for r in rows})
    outs = [to_out(session, r, now, external) for r in rows]
    return sorted(outs, key=lambda r: (not r.is_open, r.due_at, r.id))


def steps(session: Session, request_id: int) -> list[StepOut]:
    """The request's audit entries, oldest first: who did each step, and when."""
    load(session, request_id)
    return [
        StepOut(
            at=e.at,
            action=e.action.removeprefix(f"{ENTITY}."),
            actor=e.actor,
            details=json.loads(e.diff),
        )
        for e in audit.entries(session, entity_type=ENTITY, entity_id=str(request_id), limit=200)
    ]
