"""Privacy storage. Consent: the hash-chained ledger of events, its head, the current-state
projection, and the form nonces that stop a preference form from being sent twice. Data-subject
requests, and the numbered versions of the data map and of the privacy notice made from it.

`customer_id` is the customers capability's id; no foreign key, so privacy never reaches into
another capability's tables (the ledger must outlive any change there).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.db import Base, UTCDateTime

__all__ = [
    "ConsentEvent",
    "ConsentFormNonce",
    "ConsentHead",
    "ConsentState",
    "DataMapVersion",
    "NoticeVersion",
    "PrivacyRequest",
]


class ConsentEvent(Base):
    """One grant or withdrawal, never updated or deleted. `hash` covers every other column."""

    __tablename__ = "consent_events"
    __table_args__ = (
        Index("ix_consent_events_customer", "customer_id", "id"),
        # Covers a consent check: the latest state of one preference without reading the table.
        Index("ix_consent_events_pair", "customer_id", "purpose", "channel", "id", "state"),
    )

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
    """The projection: the last event per (customer, purpose, channel) and how many there were.

    A summary kept for reports and SQL users; no decision reads it (checks, preferences and
    versions come from the ledger). `consent verify` compares it with the ledger, `--repair`
    rebuilds it."""

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


class PrivacyRequest(Base):
    """A data-subject request (access, erasure, rectification, objection) and where it stands.

    Holds ids and dates, never personal data: what a rectification asks to change is encrypted
    under the customer's own data key (`payload_enc`), so erasing the customer shreds it too and
    the record that the request happened is all that remains.
    """

    __tablename__ = "privacy_requests"
    __table_args__ = (Index("ix_privacy_requests_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    regime: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(24), nullable=False)
    source: Mapped[str] = mapped_column(String(24), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    extended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    extension_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    verified_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    verification_method: Mapped[str | None] = mapped_column(String(200), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    outcome: Mapped[str | None] = mapped_column(Text, nullable=True)
    scope: Mapped[str | None] = mapped_column(String(400), nullable=True)  # purposes or fields
    payload_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class DataMapVersion(Base):
    """One saved version of the data map (validated JSON); versions are never changed."""

    __tablename__ = "privacy_datamap_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(120), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)


class NoticeVersion(Base):
    """One generated privacy notice: its structured content and Markdown, kept for good."""

    __tablename__ = "privacy_notice_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    datamap_version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    markdown: Mapped[str] = mapped_column(Text, nullable=False)
