"""Declarative fraud rules: a condition, an action that overrides the model, a reason in words.

A rule file is YAML validated in full before anything changes: a bad rule is reported by its name
and nothing is loaded. Conditions use the small language of `conditions.py` (no `eval`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from importlib.resources import files
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from trustdesk.errors import InvalidInput
from trustdesk.fraud.learning.features import FEATURES
from trustdesk.fraud.rules.conditions import (
    Condition,
    ConditionError,
    Test,
    compile_condition,
    parse,
)
from trustdesk.input_files import load_yaml

__all__ = [
    "FIELDS",
    "Action",
    "Fired",
    "Rule",
    "RuleSet",
    "apply_actions",
    "default_rules_text",
    "parse_rules",
]

TRANSACTION_FIELDS = ("amount", "currency", "channel", "country", "device_id", "terminal_id")
FIELDS: frozenset[str] = frozenset({*TRANSACTION_FIELDS, *FEATURES})


class Action(StrEnum):
    FORCE_ALLOW = "force_allow"
    FORCE_REVIEW = "force_review"
    FORCE_DECLINE = "force_decline"


_STRENGTH = {Action.FORCE_ALLOW: 0, Action.FORCE_REVIEW: 1, Action.FORCE_DECLINE: 2}


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    when: str = Field(min_length=1, max_length=2000)
    action: Action
    reason: str = Field(min_length=1, max_length=300)

    @field_validator("when", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        return str(value) if isinstance(value, int | float | bool) else value


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[RuleSpec]


@dataclass(frozen=True)
class Rule:
    name: str
    condition: Condition
    action: Action
    reason: str
    text: str
    holds: Test = field(init=False, repr=False, compare=False)  # the condition, compiled

    def __post_init__(self) -> None:
        object.__setattr__(self, "holds", compile_condition(self.condition))


@dataclass(frozen=True)
class Fired:
    name: str
    action: Action
    reason: str


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]

    def evaluate(self, values: Mapping[str, object]) -> list[Fired]:
        """The rules whose condition holds, in file order."""
        return [Fired(r.name, r.action, r.reason) for r in self.rules if r.holds(values)]


def _where(error: Any, specs: list[Any]) -> str:
    loc = error.get("loc", ())
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        index = loc[1]
        raw = specs[index] if index < len(specs) else None
        name = raw.get("name") if isinstance(raw, dict) else None
        field = ".".join(str(p) for p in loc[2:])
        label = f"rule {name!r}" if name else f"rule #{index + 1}"
        return f"{label}: {field + ': ' if field else ''}{error.get('msg', '')}"
    return f"{'.'.join(str(p) for p in loc) or 'file'}: {error.get('msg', '')}"


def parse_rules(text: str) -> RuleSet:
    """The rule set in `text`, or InvalidInput naming the first bad rule."""
    raw = load_yaml(text, "the rules file")
    if not isinstance(raw, dict):
        raise InvalidInput("the rules file must be a mapping with a 'rules' list")
    try:
        spec = RuleFile.model_validate(raw)
    except ValidationError as exc:
        specs = raw.get("rules") if isinstance(raw.get("rules"), list) else []
        raise InvalidInput(_where(exc.errors()[0], specs or [])) from None
    rules: list[Rule] = []
    seen: set[str] = set()
    for r in spec.rules:
        if r.name in seen:
            raise InvalidInput(f"rule {r.name!r}: the name is used twice")
        seen.add(r.name)
        try:
            condition = parse(r.when, FIELDS)
        except ConditionError as exc:
            raise InvalidInput(f"rule {r.name!r}: {exc}") from None
        rules.append(Rule(r.name, condition, r.action, r.reason, r.when))
    return RuleSet(tuple(rules))


def apply_actions(model_decision: str, fired: list[Fired]) -> str:
    """The decision after the rules: the strongest fired action wins over the model's."""
    if not fired:
        return model_decision
    strongest = max(fired, key=lambda f: _STRENGTH[f.action]).action
    return {
        Action.FORCE_ALLOW: "approve",
        Action.FORCE_REVIEW: "review",
        Action.FORCE_DECLINE: "decline",
    }[strongest]


def default_rules_text() -> str:
    return (files("trustdesk.fraud") / "default_rules.yaml").read_text(encoding="utf-8")
