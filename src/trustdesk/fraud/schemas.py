"""What goes in and out of the fraud capability: transactions, decisions, labels, reports."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from importlib.resources import files

from pydantic import BaseModel, ConfigDict, Field, field_validator

from trustdesk.bounds import Instant

__all__ = [
    "CHANNELS",
    "CaseOut",
    "Decided",
    "ImportReport",
    "LabelIn",
    "LabelKind",
    "Limits",
    "RowError",
    "ScoreOut",
    "StepUpIn",
    "StepUpOut",
    "StepUpOutcome",
    "TransactionIn",
    "currencies",
]

CHANNELS = ("pos", "online", "mobile", "atm", "phone")
_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$"


@lru_cache(maxsize=1)
def currencies() -> frozenset[str]:
    """ISO 4217 codes shipped in `currencies.txt`."""
    text = (files("trustdesk.fraud") / "currencies.txt").read_text(encoding="utf-8")
    lines = (line for line in text.splitlines() if not line.startswith("#"))
    return frozenset(code for line in lines for code in line.split())


class LabelKind(StrEnum):
    FRAUD = "fraud"
    CHARGEBACK = "chargeback"
    GENUINE = "genuine"

    @property
    def is_fraud(self) -> bool:
        return self is not LabelKind.GENUINE


class StepUpOutcome(StrEnum):
    """What the customer did when a payment asked for a second factor."""

    PASSED = "passed"
    FAILED = "failed"
    ABANDONED = "abandoned"

    @property
    def needs_review(self) -> bool:
        """Failed or abandoned: for an analyst (a thief stopped, or a genuine customer lost)."""
        return self is not StepUpOutcome.PASSED


class TransactionIn(BaseModel):
    """One payment to score or store. Ids only: no names, card numbers or contact details."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    transaction_id: str = Field(pattern=_ID, description="The payment's id, unique for good.")
    at: Instant = Field(description="When it happened; without a zone it is read as UTC.")
    customer_id: str = Field(pattern=_ID, description="Card or customer id (external).")
    terminal_id: str = Field(pattern=_ID, description="Terminal or merchant id.")
    amount: Decimal = Field(max_digits=14, decimal_places=2)
    currency: str = Field("EUR", min_length=3, max_length=3)
    channel: str = Field(
        "pos",
        json_schema_extra={"enum": list(CHANNELS)},  # the validator below checks the same tuple
        description=f"One of {', '.join(CHANNELS)}.",
    )
    device_id: str | None = Field(None, pattern=_ID)
    country: str | None = Field(None, pattern=r"^[A-Z]{2}$", description="ISO 3166 alpha-2.")

    @field_validator("currency", "country", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        if value not in CHANNELS:
            raise ValueError(f"unknown channel {value!r} (use {', '.join(CHANNELS)})")
        return value

    def content_hash(self) -> str:
        """Fingerprint of the content, to tell a resent payment from a different one."""
        parts = (
            self.transaction_id,
            self.at.isoformat(),
            self.customer_id,
            self.terminal_id,
            f"{self.amount:.2f}",
            self.currency,
            self.channel,
            self.device_id or "",
            self.country or "",
        )
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Decided:
    """What the scorer concluded about one transaction, to store with it."""

    score: float
    decision: str
    model_decision: str
    reasons: list[str]
    rules_fired: list[str]
    model_version: str
    rules_version: int


class Limits(BaseModel):
    """Intake checks beyond the types: set per deployment (see Settings.fraud_*)."""

    max_amount: Decimal = Decimal("50000")
    clock_skew_s: int = 300


class ScoreOut(BaseModel):
    transaction_id: str
    score: float | None = Field(description="Fraud probability 0..1 (none: stored unscored).")
    decision: str | None = Field(description="approve, step_up, review or decline.")
    model_decision: str | None = None
    reasons: list[str] = Field(description="Why, in plain words: the model's and rules'.")
    rules_fired: list[str]
    model_version: str | None
    rules_version: int | None
    duplicate: bool = Field(False, description="True: the stored decision of an earlier call.")


class LabelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: LabelKind
    known_at: Instant | None = Field(None, description="When it became known; default now.")
    source: str = Field("api", pattern=r"^[a-z][a-z0-9_]{0,31}$")


class StepUpIn(BaseModel):
    """The outcome of a payment's second-factor challenge, reported by the payment system."""

    model_config = ConfigDict(extra="forbid")

    outcome: StepUpOutcome
    at: Instant | None = Field(
        None, description="When the customer passed, failed or gave up; default now (UTC)."
    )


class StepUpOut(BaseModel):
    transaction_id: str
    outcome: StepUpOutcome
    at: datetime = Field(description="When the customer passed, failed or gave up.")
    reported_at: datetime
    reported_by: str = Field(description="The staff user or API token that reported it.")


class RowError(BaseModel):
    row: int
    transaction_id: str | None
    reason: str


class ImportReport(BaseModel):
    created: int = 0
    unchanged: int = 0
    labels: int = 0
    rejected: list[RowError] = Field(default_factory=list)


class CaseOut(BaseModel):
    """A transaction as an analyst sees it, with the labels known so far."""

    transaction_id: str
    at: datetime
    customer_id: str
    terminal_id: str
    amount: Decimal
    currency: str
    channel: str
    device_id: str | None
    country: str | None
    score: float | None
    decision: str | None
    reasons: list[str]
    rules_fired: list[str]
    model_version: str | None
    rules_version: int | None
    labels: list[tuple[str, str, datetime]] = Field(description="(label, source, known_at)")
    step_up: StepUpOut | None = Field(
        None, description="The second-factor challenge's outcome, once reported."
    )
