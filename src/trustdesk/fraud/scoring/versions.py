"""Numbered, audited versions of the rule set and the model: which one scores payments now.

Version 0 of each is the one shipped in the package (`default_rules.yaml`, `default_model/`),
used until an operator loads or trains another.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from trustdesk.audit.chain import Change, record_many
from trustdesk.errors import NotFound
from trustdesk.fraud.models import FraudModelVersion, FraudRuleSet
from trustdesk.fraud.rules.ruleset import default_rules_text, parse_rules

__all__ = [
    "ModelInfo",
    "RuleSetInfo",
    "activate_model",
    "active_model",
    "active_rules",
    "list_models",
    "list_rule_sets",
    "load_rules",
    "next_model_version",
    "register_model",
]


@dataclass(frozen=True)
class RuleSetInfo:
    version: int
    created_at: datetime | None
    actor: str
    active: bool
    content: str


@dataclass(frozen=True)
class ModelInfo:
    version: int
    created_at: datetime
    path: str
    metrics: dict[str, Any]
    active: bool
    actor: str


def active_rules(session: Session) -> RuleSetInfo:
    """The rule set in force: the latest activated one, else the shipped default (version 0)."""
    row = session.scalar(select(FraudRuleSet).where(FraudRuleSet.active.is_(True)))
    if row is None:
        return RuleSetInfo(0, None, "shipped", True, default_rules_text())
    return RuleSetInfo(row.version, row.created_at, row.actor, True, row.content)


def load_rules(session: Session, text: str, *, actor: str, now: datetime) -> RuleSetInfo:
    """Validate a rule file and make it the next, active version (InvalidInput: no change)."""
    parsed = parse_rules(text)
    version = (session.scalar(select(func.max(FraudRuleSet.version))) or 0) + 1
    session.execute(update(FraudRuleSet).values(active=False))
    session.add(
        FraudRuleSet(version=version, created_at=now, content=text, active=True, actor=actor)
    )
    record_many(
        session,
        actor=actor,
        items=[
            Change(
                "fraud.rules_loaded",
                "fraud_rule_set",
                version,
                {"rules": [r.name for r in parsed.rules]},
            )
        ],
    )
    session.flush()
    return RuleSetInfo(version, now, actor, True, text)


def list_rule_sets(session: Session) -> list[RuleSetInfo]:
    rows = session.scalars(select(FraudRuleSet).order_by(FraudRuleSet.version.desc())).all()
    found = [RuleSetInfo(r.version, r.created_at, r.actor, r.active, r.content) for r in rows]
    found.append(
        RuleSetInfo(0, None, "shipped", not any(r.active for r in rows), default_rules_text())
    )
    return found


def next_model_version(session: Session) -> int:
    return (session.scalar(select(func.max(FraudModelVersion.version))) or 0) + 1


def register_model(
    session: Session,
    version: int,
    path: str,
    metrics: dict[str, Any],
    *,
    actor: str,
    now: datetime,
    activate: bool,
) -> ModelInfo:
    session.add(
        FraudModelVersion(
            version=version,
            created_at=now,
            path=path,
            metrics=json.dumps(metrics, default=str),
            active=False,
            actor=actor,
        )
    )
    session.flush()
    record_many(
        session,
        actor=actor,
        items=[Change("fraud.model_trained", "fraud_model", version, _headline(metrics))],
    )
    if activate:
        activate_model(session, version, actor=actor)
    return _info(_model(session, version))


def _headline(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: metrics.get(k) for k in ("auc_roc", "average_precision", "card_precision_at_100")}


def _model(session: Session, version: int) -> FraudModelVersion:
    row = session.get(FraudModelVersion, version)
    if row is None:
        raise NotFound(f"no fraud model version {version}")
    return row


def _info(row: FraudModelVersion) -> ModelInfo:
    return ModelInfo(
        row.version, row.created_at, row.path, json.loads(row.metrics), row.active, row.actor
    )


def activate_model(session: Session, version: int, *, actor: str) -> ModelInfo:
    row = _model(session, version)
    session.execute(update(FraudModelVersion).values(active=False))
    row.active = True
    record_many(
        session, actor=actor, items=[Change("fraud.model_activated", "fraud_model", version)]
    )
    session.flush()
    return _info(row)


def active_model(session: Session) -> ModelInfo | None:
    row = session.scalar(select(FraudModelVersion).where(FraudModelVersion.active.is_(True)))
    return None if row is None else _info(row)


def list_models(session: Session) -> list[ModelInfo]:
    rows = session.scalars(select(FraudModelVersion).order_by(FraudModelVersion.version.desc()))
    return [_info(r) for r in rows]
