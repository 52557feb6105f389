"""Trust-centre and risk-register tables. No personal data: statements, practice sections and
risks describe the business; owners are staff usernames."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.db import Base, UTCDateTime, utcnow

__all__ = ["PracticeSection", "Risk", "RiskLink", "TrustStatement"]


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
