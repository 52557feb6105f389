"""The consent policy: purposes, channels, legal bases and the default regime per jurisdiction.

Pure data and decisions, no database: `decide` turns a stored record (or its absence) into an
answer with its reason. The policy is read from the YAML shipped in this package, or from the file
named by the `consent_policy_file` setting.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from trustdesk.errors import ConfigurationError, DomainError, InvalidInput
from trustdesk.input_files import load_yaml, read_text_file

__all__ = [
    "KEY_PATTERN",
    "Channel",
    "ConsentState",
    "Decision",
    "LegalBasis",
    "Policy",
    "Purpose",
    "Reason",
    "Regime",
    "load_policy",
]

# What a purpose, channel or legal basis key is (the policy refuses any other): request models
# declare it as their `pattern`, since the keys themselves are the operator's (a policy file).
KEY_PATTERN = r"^[a-z0-9_]+$"


class ConsentState(StrEnum):
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"


class Regime(StrEnum):
    OPT_IN = "opt_in"  # no record means no
    OPT_OUT = "opt_out"  # allowed until the customer says no


class Reason(StrEnum):
    RECORD = "record"  # the customer's own choice decides
    DEFAULT_REGIME = "default_regime"  # no choice recorded: the jurisdiction's regime decides
    LEGAL_OBLIGATION = "legal_obligation"  # the purpose does not rest on consent


@dataclass(frozen=True)
class LegalBasis:
    key: str
    label: str
    exempt: bool  # True: not based on consent, always allowed, never granted or withdrawn


@dataclass(frozen=True)
class Channel:
    key: str
    label: str


@dataclass(frozen=True)
class Purpose:
    key: str
    label: str
    explanation: str
    basis: LegalBasis
    channels: tuple[str, ...]

    @property
    def optional(self) -> bool:
        """Whether the customer chooses: every purpose not on an exempt legal basis."""
        return not self.basis.exempt


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: Reason
    regime: Regime | None = None  # the regime that applied, when no record did
    legal_basis: str = ""


@dataclass(frozen=True)
class _Jurisdiction:
    default: Regime
    rules: Mapping[tuple[str, str | None], Regime] = field(default_factory=dict)


@dataclass(frozen=True)
class Policy:
    version: str
    purposes: Mapping[str, Purpose]
    channels: Mapping[str, Channel]
    default_regime: Regime
    jurisdictions: Mapping[str, _Jurisdiction]
    groups: Mapping[str, str]  # member country → group name (DE → EU)

    # --- validation of what callers send -------------------------------------------------------

    def purpose(self, key: str) -> Purpose:
        found = self.purposes.get(key)
        if found is None:
            raise InvalidInput(
                f"unknown purpose {key!r}; known purposes: {', '.join(self.purposes)}"
            )
        return found

    def channel(self, key: str) -> Channel:
        found = self.channels.get(key)
        if found is None:
            raise InvalidInput(
                f"unknown channel {key!r}; known channels: {', '.join(self.channels)}"
            )
        return found

    def pair(self, purpose: str, channel: str) -> Purpose:
        """The purpose, if it exists and is ever carried out over `channel` (else InvalidInput)."""
        found = self.purpose(purpose)
        self.channel(channel)
        if channel not in found.channels:
            raise InvalidInput(
                f"purpose {purpose!r} does not use channel {channel!r}; "
                f"it uses {', '.join(found.channels)}"
            )
        return found

    def optional_pairs(self) -> list[tuple[str, str]]:
        """Every (purpose, channel) a customer chooses about, in policy order."""
        return [(p.key, c) for p in self.purposes.values() if p.optional for c in p.channels]

    # --- decisions -----------------------------------------------------------------------------

    def regime(self, jurisdiction: str | None, purpose: str, channel: str) -> Regime:
        """The default for a customer without a record: most specific jurisdiction and rule wins."""
        for place in self._places(jurisdiction):
            found = self.jurisdictions.get(place)
            if found is None:
                continue
            return (
                found.rules.get((purpose, channel))
                or found.rules.get((purpose, None))
                or found.default
            )
        return self.default_regime

    def _places(self, jurisdiction: str | None) -> list[str]:
        if not jurisdiction:
            return []
        country = jurisdiction.split("-", 1)[0]
        places = [jurisdiction] if country != jurisdiction else []
        places.append(country)
        group = self.groups.get(country)
        if group:
            places.append(group)
        return places

    def decide(
        self, purpose: Purpose, channel: str, jurisdiction: str | None, state: str | None
    ) -> Decision:
        """Allowed or not, and why: exempt purposes always; else the record; else the regime."""
        if not purpose.optional:
            return Decision(True, Reason.LEGAL_OBLIGATION, legal_basis=purpose.basis.key)
        if state is not None:
            return Decision(
                state == ConsentState.GRANTED, Reason.RECORD, legal_basis=purpose.basis.key
            )
        regime = self.regime(jurisdiction, purpose.key, channel)
        return Decision(
            regime is Regime.OPT_OUT, Reason.DEFAULT_REGIME, regime, legal_basis=purpose.basis.key
        )


def _key(kind: str, value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(KEY_PATTERN, value):
        raise ConfigurationError(f"consent policy: {kind} {value!r} must be a lowercase identifier")
    return value


def _regime(value: object, where: str) -> Regime:
    try:
        return Regime(str(value))
    except ValueError:
        raise ConfigurationError(
            f"consent policy: {where}: regime must be opt_in or opt_out, not {value!r}"
        ) from None


def parse_policy(raw: Mapping[str, Any]) -> Policy:
    """Build and check a policy from its YAML structure; mistakes are configuration errors."""
    try:
        bases = {
            _key("legal basis", k): LegalBasis(k, str(v["label"]), bool(v.get("exempt", False)))
            for k, v in raw["legal_bases"].items()
        }
        channels = {
            _key("channel", k): Channel(k, str(v["label"])) for k, v in raw["channels"].items()
        }
        purposes: dict[str, Purpose] = {}
        for key, spec in raw["purposes"].items():
            basis = bases.get(spec["legal_basis"])
            if basis is None:
                raise ConfigurationError(
                    f"consent policy: purpose {key!r} has unknown legal basis "
                    f"{spec['legal_basis']!r}"
                )
            used = tuple(spec.get("channels") or channels)
            unknown = [c for c in used if c not in channels]
            if unknown:
                raise ConfigurationError(
                    f"consent policy: purpose {key!r} names unknown channels {unknown}"
                )
            purposes[_key("purpose", key)] = Purpose(
                key, str(spec["label"]), str(spec.get("explanation", "")), basis, used
            )
        regimes = raw.get("regimes") or {}
        jurisdictions: dict[str, _Jurisdiction] = {}
        for place, spec in (regimes.get("jurisdictions") or {}).items():
            rules: dict[tuple[str, str | None], Regime] = {}
            for rule in spec.get("rules") or ():
                purpose, channel = rule["purpose"], rule.get("channel")
                if purpose not in purposes or (channel is not None and channel not in channels):
                    raise ConfigurationError(
                        f"consent policy: {place}: rule names an unknown purpose or channel"
                    )
                rules[(purpose, channel)] = _regime(rule["regime"], str(place))
            jurisdictions[str(place).upper()] = _Jurisdiction(
                _regime(spec.get("default", "opt_in"), str(place)), rules
            )
        groups = {
            str(member).upper(): str(name).upper()
            for name, members in (raw.get("groups") or {}).items()
            for member in members
        }
        return Policy(
            version=str(raw["version"]),
            purposes=purposes,
            channels=channels,
            default_regime=_regime(regimes.get("default", "opt_in"), "default"),
            jurisdictions=jurisdictions,
            groups=groups,
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigurationError(f"consent policy is malformed: missing or wrong {exc}") from None


@lru_cache(maxsize=8)
def load_policy(path: Path | None = None) -> Policy:
    """The policy in `path`, or the shipped default; read once per process and path."""
    if path is None:
        text = (files("trustdesk.privacy") / "default_policy.yaml").read_text(encoding="utf-8")
    try:
        if path is not None:
            text = read_text_file(path)
        raw = load_yaml(text, "the file")
    except DomainError as exc:  # an operator's file: a configuration error (exit 8)
        raise ConfigurationError(f"consent policy file: {exc.detail}") from None
    if not isinstance(raw, dict):
        raise ConfigurationError("the consent policy must be a YAML mapping")
    return parse_policy(raw)
