"""Inbound email: a message becomes a case, or a reply threaded onto its case.

* Idempotent on the Message-ID (a message without one is named by the hash of its bytes), so a
  mail server delivering twice, or a mailbox polled again, opens nothing twice.
* Threading: In-Reply-To and References are looked up among the messages of every case, ours
  included (a staff reply goes out through the outbox with a Message-ID recorded here), so the
  customer's answer lands on the case it answers. A reply reopens a resolved case and restarts a
  case that was waiting on the customer.
* The sender is matched to a customer through the email blind index (see `intake.py`); an
  unknown sender becomes a contact.
* Text and attachments are encrypted under the customer's (or contact's) key. A message over
  `MAX_MESSAGE_BYTES`, or with an attachment over `MAX_ATTACHMENT_BYTES`, is refused
  (`MessageRefused`: SMTP 552, so the sender's server keeps it and tells them); a message we cannot
  use (no sender, unreadable) is quarantined, encrypted under a key of its own, never dropped.
  Released or discarded, its copy is dropped and, once that commits, its key destroyed: copies in
  backups become unreadable too.
"""

from __future__ import annotations

import base64
import dataclasses
import email
import email.policy
import hashlib
import html
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from trustdesk import audit
from trustdesk.cases import service
from trustdesk.cases.errors import CaseNotFound, InvalidCase, MessageRefused
from trustdesk.cases.intake import open_case
from trustdesk.cases.models import Case, CaseAttachment, CaseMessage
from trustdesk.cases.routing import Classifier
from trustdesk.cases.schemas import MAX_BODY, CaseIn
from trustdesk.cases.service import ATTACHMENT_DATA_FIELD, ATTACHMENT_NAME_FIELD
from trustdesk.crypto import Vault
from trustdesk.db import utcnow

_log = logging.getLogger(__name__)

__all__ = [
    "ATTACHMENT_DATA_FIELD",
    "ATTACHMENT_NAME_FIELD",
    "MAX_ATTACHMENTS",
    "MAX_ATTACHMENT_BYTES",
    "MAX_MESSAGE_BYTES",
    "InboundResult",
    "ParsedMail",
    "discard",
    "ingest_mail",
    "parse_mail",
    "quarantined",
    "release",
]

MAX_MESSAGE_BYTES = 25 * 1024 * 1024  # what the SMTP listener accepts (data_size_limit)
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024  # each attachment, decoded
MAX_ATTACHMENTS = 20
QUARANTINE_FIELD = "case.quarantine.raw"
_ID = re.compile(r"<[^<>\s]{1,250}>")
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    sender: str | None
    name: str | None
    subject: str
    body: str
    references: tuple[str, ...]
    attachments: tuple[tuple[str, str, bytes], ...]  # (file name, content type, bytes)
    at: datetime | None


@dataclass(frozen=True)
class InboundResult:
    outcome: str  # opened | threaded | duplicate | quarantined
    case_id: int | None
    message_row: int


def _message_id(msg: EmailMessage, raw: bytes) -> str:
    found = _ID.search(str(msg.get("Message-ID", "") or ""))
    if found:
        return found.group(0)
    return f"<{hashlib.sha256(raw).hexdigest()}@no-message-id.invalid>"


def _text_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    text = content if isinstance(content, str) else content.decode("utf-8", "replace")
    if part.get_content_subtype() == "html":
        text = html.unescape(_TAG.sub(" ", re.sub(r"(?is)<(script|style).*?</\1>", " ", text)))
    return text.replace("\x00", "").strip()


def parse_mail(raw: bytes, envelope_from: str | None = None) -> ParsedMail:
    """Read a message. Raises MessageRefused when an attachment is over the limit; ValueError
    when the message cannot be read at all."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise MessageRefused(f"the message is over {MAX_MESSAGE_BYTES // 2**20} MiB")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(msg, EmailMessage):  # pragma: no cover - the default policy makes one
        raise ValueError("not an email message")
    addresses = [(n, a) for n, a in getaddresses([str(msg.get("From", "") or "")]) if "@" in a]
    name, sender = addresses[0] if addresses else (None, None)
    if sender is None and envelope_from and "@" in envelope_from:
        sender = envelope_from.strip("<>")
    attachments: list[tuple[str, str, bytes]] = []
    for number, part in enumerate(msg.iter_attachments(), start=1):
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if len(data) > MAX_ATTACHMENT_BYTES:
            raise MessageRefused(
                f"attachment {number} is {len(data) // 2**20} MiB: "
                f"the limit is {MAX_ATTACHMENT_BYTES // 2**20} MiB"
            )
        if len(attachments) >= MAX_ATTACHMENTS:
            raise MessageRefused(f"more than {MAX_ATTACHMENTS} attachments")
        filename = (part.get_filename() or f"attachment-{number}").replace("\x00", "")[:255]
        attachments.append((filename, part.get_content_type()[:100], data))
    references = tuple(
        _ID.findall(f"{msg.get('In-Reply-To', '') or ''} {msg.get('References', '') or ''}")
    )
    at: datetime | None = None
    try:
        at = parsedate_to_datetime(str(msg["Date"])) if msg.get("Date") else None
    except (TypeError, ValueError):
        at = None
    if at is not None and at.tzinfo is None:
        at = None
    subject = " ".join(str(msg.get("Subject", "") or "").replace("\x00", "").split())[:300]
    return ParsedMail(
        message_id=_message_id(msg, raw),
        sender=sender[:254] if sender else None,
        name=(name or None) and name.replace("\x00", "")[:200],
        subject=subject or "(no subject)",
        body=_text_of(msg),
        references=references,
        attachments=tuple(attachments),
        at=at,
    )


def _quarantine(
    session: Session, vault: Vault, raw: bytes, message_id: str, reason: str, actor: str
) -> InboundResult:
    (subject,) = vault.new_subjects(1)
    key = vault.data_keys([subject])[subject]
    row = CaseMessage(
        message_id=message_id,
        case_id=None,
        direction="in",
        status="quarantined",
        reason=reason[:200],
        at=utcnow(),
        key_subject=subject,
        raw_enc=vault.encrypt(key, subject, QUARANTINE_FIELD, base64.b64encode(raw).decode()),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="case_message.quarantined",
        entity_type="case_message",
        entity_id=row.id,
        changes={"reason": reason[:200]},
    )
    return InboundResult("quarantined", None, row.id)


def _thread(session: Session, references: tuple[str, ...]) -> Case | None:
    """The case a reply belongs to: the latest of its references we know (ours are recorded
    by the left part of the outbox's Message-ID, `<digest.outbox@domain>`)."""
    if not references:
        return None
    keys = set(references) | {r[1:].partition("@")[0] for r in references}
    case_id = session.scalars(
        select(CaseMessage.case_id)
        .where(CaseMessage.message_id.in_(keys), CaseMessage.case_id.is_not(None))
        .order_by(CaseMessage.id.desc())
    ).first()
    case = session.get(Case, case_id) if case_id is not None else None
    while case is not None and case.merged_into_id is not None:  # a merged duplicate
        case = session.get(Case, case.merged_into_id)
    return case


def _store_attachments(
    session: Session, vault: Vault, case: Case, row: CaseMessage, mail: ParsedMail
) -> None:
    files = list(mail.attachments)
    if len(mail.body) > MAX_BODY:  # the whole text is kept, the case shows its start
        files.append(("message.txt", "text/plain", mail.body.encode("utf-8")))
    if not files:
        return
    key = vault.data_keys([case.key_subject]).get(case.key_subject)
    if key is None:
        return
    now = utcnow()
    for filename, content_type, data in files:
        session.add(
            CaseAttachment(
                case_id=case.id,
                message_id=row.id,
                content_type=content_type,
                size=len(data),
                filename_enc=vault.encrypt(key, case.key_subject, ATTACHMENT_NAME_FIELD, filename),
                data_enc=vault.encrypt(
                    key,
                    case.key_subject,
                    ATTACHMENT_DATA_FIELD,
                    base64.b64encode(data).decode("ascii"),
                ),
                created_at=now,
            )
        )


def _clip(text: str) -> str:
    return (
        text if len(text) <= MAX_BODY else text[: MAX_BODY - 40] + "\n[… the full text is attached]"
    )


def ingest_mail(
    session: Session,
    vault: Vault,
    raw: bytes,
    *,
    classify: Classifier,
    actor: str = "email",
    envelope_from: str | None = None,
) -> InboundResult:
    """One inbound message, in the caller's transaction (see the module's docstring)."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise MessageRefused(f"the message is over {MAX_MESSAGE_BYTES // 2**20} MiB")
    try:
        mail = parse_mail(raw, envelope_from)
    except MessageRefused:
        raise
    except Exception as exc:
        digest = f"<{hashlib.sha256(raw).hexdigest()}@unreadable.invalid>"
        known = session.scalars(select(CaseMessage).where(CaseMessage.message_id == digest)).first()
        if known is not None:
            return InboundResult("duplicate", known.case_id, known.id)
        return _quarantine(session, vault, raw, digest, f"unreadable: {type(exc).__name__}", actor)
    known = session.scalars(
        select(CaseMessage).where(CaseMessage.message_id == mail.message_id)
    ).first()
    if known is not None:
        return InboundResult("duplicate", known.case_id, known.id)
    if mail.sender is None:
        return _quarantine(session, vault, raw, mail.message_id, "no sender address", actor)
    body = mail.body or "(no text)"
    case = _thread(session, mail.references)
    row = CaseMessage(
        message_id=mail.message_id,
        direction="in",
        status="threaded" if case is not None else "opened",
        at=utcnow(),
    )
    if case is not None:
        row.case_id = case.id
        session.add(row)
        session.flush()
        service.customer_message(
            session,
            vault,
            case.id,
            _clip(body),
            actor=actor,
            detail={"message": row.id, "attachments": len(mail.attachments)},
        )
    else:
        case = _open_from(session, vault, mail, classify=classify, actor=actor)
        row.case_id = case.id
        session.add(row)
        session.flush()
    _store_attachments(session, vault, case, row, mail)
    session.flush()
    return InboundResult(row.status, case.id, row.id)


def _open_from(
    session: Session, vault: Vault, mail: ParsedMail, *, classify: Classifier, actor: str
) -> Case:
    external_id = mail.message_id
    if len(external_id) > 128:
        external_id = f"sha256:{hashlib.sha256(external_id.encode()).hexdigest()}"
    opened = open_case(
        session,
        vault,
        CaseIn(
            channel="email",
            external_id=external_id,
            subject=mail.subject or "(no subject)",
            body=_clip(mail.body or "(no text)"),
            email=mail.sender,
            name=mail.name,
            at=mail.at,
        ),
        classify=classify,
        actor=actor,
    )
    case = session.get(Case, opened.id)
    assert case is not None
    return case


def _shred_when_committed(session: Session, vault: Vault, subject: str) -> None:
    """Destroy the quarantined copy's key once the transaction that drops the copy commits: the
    key store commits apart from the main database, and a key destroyed before a rollback would
    leave a held message that nobody can release."""
    if not subject:
        return

    def shred(_session: Session) -> None:
        try:
            vault.destroy(subject)
        except Exception:  # the copy is already dropped; the key then outlives it, as before
            _log.warning("could not destroy a quarantined message's key", exc_info=True)

    event.listen(session, "after_commit", shred, once=True)


def _held(session: Session, message_row: int) -> CaseMessage:
    row = session.get(CaseMessage, message_row, with_for_update=True)
    if row is None or row.status != "quarantined":
        raise CaseNotFound(f"no quarantined message {message_row}")
    return row


def release(
    session: Session,
    vault: Vault,
    message_row: int,
    *,
    sender: str | None,
    classify: Classifier,
    actor: str,
) -> int:
    """A person looked at a quarantined message and it is a complaint: open its case (with the
    reply address they give when the message had none; without one the case is opened from an
    unknown contact and cannot be answered by email). A message that still cannot be read
    becomes a case whose text is what could be decoded, the original attached. The raw copy is
    dropped. Returns the case id."""
    if sender is not None:
        sender = sender.strip()
        if (
            not sender
            or len(sender) > 254
            or "@" not in sender
            or any(c in sender for c in "<> \x00")
        ):
            raise InvalidCase("sender: give an email address such as name@example.org")
    row = _held(session, message_row)
    key = vault.data_keys([row.key_subject or ""]).get(row.key_subject or "")
    if key is None:
        raise InvalidCase(f"message {message_row}: its copy was erased")
    text = vault.decrypt(key, row.key_subject or "", QUARANTINE_FIELD, row.raw_enc) or ""
    raw = base64.b64decode(text)
    try:
        mail = parse_mail(raw)
    except MessageRefused:
        raise
    except Exception:
        mail = ParsedMail(
            message_id=row.message_id, sender=None, name=None, subject="(unreadable message)",
            body=raw.decode("utf-8", "replace").replace("\x00", "").strip(), references=(),
            attachments=(("message.eml", "message/rfc822", raw),), at=None,
        )  # fmt: skip
    mail = dataclasses.replace(mail, message_id=row.message_id, sender=sender or mail.sender)
    case = _open_from(session, vault, mail, classify=classify, actor=actor)
    row.case_id, row.status, row.raw_enc = case.id, "opened", None
    _shred_when_committed(session, vault, row.key_subject or "")
    _store_attachments(session, vault, case, row, mail)
    session.flush()
    audit.record(
        session, actor=actor, action="case_message.released", entity_type="case_message",
        entity_id=row.id, changes={"case": case.id, "sender_given": sender is not None},
    )  # fmt: skip
    return case.id


def discard(session: Session, vault: Vault, message_row: int, *, actor: str) -> None:
    """A quarantined message is not a complaint (spam, a bounce): its copy is dropped (and its key
    destroyed), the row stays (status `discarded`) so the same message arriving again is not
    taken again."""
    row = _held(session, message_row)
    row.status, row.raw_enc = "discarded", None
    _shred_when_committed(session, vault, row.key_subject or "")
    audit.record(
        session, actor=actor, action="case_message.discarded", entity_type="case_message",
        entity_id=row.id, changes={"reason": row.reason},
    )  # fmt: skip


def quarantined(session: Session) -> list[dict[str, object]]:
    """Messages waiting for a person: id, when, why (no content)."""
    rows = session.execute(
        select(CaseMessage.id, CaseMessage.at, CaseMessage.reason)
        .where(CaseMessage.status == "quarantined")
        .order_by(CaseMessage.id)
    )
    return [{"id": i, "at": at.isoformat(), "reason": r} for i, at, r in rows]
