"""Incident input and output shapes, shared by the API, the CLI and the pages."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from trustdesk.bounds import Instant

__all__ = [
    "AffectedCounts",
    "DecisionIn",
    "EntryOut",
    "ImportResult",
    "IncidentIn",
    "IncidentOut",
    "IncidentPatch",
    "ObligationOut",
    "Status",
    "TaskIn",
    "TaskOut",
    "UpdateIn",
]


class Status(StrEnum):
    """An incident's place in its lifecycle (the moves between them: `register/lifecycle.py`)."""

    DETECTED = "detected"
    ANALYSING = "analysing"
    CONTAINED = "contained"
    ERADICATED = "eradicated"
    RECOVERED = "recovered"
    CLOSED = "closed"


Severity = Literal["low", "medium", "high", "critical"]
Risk = Literal["unlikely", "risk", "high"]
Sector = Literal["hipaa"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class IncidentIn(_In):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    severity: Severity = "medium"
    kind: str = Field(default="unknown", max_length=32, pattern=r"^[a-z_]{1,32}$")
    aware_at: Instant
    determined_at: Instant | None = None
    occurred_from: Instant | None = None
    occurred_to: Instant | None = None
    systems: list[str] = Field(default_factory=list, max_length=100)
    categories: list[str] = Field(default_factory=list, max_length=30)
    sectors: list[Sector] = Field(default_factory=list)
    risk: Risk | None = None
    data_encrypted: bool = False
    key_compromised: bool = False
    commander: str | None = Field(default=None, max_length=64)


class IncidentPatch(_In):
    """Fields to change; those left out keep their value. A field the register always has (title,
    severity, …) cannot be removed: null for it is refused, so the document does not offer null
    (`SkipJsonSchema`); the others accept null to clear them."""

    title: Annotated[str, Field(min_length=1, max_length=200)] | SkipJsonSchema[None] = None
    description: Annotated[str, Field(max_length=20_000)] | SkipJsonSchema[None] = None
    severity: Severity | SkipJsonSchema[None] = None
    status: Status | None = None
    kind: Annotated[str, Field(pattern=r"^[a-z_]{1,32}$")] | SkipJsonSchema[None] = None
    aware_at: Instant | SkipJsonSchema[None] = None
    determined_at: Instant | None = None
    occurred_from: Instant | None = None
    occurred_to: Instant | None = None
    contained_at: Instant | None = None
    systems: list[str] | None = Field(default=None, max_length=100)
    categories: list[str] | None = Field(default=None, max_length=30)
    sectors: list[Sector] | None = None
    risk: Risk | None = None
    data_encrypted: bool | SkipJsonSchema[None] = None
    key_compromised: bool | SkipJsonSchema[None] = None
    commander: str | None = Field(default=None, max_length=64)
    public_statement: Annotated[str, Field(max_length=20_000)] | SkipJsonSchema[None] = None


class TaskIn(_In):
    title: str = Field(min_length=1, max_length=300)
    owner: str = Field(min_length=1, max_length=64)
    due_at: Instant | None = None


class UpdateIn(_In):
    text: str = Field(min_length=1, max_length=20_000)
    visibility: Literal["internal", "public"] = "internal"


class DecisionIn(_In):
    text: str = Field(min_length=1, max_length=5_000)
    reason: str = Field(min_length=1, max_length=5_000)


class TaskOut(BaseModel):
    id: int
    title: str
    owner: str
    due_at: datetime | None
    done_at: datetime | None


class EntryOut(BaseModel):
    id: int
    kind: str
    visibility: str
    text: str
    reason: str | None
    actor: str
    at: datetime


class IncidentOut(BaseModel):
    id: int
    title: str
    description: str
    severity: str
    status: str
    kind: str
    aware_at: datetime
    determined_at: datetime | None
    occurred_from: datetime | None
    occurred_to: datetime | None
    contained_at: datetime | None
    closed_at: datetime | None
    systems: list[str]
    categories: list[str]
    sectors: list[str]
    risk: str | None
    data_encrypted: bool
    key_compromised: bool
    commander: str | None
    participants: list[str]
    public_statement: str
    created_at: datetime
    updated_at: datetime
    affected: int = 0
    tasks: list[TaskOut] = Field(default_factory=list)
    timeline: list[EntryOut] = Field(default_factory=list)


class ImportResult(BaseModel):
    rows: int
    imported: int
    added: int
    changed: int
    unchanged: int
    rejected: int
    rejects_file: str | None = None


class AffectedCounts(BaseModel):
    total: int
    by_jurisdiction: dict[str, int]
    by_category: dict[str, int]


class ObligationOut(BaseModel):
    jurisdiction: str
    audience: str
    required: bool
    due_at: datetime | None
    affected: int
    basis: str
    law: str = ""
    clock_starts: str | None = None
    recipient: str | None = None
    contents: list[str] = Field(default_factory=list)
