"""What the consent API and commands accept and return."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, WithJsonSchema

from trustdesk.bounds import RowId
from trustdesk.privacy.consent.policy import KEY_PATTERN, ConsentState, Reason

__all__ = [
    "CHANNEL_HELP",
    "PURPOSE_HELP",
    "BulkCheckIn",
    "BulkCheckOut",
    "ChainOut",
    "CheckOut",
    "ConsentIn",
    "ConsentVerifyOut",
    "EventOut",
    "LinkIn",
    "LinkOut",
    "PreferenceOut",
    "ProjectionMismatchOut",
    "ProjectionOut",
    "ProofEntryOut",
    "ProofOut",
    "Source",
]


class Source(StrEnum):
    """Where a consent change came from."""

    PREFERENCE_CENTRE = "preference_centre"
    API = "api"
    IMPORT = "import"
    STAFF = "staff"
    REQUEST = "request"  # carrying out a data-subject request (an objection)
    DOUBLE_OPT_IN = "double_opt_in"  # a link mailed to the address was followed (or unsubscribe)


def _not_reserved(source: Source) -> Source:
    if source is Source.PREFERENCE_CENTRE:
        raise ValueError("preference_centre is reserved for the preference centre")
    return source


RecordedSource = Annotated[
    Source,
    AfterValidator(_not_reserved),
    WithJsonSchema(
        {
            "type": "string",
            "enum": [s.value for s in Source if s is not Source.PREFERENCE_CENTRE],
            "description": "Where the change came from (preference_centre: the centre's own).",
        }
    ),
]
"""A source callers may name: any but the preference centre's, which only it records."""


class CheckOut(BaseModel):
    customer_id: str = Field(description="The customer's external id.")
    purpose: str
    channel: str
    allowed: bool
    reason: Reason = Field(
        description="record: the customer's own choice; default_regime: no choice recorded, the "
        "jurisdiction's opt-in/opt-out default decides; legal_obligation: the purpose does not "
        "rest on consent (legal obligation or contract) and is always allowed."
    )
    regime: str | None = Field(None, description="opt_in or opt_out, when the default decided.")
    legal_basis: str


PURPOSE_HELP = "A purpose key of the consent policy (`GET /api/v1/privacy/notice` lists them)."
CHANNEL_HELP = "A channel key of the consent policy, one the purpose uses."


class BulkCheckIn(BaseModel):
    customer_ids: list[str] = Field(
        min_length=1, max_length=1_000_000, description="External ids to filter."
    )
    purpose: str = Field(min_length=1, max_length=64, pattern=KEY_PATTERN, description=PURPOSE_HELP)
    channel: str = Field(min_length=1, max_length=32, pattern=KEY_PATTERN, description=CHANNEL_HELP)


class BulkCheckOut(BaseModel):
    purpose: str
    channel: str
    allowed: list[str] = Field(description="Customers who may be contacted, in the order given.")
    denied: dict[str, Reason] = Field(
        description="Customers who may not be contacted, each with the reason (record, "
        "default_regime), in the order given."
    )
    unknown: list[str] = Field(description="Ids that name no customer (never contact them).")


class ConsentIn(BaseModel):
    customer_id: str = Field(min_length=1, max_length=128, description="External id.")
    purpose: str = Field(min_length=1, max_length=64, pattern=KEY_PATTERN, description=PURPOSE_HELP)
    channel: str = Field(min_length=1, max_length=32, pattern=KEY_PATTERN, description=CHANNEL_HELP)
    state: ConsentState
    source: RecordedSource = Source.API
    notice_version: str | None = Field(
        None, max_length=64, description="The notice the customer saw; default: the current one."
    )
    expected_version: RowId | None = Field(
        None, description="Refuse (409) unless the preference is at this version (0: none)."
    )


class EventOut(BaseModel):
    id: int
    at: datetime
    customer_id: str
    purpose: str
    channel: str
    state: ConsentState
    source: str
    notice_version: str
    actor: str
    version: int | None = Field(None, description="The preference's version after this event.")


class PreferenceOut(BaseModel):
    purpose: str
    channel: str
    allowed: bool
    reason: Reason
    state: ConsentState | None
    version: int


class ChainOut(BaseModel):
    ok: bool
    checked: int
    broken_id: int | None
    reason: str | None
    head_id: int
    head_hash: str


class ProjectionMismatchOut(BaseModel):
    customer_id: str = Field(description="External id (internal id as #N if none is found).")
    purpose: str
    channel: str
    projection_state: str | None = Field(description="What consent_state says; None: no row.")
    ledger_state: str | None = Field(description="The ledger's latest event; None: no event.")
    ledger_event_id: int | None


class ProjectionOut(BaseModel):
    ok: bool
    checked: int = Field(description="Preferences compared (projection rows and ledger pairs).")
    mismatches: int
    first: list[ProjectionMismatchOut] = Field(description="Up to 20 mismatches, named.")


class ConsentVerifyOut(ChainOut):
    projection: ProjectionOut = Field(
        description="The consent_state projection compared with the ledger's latest events."
    )
    repaired: int = Field(0, description="Projection rows corrected by --repair.")


class ProofEntryOut(BaseModel):
    id: int
    at: datetime
    purpose: str
    channel: str
    state: ConsentState
    source: str
    notice_version: str
    actor: str
    prev_hash: str
    hash: str
    content_ok: bool
    link_ok: bool


class ProofOut(BaseModel):
    customer_id: str
    customer_key: int = Field(description="The internal customer id the entry hashes cover.")
    generated_at: datetime
    hash_algorithm: str = (
        "sha256 of the compact JSON array [id, at (ISO 8601), customer_id (internal), purpose, "
        "channel, state, source, notice_version, actor, prev_hash]"
    )
    entries: list[ProofEntryOut]
    entries_ok: bool = Field(description="Every entry's content and link check out.")
    chain: ChainOut = Field(description="Verification of the whole ledger at export time.")
    verified: bool = Field(description="entries_ok and the whole chain is intact.")


class LinkIn(BaseModel):
    customer_id: str = Field(min_length=1, max_length=128, description="External id.")


class LinkOut(BaseModel):
    customer_id: str
    url: str
    token: str
    expires_at: datetime
