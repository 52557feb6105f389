"""What the outbox takes and gives back: plain, immutable values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args

from pydantic import BaseModel

__all__ = [
    "CHANNELS",
    "DELIVERED",
    "FINAL",
    "QUEUED",
    "STATUSES",
    "DeliveryLogEntry",
    "DeliveryReport",
    "Email",
    "MessageOut",
    "MessageRef",
    "MessageStatus",
    "StatusCounts",
]

Channel = Literal["email", "webhook", "postal"]
CHANNELS: tuple[str, ...] = get_args(Channel)

# pending: waiting for its first attempt; sending: claimed by a run; failed: waiting to retry;
# sent: the server accepted it; unconfirmed: the run died after the final "." of DATA may have
# reached the server, so it is not sent again; handed_over: in a postal export for the mail house;
# bounced: refused for good (SMTP 5xx); dead: out of attempts; unreachable: the customer was
# erased or has no address on this channel.
MessageStatus = Literal[
    "pending",
    "sending",
    "failed",
    "sent",
    "unconfirmed",
    "handed_over",
    "bounced",
    "dead",
    "unreachable",
]
STATUSES: tuple[str, ...] = get_args(MessageStatus)
QUEUED = frozenset({"pending", "sending", "failed"})
DELIVERED = frozenset({"sent", "unconfirmed", "handed_over"})
FINAL = frozenset(STATUSES) - QUEUED


@dataclass(frozen=True)
class Email:
    """One email to enqueue: to a customer (`customer_id`, address decrypted at send time) or to
    a staff address (`to_address`), never both."""

    kind: str
    key: str
    subject: str
    text: str
    html: str | None = None
    customer_id: int | None = None
    to_address: str | None = None
    postal_fallback: bool = False


@dataclass(frozen=True)
class MessageRef:
    """An enqueued message. `created` is False when the idempotency key was already there (the
    existing message is returned, never a second one)."""

    id: int
    key: str
    channel: str
    status: str
    created: bool


@dataclass(frozen=True)
class StatusCounts:
    """Messages per status (every status present, 0 when none)."""

    by_status: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, status: str) -> int:
        return self.by_status.get(status, 0)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def queued(self) -> int:
        return sum(self[s] for s in QUEUED)

    @property
    def delivered(self) -> int:
        return sum(self[s] for s in DELIVERED)

    @property
    def unreachable(self) -> int:
        return self["unreachable"]

    def as_dict(self) -> dict[str, int]:
        return {
            **{s: self[s] for s in STATUSES},
            "queued": self.queued,
            "delivered": self.delivered,
            "total": self.total,
        }


class DeliveryReport(BaseModel):
    """What one delivery run did."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    bounced: int = 0
    dead: int = 0
    unreachable: int = 0
    to_postal: int = 0
    recovered: int = 0
    unconfirmed: int = 0
    fenced: int = 0
    seconds: float = 0.0

    def add(self, other: DeliveryReport) -> None:
        for name in type(self).model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class DeliveryLogEntry(BaseModel):
    attempt: int
    at: datetime
    outcome: str
    code: int | None
    detail: str | None


class MessageOut(BaseModel):
    """A message as staff see it: no address or body (those are personal data)."""

    id: int
    kind: str
    key: str
    channel: str
    recipient: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    message_id: str | None
    provider_message_id: str | None
    created_at: datetime
    sent_at: datetime | None
    log: list[DeliveryLogEntry] = []
