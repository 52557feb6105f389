"""Message content at rest: encrypted, and what of it may be shown or logged."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from email.utils import parseaddr

from trustdesk.crypto import Vault

__all__ = [
    "Content",
    "from_domain",
    "message_id_for",
    "open_address",
    "open_content",
    "redact",
    "seal_address",
    "seal_content",
]

_ADDRESS = re.compile(r"[^\s<>\"'@]+@[^\s<>\"']+")


@dataclass(frozen=True)
class Content:
    subject: str
    text: str
    html: str | None = None
    fields: dict[str, str] | None = None

    def dumps(self) -> str:
        return json.dumps(
            {"subject": self.subject, "text": self.text, "html": self.html, "fields": self.fields},
            ensure_ascii=False,
        )

    @classmethod
    def loads(cls, raw: str) -> Content:
        data = json.loads(raw)
        return cls(data["subject"], data["text"], data.get("html"), data.get("fields"))


def _field(key: str) -> str:
    # The idempotency key is bound in as associated data: a ciphertext moved to another row fails.
    return f"outbox:{key}"


def seal_content(
    vault: Vault, key: str, content: Content, *, subject_id: str | None, data_key: bytes | None
) -> bytes:
    """Encrypt under the customer's data key (`subject_id`/`data_key`), or seal it (staff)."""
    if subject_id is not None:
        assert data_key is not None
        blob = vault.encrypt(data_key, subject_id, _field(key), content.dumps())
        assert blob is not None
        return blob
    return vault.seal(_field(key), content.dumps())


def open_content(
    vault: Vault, key: str, blob: bytes, *, subject_id: str | None, data_key: bytes | None
) -> Content:
    """The clear content; KeyDestroyed when the customer's key is gone."""
    if subject_id is not None:
        raw = vault.decrypt(data_key, subject_id, _field(key), blob)
        assert raw is not None
        return Content.loads(raw)
    return Content.loads(vault.unseal(_field(key), blob))


def seal_address(vault: Vault, key: str, address: str) -> bytes:
    return vault.seal(f"outbox-to:{key}", address)


def open_address(vault: Vault, key: str, blob: bytes) -> str:
    return vault.unseal(f"outbox-to:{key}", blob)


def from_domain(from_address: str) -> str:
    _, address = parseaddr(from_address)
    return address.rpartition("@")[2] or "localhost"


def message_id_for(key: str, domain: str) -> str:
    """The same Message-ID for every attempt of one message: a receiver (or a person reading
    the mailbox) can tell a resend of the same notice from a second notice."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<{digest}.outbox@{domain}>"


def redact(text: str, limit: int = 300) -> str:
    """A server's reply or an exception's text as it may be stored: addresses removed (replies
    often quote the recipient), one line, bounded."""
    return _ADDRESS.sub("<address>", " ".join(text.split()))[:limit]
