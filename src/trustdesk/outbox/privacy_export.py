"""The messages section of a customer's access export: what we sent them (or queued), decrypted.

Wired to privacy's export registry by the manifest, so privacy never imports the outbox.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from trustdesk.crypto import KeyDestroyed
from trustdesk.outbox.content import open_content
from trustdesk.outbox.models import OutboxMessage
from trustdesk.privacy.public import ExportContext, ExportSubject

__all__ = ["messages"]


def messages(ctx: ExportContext, subject: ExportSubject) -> list[Any]:
    if subject.erased:
        return []
    rows = list(
        ctx.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.customer_id == subject.customer_id)
            .order_by(OutboxMessage.id)
        )
    )
    keys = ctx.vault.data_keys({m.subject_id for m in rows if m.subject_id})
    found: list[Any] = []
    for m in rows:
        item: dict[str, Any] = {
            "kind": m.kind,
            "channel": m.channel,
            "status": m.status,
            "created_at": m.created_at.isoformat(),
            "sent_at": m.sent_at.isoformat() if m.sent_at else None,
        }
        if m.content_enc is not None and m.subject_id:
            try:
                content = open_content(
                    ctx.vault,
                    m.idempotency_key,
                    m.content_enc,
                    subject_id=m.subject_id,
                    data_key=keys.get(m.subject_id),
                )
            except KeyDestroyed:
                content = None
            if content is not None:
                item.update(subject=content.subject, text=content.text)
        found.append(item)
    return found
