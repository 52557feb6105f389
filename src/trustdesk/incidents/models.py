"""Incident tables. Lists (systems, categories, flags) are stored as JSON text: small, portable,
and read whole. Affected customers carry their exposed categories as a bitmask (see
`categories.py`) so a million of them are counted per jurisdiction and category in one query."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.db import Base, UTCDateTime, utcnow

__all__ = [
    "AffectedRecord",
    "Incident",
    "IncidentAlert",
    "IncidentEntry",
    "IncidentFulfilment",
    "IncidentMember",
    "IncidentNotice",
    "IncidentTask",
    "OfferCode",
]


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    severity: Mapped[str] = mapped_column(String(16), nullable=False, default="medium")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="detected", index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False, default="unknown")
    occurred_from: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    occurred_to: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    aware_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    determined_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    contained_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    systems: Mapped[str] = mapped_column(Text, nullable=False, default="[]")
    categories: Mapped[str] = mapped_column(Text, nullable=False, default="[]")
    sectors: Mapped[str] = mapped_column(Text, nullable=False, default="[]")
    risk: Mapped[str | None] = mapped_column(String(16), nullable=True)
    data_encrypted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    key_compromised: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    commander: Mapped[str | None] = mapped_column(String(64), nullable=True)
    public_statement: Mapped[str] = mapped_column(Text, nullable=False, default="")
    rules_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    obligations: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class IncidentMember(Base):
    """A staff user working the incident (the commander is on the incident row)."""

    __tablename__ = "incident_members"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class IncidentTask(Base):
    __tablename__ = "incident_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False, index=True
    )
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    owner: Mapped[str] = mapped_column(String(64), nullable=False)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class IncidentEntry(Base):
    """The timeline: updates (internal or public), decisions with their reasons, status changes."""

    __tablename__ = "incident_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    visibility: Mapped[str] = mapped_column(String(16), nullable=False, default="internal")
    text: Mapped[str] = mapped_column(Text, nullable=False)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    actor: Mapped[str] = mapped_column(String(120), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class AffectedRecord(Base):
    """A customer exposed by the incident, the categories exposed (bitmask) and their
    jurisdiction when the list was made (the law that applies is the one at the time)."""

    __tablename__ = "incident_affected"
    # Covering: counts and obligations GROUP BY (jurisdiction, categories) read the index only.
    __table_args__ = (
        Index("ix_incident_affected_place", "incident_id", "jurisdiction", "categories"),
    )

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    jurisdiction: Mapped[str | None] = mapped_column(String(8), nullable=True)
    categories: Mapped[int] = mapped_column(Integer, nullable=False)
    source: Mapped[str] = mapped_column(String(8), nullable=False)


class IncidentAlert(Base):
    """A clock that turned amber or red, or ran out: raised once per obligation and level."""

    __tablename__ = "incident_alerts"
    __table_args__ = (
        UniqueConstraint(
            "incident_id", "jurisdiction", "audience", "level", name="uq_incident_alerts_clock"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False, index=True
    )
    jurisdiction: Mapped[str] = mapped_column(String(16), nullable=False)
    audience: Mapped[str] = mapped_column(String(32), nullable=False)
    level: Mapped[str] = mapped_column(String(16), nullable=False)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    acknowledged_by: Mapped[str | None] = mapped_column(String(120), nullable=True)


class IncidentNotice(Base):
    """One version of a notice draft for an audience and jurisdiction ("*" for all)."""

    __tablename__ = "incident_notices"
    __table_args__ = (
        UniqueConstraint(
            "incident_id", "audience", "jurisdiction", "version", name="uq_incident_notices_version"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False, index=True
    )
    audience: Mapped[str] = mapped_column(String(32), nullable=False)
    jurisdiction: Mapped[str] = mapped_column(String(16), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    readability: Mapped[float] = mapped_column(nullable=False)
    created_by: Mapped[str] = mapped_column(String(120), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class IncidentFulfilment(Base):
    """An obligation met: the notice went to that audience there (its clock stops)."""

    __tablename__ = "incident_fulfilments"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    jurisdiction: Mapped[str] = mapped_column(String(16), primary_key=True)
    audience: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(120), nullable=False)
    reference: Mapped[str] = mapped_column(String(300), nullable=False, default="")


class OfferCode(Base):
    """A remediation code (e.g. credit monitoring) from an imported pool: given to one affected
    customer in their notice, redeemed when the provider reports it used."""

    __tablename__ = "incident_offer_codes"
    __table_args__ = (
        UniqueConstraint("incident_id", "code", name="uq_incident_offer_codes_code"),
        UniqueConstraint("incident_id", "customer_id", name="uq_incident_offer_codes_customer"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False
    )
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    customer_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
