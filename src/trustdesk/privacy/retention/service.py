"""The retention plan (what each rule would do now) and its application, audited.

Services never commit; the command, route or job around them owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from trustdesk import audit
from trustdesk.privacy.datamap import datamap as datamaps
from trustdesk.privacy.retention.registry import RetentionTarget, registered_targets

__all__ = ["RetentionItem", "apply", "plan"]


@dataclass(frozen=True)
class RetentionItem:
    system: str
    records: str
    rule: str  # the data map's words
    action: str | None  # delete, anonymise, or None: the system states no rule
    days: int | None
    cutoff: datetime | None
    due: int  # records past the cutoff, before applying
    done: int  # records deleted or anonymised (0 in a plan)
    problem: str | None  # why the rule cannot be applied to these records, if it cannot


def plan(session: Session, now: datetime) -> list[RetentionItem]:
    """What applying the data map's rules now would do, target by target (a dry run)."""
    return _walk(session, now, apply=False, actor=None)


def apply(session: Session, now: datetime, *, actor: str) -> list[RetentionItem]:
    """Delete or anonymise every record past its system's period; one audit entry per target
    that changed anything (counts only, never the records)."""
    return _walk(session, now, apply=True, actor=actor)


def _walk(
    session: Session, now: datetime, *, apply: bool, actor: str | None
) -> list[RetentionItem]:
    dm = datamaps.current(session)
    targets: dict[str, list[RetentionTarget]] = {}
    for target in registered_targets():
        targets.setdefault(target.system, []).append(target)
    items: list[RetentionItem] = []
    for system in dm.datamap.systems:
        rule = system.retention_rule
        for target in targets.get(system.id, []):
            if rule is None:
                items.append(
                    RetentionItem(
                        system.id, target.records, system.retention, None, None, None, 0, 0,
                        "the data map states no retention_rule for this system",
                    )
                )  # fmt: skip
                continue
            cutoff = now - timedelta(days=rule.days)
            due = target.count(session, cutoff)
            problem = None
            if rule.action not in target.actions:
                problem = f"{target.records} cannot be {_past(rule.action)}; use " + " or ".join(
                    target.actions
                )
            done = 0
            if apply and problem is None and due:
                done = target.apply(session, cutoff, rule.action)
                audit.record(
                    session,
                    actor=actor or "retention",
                    action="retention.applied",
                    entity_type="datamap_system",
                    entity_id=system.id,
                    changes={
                        "records": target.records,
                        "action": rule.action,
                        "days": rule.days,
                        "cutoff": cutoff.isoformat(),
                        "count": done,
                        "datamap_version": dm.version,
                    },
                )
            items.append(
                RetentionItem(
                    system.id, target.records, system.retention, rule.action, rule.days, cutoff,
                    due, done, problem,
                )
            )  # fmt: skip
    return items


def _past(action: str) -> str:
    return "deleted" if action == "delete" else "anonymised"
