"""The cases section of a customer's access export: the complaints they made and where they
stand. Wired to privacy's export registry by the manifest, so privacy never imports cases."""

from __future__ import annotations

from typing import Any

from trustdesk.cases.public import customer_cases
from trustdesk.privacy.public import ExportContext, ExportSubject

__all__ = ["cases"]


def cases(ctx: ExportContext, subject: ExportSubject) -> list[Any]:
    return [
        {
            "id": case.id,
            "channel": case.channel,
            "opened_at": case.opened_at.isoformat(),
            "status": case.status,
            "category": case.category,
            "subject": case.subject,
            "body": case.body,
        }
        for case in customer_cases(ctx.session, ctx.vault, subject.customer_id)
        if case.body is not None
    ]
