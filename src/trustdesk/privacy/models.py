"""Consent storage: the hash-chained ledger of events, its head, the current-state projection, and
the form nonces that stop a preference form from being sent twice.

`customer_id` is the customers capability's id; no foreign key, so privacy never reaches into
another capability's tables (the ledger must outlive any change there).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.db import Base, UTCDateTime

__all__ = ["ConsentEvent", "ConsentFormNonce", "ConsentHead", "ConsentState"]


class ConsentEvent(Base):
    """One grant or withdrawal, never updated or deleted. `hash` covers every other column."""

    __tablename__ = "consent_events"
    __table_args__ = (Index("ix_consent_events_customer", "customer_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    customer_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    purpose: Mapped[str] = mapped_column(String(64), nullable=False)
    channel: Mapped[str] = mapped_column(String(32), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    source: Mapped[str] = mapped_column(String(24), nullable=False)
    notice_version: Mapped[str] = mapped_column(String(64), nullable=False)
    actor: Mapped[str] = mapped_column(String(120), nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class ConsentHead(Base):
    """One row: the last event's id and hash. Locked by every append, so appends are serial."""

    __tablename__ = "consent_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False)


class ConsentState(Base):
    """The projection: the last event per (customer, purpose, channel), for one-lookup checks."""

    __tablename__ = "consent_state"

    customer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    purpose: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    event_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class ConsentFormNonce(Base):
    """Preference forms already received; a second POST of the same form is refused."""

    __tablename__ = "consent_form_nonces"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
