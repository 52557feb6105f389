"""Subscriptions: add, list, remove (audited). Services never commit."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk import audit
from trustdesk.crypto import Vault
from trustdesk.errors import InvalidInput, NotFound
from trustdesk.notifications.models import Subscription
from trustdesk.notifications.schemas import SubscriptionIn, SubscriptionOut
from trustdesk.outbox.public import register_webhook_endpoint

__all__ = ["active", "address_of", "list_subscriptions", "subscribe", "unsubscribe"]

_SEAL = "notification-address"


def _mask(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def address_of(vault: Vault, sub: Subscription) -> str | None:
    return vault.unseal(_SEAL, sub.address_enc) if sub.address_enc else None


def _out(vault: Vault, sub: Subscription, secret: str | None = None) -> SubscriptionOut:
    address = address_of(vault, sub)
    return SubscriptionOut(
        id=sub.id,
        kind=sub.kind,
        channel=sub.channel,
        target=_mask(address) if address else sub.endpoint or "",
        threshold=sub.threshold,
        created_by=sub.created_by,
        created_at=sub.created_at,
        webhook_secret=secret,
    )


def subscribe(
    session: Session, vault: Vault, wanted: SubscriptionIn, *, actor: str, now: datetime
) -> SubscriptionOut:
    """Add a subscription; a webhook one registers its outbox endpoint and returns its secret."""
    secret = None
    endpoint = None
    if wanted.webhook_url is not None:
        if not wanted.webhook_url.startswith(("http://", "https://")):
            raise InvalidInput("webhook_url: an http:// or https:// address")
        digest = hashlib.sha256(wanted.webhook_url.encode()).hexdigest()[:12]
        endpoint = f"notify-{digest}"
        _, secret = register_webhook_endpoint(
            session, vault, name=endpoint, url=wanted.webhook_url, secret=wanted.webhook_secret,
            actor=actor,
        )  # fmt: skip
    sub = Subscription(
        kind=wanted.kind,
        channel="email" if wanted.email else "webhook",
        address_enc=vault.seal(_SEAL, wanted.email) if wanted.email else None,
        endpoint=endpoint,
        threshold=wanted.threshold,
        created_by=actor,
        created_at=now,
    )
    session.add(sub)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="notification.subscribed",
        entity_type="notification_subscription",
        entity_id=str(sub.id),
        changes={"kind": sub.kind, "channel": sub.channel, "threshold": sub.threshold},
    )
    return _out(vault, sub, secret)


def active(session: Session) -> list[Subscription]:
    return list(
        session.scalars(
            select(Subscription).where(Subscription.disabled_at.is_(None)).order_by(Subscription.id)
        )
    )


def list_subscriptions(session: Session, vault: Vault) -> list[SubscriptionOut]:
    return [_out(vault, s) for s in active(session)]


def unsubscribe(session: Session, sub_id: int, *, actor: str, now: datetime) -> None:
    sub = session.get(Subscription, sub_id)
    if sub is None or sub.disabled_at is not None:
        raise NotFound(f"no subscription with id {sub_id}")
    sub.disabled_at = now
    audit.record(
        session,
        actor=actor,
        action="notification.unsubscribed",
        entity_type="notification_subscription",
        entity_id=str(sub_id),
        changes={"kind": sub.kind},
    )
