"""Privacy's own export sections: the customer's record (read through the customers facade),
their consents and consent history, and their data-subject requests.

Declared in the manifest (`trustdesk.capabilities`) like every other capability's sections. Each
returns only what is still readable: once a customer's data key is destroyed, their record and
everything tied to them by id alone are no longer theirs to export, and the section is empty.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from trustdesk.customers import public as customers
from trustdesk.privacy.consent import service
from trustdesk.privacy.consent.policy import load_policy
from trustdesk.privacy.export.registry import ExportContext, ExportSubject
from trustdesk.privacy.models import PrivacyRequest

__all__ = ["consent_history", "consents", "customer", "requests"]


def customer(ctx: ExportContext, subject: ExportSubject) -> dict[str, Any]:
    record = customers.personal_record(ctx.session, ctx.vault, subject.external_id)
    if subject.erased or record.personal_data != "shown":
        return {}
    return record.model_dump(mode="json", exclude={"id", "personal_data"})


def consents(ctx: ExportContext, subject: ExportSubject) -> list[Any]:
    if subject.erased:
        return []
    policy = load_policy(ctx.settings.consent_policy_file)
    items = service.preferences(ctx.session, policy, subject.external_id)
    return [p.model_dump(mode="json") for p in items]


def consent_history(ctx: ExportContext, subject: ExportSubject) -> list[Any]:
    if subject.erased:
        return []
    return [e.model_dump(mode="json") for e in service.history(ctx.session, subject.external_id)]


def requests(ctx: ExportContext, subject: ExportSubject) -> list[Any]:
    if subject.erased:
        return []
    rows = ctx.session.scalars(
        select(PrivacyRequest)
        .where(PrivacyRequest.customer_id == subject.customer_id)
        .order_by(PrivacyRequest.id)
    )
    return [
        {
            "id": r.id,
            "type": r.kind,
            "status": r.status,
            "received_at": r.received_at.isoformat(),
            "due_at": r.due_at.isoformat(),
            "closed_at": r.closed_at.isoformat() if r.closed_at else None,
        }
        for r in rows
    ]
