"""Stored aggregates of the trust index, the evidence behind them, and alerts.

Reads (dashboard, API, CLI) come from these tables: the statistics are small (per segment, day
and facet; per customer and facet) and scores are a closed-form function of them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Double, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.db import Base, UTCDateTime, utcnow

__all__ = ["TrustAlert", "TrustEvidence", "TrustStat", "TrustState", "TrustWatermark"]


class TrustStat(Base):
    """Additive sufficient statistics (see trust/aggregates.py) for one key."""

    __tablename__ = "trust_stats"
    __table_args__ = (
        UniqueConstraint("scope", "segment", "customer_id", "signal", "facet", "bucket"),
        Index("ix_trust_stats_customer", "customer_id", "scope"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(16), nullable=False)
    segment: Mapped[str] = mapped_column(String(120), nullable=False)
    customer_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    signal: Mapped[str] = mapped_column(String(40), nullable=False)
    facet: Mapped[str] = mapped_column(String(64), nullable=False)
    bucket: Mapped[int] = mapped_column(BigInteger, nullable=False)
    n: Mapped[float] = mapped_column(Double, nullable=False)
    n_neg: Mapped[float] = mapped_column(Double, nullable=False)
    sw: Mapped[float] = mapped_column(Double, nullable=False)
    swx: Mapped[float] = mapped_column(Double, nullable=False)
    swx2: Mapped[float] = mapped_column(Double, nullable=False)
    sw2: Mapped[float] = mapped_column(Double, nullable=False)


class TrustState(Base):
    """One row: the recency epoch and half-life the statistics were built with, and the latest
    observation time (the default "as of")."""

    __tablename__ = "trust_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    epoch: Mapped[int] = mapped_column(BigInteger, nullable=False)
    half_life_s: Mapped[float] = mapped_column(Double, nullable=False)
    latest_at: Mapped[int] = mapped_column(BigInteger, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class TrustWatermark(Base):
    """How far each signal has been read: the highest source id read (`last_ref`) and where the
    next recompute starts reading again (`reread_ref`, see trust/service.py `recompute`)."""

    __tablename__ = "trust_watermarks"

    signal: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_ref: Mapped[int] = mapped_column(BigInteger, nullable=False)
    reread_ref: Mapped[int] = mapped_column(
        BigInteger, nullable=False, default=0, server_default="0"
    )


class TrustEvidence(Base):
    """Each observation's value and weight, so a score can name the rows that moved it."""

    __tablename__ = "trust_evidence"
    __table_args__ = (
        Index("ix_trust_evidence_customer", "customer_id"),
        Index("ix_trust_evidence_segment_at", "segment", "at"),
        Index("ix_trust_evidence_signal_ref", "signal", "ref"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signal: Mapped[str] = mapped_column(String(40), nullable=False)
    ref: Mapped[int] = mapped_column(BigInteger, nullable=False)
    customer_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    segment: Mapped[str] = mapped_column(String(120), nullable=False)
    at: Mapped[int] = mapped_column(BigInteger, nullable=False)
    value: Mapped[float] = mapped_column(Double, nullable=False)
    weight: Mapped[float] = mapped_column(Double, nullable=False)


class TrustAlert(Base):
    """A drop or surge beyond what history explains; unique per kind, segment, topic, window."""

    __tablename__ = "trust_alerts"
    __table_args__ = (UniqueConstraint("kind", "segment", "topic", "window_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    segment: Mapped[str] = mapped_column(String(120), nullable=False, index=True)
    topic: Mapped[str] = mapped_column(String(64), nullable=False)  # "" when not about a topic
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    severity: Mapped[str] = mapped_column(String(8), nullable=False)
    baseline: Mapped[float] = mapped_column(Double, nullable=False)
    observed: Mapped[float] = mapped_column(Double, nullable=False)
    effect: Mapped[float] = mapped_column(Double, nullable=False)
    p_value: Mapped[float] = mapped_column(Double, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    acknowledged_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
