"""Postal export: letters for customers without email, as a CSV for a mail house.

The file holds decrypted names and postal addresses, so it is owner-only and formula-safe; the
messages it holds are marked `handed_over` in the same transaction, and the file is removed if
that transaction fails, so a letter is in exactly one export.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from sqlalchemy import insert, select, update

from trustdesk import audit
from trustdesk.crypto import KeyDestroyed
from trustdesk.csv_output import SafeDictWriter
from trustdesk.customers.public import contacts, external_ids
from trustdesk.db import utcnow
from trustdesk.errors import InvalidInput
from trustdesk.outbox.content import open_content
from trustdesk.outbox.models import OutboxDelivery, OutboxMessage
from trustdesk.platform import Platform
from trustdesk.private_files import open_private_text

__all__ = ["COLUMNS", "export_postal"]

COLUMNS = ("message_id", "key", "kind", "customer", "name", "address", "subject", "text")


def export_postal(platform: Platform, *, kind: str, out: Path, actor: str) -> dict[str, int]:
    """Write every pending postal letter of `kind` to `out`; returns {"exported", "unreachable"}."""
    if out.exists() and out.is_dir():
        raise InvalidInput(f"{out}: is a directory")
    vault = platform.vault
    partial = out.with_name(out.name + ".partial")
    counts = {"exported": 0, "unreachable": 0}
    moved = False
    try:
        with platform.db.transaction() as session:
            rows = list(
                session.scalars(
                    select(OutboxMessage)
                    .where(
                        OutboxMessage.channel == "postal",
                        OutboxMessage.status == "pending",
                        OutboxMessage.kind == kind,
                    )
                    .order_by(OutboxMessage.id)
                )
            )
            customer_ids = {m.customer_id for m in rows if m.customer_id is not None}
            people = contacts(session, vault, customer_ids)
            shown = external_ids(session, customer_ids)
            keys = vault.data_keys({m.subject_id for m in rows if m.subject_id})
            now = utcnow()
            handed, lost = [], []
            with open_private_text(partial) as fh:
                writer = SafeDictWriter(fh, COLUMNS)
                writer.writeheader()
                for m in rows:
                    person = people.get(m.customer_id) if m.customer_id is not None else None
                    if person is None or not person.reachable or not person.address:
                        lost.append(m.id)
                        continue
                    try:
                        assert m.content_enc is not None
                        content = open_content(
                            vault,
                            m.idempotency_key,
                            m.content_enc,
                            subject_id=m.subject_id,
                            data_key=keys.get(m.subject_id or ""),
                        )
                    except KeyDestroyed:
                        lost.append(m.id)
                        continue
                    writer.writerow(
                        {
                            "message_id": m.id,
                            "key": m.idempotency_key,
                            "kind": m.kind,
                            "customer": shown.get(person.id, ""),
                            "name": person.name or "",
                            "address": person.address,
                            "subject": content.subject,
                            "text": content.text,
                        }
                    )
                    handed.append(m.id)
            for ids, status in ((handed, "handed_over"), (lost, "unreachable")):
                if ids:
                    session.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.id.in_(ids))
                        .values(
                            status=status,
                            sent_at=now if status == "handed_over" else None,
                            next_attempt_at=None,
                            updated_at=now,
                        )
                        .execution_options(synchronize_session=False)
                    )
                    session.execute(
                        insert(OutboxDelivery),
                        [
                            {"message_id": i, "attempt": 0, "at": now, "outcome": status}
                            for i in ids
                        ],
                    )
            counts = {"exported": len(handed), "unreachable": len(lost)}
            audit.record(
                session,
                actor=actor,
                action="outbox.postal_export",
                entity_type="outbox_export",
                entity_id=kind,
                changes=counts,
            )
            partial.replace(out)
            moved = True
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            (out if moved else partial).unlink()  # letters not marked handed over: no file
        raise
    return counts
