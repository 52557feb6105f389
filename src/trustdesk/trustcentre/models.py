"""Trust-centre and risk-register tables. No personal data: statements, practice sections and
risks describe the business; owners are staff usernames."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.db import Base, UTCDateTime, utcnow

__all__ = [
    "DocumentRequest",
    "PracticeSection",
    "Risk",
    "RiskLink",
    "SentUpdate",
    "Subscriber",
    "TrustDocument",
    "TrustStatement",
]


class TrustStatement(Base):
    """A public statement (often about an incident), shown on the page and in the feed."""

    __tablename__ = "trust_statements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    incident_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    published_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, index=True
    )
    actor: Mapped[str] = mapped_column(String(120), nullable=False)


class PracticeSection(Base):
    """An editable Markdown section of the page (security, privacy practices, FAQ)."""

    __tablename__ = "trust_sections"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="practice")
    body: Mapped[str] = mapped_column(Text, nullable=False)
    owner: Mapped[str] = mapped_column(String(64), nullable=False)
    review_due: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=100)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Risk(Base):
    """A register entry: likelihood x impact before (inherent) and after controls (residual)."""

    __tablename__ = "risks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    category: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    owner: Mapped[str] = mapped_column(String(64), nullable=False)
    likelihood: Mapped[int] = mapped_column(Integer, nullable=False)
    impact: Mapped[int] = mapped_column(Integer, nullable=False)
    residual_likelihood: Mapped[int | None] = mapped_column(Integer, nullable=True)
    residual_impact: Mapped[int | None] = mapped_column(Integer, nullable=True)
    controls: Mapped[str] = mapped_column(Text, nullable=False, default="")
    treatment: Mapped[str] = mapped_column(String(16), nullable=False, default="mitigate")
    treatment_plan: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    review_every_days: Mapped[int] = mapped_column(Integer, nullable=False, default=90)
    next_review_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class RiskLink(Base):
    """An event that materialised the risk: an incident, trust alert, fraud spike or case (SLA
    breach), named by kind and id in its own capability."""

    __tablename__ = "risk_links"
    __table_args__ = (UniqueConstraint("risk_id", "kind", "ref", name="uq_risk_links_event"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    risk_id: Mapped[int] = mapped_column(
        ForeignKey("risks.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    ref: Mapped[str] = mapped_column(String(64), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    actor: Mapped[str] = mapped_column(String(120), nullable=False)


class TrustDocument(Base):
    """A document or certificate: public, or given on request (click-through terms, approved by
    staff). The file is kept in the database (documents are small: reports, certificates)."""

    __tablename__ = "trust_documents"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    access: Mapped[str] = mapped_column(String(16), nullable=False)  # public | request
    terms: Mapped[str] = mapped_column(Text, nullable=False, default="")
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    media_type: Mapped[str] = mapped_column(String(100), nullable=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    actor: Mapped[str] = mapped_column(String(120), nullable=False)


class DocumentRequest(Base):
    """Someone asked for a document behind terms; their email is encrypted under a vault subject
    of the request's own. Approval mails a download link whose token is stored hashed."""

    __tablename__ = "trust_document_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_key: Mapped[str] = mapped_column(
        ForeignKey("trust_documents.key", ondelete="CASCADE"), nullable=False, index=True
    )
    key_subject: Mapped[str] = mapped_column(String(36), nullable=False)
    email_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    company: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending", index=True)
    terms_accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    downloads: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Subscriber(Base):
    """An email subscriber to trust-centre updates: pending until they confirm (double opt-in),
    then active until they unsubscribe. The consent itself lives in the consent ledger, under
    `customer_id` (the customer with that address, or an email-only contact): confirming grants
    it, unsubscribing withdraws it. The address is the customer's (encrypted there; `email_enc`
    only on rows made before the ledger held these consents), found here by its blind index;
    unsubscribe links carry a keyed hash of the id (nothing stored)."""

    __tablename__ = "trust_subscribers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_subject: Mapped[str] = mapped_column(String(36), nullable=False)
    customer_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    email_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    email_index: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    confirm_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SentUpdate(Base):
    """An update already mailed to subscribers (a statement, a new recipient): sent once."""

    __tablename__ = "trust_sent_updates"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    ref: Mapped[str] = mapped_column(String(300), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    recipients: Mapped[int] = mapped_column(Integer, nullable=False)
