"""Request and answer shapes of the trust-centre and risk-register API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from trustdesk.bounds import RowId

__all__ = [
    "LinkIn",
    "PromiseOut",
    "RiskIn",
    "RiskPatch",
    "SectionIn",
    "StatementIn",
    "StatementOut",
]

Scale = Field(ge=1, le=5)


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
    category: str = Field(pattern=r"^(fraud|privacy|security|service|reputation)$")
    likelihood: int = Scale
    impact: int = Scale
    owner: str = Field(min_length=1, max_length=64)
    description: str = Field(default="", max_length=10_000)
    residual_likelihood: int | None = Field(default=None, ge=1, le=5)
    residual_impact: int | None = Field(default=None, ge=1, le=5)
    controls: str = Field(default="", max_length=10_000)
    treatment: str = Field(default="mitigate", pattern=r"^(mitigate|accept|transfer|avoid)$")
    treatment_plan: str = Field(default="", max_length=10_000)
    review_every_days: int = Field(default=90, ge=1, le=3650)


class RiskPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, min_length=1, max_length=200)
    category: str | None = Field(
        default=None, pattern=r"^(fraud|privacy|security|service|reputation)$"
    )
    likelihood: int | None = Field(default=None, ge=1, le=5)
    impact: int | None = Field(default=None, ge=1, le=5)
    owner: str | None = Field(default=None, min_length=1, max_length=64)
    description: str | None = Field(default=None, max_length=10_000)
    residual_likelihood: int | None = Field(default=None, ge=1, le=5)
    residual_impact: int | None = Field(default=None, ge=1, le=5)
    controls: str | None = Field(default=None, max_length=10_000)
    treatment: str | None = Field(default=None, pattern=r"^(mitigate|accept|transfer|avoid)$")
    treatment_plan: str | None = Field(default=None, max_length=10_000)
    status: str | None = Field(default=None, pattern=r"^(open|closed)$")
    review_every_days: int | None = Field(default=None, ge=1, le=3650)

    def given(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(pattern=r"^(incident|alert|fraud_spike|case)$")
    ref: str = Field(min_length=1, max_length=64)
    note: str = Field(default="", max_length=2000)
