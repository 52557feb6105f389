"""Outbox tables: one row per message, its delivery log, and the webhook endpoints.

Message content is ciphertext: under the customer's own data key when the message is to a
customer (erasing them shreds it), sealed under the key store's sealing key otherwise. No
column holds an address or body in the clear.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.db import Base, UTCDateTime, utcnow

__all__ = ["OutboxDelivery", "OutboxMessage", "WebhookEndpoint"]


class WebhookEndpoint(Base):
    __tablename__ = "outbox_webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    url: Mapped[str] = mapped_column(String(2000), nullable=False)
    secret_enc: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        Index("ix_outbox_messages_kind_status", "kind", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), nullable=False)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    # Who it goes to: a customer (contact decrypted at send time), a sealed staff address, or
    # a webhook endpoint. No foreign key to customers: capabilities meet through public.py only.
    customer_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    address_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_webhook_endpoints.id"), nullable=True
    )
    # Vault subject whose key encrypts `content_enc` (None: sealed under the sealing key).
    subject_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    content_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    postal_fallback: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Claim: the run holding the message until `lease_until`, and whether the final "." of its
    # SMTP DATA may have been written (then it is never sent again without a person's say-so).
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    committed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    message_id_header: Mapped[str | None] = mapped_column(String(255), nullable=True)
    provider_message_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class OutboxDelivery(Base):
    """The delivery log: one row per attempt's outcome (codes and redacted replies only)."""

    __tablename__ = "outbox_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="CASCADE"), nullable=False, index=True
    )
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[str | None] = mapped_column(String(500), nullable=True)
