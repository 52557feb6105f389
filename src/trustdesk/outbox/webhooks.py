"""Signed webhooks: a Slack-compatible JSON body, an HMAC-SHA256 signature over the timestamp
and body, so the receiver can check it came from us and is fresh.

Headers: `X-TrustDesk-Timestamp: <unix seconds>`, `X-TrustDesk-Signature: v1=<hex HMAC-SHA256
of "<timestamp>.<body>" under the endpoint's secret>`, `X-TrustDesk-Delivery: <message id>`
(the same on every retry: receivers drop repeats by it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from dataclasses import dataclass

from trustdesk.outbox.content import redact

__all__ = ["WebhookResult", "payload", "post", "sign", "verify"]


def payload(*, kind: str, message_id: str, text: str, fields: dict[str, str] | None) -> bytes:
    """`{"text": …}` is what Slack (and Mattermost, Teams' Slack mode) show; the rest is for
    programs: the kind, the delivery id and the structured fields."""
    body = {"text": text, "kind": kind, "delivery_id": message_id, "fields": fields or {}}
    return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def verify(secret: str, timestamp: int, body: bytes, signature: str) -> bool:
    """What a receiver does (tests and docs use it)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


@dataclass(frozen=True)
class WebhookResult:
    """`status`: sent, failed (retry) or bounced (refused for good: a 4xx other than 408/429)."""

    status: str
    code: int | None
    detail: str | None


def post(
    url: str, secret: str, body: bytes, *, delivery_id: str, timestamp: int, timeout_s: float
) -> WebhookResult:
    request = urllib.request.Request(  # noqa: S310 - the URL is checked to be http(s) when set
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "TrustDesk-Outbox/1",
            "X-TrustDesk-Timestamp": str(timestamp),
            "X-TrustDesk-Signature": sign(secret, timestamp, body),
            "X-TrustDesk-Delivery": delivery_id,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            return WebhookResult("sent", response.status, None)
    except urllib.error.HTTPError as exc:
        code = exc.code
        permanent = 400 <= code < 500 and code not in (408, 429)
        return WebhookResult("bounced" if permanent else "failed", code, f"HTTP {code}")
    except (OSError, ValueError) as exc:
        return WebhookResult("failed", None, redact(f"{type(exc).__name__}: {exc}"))
