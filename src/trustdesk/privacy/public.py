"""The door other capabilities use to ask whether they may use a customer's data; and the
registry of access-export sections (`register_exporter`, see `export.registry`), which the
manifest (`trustdesk.capabilities`) wires every declared section to.

Breach notices rest on a legal obligation and are always allowed; marketing rests on consent and is
allowed only as the customer (or, without a record, their jurisdiction's default) says. Answers are
plain frozen data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.privacy.consent import enforcement
from trustdesk.privacy.consent.policy import load_policy
from trustdesk.privacy.export.registry import (
    ExportContext,
    Exporter,
    ExportSubject,
    register_exporter,
)
from trustdesk.privacy.models import PrivacyRequest

__all__ = [
    "ConsentAnswer",
    "ExportContext",
    "ExportSubject",
    "Exporter",
    "OpenRequest",
    "check",
    "may_contact",
    "open_requests",
    "register_exporter",
]


@dataclass(frozen=True)
class ConsentAnswer:
    customer_id: int
    allowed: bool
    reason: str  # record, default_regime or legal_obligation


def check(
    session: Session,
    customer_ids: Iterable[int],
    purpose: str,
    channel: str,
    *,
    policy_file: Path | None = None,
) -> dict[int, ConsentAnswer]:
    """{customer id: answer} for the given customers (ids naming no customer are left out).

    Unknown purposes or channels raise InvalidInput. `policy_file` is the `consent_policy_file`
    setting; None means the shipped policy.
    """
    decisions = enforcement.check_ids(
        session, load_policy(policy_file), customer_ids, purpose, channel
    )
    return {cid: ConsentAnswer(cid, d.allowed, d.reason.value) for cid, d in decisions.items()}


def may_contact(
    session: Session,
    customer_ids: Iterable[int],
    purpose: str,
    channel: str,
    *,
    policy_file: Path | None = None,
) -> list[int]:
    """The customers among `customer_ids` who may be contacted for `purpose` over `channel`."""
    return enforcement.contactable_ids(
        session, load_policy(policy_file), customer_ids, purpose, channel
    )


@dataclass(frozen=True)
class OpenRequest:
    id: int
    kind: str
    status: str
    due_at: datetime


def open_requests(session: Session, customer_id: int) -> list[OpenRequest]:
    """The customer's data-subject requests not closed yet, oldest first (for case pages)."""
    rows = session.execute(
        select(PrivacyRequest.id, PrivacyRequest.kind, PrivacyRequest.status, PrivacyRequest.due_at)
        .where(PrivacyRequest.customer_id == customer_id, PrivacyRequest.closed_at.is_(None))
        .order_by(PrivacyRequest.id)
    )
    return [OpenRequest(*row) for row in rows]
