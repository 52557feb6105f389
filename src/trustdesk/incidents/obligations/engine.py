"""The obligations engine: incident facts + affected customers grouped by (jurisdiction,
category mask) + rules → one obligation per (jurisdiction, audience). Pure: no database.

Where several rules reach the same jurisdiction and audience (a US state's law and HIPAA), the
strictest wins: required if any requires it, due at the earliest fixed deadline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from trustdesk.incidents.categories import SENSITIVE, mask_of, names_of
from trustdesk.incidents.obligations.rules import AUDIENCES, AudienceRule, Rule, RuleSet

__all__ = ["Facts", "Group", "Obligation", "evaluate", "risk_level"]

_SENSITIVE_MASK = mask_of(SENSITIVE)
_LEVELS = {"unlikely": 0, "risk": 1, "high": 2}
_NEEDED = {"any": 0, "risk": 1, "high": 2}


@dataclass(frozen=True)
class Facts:
    aware_at: datetime
    determined_at: datetime | None = None
    risk: str | None = None  # unlikely | risk | high; None: judged from the data exposed
    sectors: frozenset[str] = frozenset()
    data_encrypted: bool = False
    key_compromised: bool = False


@dataclass(frozen=True)
class Group:
    jurisdiction: str
    mask: int
    customers: int


@dataclass(frozen=True)
class Obligation:
    jurisdiction: str
    audience: str
    required: bool
    due_at: datetime | None
    affected: int
    basis: str
    law: str = ""
    rule_ids: tuple[str, ...] = ()
    clock_starts: datetime | None = None
    recipient: str = ""
    deadline_text: str = ""
    contents: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        return {
            "jurisdiction": self.jurisdiction,
            "audience": self.audience,
            "required": self.required,
            "due_at": _iso(self.due_at),
            "affected": self.affected,
            "basis": self.basis,
            "law": self.law,
            "rules": list(self.rule_ids),
            "clock_starts": _iso(self.clock_starts),
            "recipient": self.recipient,
            "deadline": self.deadline_text,
            "contents": list(self.contents),
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def risk_level(facts: Facts, groups: Iterable[Group]) -> str:
    """The risk to people: as set on the incident, else high when sensitive data was exposed."""
    if facts.risk is not None:
        return facts.risk
    return "high" if any(g.mask & _SENSITIVE_MASK for g in groups if g.customers) else "risk"


def _add_business_days(start: datetime, days: int) -> datetime:
    at, left = start, days
    while left > 0:
        at += timedelta(days=1)
        if at.weekday() < 5:
            left -= 1
    return at


def _due(audience: AudienceRule, start: datetime, notifiable: int) -> datetime | None:
    if audience.below_min_year_end_days is not None and notifiable < audience.min_affected:
        year_end = datetime.combine(date(start.year, 12, 31), start.timetz())
        return max(start, year_end + timedelta(days=audience.below_min_year_end_days))
    if audience.deadline_hours is not None:
        return start + timedelta(hours=audience.deadline_hours)
    if audience.deadline_days is not None:
        return start + timedelta(days=audience.deadline_days)
    if audience.deadline_business_days is not None:
        return _add_business_days(start, audience.deadline_business_days)
    return None


def _notifiable(rule: Rule, groups: list[Group]) -> int:
    masks = rule.trigger_masks()
    if masks is None:
        return sum(g.customers for g in groups if g.mask)
    return sum(g.customers for g in groups if any(g.mask & m == m for m in masks))


def _one(
    rule: Rule, name: str, audience: AudienceRule, facts: Facts, groups: list[Group], level: str
) -> Obligation:
    code = groups[0].jurisdiction
    total = sum(g.customers for g in groups)
    notifiable = _notifiable(rule, groups)
    clock = facts.aware_at
    clock_note = "awareness"
    if audience.clock == "determined_at":
        clock = facts.determined_at or facts.aware_at
        clock_note = "determination" if facts.determined_at else "awareness (no determination yet)"
    cite = f"{rule.citation}{'; ' + audience.citation if audience.citation else ''}"
    reasons: list[str] = []
    required = True
    if notifiable == 0:
        required = False
        reasons.append(
            f"none of the {total} affected residents had data that {rule.name} makes notifiable"
        )
    if (
        required
        and "encrypted_unless_key_taken" in audience.exemptions
        and (facts.data_encrypted and not facts.key_compromised)
    ):
        required = False
        reasons.append("exempt: the data was encrypted and the key was not taken")
    if required and _LEVELS.get(level, 1) < _NEEDED[audience.when]:
        required = False
        reasons.append(f"owed only when the risk is {audience.when}; it is assessed as {level}")
    scale = audience.also_if_total_at_least
    if required and notifiable < audience.min_affected and audience.below_min_year_end_days is None:
        required = False
        reasons.append(
            f"{notifiable} notifiable residents, below the threshold of {audience.min_affected}"
        )
    if (
        not required
        and scale is not None
        and total >= scale
        and not (facts.data_encrypted and not facts.key_compromised)
    ):
        required = True
        reasons = [f"{total} affected residents: at least {scale}, notifiable for its scale"]
        notifiable = total
    due = _due(audience, clock, notifiable) if required else None
    if required:
        when = (
            f"due {_iso(due)} ({audience.deadline_text}, from {clock_note})"
            if due
            else f"{audience.deadline_text} (no fixed period)"
        )
        who = f" to {audience.recipient}" if audience.recipient else ""
        basis = f"{rule.name}{who}: {notifiable} notifiable resident(s); {when}. {cite}"
    else:
        basis = f"{rule.name}: not required ({'; '.join(reasons)}). {cite}"
    return Obligation(
        jurisdiction=code,
        audience=name,
        required=required,
        due_at=due,
        affected=notifiable,
        basis=basis,
        law=rule.name,
        rule_ids=(rule.id,),
        clock_starts=clock,
        recipient=audience.recipient,
        deadline_text=audience.deadline_text,
        contents=audience.contents,
    )


def _strictest(a: Obligation, b: Obligation) -> Obligation:
    first, second = (a, b) if (a.required, -_ts(a)) >= (b.required, -_ts(b)) else (b, a)
    return replace(
        first,
        affected=max(a.affected, b.affected),
        basis=f"{first.basis} | {second.basis}",
        law=f"{first.law}; {second.law}",
        rule_ids=first.rule_ids + second.rule_ids,
        contents=tuple(dict.fromkeys(first.contents + second.contents)),
    )


def _ts(o: Obligation) -> float:
    return o.due_at.timestamp() if o.due_at is not None else float("inf")


def evaluate(rules: RuleSet, facts: Facts, groups: Iterable[Group]) -> list[Obligation]:
    """One obligation per (jurisdiction, audience), sorted; a jurisdiction no rule covers gets one
    `individuals` row saying so (never silently nothing)."""
    groups = [g for g in groups if g.customers > 0]
    level = risk_level(facts, groups)
    by_place: dict[str, list[Group]] = {}
    for g in groups:
        by_place.setdefault(g.jurisdiction, []).append(g)
    found: dict[tuple[str, str], Obligation] = {}
    for code, place_groups in by_place.items():
        matched = rules.for_jurisdiction(code, facts.sectors)
        if not matched:
            total = sum(g.customers for g in place_groups)
            found[(code, "individuals")] = Obligation(
                jurisdiction=code,
                audience="individuals",
                required=False,
                due_at=None,
                affected=total,
                basis=(
                    f"no breach-notification rule covers {code!r} in rules {rules.version}: "
                    "record the customers' jurisdiction or have counsel review"
                ),
            )
            continue
        for rule in matched:
            for name, audience in rule.audiences.items():
                one = _one(rule, name, audience, facts, place_groups, level)
                key = (code, name)
                found[key] = one if key not in found else _strictest(found[key], one)
    order = {a: i for i, a in enumerate(AUDIENCES)}
    return sorted(found.values(), key=lambda o: (o.jurisdiction, order[o.audience]))


def describe_exposure(mask: int) -> list[str]:
    return names_of(mask)
