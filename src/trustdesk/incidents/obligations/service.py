"""Obligations of an incident: evaluated from its facts, its affected customers and the rules;
their clocks (time left, amber, red, overdue → an alert); re-evaluation when the rules change.
Nothing here commits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.audit import chain as audit
from trustdesk.errors import InvalidInput
from trustdesk.incidents.affected.counts import exposure_groups
from trustdesk.incidents.models import Incident, IncidentAlert, IncidentFulfilment
from trustdesk.incidents.obligations.engine import Facts, Group, Obligation, evaluate
from trustdesk.incidents.obligations.rules import AUDIENCES, RuleSet, load_rules, shipped_rules
from trustdesk.incidents.register.lifecycle import Status
from trustdesk.incidents.register.service import load

__all__ = [
    "Clock",
    "RulesChange",
    "clock_of",
    "clocks",
    "evaluate_clocks_in",
    "fulfil",
    "obligations",
    "reevaluate_open",
    "rules_from",
]

AMBER_SHARE = 0.5  # amber once half the period is gone
RED_SHARE = 0.2  # red with a fifth (or a day) left
RED_HOURS = 24


def rules_from(directory: Path | None) -> RuleSet:
    return shipped_rules() if directory is None else load_rules(directory)


def facts_of(incident: Incident) -> Facts:
    return Facts(
        aware_at=incident.aware_at,
        determined_at=incident.determined_at,
        risk=incident.risk,
        sectors=frozenset(json.loads(incident.sectors)),
        data_encrypted=incident.data_encrypted,
        key_compromised=incident.key_compromised,
    )


def obligations(session: Session, incident_id: int, rules: RuleSet) -> list[Obligation]:
    incident = load(session, incident_id)
    groups = [
        Group(g.jurisdiction, g.mask, g.customers) for g in exposure_groups(session, incident.id)
    ]
    return evaluate(rules, facts_of(incident), groups)


@dataclass(frozen=True)
class Clock:
    obligation: Obligation
    state: str  # done | open (no fixed period) | green | amber | red | overdue | not_required
    seconds_left: float | None


def clock_of(o: Obligation, now: datetime, done: bool) -> Clock:
    if not o.required:
        return Clock(o, "not_required", None)
    if done:
        return Clock(o, "done", None)
    if o.due_at is None or o.clock_starts is None:
        return Clock(o, "open", None)
    left = (o.due_at - now).total_seconds()
    period = max((o.due_at - o.clock_starts).total_seconds(), 1.0)
    if left < 0:
        state = "overdue"
    elif left <= max(period * RED_SHARE, 0) or left <= RED_HOURS * 3600:
        state = "red"
    elif left <= period * AMBER_SHARE:
        state = "amber"
    else:
        state = "green"
    return Clock(o, state, left)


def _done(session: Session, incident_id: int) -> set[tuple[str, str]]:
    rows = session.execute(
        select(IncidentFulfilment.jurisdiction, IncidentFulfilment.audience).where(
            IncidentFulfilment.incident_id == incident_id
        )
    )
    return {(j, a) for j, a in rows}


def clocks(session: Session, incident_id: int, rules: RuleSet, now: datetime) -> list[Clock]:
    done = _done(session, incident_id)
    return [
        clock_of(o, now, (o.jurisdiction, o.audience) in done)
        for o in obligations(session, incident_id, rules)
    ]


def fulfil(
    session: Session,
    incident_id: int,
    jurisdiction: str,
    audience: str,
    *,
    reference: str,
    actor: str,
    now: datetime,
) -> None:
    """Record that the notice went out: the obligation's clock stops."""
    load(session, incident_id)
    if audience not in AUDIENCES:
        raise InvalidInput(f"unknown audience {audience!r}; audiences are {', '.join(AUDIENCES)}")
    if session.get(IncidentFulfilment, (incident_id, jurisdiction, audience)) is not None:
        return
    session.add(
        IncidentFulfilment(
            incident_id=incident_id,
            jurisdiction=jurisdiction,
            audience=audience,
            at=now,
            actor=actor,
            reference=reference,
        )
    )
    audit.record(
        session,
        actor=actor,
        action="incident.obligation_fulfilled",
        entity_type="incident",
        entity_id=incident_id,
        changes={"jurisdiction": jurisdiction, "audience": audience, "reference": reference},
    )


def _open_incidents(session: Session) -> list[Incident]:
    return list(
        session.scalars(
            select(Incident).where(Incident.status != Status.CLOSED.value).order_by(Incident.id)
        )
    )


def evaluate_clocks_in(session: Session, rules: RuleSet, now: datetime) -> list[IncidentAlert]:
    """Raise an alert for each open incident's obligation that turned amber, red or overdue
    since the last run (once per level); returns the new alerts."""
    raised: list[IncidentAlert] = []
    for incident in _open_incidents(session):
        rows = session.execute(
            select(IncidentAlert.jurisdiction, IncidentAlert.audience, IncidentAlert.level).where(
                IncidentAlert.incident_id == incident.id
            )
        )
        known = {(j, a, lv) for j, a, lv in rows}
        for clock in clocks(session, incident.id, rules, now):
            o = clock.obligation
            if clock.state not in ("amber", "red", "overdue") or o.due_at is None:
                continue
            if (o.jurisdiction, o.audience, clock.state) in known:
                continue
            alert = IncidentAlert(
                incident_id=incident.id,
                jurisdiction=o.jurisdiction,
                audience=o.audience,
                level=clock.state,
                due_at=o.due_at,
                raised_at=now,
            )
            session.add(alert)
            raised.append(alert)
        if raised:
            session.flush()
    if raised:
        audit.record_many(
            session,
            actor="system:clocks",
            items=[
                audit.Change(
                    "incident.clock_alert",
                    "incident",
                    a.incident_id,
                    {"jurisdiction": a.jurisdiction, "audience": a.audience, "level": a.level},
                )
                for a in raised
            ],
        )
    return raised


@dataclass(frozen=True)
class RulesChange:
    incident_id: int
    previous_version: str | None
    version: str
    changes: list[dict[str, object]]


def _key(o: dict[str, object]) -> tuple[str, str]:
    return (str(o["jurisdiction"]), str(o["audience"]))


def reevaluate_open(
    session: Session, rules: RuleSet, *, actor: str, now: datetime
) -> list[RulesChange]:
    """Evaluate every open incident under `rules`, keep the result as its snapshot, and say
    what changed since the last snapshot (obligations added, dropped, or with another
    `required` / `due_at`). Audited per incident that changed."""
    report: list[RulesChange] = []
    for incident in _open_incidents(session):
        fresh = [o.as_dict() for o in obligations(session, incident.id, rules)]
        before = {_key(o): o for o in json.loads(incident.obligations or "[]")}
        after = {_key(o): o for o in fresh}
        changes: list[dict[str, object]] = []
        for key in sorted(before.keys() | after.keys()):
            old, new = before.get(key), after.get(key)
            place = {"jurisdiction": key[0], "audience": key[1]}
            if old is None and new is not None:
                changes.append(
                    {
                        **place,
                        "change": "added",
                        "required": new["required"],
                        "due_at": new["due_at"],
                    }
                )
            elif new is None and old is not None:
                changes.append({**place, "change": "removed"})
            elif old is not None and new is not None:
                for field in ("required", "due_at"):
                    if old[field] != new[field]:
                        changes.append(
                            {**place, "change": field, "before": old[field], "after": new[field]}
                        )
        previous = incident.rules_version
        if changes or previous != rules.version:
            incident.obligations = json.dumps(fresh)
            incident.rules_version = rules.version
            audit.record(
                session,
                actor=actor,
                action="incident.obligations_reevaluated",
                entity_type="incident",
                entity_id=incident.id,
                changes={"rules": [previous, rules.version], "changes": len(changes)},
            )
            report.append(RulesChange(incident.id, previous, rules.version, changes))
    return report
