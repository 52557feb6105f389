"""What goes in and out of cases: intake, the case as an agent sees it, the inbox, figures."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CHANNELS",
    "MAX_BODY",
    "STATUSES",
    "CaseChannel",
    "CaseDetail",
    "CaseEventOut",
    "CaseIn",
    "CaseLinkKind",
    "CaseOpened",
    "CaseStatus",
    "CaseSummary",
    "InboxPage",
    "SlaReport",
]

# The one list of each: request models and query parameters take these types (so validation and
# the OpenAPI enum are the same), services and pages the tuples made from them.
CaseChannel = Literal["api", "web", "email", "csv", "feedback", "phone", "social", "alert"]
CaseStatus = Literal[
    "new",
    "open",
    "waiting_on_customer",
    "waiting_on_third_party",
    "resolved",
    "closed",
    "reopened",
]
CaseLinkKind = Literal["case", "fraud_review", "incident", "privacy_request"]
CHANNELS: tuple[str, ...] = get_args(CaseChannel)
STATUSES: tuple[str, ...] = get_args(CaseStatus)
MAX_BODY = 20_000  # characters: a complaint, not a document (attachments travel separately)


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel: CaseChannel = Field(default="api", description="Where the complaint came in.")
    external_id: str = Field(
        min_length=1, max_length=128, description="The channel's id: repeats are the same case."
    )
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=MAX_BODY)
    customer: str | None = Field(
        default=None, max_length=128, description="The customer's external id, when known."
    )
    email: str | None = Field(
        default=None, max_length=254, description="The sender's email (matched to customers)."
    )
    name: str | None = Field(default=None, max_length=200, description="The sender's name.")
    at: datetime | None = Field(default=None, description="When the complaint was made.")


class CaseOpened(BaseModel):
    """The contract of `cases open --json` and `POST /api/v1/cases`."""

    id: int
    category: str
    probability: float
    queue: str
    priority: str
    first_response_due: datetime | None
    status: str
    created: bool = Field(description="False when the (channel, external id) was already known.")


class CaseSummary(BaseModel):
    """An inbox row: no personal data but the subject, decrypted only for those allowed."""

    id: int
    channel: str
    queue: str
    priority: str
    category: str
    status: str
    assignee: str | None
    opened_at: datetime
    first_response_due: datetime | None
    resolution_due: datetime | None
    sla_state: str
    subject: str | None = None


class InboxPage(BaseModel):
    items: list[CaseSummary]
    next_cursor: int | None = Field(description="Pass as `cursor` to get the next page.")


class CaseEventOut(BaseModel):
    id: int
    at: datetime
    actor: str
    kind: str
    detail: dict[str, Any]
    text: str | None = None


class CaseDetail(CaseSummary):
    external_id: str
    probability: float
    customer: str | None
    contact_id: int | None
    segment: str | None
    team: str | None
    body: str | None = None
    playbook: str | None
    playbook_steps: list[str]
    playbook_done: int
    first_response_at: datetime | None
    next_update_due: datetime | None
    resolved_at: datetime | None
    paused: bool
    reopen_count: int
    merged_into: int | None
    links: list[dict[str, str]]
    events: list[CaseEventOut]


class SlaReport(BaseModel):
    evaluated: int
    amber: int
    breached: int
    newly_breached: list[int]
