"""Customers. Personal fields are ciphertext under the customer's own data key (see crypto.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trustdesk.db import Base, UTCDateTime, utcnow

__all__ = ["PERSONAL_FIELDS", "Customer", "CustomerSegment"]

PERSONAL_FIELDS = ("name", "email", "phone", "address", "birth_date")


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    subject_id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    jurisdiction: Mapped[str | None] = mapped_column(String(8), nullable=True)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True, index=True)
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    email_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    address_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    birth_date_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    email_index: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    segments: Mapped[list[CustomerSegment]] = relationship(
        back_populates="customer",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="CustomerSegment.segment",
    )


class CustomerSegment(Base):
    __tablename__ = "customer_segments"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    segment: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)

    customer: Mapped[Customer] = relationship(back_populates="segments")
