"""Privacy requests' retention target: a request closed longer ago than the data map's period
keeps its kind, dates and outcome (proof that it was answered) but no longer names the customer,
nor holds what was sent or how identity was checked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Delete, Update, and_, delete, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from trustdesk.privacy.models import PrivacyRequest
from trustdesk.privacy.public import RetentionTarget

__all__ = ["ANONYMOUS_CUSTOMER", "REQUEST_RETENTION"]

ANONYMOUS_CUSTOMER = 0
"""The customer id an anonymised request carries (no customer has it)."""


def _old(cutoff: datetime) -> ColumnElement[bool]:
    return and_(
        PrivacyRequest.closed_at.is_not(None),
        PrivacyRequest.closed_at < cutoff,
        PrivacyRequest.customer_id != ANONYMOUS_CUSTOMER,
    )


def count_closed_before(session: Session, cutoff: datetime) -> int:
    return int(session.scalar(select(func.count()).where(_old(cutoff))) or 0)


def forget_closed_before(session: Session, cutoff: datetime, action: str) -> int:
    statement: Delete | Update
    if action == "delete":
        statement = delete(PrivacyRequest).where(_old(cutoff))
    else:
        statement = (
            update(PrivacyRequest)
            .where(_old(cutoff))
            .values(
                customer_id=ANONYMOUS_CUSTOMER,
                payload_enc=None,
                scope=None,
                verified_by=None,
                verification_method=None,
            )
        )
    result = session.connection().execute(statement)
    return int(result.rowcount or 0)


REQUEST_RETENTION = RetentionTarget(
    system="privacy_requests",
    records="closed privacy requests",
    actions=("anonymise", "delete"),
    count=count_closed_before,
    apply=forget_closed_before,
)
