"""Documents and certificates on the trust centre: public ones are downloaded by anyone; the others
are requested (email, company, the document's click-through terms accepted), approved or refused by
staff, and approval mails a download link valid for `LINK_DAYS` days through the shared outbox.
Every request, decision and download is audited (never with the requester's email)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.audit import chain as audit
from trustdesk.crypto import Vault
from trustdesk.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from trustdesk.outbox import public as outbox
from trustdesk.trustcentre.cache import CACHE
from trustdesk.trustcentre.models import DocumentRequest, TrustDocument

__all__ = [
    "ACCESS",
    "LINK_DAYS",
    "DocumentInfo",
    "add_document",
    "decide_request",
    "download",
    "list_documents",
    "list_requests",
    "request_document",
]

ACCESS = ("public", "request")
LINK_DAYS = 7
MAX_BYTES = 20 * 1024 * 1024
EMAIL_FIELD = "document_request.email"
_KEY = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TYPES = {".pdf": "application/pdf", ".txt": "text/plain", ".md": "text/markdown"}


@dataclass(frozen=True)
class DocumentInfo:
    key: str
    title: str
    description: str
    access: str
    terms: str
    filename: str
    size: int
    sha256: str
    uploaded_at: datetime


def add_document(
    session: Session,
    *,
    key: str,
    title: str,
    description: str,
    access: str,
    terms: str,
    filename: str,
    content: bytes,
    actor: str,
    now: datetime,
) -> DocumentInfo:
    """Add or replace a document (audited with its hash)."""
    if not _KEY.match(key):
        raise InvalidInput(f"key {key!r}: lower-case letters, digits and dashes, up to 64")
    if access not in ACCESS:
        raise InvalidInput(f"access {access!r}: expected public or request")
    if access == "request" and not terms.strip():
        raise InvalidInput("terms: a document given on request needs its click-through terms")
    if not title.strip() or len(title) > 200:
        raise InvalidInput("title: give 1 to 200 characters")
    suffix = ("." + filename.rsplit(".", 1)[-1].lower()) if "." in filename else ""
    if suffix not in _TYPES:
        raise InvalidInput(f"{filename}: expected a {', '.join(_TYPES)} file")
    if not content or len(content) > MAX_BYTES:
        raise InvalidInput(f"{filename}: empty or over {MAX_BYTES // (1024 * 1024)} MiB")
    digest = hashlib.sha256(content).hexdigest()
    row = session.get(TrustDocument, key) or TrustDocument(key=key)
    row.title, row.description, row.access, row.terms = title.strip(), description, access, terms
    row.filename, row.media_type, row.content = filename.rsplit("/", 1)[-1], _TYPES[suffix], content
    row.sha256, row.uploaded_at, row.actor = digest, now, actor
    session.add(row)
    session.flush()
    audit.record(
        session, actor=actor, action="trustcentre.document_saved", entity_type="trust_document",
        entity_id=key, changes={"access": access, "sha256": digest, "size": len(content)},
    )  # fmt: skip
    CACHE.clear()
    return _info(row)


def _info(row: TrustDocument) -> DocumentInfo:
    return DocumentInfo(
        row.key, row.title, row.description, row.access, row.terms, row.filename,
        len(row.content), row.sha256, row.uploaded_at,
    )  # fmt: skip


def list_documents(session: Session) -> list[DocumentInfo]:
    rows = session.scalars(select(TrustDocument).order_by(TrustDocument.title))
    return [_info(r) for r in rows]


def _document(session: Session, key: str) -> TrustDocument:
    row = session.get(TrustDocument, key)
    if row is None:
        raise NotFound(f"no document {key!r}")
    return row


def request_document(
    session: Session,
    vault: Vault,
    *,
    key: str,
    email: str,
    company: str,
    accepted_terms: bool,
    now: datetime,
) -> int:
    """Record a request (email encrypted); staff decide it. Its id."""
    document = _document(session, key)
    if document.access != "request":
        raise InvalidInput(f"{document.title} is public: download it directly")
    email, company = email.strip(), company.strip()
    if not _EMAIL.match(email) or len(email) > 254:
        raise InvalidInput("email: give a valid email address")
    if not company or len(company) > 200:
        raise InvalidInput("company: give 1 to 200 characters")
    if not accepted_terms:
        raise InvalidInput("terms: accept the document's terms to request it")
    (subject,) = vault.new_subjects(1)
    data_key = vault.data_keys([subject])[subject]
    row = DocumentRequest(
        document_key=key, key_subject=subject,
        email_enc=vault.encrypt(data_key, subject, EMAIL_FIELD, email), company=company,
        status="pending", terms_accepted_at=now, requested_at=now,
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(
        session, actor="public:trust-centre", action="trustcentre.document_requested",
        entity_type="trust_document_request", entity_id=row.id,
        changes={"document": key, "company": company},
    )  # fmt: skip
    return row.id


def list_requests(session: Session, *, status: str | None = "pending") -> list[DocumentRequest]:
    query = select(DocumentRequest).order_by(DocumentRequest.id)
    if status is not None:
        query = query.where(DocumentRequest.status == status)
    return list(session.scalars(query))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def decide_request(
    session: Session,
    vault: Vault,
    request_id: int,
    *,
    approve: bool,
    base_url: str,
    actor: str,
    now: datetime,
) -> str:
    """Approve (mail a download link through the outbox) or refuse a pending request; the new
    status."""
    row = session.get(DocumentRequest, request_id)
    if row is None:
        raise NotFound(f"no document request {request_id}")
    if row.status != "pending":
        raise Conflict(f"document request {request_id} is already {row.status}")
    document = _document(session, row.document_key)
    row.status, row.decided_at, row.decided_by = (
        ("approved" if approve else "refused"),
        now,
        actor,
    )
    if approve:
        token = secrets.token_urlsafe(32)
        row.token_hash, row.expires_at = _hash(token), now + timedelta(days=LINK_DAYS)
        data_key = vault.data_keys([row.key_subject]).get(row.key_subject)
        email = vault.decrypt(data_key, row.key_subject, EMAIL_FIELD, row.email_enc)
        if email is None:
            raise Conflict(f"document request {request_id}: the requester's email was erased")
        link = (
            f"{base_url.rstrip('/')}/trust-centre/documents/{document.key}/download?token={token}"
        )
        outbox.enqueue_email(
            session, vault, kind="trustcentre.document", key=f"trust-document-{row.id}",
            subject=f"Your copy of {document.title}",
            text=(
                f"Your request for {document.title} was approved.\n\nDownload it within "
                f"{LINK_DAYS} days: {link}\n\nThe terms you accepted apply to this copy."
            ),
            to_address=email, actor=actor,
        )  # fmt: skip
    audit.record(
        session, actor=actor, action="trustcentre.document_request_decided",
        entity_type="trust_document_request", entity_id=row.id,
        changes={"document": row.document_key, "status": row.status},
    )  # fmt: skip
    return row.status


def download(
    session: Session, key: str, *, token: str | None, now: datetime
) -> tuple[str, str, bytes]:
    """(filename, media type, bytes) of a public document, or of a requested one with a valid
    link; audited either way."""
    document = _document(session, key)
    request_id: int | None = None
    if document.access == "request":
        row = (
            session.scalar(
                select(DocumentRequest).where(DocumentRequest.token_hash == _hash(token))
            )
            if token
            else None
        )
        if (
            row is None
            or row.document_key != key
            or row.status != "approved"
            or row.expires_at is None
            or row.expires_at < now
        ):
            raise PermissionDenied("this document is given on request: the link is missing, "
                                   "wrong or expired")  # fmt: skip
        row.downloads += 1
        request_id = row.id
    audit.record(
        session, actor="public:trust-centre", action="trustcentre.document_downloaded",
        entity_type="trust_document", entity_id=key,
        changes={"request": request_id, "sha256": document.sha256},
    )  # fmt: skip
    return document.filename, document.media_type, document.content
