"""Notice versions: drafted from the incident, edited, approved by a role holding
`incidents:approve` before anything is sent. Every version is kept; nothing here commits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.audit import chain as audit
from trustdesk.errors import Conflict, InvalidInput, NotFound
from trustdesk.incidents.affected.counts import counts, exposure_groups
from trustdesk.incidents.categories import names_of
from trustdesk.incidents.models import IncidentEntry, IncidentNotice
from trustdesk.incidents.notices.drafting import IncidentFacts, individuals_notice, regulator_report
from trustdesk.incidents.notices.readability import flesch_reading_ease
from trustdesk.incidents.obligations.rules import AUDIENCES
from trustdesk.incidents.register.service import load
from trustdesk.privacy.public import controller_contact

__all__ = ["NoticeOut", "approve", "approved", "draft", "edit", "list_notices"]


@dataclass(frozen=True)
class NoticeOut:
    id: int
    incident_id: int
    audience: str
    jurisdiction: str
    version: int
    subject: str
    body: str
    readability: float
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None

    def as_dict(self) -> dict[str, object]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in vars(self).items()}


def _out(n: IncidentNotice) -> NoticeOut:
    return NoticeOut(
        n.id, n.incident_id, n.audience, n.jurisdiction, n.version, n.subject, n.body,
        n.readability, n.created_by, n.created_at, n.approved_by, n.approved_at,
    )  # fmt: skip


def _facts(session: Session, incident_id: int) -> IncidentFacts:
    incident = load(session, incident_id)
    groups = exposure_groups(session, incident_id)
    total, places, _ = counts(groups)
    exposed: set[str] = set()
    for g in groups:
        exposed.update(names_of(g.mask))
    categories = json.loads(incident.categories) or sorted(exposed)
    controller, contact, authority = controller_contact(session)
    updates = list(
        session.scalars(
            select(IncidentEntry.text)
            .where(
                IncidentEntry.incident_id == incident_id,
                IncidentEntry.kind == "update",
                IncidentEntry.visibility == "public",
            )
            .order_by(IncidentEntry.at, IncidentEntry.id)
        )
    )
    return IncidentFacts(
        title=incident.title,
        description=incident.description,
        aware_at=incident.aware_at,
        occurred_from=incident.occurred_from,
        occurred_to=incident.occurred_to,
        contained_at=incident.contained_at,
        categories=categories,
        controller=controller,
        contact_email=contact,
        authority=authority,
        public_updates=updates,
        affected=total,
        by_jurisdiction=places,
    )


def _store(
    session: Session,
    incident_id: int,
    audience: str,
    jurisdiction: str,
    subject: str,
    body: str,
    *,
    actor: str,
    now: datetime,
) -> IncidentNotice:
    latest = session.scalar(
        select(func.max(IncidentNotice.version)).where(
            IncidentNotice.incident_id == incident_id,
            IncidentNotice.audience == audience,
            IncidentNotice.jurisdiction == jurisdiction,
        )
    )
    notice = IncidentNotice(
        incident_id=incident_id,
        audience=audience,
        jurisdiction=jurisdiction,
        version=(latest or 0) + 1,
        subject=subject,
        body=body,
        readability=flesch_reading_ease(body),
        created_by=actor,
        created_at=now,
    )
    session.add(notice)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="incident.notice_drafted",
        entity_type="incident",
        entity_id=incident_id,
        changes={"notice": notice.id, "audience": audience, "version": notice.version},
    )
    return notice


def draft(
    session: Session,
    incident_id: int,
    audience: str,
    *,
    jurisdiction: str = "*",
    offer: str | None = None,
    actor: str,
    now: datetime,
) -> NoticeOut:
    """A new draft version for the audience (individuals, regulator; others get the people's)."""
    if audience not in AUDIENCES:
        raise InvalidInput(f"unknown audience {audience!r}; audiences are {', '.join(AUDIENCES)}")
    facts = _facts(session, incident_id)
    made = regulator_report(facts) if audience == "regulator" else individuals_notice(facts, offer)
    return _out(
        _store(
            session,
            incident_id,
            audience,
            jurisdiction,
            made.subject,
            made.body,
            actor=actor,
            now=now,
        )
    )


def _notice(session: Session, incident_id: int, notice_id: int) -> IncidentNotice:
    found = session.get(IncidentNotice, notice_id)
    if found is None or found.incident_id != incident_id:
        raise NotFound(f"incident {incident_id} has no notice {notice_id}")
    return found


def edit(
    session: Session,
    incident_id: int,
    notice_id: int,
    *,
    subject: str | None,
    body: str,
    actor: str,
    now: datetime,
) -> NoticeOut:
    """A new version from an edited text (the one edited stays as it was)."""
    base = _notice(session, incident_id, notice_id)
    if not body.strip():
        raise InvalidInput("the notice body is empty")
    return _out(
        _store(
            session,
            incident_id,
            base.audience,
            base.jurisdiction,
            subject or base.subject,
            body,
            actor=actor,
            now=now,
        )
    )


def approve(
    session: Session, incident_id: int, notice_id: int, *, actor: str, now: datetime
) -> NoticeOut:
    notice = _notice(session, incident_id, notice_id)
    if notice.approved_at is not None:
        raise Conflict(f"notice {notice_id} was already approved by {notice.approved_by}")
    notice.approved_by, notice.approved_at = actor, now
    audit.record(
        session,
        actor=actor,
        action="incident.notice_approved",
        entity_type="incident",
        entity_id=incident_id,
        changes={"notice": notice.id, "version": notice.version, "readability": notice.readability},
    )
    return _out(notice)


def list_notices(session: Session, incident_id: int) -> list[NoticeOut]:
    load(session, incident_id)
    return [
        _out(n)
        for n in session.scalars(
            select(IncidentNotice)
            .where(IncidentNotice.incident_id == incident_id)
            .order_by(IncidentNotice.audience, IncidentNotice.jurisdiction, IncidentNotice.version)
        )
    ]


def approved(session: Session, incident_id: int, audience: str) -> NoticeOut:
    """The latest version that was approved for the audience (any jurisdiction "*"), or Conflict:
    nothing is sent before a person with the right role approved it."""
    found = session.scalar(
        select(IncidentNotice)
        .where(
            IncidentNotice.incident_id == incident_id,
            IncidentNotice.audience == audience,
            IncidentNotice.approved_at.is_not(None),
        )
        .order_by(IncidentNotice.version.desc())
        .limit(1)
    )
    if found is None:
        raise Conflict(
            f"incident {incident_id} has no approved {audience} notice: draft one "
            f"(`trustdesk incidents notices draft {incident_id} --audience {audience}`) "
            "and have it approved"
        )
    return _out(found)
