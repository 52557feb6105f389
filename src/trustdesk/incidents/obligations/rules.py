"""Breach-notification law as data: the YAML rule files shipped in `incidents/rules/`, validated
and resolved to the jurisdiction codes customers carry (`DE`, `US-FL`, `CA-ON`).

A file holds a `version`, optional `templates` (shared defaults a rule `extends`), optional
`groups` (named lists of codes, e.g. the EU/EEA member states) and `rules`. Each rule names the
codes it `applies_to`, its `citation`, `source` and `last_reviewed` date, what makes a breach
notifiable (`triggers`: combinations of data categories, or `any`), and per audience who is told,
when the clock runs out and from what, thresholds, required contents and exemptions.
"""

from __future__ import annotations

import hashlib
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from trustdesk.errors import InvalidInput
from trustdesk.incidents.categories import CATEGORIES, mask_of
from trustdesk.input_files import load_yaml, read_text_file

__all__ = [
    "AUDIENCES",
    "DEFAULT_RULES_DIR",
    "AudienceRule",
    "Rule",
    "RuleSet",
    "load_rules",
    "shipped_rules",
]

DEFAULT_RULES_DIR = Path(__file__).parent.parent / "rules"
Audience = Literal["individuals", "regulator", "consumer_reporting_agencies", "media"]
AUDIENCES: tuple[str, ...] = get_args(Audience)
Clock = Literal["aware_at", "determined_at"]
Level = Literal["any", "risk", "high"]
Exemption = Literal["encrypted_unless_key_taken"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AudienceRule(_Strict):
    """When and how one audience must be told."""

    recipient: str = ""
    when: Level = "any"  # the risk level from which notice is owed
    min_affected: int = Field(default=1, ge=1)  # notifiable residents needed
    also_if_total_at_least: int | None = Field(default=None, ge=1)  # scale alone makes it owed
    deadline_hours: int | None = Field(default=None, ge=0)
    deadline_days: int | None = Field(default=None, ge=0)
    deadline_business_days: int | None = Field(default=None, ge=0)
    below_min_year_end_days: int | None = Field(default=None, ge=0)  # HIPAA's annual log
    deadline_text: str = "without unreasonable delay"
    clock: Clock = "determined_at"
    contents: tuple[str, ...] = ()
    exemptions: tuple[Exemption, ...] = ()
    citation: str = ""

    @property
    def has_fixed_deadline(self) -> bool:
        return any(
            v is not None
            for v in (self.deadline_hours, self.deadline_days, self.deadline_business_days)
        )


class Rule(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]{2,40}$")
    name: str
    applies_to: tuple[str, ...] = Field(min_length=1)
    citation: str
    source: str
    last_reviewed: date
    sector: str | None = None  # e.g. hipaa: applies only when the incident has that flag
    triggers: Literal["any"] | tuple[tuple[str, ...], ...] = "any"
    audiences: dict[str, AudienceRule]
    notes: str = ""

    @field_validator("audiences")
    @classmethod
    def _known_audiences(cls, value: dict[str, AudienceRule]) -> dict[str, AudienceRule]:
        for name in value:
            if name not in AUDIENCES:
                raise ValueError(f"unknown audience {name!r}; audiences are {', '.join(AUDIENCES)}")
        return value

    @field_validator("triggers")
    @classmethod
    def _known_categories(cls, value: Any) -> Any:
        if value != "any":
            for combo in value:
                for name in combo:
                    if name not in CATEGORIES:
                        raise ValueError(f"unknown data category {name!r} in a trigger")
        return value

    def trigger_masks(self) -> tuple[int, ...] | None:
        """The masks any one of which makes an exposure notifiable; None: any personal data."""
        if self.triggers == "any":
            return None
        return tuple(mask_of(combo) for combo in self.triggers)


class RuleSet:
    """Every rule, indexed by the jurisdiction codes they apply to."""

    def __init__(self, rules: list[Rule], version: str, files: dict[str, str]) -> None:
        self.rules = rules
        self.version = version
        self.files = files  # {file name: its own version}
        self._by_code: dict[str, list[Rule]] = {}
        for rule in rules:
            for code in rule.applies_to:
                self._by_code.setdefault(code, []).append(rule)

    def for_jurisdiction(self, code: str, sectors: frozenset[str]) -> list[Rule]:
        """The rules for a customer's code: the code itself, else its country (`CA-ON` → `CA`);
        sector rules only when the incident carries their flag."""
        found = self._by_code.get(code)
        if found is None and "-" in code:
            found = self._by_code.get(code.split("-", 1)[0])
        return [r for r in (found or []) if r.sector is None or r.sector in sectors]

    def codes(self) -> list[str]:
        return sorted(self._by_code)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _rules_of(name: str, data: Any) -> tuple[str, list[Rule]]:
    if not isinstance(data, dict) or "version" not in data or "rules" not in data:
        raise InvalidInput(f"rules file {name}: needs a version and rules")
    templates: dict[str, Any] = data.get("templates") or {}
    groups: dict[str, list[str]] = data.get("groups") or {}
    audience_templates: dict[str, Any] = data.get("audience_templates") or {}
    rules = []
    for i, raw in enumerate(data["rules"]):
        raw = dict(raw)
        extends = raw.pop("extends", None)
        if extends is not None:
            if extends not in templates:
                raise InvalidInput(f"rules file {name}: rule {i} extends unknown {extends!r}")
            raw = _merge(templates[extends], raw)
        raw["audiences"] = {
            name: _merge(audience_templates.get(name, {}), given or {})
            for name, given in (raw.get("audiences") or {}).items()
        }
        extra = raw.pop("add_triggers", None)
        if extra:
            raw["triggers"] = [*raw.get("triggers", []), *extra]
        codes: list[str] = []
        for code in raw.get("applies_to", []):
            codes.extend(groups.get(code, [code]))
        raw["applies_to"] = codes
        try:
            rules.append(Rule.model_validate(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InvalidInput(
                f"rules file {name}: rule {raw.get('id', i)!r}: {where}: {first['msg']}"
            ) from None
    return str(data["version"]), rules


def load_rules(directory: Path) -> RuleSet:
    """Every `*.yaml` rule file in `directory`; InvalidInput names a bad rule and field."""
    if not directory.is_dir():
        raise InvalidInput(f"{directory}: not a directory of rule files")
    rules: list[Rule] = []
    files: dict[str, str] = {}
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.yaml")):
        text = read_text_file(path)
        digest.update(path.name.encode() + b"\0" + text.encode())
        version, found = _rules_of(path.name, load_yaml(text, f"rules file {path.name}"))
        files[path.name] = version
        rules.extend(found)
    if not rules:
        raise InvalidInput(f"{directory}: no rules (*.yaml) found")
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise InvalidInput(f"rule id {rule.id!r} is used twice")
        seen.add(rule.id)
    version = max(files.values()) + "+" + digest.hexdigest()[:8]
    return RuleSet(rules, version, files)


@cache
def shipped_rules() -> RuleSet:
    return load_rules(DEFAULT_RULES_DIR)
