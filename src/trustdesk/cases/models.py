"""Case rows. Subject, body and notes are ciphertext under the customer's data key when the
sender is a known customer, else under the contact's own key (see `intake.py`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.db import Base, UTCDateTime

__all__ = [
    "Case",
    "CaseAttachment",
    "CaseConfig",
    "CaseContact",
    "CaseCount",
    "CaseEvent",
    "CaseLink",
    "CaseMessage",
    "CaseSurvey",
]


class CaseContact(Base):
    """A sender we do not know as a customer; merged into a customer later."""

    __tablename__ = "case_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    email_index: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    email_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), nullable=True, index=True
    )  # set when merged into a customer
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_cases_channel_external_id"),
        # The inbox: a queue's cases in a status, newest first, paged by id (keyset).
        Index("ix_cases_queue_status_id", "queue", "status", "id"),
        # A queue's inbox across statuses, newest first (without it: a sort of the whole queue).
        Index("ix_cases_queue_id", "queue", "id"),
        Index("ix_cases_status_id", "status", "id"),
        # Queue counts on the inbox: a covering scan of the active statuses, already grouped.
        Index("ix_cases_status_queue_sla", "status", "queue", "sla_state"),
        Index("ix_cases_status_first_response_due", "status", "first_response_due"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), nullable=False)
    external_id: Mapped[str] = mapped_column(String(128), nullable=False)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), nullable=True, index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_contacts.id", ondelete="SET NULL"), nullable=True, index=True
    )
    segment: Mapped[str | None] = mapped_column(String(64), nullable=True)
    key_subject: Mapped[str] = mapped_column(String(36), nullable=False)  # encrypts the text
    subject_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    body_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    body_length: Mapped[int] = mapped_column(Integer, nullable=False)
    category: Mapped[str] = mapped_column(String(64), nullable=False)
    probability: Mapped[float] = mapped_column(Float, nullable=False)
    # active_history: the old value is at hand when they change (`counts.py` moves the count)
    queue: Mapped[str] = mapped_column(String(64), nullable=False, active_history=True)
    priority: Mapped[str] = mapped_column(String(16), nullable=False)
    playbook: Mapped[str | None] = mapped_column(String(64), nullable=True)
    playbook_done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    status: Mapped[str] = mapped_column(String(24), nullable=False, active_history=True)
    team: Mapped[str | None] = mapped_column(String(64), nullable=True)
    assignee: Mapped[str | None] = mapped_column(String(128), nullable=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    first_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    next_update_due: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolution_due: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sla_state: Mapped[str] = mapped_column(
        String(8), nullable=False, default="ok", active_history=True
    )
    breached: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # 0/1 ever breached
    reopen_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), nullable=True
    )


class CaseEvent(Base):
    """The case's timeline: status changes, assignments, notes, playbook steps, links, merges."""

    __tablename__ = "case_events"
    __table_args__ = (
        Index("ix_case_events_case_id_id", "case_id", "id"),
        Index("ix_case_events_at", "at"),  # the trust signal's windowed read (`read_between`)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(128), nullable=False)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    detail: Mapped[str] = mapped_column(
        Text, nullable=False, default="{}"
    )  # JSON, no personal data
    text_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # a note's text


class CaseLink(Base):
    """A case linked to something else: another case, a fraud review, an incident."""

    __tablename__ = "case_links"
    __table_args__ = (
        UniqueConstraint("case_id", "kind", "target", name="uq_case_links_case_kind_target"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    target: Mapped[str] = mapped_column(String(128), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class CaseConfig(Base):
    """Versions of the routing and SLA configuration (rules, playbooks, policies, calendars)
    as one JSON document; the highest version is in force, the older ones are its history."""

    __tablename__ = "case_config"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(128), nullable=False)


class CaseMessage(Base):
    """An email of a case, in or out, by Message-ID: inbound mail is idempotent on it, and
    replies find their case through In-Reply-To/References. A quarantined message (no sender,
    unreadable) keeps its raw bytes, encrypted under a key of its own, for a person to look at."""

    __tablename__ = "case_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), nullable=True, index=True
    )
    direction: Mapped[str] = mapped_column(String(8), nullable=False)  # in | out
    status: Mapped[str] = mapped_column(
        String(16), nullable=False
    )  # opened|threaded|sent|quarantined
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)  # no personal data
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    key_subject: Mapped[str | None] = mapped_column(String(36), nullable=True)
    raw_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # quarantine only


class CaseAttachment(Base):
    """A file that came with a complaint: name and content encrypted like the complaint."""

    __tablename__ = "case_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True
    )
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_messages.id", ondelete="SET NULL"), nullable=True
    )
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    filename_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    data_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class CaseSurvey(Base):
    """ "Did we fix it?": one per resolution of a known customer's case (`round` = the case's
    reopen count then). `not_allowed` when their consent does not allow the survey."""

    __tablename__ = "case_surveys"
    __table_args__ = (UniqueConstraint("case_id", "round", name="uq_case_surveys_case_round"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False)
    round: Mapped[int] = mapped_column(Integer, nullable=False)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), nullable=True, index=True
    )
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # sent|not_allowed|answered
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 1..5
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CaseCount(Base):
    """How many cases are in each (queue, status, SLA state): the inbox's queue counts without a
    scan of the cases. Kept in the same transaction as every write to a case (`counts.py`: a
    flush hook, so intake, status changes, reassignment, merges, batches, imports and the SLA
    pass all count); `trustdesk cases recount` rebuilds it from the cases."""

    __tablename__ = "case_counts"

    queue: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(24), primary_key=True)
    sla_state: Mapped[str] = mapped_column(String(8), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
