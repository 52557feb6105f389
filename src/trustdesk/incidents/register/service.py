"""The register's use cases: open, change, staff, tasks, timeline and decisions. Every change is
audited in the caller's transaction; nothing here commits."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.audit import chain as audit
from trustdesk.auth.models import User
from trustdesk.errors import InvalidInput, NotFound
from trustdesk.incidents.categories import CATEGORIES, parse_categories
from trustdesk.incidents.models import (
    AffectedRecord,
    Incident,
    IncidentEntry,
    IncidentMember,
    IncidentTask,
)
from trustdesk.incidents.register.lifecycle import Status, check_transition
from trustdesk.incidents.schemas import (
    DecisionIn,
    EntryOut,
    IncidentIn,
    IncidentOut,
    IncidentPatch,
    TaskIn,
    TaskOut,
    UpdateIn,
)
from trustdesk.jobs.public import changed as jobs_changed
from trustdesk.privacy.public import datamap_systems

__all__ = [
    "STATEMENT_PUBLISHED",
    "add_decision",
    "add_participant",
    "add_task",
    "add_update",
    "complete_task",
    "get",
    "list_incidents",
    "load",
    "open_incident",
    "show",
    "update_incident",
]

_ENTITY = "incident"
_LIST_FIELDS = ("systems", "categories", "sectors")


def load(session: Session, incident_id: int, *, for_update: bool = False) -> Incident:
    """The incident row, or NotFound."""
    found = session.get(Incident, incident_id, with_for_update=for_update or None)
    if found is None:
        raise NotFound(f"no incident {incident_id}")
    return found


def _staff(session: Session, username: str, what: str) -> str:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        raise InvalidInput(f"{what} {username!r} is not an active staff user")
    return username


def _systems(session: Session, systems: list[str]) -> list[str]:
    known = datamap_systems(session)
    unknown = [s for s in systems if s not in known]
    if unknown:
        raise InvalidInput(
            f"unknown system {unknown[0]!r}: systems come from the data map "
            f"({', '.join(sorted(known))})"
        )
    return sorted(set(systems))


def _categories(categories: list[str]) -> list[str]:
    parse_categories(categories)  # InvalidInput names an unknown one
    return sorted({c.strip().lower() for c in categories if c.strip()}, key=list(CATEGORIES).index)


def _check_times(values: dict[str, Any]) -> None:
    start, end = values.get("occurred_from"), values.get("occurred_to")
    if start is not None and end is not None and end < start:
        raise InvalidInput("occurred_to is before occurred_from")
    aware, determined = values.get("aware_at"), values.get("determined_at")
    if aware is not None and determined is not None and determined < aware:
        raise InvalidInput(
            "determined_at is before aware_at: a breach is determined after it is known"
        )


def open_incident(session: Session, data: IncidentIn, *, actor: str, now: datetime) -> Incident:
    values = data.model_dump()
    _check_times(values)
    if data.commander:
        _staff(session, data.commander, "commander")
    incident = Incident(
        title=data.title,
        description=data.description,
        severity=data.severity,
        kind=data.kind,
        status=Status.DETECTED.value,
        aware_at=data.aware_at,
        determined_at=data.determined_at,
        occurred_from=data.occurred_from,
        occurred_to=data.occurred_to,
        systems=json.dumps(_systems(session, data.systems)),
        categories=json.dumps(_categories(data.categories)),
        sectors=json.dumps(sorted(set(data.sectors))),
        risk=data.risk,
        data_encrypted=data.data_encrypted,
        key_compromised=data.key_compromised,
        commander=data.commander,
        created_at=now,
        updated_at=now,
    )
    session.add(incident)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="incident.opened",
        entity_type=_ENTITY,
        entity_id=incident.id,
        changes={"title": data.title, "aware_at": data.aware_at, "severity": data.severity},
    )
    return incident


# Fields a PATCH may set to null: only those the table lets be empty (null elsewhere is a 422,
# never a NOT NULL violation at commit).
_NULLABLE = {c.name: bool(c.nullable) for c in Incident.__table__.columns}


STATEMENT_PUBLISHED = "incidents.statement_published"
"""The job-system event recorded when an incident's public statement was written or changed."""


def update_incident(
    session: Session, incident_id: int, patch: IncidentPatch, *, actor: str, now: datetime
) -> Incident:
    """Change fields and/or move the status (allowed moves only); audited with before/after."""
    incident = load(session, incident_id, for_update=True)
    given = patch.model_dump(exclude_unset=True)
    changes: dict[str, Any] = {}
    if "status" in given and given["status"] is not None:
        target = check_transition(incident.status, given.pop("status"))
        changes["status"] = [incident.status, target.value]
        incident.status = target.value
        if target is Status.CONTAINED and incident.contained_at is None:
            incident.contained_at = now
        if target is Status.CLOSED:
            incident.closed_at = now
        elif incident.closed_at is not None:
            incident.closed_at = None  # reopened
        session.add(
            IncidentEntry(
                incident_id=incident.id,
                kind="status",
                visibility="internal",
                text=f"status {changes['status'][0]} → {target.value}",
                actor=actor,
                at=now,
            )
        )
    given.pop("status", None)
    if given.get("commander"):
        _staff(session, given["commander"], "commander")
    if "systems" in given and given["systems"] is not None:
        given["systems"] = _systems(session, given["systems"])
    if "categories" in given and given["categories"] is not None:
        given["categories"] = _categories(given["categories"])
    if "sectors" in given and given["sectors"] is not None:
        given["sectors"] = sorted(set(given["sectors"]))
    merged = {k: getattr(incident, k) for k in ("occurred_from", "occurred_to", "aware_at")}
    merged["determined_at"] = incident.determined_at
    merged.update({k: v for k, v in given.items() if k in merged})
    _check_times(merged)
    for field, value in given.items():
        if value is None and field not in _LIST_FIELDS and not _NULLABLE.get(field, True):
            raise InvalidInput(f"{field} cannot be removed")
        before = getattr(incident, field)
        if field in _LIST_FIELDS:
            before = json.loads(before)
            if value is None:
                value = []
            if before != value:
                setattr(incident, field, json.dumps(value))
                changes[field] = [before, value]
            continue
        if before != value:
            setattr(incident, field, value)
            changes[field] = [before, value]
    if changes.get("public_statement", ["", ""])[1].strip():
        jobs_changed(session, STATEMENT_PUBLISHED, now=now)  # e.g. mail trust-centre subscribers
    if changes:
        incident.updated_at = now
        audit.record(
            session,
            actor=actor,
            action="incident.updated",
            entity_type=_ENTITY,
            entity_id=incident.id,
            changes=changes,
        )
    return incident


def add_participant(session: Session, incident_id: int, username: str, *, actor: str) -> None:
    incident = load(session, incident_id)
    _staff(session, username, "participant")
    if session.get(IncidentMember, (incident.id, username)) is not None:
        return
    session.add(IncidentMember(incident_id=incident.id, username=username))
    audit.record(
        session,
        actor=actor,
        action="incident.participant_added",
        entity_type=_ENTITY,
        entity_id=incident.id,
        changes={"username": username},
    )


def add_task(
    session: Session, incident_id: int, data: TaskIn, *, actor: str, now: datetime
) -> IncidentTask:
    incident = load(session, incident_id)
    _staff(session, data.owner, "task owner")
    task = IncidentTask(
        incident_id=incident.id,
        title=data.title,
        owner=data.owner,
        due_at=data.due_at,
        created_at=now,
    )
    session.add(task)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="incident.task_added",
        entity_type=_ENTITY,
        entity_id=incident.id,
        changes={"task": task.id, "owner": data.owner, "due_at": data.due_at},
    )
    return task


def complete_task(
    session: Session, incident_id: int, task_id: int, *, actor: str, now: datetime
) -> IncidentTask:
    task = session.get(IncidentTask, task_id)
    if task is None or task.incident_id != incident_id:
        raise NotFound(f"incident {incident_id} has no task {task_id}")
    if task.done_at is None:
        task.done_at = now
        audit.record(
            session,
            actor=actor,
            action="incident.task_done",
            entity_type=_ENTITY,
            entity_id=incident_id,
            changes={"task": task_id},
        )
    return task


def add_update(
    session: Session, incident_id: int, data: UpdateIn, *, actor: str, now: datetime
) -> IncidentEntry:
    entry = _post_entry(
        session,
        incident_id,
        kind="update",
        visibility=data.visibility,
        text=data.text,
        actor=actor,
        now=now,
    )
    _audit_entry(session, entry, "incident.update_posted", {"visibility": data.visibility})
    return entry


def add_decision(
    session: Session, incident_id: int, data: DecisionIn, *, actor: str, now: datetime
) -> IncidentEntry:
    entry = _post_entry(
        session,
        incident_id,
        kind="decision",
        visibility="internal",
        text=data.text,
        reason=data.reason,
        actor=actor,
        now=now,
    )
    _audit_entry(
        session, entry, "incident.decision_recorded", {"decision": data.text, "reason": data.reason}
    )
    return entry


def _post_entry(
    session: Session, incident_id: int, *, actor: str, now: datetime, **fields: Any
) -> IncidentEntry:
    """A timeline entry of an existing incident, flushed so the audit record can name it."""
    incident = load(session, incident_id)
    entry = IncidentEntry(incident_id=incident.id, actor=actor, at=now, **fields)
    session.add(entry)
    session.flush()
    return entry


def _audit_entry(
    session: Session, entry: IncidentEntry, action: str, changes: dict[str, Any]
) -> None:
    audit.record(
        session,
        actor=entry.actor,
        action=action,
        entity_type=_ENTITY,
        entity_id=entry.incident_id,
        changes={"entry": entry.id, **changes},
    )


def _out(session: Session, incident: Incident, *, full: bool) -> IncidentOut:
    participants = list(
        session.scalars(
            select(IncidentMember.username)
            .where(IncidentMember.incident_id == incident.id)
            .order_by(IncidentMember.username)
        )
    )
    affected = session.scalar(
        select(func.count())
        .select_from(AffectedRecord)
        .where(AffectedRecord.incident_id == incident.id)
    )
    tasks: list[TaskOut] = []
    timeline: list[EntryOut] = []
    if full:
        tasks = [
            TaskOut(id=t.id, title=t.title, owner=t.owner, due_at=t.due_at, done_at=t.done_at)
            for t in session.scalars(
                select(IncidentTask)
                .where(IncidentTask.incident_id == incident.id)
                .order_by(IncidentTask.id)
            )
        ]
        timeline = [
            EntryOut(
                id=e.id,
                kind=e.kind,
                visibility=e.visibility,
                text=e.text,
                reason=e.reason,
                actor=e.actor,
                at=e.at,
            )
            for e in session.scalars(
                select(IncidentEntry)
                .where(IncidentEntry.incident_id == incident.id)
                .order_by(IncidentEntry.at, IncidentEntry.id)
            )
        ]
    return IncidentOut(
        id=incident.id,
        title=incident.title,
        description=incident.description,
        severity=incident.severity,
        status=incident.status,
        kind=incident.kind,
        aware_at=incident.aware_at,
        determined_at=incident.determined_at,
        occurred_from=incident.occurred_from,
        occurred_to=incident.occurred_to,
        contained_at=incident.contained_at,
        closed_at=incident.closed_at,
        systems=json.loads(incident.systems),
        categories=json.loads(incident.categories),
        sectors=json.loads(incident.sectors),
        risk=incident.risk,
        data_encrypted=incident.data_encrypted,
        key_compromised=incident.key_compromised,
        commander=incident.commander,
        participants=participants,
        public_statement=incident.public_statement,
        created_at=incident.created_at,
        updated_at=incident.updated_at,
        affected=affected or 0,
        tasks=tasks,
        timeline=timeline,
    )


def get(session: Session, incident_id: int) -> IncidentOut:
    return _out(session, load(session, incident_id), full=True)


show = get


def list_incidents(session: Session, *, status: str | None = None) -> list[IncidentOut]:
    query = select(Incident).order_by(Incident.aware_at.desc(), Incident.id.desc())
    if status is not None:
        if status == "open":
            query = query.where(Incident.status != Status.CLOSED.value)
        else:
            query = query.where(Incident.status == Status(status).value)
    return [_out(session, i, full=False) for i in session.scalars(query)]
