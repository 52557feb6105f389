"""The data map: systems, the personal data each holds, why, on what basis, for how long, who
receives it and where it is transferred. Validated with Pydantic (errors name the bad field),
stored as numbered versions that are never changed.

Version 0 is the map shipped with TrustDesk (`default_datamap.yaml`) until one is saved.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trustdesk.errors import Conflict, InvalidInput, NotFound
from trustdesk.input_files import load_yaml
from trustdesk.privacy.models import DataMapVersion

__all__ = [
    "DEFAULT_DATAMAP",
    "Category",
    "DataMap",
    "LegalBasis",
    "RetentionRule",
    "StoredDataMap",
    "System",
    "current",
    "load_version",
    "parse_datamap",
    "parse_yaml",
    "store",
    "versions",
]

DEFAULT_DATAMAP = Path(__file__).parent.parent / "default_datamap.yaml"


class Category(StrEnum):
    IDENTITY = "identity"
    CONTACT = "contact"
    FINANCIAL = "financial"
    LOCATION = "location"
    BEHAVIOURAL = "behavioural"
    COMMUNICATIONS = "communications"
    TECHNICAL = "technical"
    SPECIAL = "special"

    @property
    def label(self) -> str:
        return _CATEGORY_LABELS[self]


_CATEGORY_LABELS = {
    Category.IDENTITY: "who you are (name, date of birth)",
    Category.CONTACT: "how to reach you (email, phone, postal address)",
    Category.FINANCIAL: "payment and transaction details",
    Category.LOCATION: "where you are or were",
    Category.BEHAVIOURAL: "how you use our services and the choices you make",
    Category.COMMUNICATIONS: "what you write to us",
    Category.TECHNICAL: "device and connection data (IP address, browser)",
    Category.SPECIAL: "special categories (health, beliefs, biometrics and similar)",
}


class LegalBasis(StrEnum):
    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTERESTS = "vital_interests"
    PUBLIC_TASK = "public_task"
    LEGITIMATE_INTEREST = "legitimate_interest"

    @property
    def label(self) -> str:
        """Completes "We use it for X, because …"."""
        return _BASIS_LABELS[self]


_BASIS_LABELS = {
    LegalBasis.CONSENT: "you agreed to it, and you can withdraw your consent at any time",
    LegalBasis.CONTRACT: "it is needed to provide the service you signed up for",
    LegalBasis.LEGAL_OBLIGATION: "the law requires it",
    LegalBasis.VITAL_INTERESTS: "it is needed to protect someone's life",
    LegalBasis.PUBLIC_TASK: "it is a task carried out in the public interest",
    LegalBasis.LEGITIMATE_INTEREST: "it is in our legitimate interests, and you can object to it",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Controller(_Strict):
    name: str = Field(min_length=1, max_length=200)
    contact_email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    address: str = Field(min_length=1, max_length=500)
    supervisory_authority: str = Field(min_length=1, max_length=300)


class PurposeUse(_Strict):
    purpose: str = Field(min_length=3, max_length=300)
    legal_basis: LegalBasis


class Recipient(_Strict):
    name: str = Field(min_length=1, max_length=200)
    role: str = Field(pattern=r"^(processor|controller|authority)$")


class Transfer(_Strict):
    destination: str = Field(min_length=2, max_length=100)
    safeguard: str = Field(min_length=3, max_length=300)


class RetentionRule(_Strict):
    """What the retention job does once a record of this system is older than `days` (from when
    it was made; closed requests: from when they were closed)."""

    days: int = Field(ge=1, le=36_500)
    action: str = Field(pattern=r"^(delete|anonymise)$")


class System(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=1000)
    categories: list[Category] = Field(min_length=1)
    purposes: list[PurposeUse] = Field(min_length=1)
    retention: str = Field(min_length=3, max_length=300)
    retention_rule: RetentionRule | None = None
    recipients: list[Recipient] = Field(default_factory=list)
    transfers: list[Transfer] = Field(default_factory=list)


class DataMap(_Strict):
    controller: Controller
    systems: list[System] = Field(min_length=1)

    @field_validator("systems")
    @classmethod
    def _unique_ids(cls, systems: list[System]) -> list[System]:
        seen: set[str] = set()
        for system in systems:
            if system.id in seen:
                raise ValueError(f"system id {system.id!r} is used twice")
            seen.add(system.id)
        return systems

    def canonical_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class StoredDataMap:
    version: int
    created_at: datetime | None
    actor: str
    datamap: DataMap


def parse_datamap(raw: Any) -> DataMap:
    """A validated data map; InvalidInput names every bad field (`systems[1].categories[0]`)."""
    try:
        return DataMap.model_validate(raw)
    except ValidationError as exc:
        reasons = []
        for error in exc.errors():
            path = "".join(
                f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p))
                for i, p in enumerate(error["loc"])
            )
            message = str(error["msg"]).removeprefix("Value error, ")
            reasons.append(f"{path or 'data map'}: {message}")
        raise InvalidInput("invalid data map: " + "; ".join(reasons)) from None


def parse_yaml(text: str) -> DataMap:
    return parse_datamap(load_yaml(text, "the data map"))


def _default() -> StoredDataMap:
    return StoredDataMap(0, None, "shipped", parse_yaml(DEFAULT_DATAMAP.read_text("utf-8")))


def _stored(row: DataMapVersion) -> StoredDataMap:
    return StoredDataMap(
        row.version, row.created_at, row.actor, parse_datamap(json.loads(row.content))
    )


def current(session: Session) -> StoredDataMap:
    """The latest saved version, or the shipped map (version 0) before any was saved."""
    row = session.scalar(select(DataMapVersion).order_by(DataMapVersion.version.desc()).limit(1))
    return _default() if row is None else _stored(row)


def load_version(session: Session, version: int) -> StoredDataMap:
    if version == 0:
        return _default()
    row = session.get(DataMapVersion, version)
    if row is None:
        raise NotFound(f"no data map version {version}")
    return _stored(row)


def versions(session: Session) -> list[StoredDataMap]:
    """Every version, newest first (the shipped version 0 last)."""
    rows = session.scalars(select(DataMapVersion).order_by(DataMapVersion.version.desc()))
    return [*(_stored(r) for r in rows), _default()]


def store(session: Session, datamap: DataMap, *, actor: str, now: datetime) -> int | None:
    """Saves `datamap` as the next version; None when it equals the current one (no change)."""
    if current(session).datamap == datamap:
        return None
    latest = session.scalar(select(func.max(DataMapVersion.version))) or 0
    content = datamap.canonical_json()
    row = DataMapVersion(
        version=latest + 1,
        created_at=now,
        actor=actor,
        content=content,
        sha256=hashlib.sha256(content.encode()).hexdigest(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Conflict("the data map was changed at the same time; load it again") from None
    return row.version
