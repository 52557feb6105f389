"""The routing and SLA configuration: its schema, the shipped default, and the version in force.

One JSON document (validated here) holds the rules (category -> queue, priority, playbook), the
playbooks, the SLA policies per priority and the calendars per queue. Stored versioned in
`case_config`; the highest version is in force, the shipped YAML until someone loads another.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk import audit
from trustdesk.cases.calendar import BusinessCalendar, parse_opening
from trustdesk.cases.errors import InvalidCalendar, InvalidCase
from trustdesk.cases.models import CaseConfig
from trustdesk.db import utcnow

__all__ = [
    "PLACEHOLDERS",
    "PRIORITIES",
    "CalendarSpec",
    "CasesConfig",
    "Policy",
    "Rule",
    "Template",
    "current_config",
    "default_config",
    "parse_config",
    "save_config",
]

PRIORITIES = ("urgent", "high", "normal", "low")
_NAME = r"^[A-Za-z0-9_.?-]{1,64}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    categories: tuple[str, ...] = ()
    queue: str = Field(pattern=_NAME)
    priority: str
    playbook: str | None = Field(default=None, pattern=_NAME)

    @field_validator("priority")
    @classmethod
    def _known_priority(cls, value: str) -> str:
        if value not in PRIORITIES:
            raise ValueError(f"priority {value!r}: expected one of {', '.join(PRIORITIES)}")
        return value


class Policy(_Strict):
    """Targets in business hours."""

    first_response: float = Field(gt=0, le=10000)
    next_update: float = Field(gt=0, le=10000)
    resolution: float = Field(gt=0, le=10000)


class CalendarSpec(_Strict):
    timezone: str = "UTC"
    open: str = "09:00-17:00"
    holidays: str = "NONE"

    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar.build(self.timezone, self.holidays, self.open)


class Calendars(_Strict):
    default: CalendarSpec = CalendarSpec()
    queues: dict[str, CalendarSpec] = {}


PLACEHOLDERS = (
    "case_id", "customer_name", "first_name", "subject", "category", "queue", "agent",
    "first_response_due", "resolution_due",
)  # fmt: skip
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_TEMPLATE_STATUSES = ("open", "waiting_on_customer", "waiting_on_third_party", "resolved")


class Template(_Strict):
    """A reply template; with `status` it is a macro (send the reply, then move the case)."""

    title: str = Field(min_length=1, max_length=120)
    text: str = Field(min_length=1, max_length=5000)
    status: str | None = None

    @field_validator("text")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        unknown = sorted({m for m in PLACEHOLDER.findall(value) if m not in PLACEHOLDERS})
        if unknown:
            raise ValueError(f"unknown placeholder {{{unknown[0]}}}: use {', '.join(PLACEHOLDERS)}")
        return value

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: str | None) -> str | None:
        if value is not None and value not in _TEMPLATE_STATUSES:
            raise ValueError(f"status {value!r}: expected one of {', '.join(_TEMPLATE_STATUSES)}")
        return value


class Triage(_Strict):
    queue: str = Field(default="triage", pattern=_NAME)
    min_probability: float = Field(default=0.5, ge=0, le=1)


class CasesConfig(_Strict):
    triage: Triage = Triage()
    amber_ratio: float = Field(default=0.8, gt=0, lt=1)
    default_rule: Rule = Rule(queue="general", priority="normal")
    rules: tuple[Rule, ...] = ()
    playbooks: dict[str, tuple[str, ...]] = {}
    policies: dict[str, Policy]
    calendars: Calendars = Calendars()
    templates: dict[str, Template] = {}

    @field_validator("policies")
    @classmethod
    def _every_priority(cls, value: dict[str, Policy]) -> dict[str, Policy]:
        missing = [p for p in PRIORITIES if p not in value]
        if missing:
            raise ValueError(f"policies: missing {', '.join(missing)}")
        return value

    def route(self, category: str, probability: float) -> Rule:
        """The rule for a predicted category; unsure predictions go to the triage queue."""
        rule = next((r for r in self.rules if category in r.categories), self.default_rule)
        if probability < self.triage.min_probability:
            return Rule(queue=self.triage.queue, priority=rule.priority)
        return rule

    def calendar_for(self, queue: str) -> BusinessCalendar:
        spec = self.calendars.queues.get(queue, self.calendars.default)
        return _calendar(spec)

    def policy_for(self, priority: str) -> Policy:
        return self.policies[priority]


_CALENDARS: dict[CalendarSpec, BusinessCalendar] = {}


def _calendar(spec: CalendarSpec) -> BusinessCalendar:
    found = _CALENDARS.get(spec)
    if found is None:
        found = _CALENDARS[spec] = spec.calendar()
    return found


def parse_config(data: Any) -> CasesConfig:
    """Validate a configuration document (also every calendar and playbook reference)."""
    try:
        config = CasesConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidCase(f"configuration {where}: {first['msg']}") from None
    for rule in (config.default_rule, *config.rules):
        if rule.playbook and rule.playbook not in config.playbooks:
            raise InvalidCase(f"rule for queue {rule.queue!r}: unknown playbook {rule.playbook!r}")
    for name in config.templates:
        if not re.match(_NAME, name):
            raise InvalidCase(f"configuration templates: bad name {name!r} (letters, digits, _.-)")
    for spec in (config.calendars.default, *config.calendars.queues.values()):
        try:
            parse_opening(spec.open)
            _calendar(spec)
        except InvalidCalendar as exc:
            raise InvalidCase(f"configuration calendars: {exc.detail}") from None
    return config


_DEFAULT: CasesConfig | None = None


def default_config() -> CasesConfig:
    global _DEFAULT
    if _DEFAULT is None:
        text = resources.files("trustdesk.cases").joinpath("default_config.yaml").read_text()
        _DEFAULT = parse_config(yaml.safe_load(text))
    return _DEFAULT


_CACHE: dict[str, CasesConfig] = {}


def current_config(session: Session) -> CasesConfig:
    """The version in force (one indexed lookup; parsed documents cached by version)."""
    row = session.execute(
        select(CaseConfig.version, CaseConfig.document).order_by(CaseConfig.version.desc()).limit(1)
    ).first()
    if row is None:
        return default_config()
    found = _CACHE.get(row[1])
    if found is None:
        found = _CACHE[row[1]] = parse_config(json.loads(row[1]))
    return found


def save_config(session: Session, config: CasesConfig, *, actor: str) -> int:
    """Store `config` as the next version, audited; returns the version."""
    last = session.scalar(select(CaseConfig.version).order_by(CaseConfig.version.desc()).limit(1))
    version = (last or 0) + 1
    document = config.model_dump(mode="json")
    session.add(
        CaseConfig(version=version, document=json.dumps(document), created_at=utcnow(), actor=actor)
    )
    audit.record(
        session,
        actor=actor,
        action="cases.config_saved",
        entity_type="case_config",
        entity_id=version,
        changes={"rules": len(config.rules), "playbooks": sorted(config.playbooks)},
    )
    session.flush()
    return version
