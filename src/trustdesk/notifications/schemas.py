"""Subscriptions in and out (API and `--json`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

__all__ = ["KINDS", "SubscriptionIn", "SubscriptionOut"]

KINDS = {
    "trust_alert": "A trust drop or negative-topic surge was raised",
    "overdue_request": "A privacy request is past its statutory due date",
    "fraud_queue": "The fraud review queue is longer than the threshold",
    "job_failure": "A background job failed after its last retry (or its worker died)",
    "incident_clock": "An incident's legal notification clock turned amber, red or overdue",
    "case_breach": "A complaint case breached its SLA and was escalated",
}

Kind = Literal[
    "trust_alert",
    "overdue_request",
    "fraud_queue",
    "job_failure",
    "incident_clock",
    "case_breach",
]


class SubscriptionIn(BaseModel):
    kind: Kind
    email: str | None = Field(
        None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="Send email here."
    )
    webhook_url: str | None = Field(
        None, max_length=2000, description="POST signed JSON (Slack-compatible) here."
    )
    webhook_secret: str | None = Field(
        None, min_length=16, max_length=200, description="HMAC key; generated when left out."
    )
    threshold: int | None = Field(
        None, ge=1, le=1_000_000, description="fraud_queue: notify when the queue is longer."
    )

    @model_validator(mode="after")
    def _one_channel(self) -> SubscriptionIn:
        if (self.email is None) == (self.webhook_url is None):
            raise ValueError("give exactly one of email or webhook_url")
        if self.kind == "fraud_queue" and self.threshold is None:
            raise ValueError("fraud_queue needs a threshold (queue length)")
        if self.kind != "fraud_queue" and self.threshold is not None:
            raise ValueError("threshold applies to fraud_queue only")
        return self


class SubscriptionOut(BaseModel):
    id: int
    kind: str
    channel: str
    target: str = Field(description="The email address (masked) or webhook endpoint name.")
    threshold: int | None
    created_by: str
    created_at: datetime
    webhook_secret: str | None = Field(
        None, description="Shown once, when the webhook subscription is made."
    )
