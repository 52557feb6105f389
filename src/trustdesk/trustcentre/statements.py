"""Public statements: published by staff (optionally about an incident), shown on the trust centre
and in its Atom feed. Audited; never edited afterwards (a correction is a new statement)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.audit import chain as audit
from trustdesk.errors import InvalidInput, NotFound
from trustdesk.incidents import public as incidents
from trustdesk.jobs import public as jobs
from trustdesk.trustcentre.cache import CACHE
from trustdesk.trustcentre.models import TrustStatement

__all__ = ["list_statements", "publish_statement"]

MAX_TITLE = 200
MAX_BODY = 20_000


def publish_statement(
    session: Session,
    *,
    title: str,
    body: str,
    incident_id: int | None,
    actor: str,
    now: datetime,
) -> TrustStatement:
    title, body = title.strip(), body.strip()
    if not title or len(title) > MAX_TITLE:
        raise InvalidInput(f"title: give 1 to {MAX_TITLE} characters")
    if not body or len(body) > MAX_BODY:
        raise InvalidInput(f"body: give 1 to {MAX_BODY} characters")
    if incident_id is not None and not incidents.incident_exists(session, incident_id):
        raise NotFound(f"no incident {incident_id}")
    row = TrustStatement(
        title=title, body=body, incident_id=incident_id, published_at=now, actor=actor
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="trustcentre.statement_published",
        entity_type="trust_statement",
        entity_id=row.id,
        changes={"title": title, "incident_id": incident_id},
    )
    jobs.changed(session, "trustcentre.updated", now=now)  # mail subscribers soon
    CACHE.clear()  # this process shows it at once (others within CHECK_S)
    return row


def list_statements(session: Session, *, limit: int = 100) -> list[TrustStatement]:
    """Newest first."""
    return list(
        session.scalars(
            select(TrustStatement)
            .order_by(TrustStatement.published_at.desc(), TrustStatement.id.desc())
            .limit(limit)
        )
    )
