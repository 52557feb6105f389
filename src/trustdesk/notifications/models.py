"""Who wants to hear of what, and how."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.db import Base, UTCDateTime

__all__ = ["Subscription"]


class Subscription(Base):
    """A staff subscription. Email addresses are sealed (staff personal data); a webhook names
    the outbox endpoint that holds its URL and signing secret."""

    __tablename__ = "notification_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)  # email or webhook
    address_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    endpoint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    threshold: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str] = mapped_column(String(120), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
