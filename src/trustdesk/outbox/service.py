"""Outbox use cases: enqueue in the caller's transaction, read counts and messages, retry.

Nothing here commits: an enqueued message commits with the business change that made it, or
not at all (the point of a transactional outbox).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from trustdesk import audit
from trustdesk.crypto import Vault
from trustdesk.customers.public import customer_subjects, external_ids
from trustdesk.db import utcnow
from trustdesk.errors import Conflict, InvalidInput, NotFound
from trustdesk.outbox.content import Content, seal_address, seal_content
from trustdesk.outbox.models import OutboxDelivery, OutboxMessage, WebhookEndpoint
from trustdesk.outbox.schemas import (
    STATUSES,
    DeliveryLogEntry,
    Email,
    MessageOut,
    MessageRef,
    StatusCounts,
)

__all__ = [
    "enqueue_email",
    "enqueue_emails",
    "enqueue_webhook",
    "get_message",
    "list_messages",
    "message_statuses",
    "register_webhook_endpoint",
    "retry",
    "status_counts",
]

_CHUNK = 500
_RETRYABLE = frozenset({"failed", "dead", "bounced", "unconfirmed", "unreachable"})


def _check_common(kind: str, key: str) -> None:
    if not kind or len(kind) > 64:
        raise InvalidInput("kind: 1 to 64 characters, e.g. 'incident.notice'")
    if not key or len(key) > 200:
        raise InvalidInput("key: 1 to 200 characters (the idempotency key)")


def _check_email(message: Email) -> None:
    _check_common(message.kind, message.key)
    if (message.customer_id is None) == (message.to_address is None):
        raise InvalidInput(f"{message.key}: give exactly one of customer_id and to_address")
    if message.to_address is not None and "@" not in message.to_address:
        raise InvalidInput(f"{message.key}: to_address is not an email address")
    if not message.subject.strip() or "\n" in message.subject or "\r" in message.subject:
        raise InvalidInput(f"{message.key}: the subject must be one non-empty line")
    if message.postal_fallback and message.customer_id is None:
        raise InvalidInput(f"{message.key}: postal fallback needs a customer_id")


def _existing(session: Session, keys: Sequence[str]) -> dict[str, MessageRef]:
    found: dict[str, MessageRef] = {}
    for i in range(0, len(keys), _CHUNK):
        rows = session.execute(
            select(
                OutboxMessage.id,
                OutboxMessage.idempotency_key,
                OutboxMessage.channel,
                OutboxMessage.status,
            ).where(OutboxMessage.idempotency_key.in_(keys[i : i + _CHUNK]))
        )
        for row in rows:
            found[row[1]] = MessageRef(row[0], row[1], row[2], row[3], created=False)
    return found


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert, skipping keys another transaction stored meanwhile (PostgreSQL: that one's
    commit is waited for, then the row is read back like any existing one)."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(
            pg_insert(OutboxMessage).on_conflict_do_nothing(index_elements=["idempotency_key"]),
            rows,
        )
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        session.execute(
            sqlite_insert(OutboxMessage).on_conflict_do_nothing(index_elements=["idempotency_key"]),
            rows,
        )


def _store(
    session: Session, rows: list[dict[str, Any]], keys: list[str], *, actor: str
) -> list[MessageRef]:
    before = _existing(session, keys)
    fresh = [r for r in rows if r["idempotency_key"] not in before]
    _insert_new(session, fresh)
    after = _existing(session, [r["idempotency_key"] for r in fresh])
    created = {k: MessageRef(r.id, r.key, r.channel, r.status, True) for k, r in after.items()}
    if created:
        ids = sorted(r.id for r in created.values())
        kinds: dict[str, int] = {}
        for r in fresh:
            if r["idempotency_key"] in created:
                kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
        audit.record(
            session,
            actor=actor,
            action="outbox.enqueued",
            entity_type="outbox_message",
            entity_id=ids[0],
            changes={"count": len(ids), "first_id": ids[0], "last_id": ids[-1], "kinds": kinds},
        )
    return [created.get(k) or before[k] for k in keys]


def enqueue_emails(
    session: Session, vault: Vault, messages: Iterable[Email], *, actor: str = "system"
) -> list[MessageRef]:
    """Enqueue many emails in the caller's transaction; one ref per message, in order.

    A key already present returns the existing message (never a second one), also within one
    call. Content to a customer is encrypted under their data key; an already erased customer's
    message is stored `unreachable`, with no content. NotFound names an unknown customer id.
    """
    batch = list(messages)
    for m in batch:
        _check_email(m)
    keys = list(dict.fromkeys(m.key for m in batch))
    first: dict[str, Email] = {}
    for m in batch:
        first.setdefault(m.key, m)
    customer_ids = {m.customer_id for m in first.values() if m.customer_id is not None}
    subjects = customer_subjects(session, customer_ids)
    missing = sorted(customer_ids - subjects.keys())
    if missing:
        raise NotFound(f"no customer with id {', '.join(map(str, missing[:10]))}")
    data_keys = vault.data_keys(subjects.values())
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for key in keys:
        m = first[key]
        content = Content(m.subject, m.text, m.html)
        row: dict[str, Any] = {
            "kind": m.kind,
            "idempotency_key": key,
            "channel": "email",
            "customer_id": m.customer_id,
            "address_enc": None,
            "endpoint_id": None,
            "subject_id": None,
            "content_enc": None,
            "postal_fallback": m.postal_fallback,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        if m.customer_id is not None:
            subject = subjects[m.customer_id]
            data_key = data_keys.get(subject)
            row["subject_id"] = subject
            if data_key is None:  # erased before we could write to them
                row.update(status="unreachable", next_attempt_at=None, last_error="erased")
            else:
                row["content_enc"] = seal_content(
                    vault, key, content, subject_id=subject, data_key=data_key
                )
        else:
            assert m.to_address is not None
            row["address_enc"] = seal_address(vault, key, m.to_address)
            row["content_enc"] = seal_content(vault, key, content, subject_id=None, data_key=None)
        rows.append(row)
    refs = _store(session, rows, keys, actor=actor)
    by_key = {r.key: r for r in refs}
    return [by_key[m.key] for m in batch]


def enqueue_email(
    session: Session,
    vault: Vault,
    *,
    kind: str,
    key: str,
    subject: str,
    text: str,
    html: str | None = None,
    customer_id: int | None = None,
    to_address: str | None = None,
    postal_fallback: bool = False,
    actor: str = "system",
) -> MessageRef:
    """Enqueue one email in the caller's transaction (see `enqueue_emails`)."""
    message = Email(kind, key, subject, text, html, customer_id, to_address, postal_fallback)
    return enqueue_emails(session, vault, [message], actor=actor)[0]


def register_webhook_endpoint(
    session: Session,
    vault: Vault,
    *,
    name: str,
    url: str,
    secret: str | None = None,
    actor: str = "system",
) -> tuple[int, str]:
    """Add a webhook endpoint (or replace its URL and secret); returns (id, secret). The secret
    signs every request (HMAC-SHA256) and is stored sealed; it is shown only here."""
    if not name or len(name) > 64:
        raise InvalidInput("name: 1 to 64 characters")
    if not url.startswith(("http://", "https://")) or len(url) > 2000:
        raise InvalidInput("url: an http:// or https:// address")
    secret = secret or secrets.token_urlsafe(32)
    if len(secret) < 16:
        raise InvalidInput("secret: at least 16 characters")
    endpoint = session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.name == name))
    if endpoint is None:
        endpoint = WebhookEndpoint(name=name, url=url, secret_enc=b"")
        session.add(endpoint)
    endpoint.url, endpoint.disabled_at = url, None
    endpoint.secret_enc = vault.seal(f"webhook:{name}", secret)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="outbox.webhook_endpoint_set",
        entity_type="webhook_endpoint",
        entity_id=endpoint.id,
        changes={"name": name},
    )
    return endpoint.id, secret


def enqueue_webhook(
    session: Session,
    vault: Vault,
    *,
    kind: str,
    key: str,
    endpoint: str,
    text: str,
    fields: dict[str, str] | None = None,
    actor: str = "system",
) -> MessageRef:
    """Enqueue a signed webhook to the endpoint named `endpoint`, in the caller's transaction.
    The payload is Slack-compatible: `{"text": text, ...}` plus the structured `fields`."""
    _check_common(kind, key)
    found = session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.name == endpoint))
    if found is None or found.disabled_at is not None:
        raise NotFound(f"no webhook endpoint named {endpoint!r}")
    now = utcnow()
    content = Content(kind, text, None, {str(k): str(v) for k, v in (fields or {}).items()})
    row = {
        "kind": kind,
        "idempotency_key": key,
        "channel": "webhook",
        "customer_id": None,
        "address_enc": None,
        "endpoint_id": found.id,
        "subject_id": None,
        "content_enc": seal_content(vault, key, content, subject_id=None, data_key=None),
        "postal_fallback": False,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
    }
    return _store(session, [row], [key], actor=actor)[0]


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def status_counts(
    session: Session, *, kind: str | None = None, key_prefix: str | None = None
) -> StatusCounts:
    """Messages per status, optionally of one kind and/or whose key starts with `key_prefix`
    (e.g. "incident:7:" for one incident's notices)."""
    query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    if key_prefix:
        query = query.where(OutboxMessage.idempotency_key.like(_like_prefix(key_prefix), "\\"))
    counts = dict.fromkeys(STATUSES, 0)
    for status, n in session.execute(query):
        counts[status] = n
    return StatusCounts(counts)


def message_statuses(session: Session, keys: Iterable[str]) -> dict[str, str]:
    """{key: status} of the messages among `keys` that exist."""
    return {k: r.status for k, r in _existing(session, list(dict.fromkeys(keys))).items()}


def _recipients(session: Session, messages: Sequence[OutboxMessage]) -> dict[int, str]:
    customers = external_ids(session, {m.customer_id for m in messages if m.customer_id})
    endpoints = dict(session.execute(select(WebhookEndpoint.id, WebhookEndpoint.name)).all())
    shown: dict[int, str] = {}
    for m in messages:
        if m.customer_id is not None:
            shown[m.id] = f"customer:{customers.get(m.customer_id, m.customer_id)}"
        elif m.endpoint_id is not None:
            shown[m.id] = f"webhook:{endpoints.get(m.endpoint_id, m.endpoint_id)}"
        else:
            shown[m.id] = "staff address"
    return shown


def _out(m: OutboxMessage, recipient: str, log: list[DeliveryLogEntry]) -> MessageOut:
    return MessageOut(
        id=m.id,
        kind=m.kind,
        key=m.idempotency_key,
        channel=m.channel,
        recipient=recipient,
        status=m.status,
        attempts=m.attempts,
        next_attempt_at=m.next_attempt_at,
        last_error=m.last_error,
        message_id=m.message_id_header,
        provider_message_id=m.provider_message_id,
        created_at=m.created_at,
        sent_at=m.sent_at,
        log=log,
    )


def list_messages(
    session: Session,
    *,
    kind: str | None = None,
    status: str | None = None,
    after_id: int = 0,
    limit: int = 50,
) -> tuple[list[MessageOut], int | None]:
    """Messages oldest first after `after_id`, and the cursor for the next page (or None)."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status: one of {', '.join(STATUSES)}")
    query = select(OutboxMessage).where(OutboxMessage.id > after_id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    rows = list(session.scalars(query.order_by(OutboxMessage.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    shown = _recipients(session, rows)
    return [_out(m, shown[m.id], []) for m in rows], (rows[-1].id if more else None)


def get_message(session: Session, message_id: int) -> MessageOut:
    """One message with its delivery log; NotFound if there is none."""
    m = session.get(OutboxMessage, message_id)
    if m is None:
        raise NotFound(f"no outbox message {message_id}")
    log = [
        DeliveryLogEntry(
            attempt=d.attempt, at=d.at, outcome=d.outcome, code=d.code, detail=d.detail
        )
        for d in session.scalars(
            select(OutboxDelivery)
            .where(OutboxDelivery.message_id == message_id)
            .order_by(OutboxDelivery.id)
        )
    ]
    return _out(m, _recipients(session, [m])[m.id], log)


def retry(session: Session, message_id: int, *, actor: str) -> MessageOut:
    """Send a failed, dead, bounced, unreachable or unconfirmed message again, from now, with a
    fresh allowance of attempts. A sent message is refused: that would be a second notice."""
    m = session.get(OutboxMessage, message_id, with_for_update=True)
    if m is None:
        raise NotFound(f"no outbox message {message_id}")
    if m.status not in _RETRYABLE:
        raise Conflict(
            f"message {message_id} is {m.status}; only {', '.join(sorted(_RETRYABLE))} "
            "messages can be retried"
        )
    before = m.status
    now = utcnow()
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(
            status="pending",
            attempts=0,
            next_attempt_at=now,
            claim_token=None,
            lease_until=None,
            committed_at=None,
            updated_at=now,
        )
    )
    audit.record(
        session,
        actor=actor,
        action="outbox.retried",
        entity_type="outbox_message",
        entity_id=message_id,
        changes={"status": [before, "pending"]},
    )
    session.expire(m)
    return get_message(session, message_id)
