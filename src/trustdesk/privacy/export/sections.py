"""The export sections TrustDesk's own capabilities contribute, each read through its facade.

Registered on import (see `export_registry`). Each returns only what is still readable: once a
customer's data key is destroyed, their record, texts and everything tied to them by id alone
are no longer theirs to export, and the section is empty.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from trustdesk.customers import public as customers
from trustdesk.feedback import public as feedback
from trustdesk.privacy.consent import service
from trustdesk.privacy.consent.policy import load_policy
from trustdesk.privacy.export.registry import ExportContext, ExportSubject, register_exporter
from trustdesk.privacy.models import PrivacyRequest
from trustdesk.trust import public as trust

__all__ = ["consent_history", "consents", "customer", "feedback_items", "requests", "trust_index"]


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


def feedback_items(ctx: ExportContext, subject: ExportSubject) -> list[Any]:
    """Feedback whose text still decrypts (none once the customer's key is destroyed)."""
    return [
        {
            "id": item.id,
            "at": item.at.isoformat(),
            "source": item.source,
            "text": item.text,
            "rating": item.rating,
            "sentiment": item.sentiment,
            "topics": list(item.topics),
        }
        for item in feedback.customer_feedback(ctx.session, ctx.vault, subject.customer_id)
        if item.text is not None
    ]


def trust_index(ctx: ExportContext, subject: ExportSubject) -> dict[str, Any]:
    if subject.erased:
        return {}
    found = trust.customer_trust(ctx.session, ctx.settings, subject.customer_id)
    if found is None:
        return {}
    return {
        "trust_index": found.trust_index,
        "interval": [found.ci_low, found.ci_high],
        "observations": found.observations,
        "dimensions": found.dimensions,
        "as_of": found.as_of.isoformat() if found.as_of else None,
    }


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


register_exporter("customer", customer)
register_exporter("consents", consents)
register_exporter("consent_history", consent_history)
register_exporter("feedback", feedback_items)
register_exporter("trust", trust_index)
register_exporter("requests", requests)
