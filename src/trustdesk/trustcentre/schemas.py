"""Request and answer shapes of the trust-centre and risk-register API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from trustdesk.bounds import RowId

__all__ = [
    "LinkIn",
    "PromiseOut",
    "RiskCategory",
    "RiskIn",
    "RiskLinkKind",
    "RiskPatch",
    "RiskStatus",
    "RiskTreatment",
    "SectionIn",
    "StatementIn",
    "StatementOut",
]

Scale = Field(ge=1, le=5)

# The risk register's vocabularies: `risks.py` checks against the tuples made from these, the
# request models below take them as types (so the OpenAPI document lists them as enums).
RiskCategory = Literal["fraud", "privacy", "security", "service", "reputation"]
RiskTreatment = Literal["mitigate", "accept", "transfer", "avoid"]
RiskStatus = Literal["open", "closed"]
RiskLinkKind = Literal["incident", "alert", "fraud_spike", "case"]


class StatementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=20_000)
    incident_id: RowId | None = None


class StatementOut(BaseModel):
    id: int
    title: str
    body: str
    incident_id: int | None
    published_at: datetime


class PromiseOut(BaseModel):
    promise: str
    measure: str
    value: float | None
    target: float
    kept: bool | None
    n: int
    period: str
    how: str
    minimum: int


class SectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=50_000, description="Markdown (HTML is escaped).")
    owner: str = Field(min_length=1, max_length=64)
    kind: str = Field(default="practice", pattern=r"^(practice|faq|document)$")
    review_due: datetime | None = None
    position: int = Field(default=100, ge=0, le=10_000)


class RiskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    category: RiskCategory
    likelihood: int = Scale
    impact: int = Scale
    owner: str = Field(min_length=1, max_length=64)
    description: str = Field(default="", max_length=10_000)
    residual_likelihood: int | None = Field(default=None, ge=1, le=5)
    residual_impact: int | None = Field(default=None, ge=1, le=5)
    controls: str = Field(default="", max_length=10_000)
    treatment: RiskTreatment = "mitigate"
    treatment_plan: str = Field(default="", max_length=10_000)
    review_every_days: int = Field(default=90, ge=1, le=3650)


class RiskPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, min_length=1, max_length=200)
    category: RiskCategory | None = None
    likelihood: int | None = Field(default=None, ge=1, le=5)
    impact: int | None = Field(default=None, ge=1, le=5)
    owner: str | None = Field(default=None, min_length=1, max_length=64)
    description: str | None = Field(default=None, max_length=10_000)
    residual_likelihood: int | None = Field(default=None, ge=1, le=5)
    residual_impact: int | None = Field(default=None, ge=1, le=5)
    controls: str | None = Field(default=None, max_length=10_000)
    treatment: RiskTreatment | None = None
    treatment_plan: str | None = Field(default=None, max_length=10_000)
    status: RiskStatus | None = None
    review_every_days: int | None = Field(default=None, ge=1, le=3650)

    def given(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: RiskLinkKind
    ref: str = Field(min_length=1, max_length=64)
    note: str = Field(default="", max_length=2000)
