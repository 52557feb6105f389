"""What goes in and out of cases: intake, the case as an agent sees it, the inbox, figures."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

__all__ = [
    "CHANNELS",
    "MAX_BODY",
    "NOT_BLANK",
    "NO_NUL",
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
    "Text",
    "Words",
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
NO_NUL = r"^[^\x00]*$"
# ...and something besides white space (Python's, which also counts \x1c-\x1f): what is stripped.
NOT_BLANK = r"^[^\x00]*[^\s\x00\x1c-\x1f][^\x00]*$"


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("is empty (only white space)")
    return value


class _Pattern:
    """A text type's JSON schema: the string's own, with the pattern its validators check."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema: dict[str, Any] = handler(core_schema)
        schema["pattern"] = self.pattern
        return schema


Text = Annotated[str, AfterValidator(_no_nul), _Pattern(NO_NUL)]
"""Text without NUL characters (PostgreSQL stores none): checked, and stated in the schema."""
Words = Annotated[str, AfterValidator(_no_nul), AfterValidator(_not_blank), _Pattern(NOT_BLANK)]
"""Text as `Text`, and not only white space."""

MAX_BODY = 20_000  # characters: a complaint, not a document (attachments travel separately)


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel: CaseChannel = Field(default="api", description="Where the complaint came in.")
    external_id: Text = Field(
        min_length=1,
        max_length=128,
        description="The channel's id: repeats are the same case.",
    )
    subject: Text = Field(min_length=1, max_length=300)
    body: Text = Field(min_length=1, max_length=MAX_BODY)
    customer: Text | None = Field(
        default=None,
        max_length=128,
        description="The customer's external id, when known.",
    )
    email: Text | None = Field(
        default=None,
        max_length=254,
        description="The sender's email (matched to customers).",
    )
    name: Text | None = Field(default=None, max_length=200, description="The sender's name.")
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
