"""Carrying out a verified data-subject request, by type, and closing it.

Access: the export is built (the caller sends the ZIP on) and its file counts are recorded.
Erasure: the customer is crypto-shredded and the erasure verified; a failed check refuses to close
the request. Rectification: the corrected fields are re-encrypted through the customers facade.
Objection: consent is withdrawn for the objected purposes on every channel, in the ledger.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from trustdesk.config import Settings
from trustdesk.crypto import Vault
from trustdesk.customers import public as customers
from trustdesk.errors import Conflict
from trustdesk.privacy.consent import service
from trustdesk.privacy.consent.policy import ConsentState, Policy
from trustdesk.privacy.consent.schemas import Source
from trustdesk.privacy.errors import ErasureNotVerified
from trustdesk.privacy.export.archive import Export, build_export
from trustdesk.privacy.models import PrivacyRequest
from trustdesk.privacy.requests import service as requests
from trustdesk.privacy.requests.erasure import verified_erasure
from trustdesk.privacy.requests.schemas import (
    OPEN_STATUSES,
    RequestKind,
    RequestOut,
    RequestSource,
    RequestStatus,
)

__all__ = ["Completed", "carry_out_at_once", "complete", "export_for"]


@dataclass(frozen=True)
class Completed:
    request: RequestOut
    export: Export | None = None  # access requests: what to send the customer


def export_for(
    session: Session,
    vault: Vault,
    settings: Settings,
    request_id: int,
    *,
    actor: str,
    now: datetime,
) -> Export:
    """The access export of a verified request's customer (audited as `exported`)."""
    row = requests.load(session, request_id)
    requests.require_verified(row)
    external_id = _external_id(session, row)
    export = build_export(session, vault, settings, external_id, now=now)
    audit_counts = {name: len(data) for name, data in export.sections.items()}
    requests.record_step(session, row, actor, "exported", {"files": audit_counts})
    return export


def _external_id(session: Session, row: PrivacyRequest) -> str:
    return customers.external_ids(session, [row.customer_id])[row.customer_id]


def complete(
    session: Session,
    vault: Vault,
    settings: Settings,
    policy: Policy,
    request_id: int,
    *,
    actor: str,
    now: datetime,
) -> Completed:
    """Carries the request out and closes it; refused (IdentityNotVerified) before verification."""
    row = requests.load(session, request_id, lock=True)
    if row.status not in {s.value for s in OPEN_STATUSES}:
        raise Conflict(f"request {request_id} is {row.status}; it can no longer change")
    requests.require_verified(row)
    external_id = _external_id(session, row)
    export: Export | None = None
    outcome: dict[str, Any]
    kind = RequestKind(row.kind)
    if kind is RequestKind.ACCESS:
        export = export_for(session, vault, settings, request_id, actor=actor, now=now)
        outcome = {"files": {name: len(data) for name, data in export.sections.items()}}
    elif kind is RequestKind.ERASURE:
        report = verified_erasure(session, vault, settings, external_id, actor=actor, now=now)
        if not report.verified:
            raise ErasureNotVerified(
                f"customer {external_id!r} was erased but the check failed: "
                f"{report.model_dump_json()}"
            )
        outcome = {"verification": report.model_dump(mode="json")}
    elif kind is RequestKind.RECTIFICATION:
        outcome = {"fields": _rectify(session, vault, row, external_id, actor)}
    else:
        outcome = {"withdrawn": _object(session, policy, row, external_id, actor)}
    row.status = RequestStatus.COMPLETED.value
    row.closed_at, row.closed_by = now, actor
    row.outcome = json.dumps(outcome, sort_keys=True)
    row.payload_enc = None  # the corrected values are applied; nothing personal stays here
    requests.record_step(session, row, actor, "completed", outcome)
    session.flush()
    return Completed(requests.to_out(session, row, now), export)


def _rectify(
    session: Session, vault: Vault, row: PrivacyRequest, external_id: str, actor: str
) -> list[str]:
    place = customers.jurisdiction(session, external_id)
    assert place is not None
    subject = customers.customer_subjects(session, [place.id])[place.id]
    key = vault.data_keys([subject]).get(subject)
    if key is None or row.payload_enc is None:
        raise Conflict(f"customer {external_id!r} was erased; there is nothing to rectify")
    changes = json.loads(
        vault.decrypt(key, subject, requests.PAYLOAD_FIELD, row.payload_enc) or "{}"
    )
    return customers.rectify(session, vault, external_id, changes, actor=actor)


def _object(
    session: Session, policy: Policy, row: PrivacyRequest, external_id: str, actor: str
) -> list[str]:
    """Withdraws each objected purpose on each of its channels; returns `purpose/channel`s."""
    purposes = set((row.scope or "").split(","))
    choices = [
        service.Choice(p, c, ConsentState.WITHDRAWN)
        for p, c in policy.optional_pairs()
        if p in purposes
    ]
    events = service.record_choices(
        session,
        policy,
        external_id=external_id,
        choices=choices,
        source=Source.REQUEST,
        actor=actor,
    )
    return [f"{e.purpose}/{e.channel}" for e in events]


def carry_out_at_once(
    session: Session,
    vault: Vault,
    settings: Settings,
    policy: Policy,
    *,
    external_id: str,
    kind: RequestKind,
    source: RequestSource,
    verification: str,
    actor: str,
    now: datetime,
) -> Completed:
    """Opens, verifies and completes a request in one go, for requesters whose identity is
    already established (the local operator, a customer holding their signed link)."""
    opened = requests.open_request(
        session,
        vault,
        policy,
        external_id=external_id,
        kind=kind,
        source=source,
        actor=actor,
        now=now,
    )
    requests.verify_identity(session, opened.id, method=verification, actor=actor, now=now)
    return complete(session, vault, settings, policy, opened.id, actor=actor, now=now)
