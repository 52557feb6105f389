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

from trustdesk.privacy.consent import enforcement, service
from trustdesk.privacy.consent.policy import ConsentState, load_policy
from trustdesk.privacy.consent.schemas import Source
from trustdesk.privacy.datamap import datamap, notice
from trustdesk.privacy.export.registry import (
    ExportContext,
    Exporter,
    ExportSubject,
    register_exporter,
)
from trustdesk.privacy.models import PrivacyRequest
from trustdesk.privacy.retention.registry import RetentionTarget, register_retention

__all__ = [
    "ConsentAnswer",
    "DataMapSharing",
    "DataMapSystem",
    "ExportContext",
    "ExportSubject",
    "Exporter",
    "NoticeVersionInfo",
    "OpenRequest",
    "OverdueRequest",
    "RetentionTarget",
    "check",
    "controller_contact",
    "datamap_sharing_history",
    "datamap_systems",
    "fulfilment_times",
    "may_contact",
    "notice_versions",
    "open_requests",
    "overdue_requests",
    "record_consent",
    "register_exporter",
    "register_retention",
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


def record_consent(
    session: Session,
    external_id: str,
    purpose: str,
    channel: str,
    *,
    granted: bool,
    actor: str,
    source: str = Source.DOUBLE_OPT_IN.value,
    policy_file: Path | None = None,
) -> int:
    """Grant or withdraw one consent in the ledger (appended, projected and audited in the
    caller's transaction, as the consent API does); the ledger event's id. For capabilities that
    collect consent themselves, e.g. a double opt-in link that was followed."""
    event = service.set_consent(
        session,
        load_policy(policy_file),
        external_id=external_id,
        purpose=purpose,
        channel=channel,
        state=ConsentState.GRANTED if granted else ConsentState.WITHDRAWN,
        source=Source(source),
        actor=actor,
    )
    return event.id


@dataclass(frozen=True)
class OverdueRequest:
    """An open data-subject request past its statutory due date (no customer named)."""

    id: int
    kind: str
    regime: str
    received_at: datetime
    due_at: datetime


def overdue_requests(session: Session, now: datetime, *, limit: int = 500) -> list[OverdueRequest]:
    """Open requests (not closed) whose due date has passed, the most overdue first."""
    rows = session.scalars(
        select(PrivacyRequest)
        .where(PrivacyRequest.closed_at.is_(None), PrivacyRequest.due_at < now)
        .order_by(PrivacyRequest.due_at, PrivacyRequest.id)
        .limit(limit)
    )
    return [OverdueRequest(r.id, r.kind, r.regime, r.received_at, r.due_at) for r in rows]


@dataclass(frozen=True)
class DataMapSystem:
    id: str
    name: str
    categories: tuple[str, ...]  # data-map categories: identity, contact, financial, …


def datamap_systems(session: Session) -> dict[str, DataMapSystem]:
    """{system id: system} of the current data map (what each system holds), e.g. to say which
    personal data a breach of a system exposed."""
    found = datamap.current(session).datamap
    return {
        s.id: DataMapSystem(s.id, s.name, tuple(c.value for c in s.categories))
        for s in found.systems
    }


def controller_contact(session: Session) -> tuple[str, str, str]:
    """(name, contact email, supervisory authority) of the controller, from the data map."""
    controller = datamap.current(session).datamap.controller
    return controller.name, controller.contact_email, controller.supervisory_authority


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


@dataclass(frozen=True)
class NoticeVersionInfo:
    version: int
    published_at: datetime | None
    title: str


def notice_versions(session: Session) -> list[NoticeVersionInfo]:
    """Every version of the public privacy notice (served at /privacy-notice), newest first."""
    current = notice.current(session)
    return [
        NoticeVersionInfo(v, created, current.title if v == current.version else "")
        for v, _dm, created in notice.versions(session)
    ] or [NoticeVersionInfo(current.version, current.created_at, current.title)]


@dataclass(frozen=True)
class DataMapSharing:
    """Who a data-map version shares data with and where it transfers it (for trust pages)."""

    version: int
    saved_at: datetime | None
    recipients: tuple[tuple[str, str, str], ...]  # (recipient, role, system name)
    transfers: tuple[tuple[str, str, str], ...]  # (destination, safeguard, system name)
    # (recipient, legal bases of the system's purposes) of each recipient acting as a controller
    controller_bases: tuple[tuple[str, tuple[str, ...]], ...] = ()


def datamap_sharing_history(session: Session) -> list[DataMapSharing]:
    """Recipients and transfers of every data-map version, newest first (the shipped map, version
    0, last)."""
    return [
        DataMapSharing(
            stored.version,
            stored.created_at,
            tuple((r.name, r.role, s.name) for s in stored.datamap.systems for r in s.recipients),
            tuple(
                (t.destination, t.safeguard, s.name)
                for s in stored.datamap.systems
                for t in s.transfers
            ),
            tuple(
                (r.name, tuple(sorted({p.legal_basis.value for p in s.purposes})))
                for s in stored.datamap.systems
                for r in s.recipients
                if r.role == "controller"
            ),
        )
        for stored in datamap.versions(session)
    ]


def fulfilment_times(
    session: Session, since: datetime
) -> list[tuple[datetime, datetime, datetime]]:
    """(received, closed, due) of every data-subject request closed since `since` (no customer
    named)."""
    rows = session.execute(
        select(PrivacyRequest.received_at, PrivacyRequest.closed_at, PrivacyRequest.due_at).where(
            PrivacyRequest.closed_at.is_not(None), PrivacyRequest.closed_at >= since
        )
    )
    return [(r, c, d) for r, c, d in rows if c is not None]
