"""What callers send and receive about data-subject requests, the data map and the notice."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from trustdesk.bounds import Instant
from trustdesk.privacy.deadlines import Regime

__all__ = [
    "ErasureReport",
    "ExtendIn",
    "RejectIn",
    "RequestIn",
    "RequestKind",
    "RequestOut",
    "RequestSource",
    "RequestStatus",
    "StepOut",
    "VerifyIn",
]


class RequestKind(StrEnum):
    ACCESS = "access"
    ERASURE = "erasure"
    RECTIFICATION = "rectification"
    OBJECTION = "objection"


class RequestStatus(StrEnum):
    RECEIVED = "received"
    IDENTITY_VERIFIED = "identity_verified"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REJECTED = "rejected"


OPEN_STATUSES = (
    RequestStatus.RECEIVED,
    RequestStatus.IDENTITY_VERIFIED,
    RequestStatus.IN_PROGRESS,
)


class RequestSource(StrEnum):
    STAFF = "staff"
    API = "api"
    CLI = "cli"
    PREFERENCE_CENTRE = "preference_centre"


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    customer_id: str = Field(min_length=1, max_length=128, description="External id.")
    type: RequestKind
    received_at: Instant | None = Field(
        None, description="When the request reached us (default: now); the clock starts here."
    )
    purposes: list[str] = Field(
        default_factory=list, description="Objection: the purposes objected to."
    )
    changes: dict[str, str | None] = Field(
        default_factory=dict,
        description="Rectification: corrected fields (name, email, phone, address, birth_date).",
    )


class VerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    method: str = Field(
        min_length=3, max_length=200, description="How identity was checked, e.g. 'email link'."
    )


class ExtendIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=3, max_length=2000, description="Why more time is needed.")


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=3, max_length=2000)


class RequestOut(BaseModel):
    id: int
    customer_id: str
    type: RequestKind
    regime: Regime
    status: RequestStatus
    source: str
    received_at: datetime
    due_at: datetime
    extended: bool
    extension_reason: str | None
    verified_at: datetime | None
    verified_by: str | None
    verification_method: str | None
    closed_at: datetime | None
    closed_by: str | None
    outcome: dict[str, Any] | None
    purposes: list[str]
    fields: list[str] = Field(description="Rectification: the fields asked to be corrected.")
    is_open: bool
    overdue: bool
    due_soon: bool = Field(description="Open and due within 7 days.")


class StepOut(BaseModel):
    at: datetime
    action: str
    actor: str
    details: dict[str, Any]


class ErasureReport(BaseModel):
    """What a verified erasure checked; `verified` only if every check held."""

    customer_id: str
    key_destroyed: bool
    stored_personal_fields: list[str]
    readable_feedback_texts: int
    export_empty: bool
    verified: bool
