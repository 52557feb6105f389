"""Working a case: read it, list the inbox, change status, assign, note, reply, follow the
playbook, link and merge. Every change is a timeline event and an audit entry; nothing commits."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk import audit
from trustdesk.cases import sla
from trustdesk.cases.config import current_config
from trustdesk.cases.counts import count_rows
from trustdesk.cases.errors import CaseNotFound, InvalidCase, InvalidTransition, UnknownCustomer
from trustdesk.cases.intake import BODY_FIELD, NOTE_FIELD, SUBJECT_FIELD
from trustdesk.cases.models import (
    Case,
    CaseAttachment,
    CaseContact,
    CaseEvent,
    CaseLink,
    CaseMessage,
)
from trustdesk.cases.schemas import (
    MAX_BODY,
    STATUSES,
    CaseDetail,
    CaseEventOut,
    CaseLinkKind,
    CaseSummary,
)
from trustdesk.crypto import KeyDestroyed, Vault
from trustdesk.customers import public as customers
from trustdesk.db import utcnow
from trustdesk.outbox import public as outbox

__all__ = [
    "LINK_KINDS",
    "TRANSITIONS",
    "Attachment",
    "add_note",
    "apply",
    "assign",
    "attachments",
    "change_status",
    "complete_step",
    "customer_id_of",
    "customer_message",
    "get_case",
    "link",
    "list_inbox",
    "merge_cases",
    "merge_contact",
    "queue_counts",
    "record_event",
    "reply",
]

_WAITING = ("waiting_on_customer", "waiting_on_third_party")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("open", *_WAITING, "resolved", "closed"),
    "open": (*_WAITING, "resolved", "closed"),
    "waiting_on_customer": ("open", "waiting_on_third_party", "resolved", "closed"),
    "waiting_on_third_party": ("open", "waiting_on_customer", "resolved", "closed"),
    "resolved": ("closed", "reopened"),
    "closed": ("reopened",),
    "reopened": ("open", *_WAITING, "resolved", "closed"),
}
LINK_KINDS: tuple[str, ...] = get_args(CaseLinkKind)


def _get(session: Session, case_id: int, *, lock: bool = False) -> Case:
    case = session.get(Case, case_id, with_for_update=lock)
    if case is None:
        raise CaseNotFound(f"no case {case_id}")
    return case


def _event(
    session: Session,
    case: Case,
    actor: str,
    kind: str,
    detail: dict[str, Any],
    now: datetime,
    text_enc: bytes | None = None,
) -> CaseEvent:
    event = CaseEvent(
        case_id=case.id,
        at=now,
        actor=actor,
        kind=kind,
        detail=json.dumps(detail, sort_keys=True),
        text_enc=text_enc,
    )
    session.add(event)
    case.updated_at = now
    audit.record(
        session,
        actor=actor,
        action=f"case.{kind}",
        entity_type="case",
        entity_id=case.id,
        changes=detail,
    )
    return event


def record_event(
    session: Session,
    case_id: int,
    kind: str,
    detail: dict[str, Any],
    *,
    actor: str,
    now: datetime | None = None,
) -> Case:
    """A timeline event (and its audit entry) that changes nothing else on the case."""
    case = _get(session, case_id, lock=True)
    _event(session, case, actor, kind, detail, now or utcnow())
    return case


def _key(vault: Vault, case: Case) -> bytes | None:
    return vault.data_keys([case.key_subject]).get(case.key_subject)


def _text(
    vault: Vault, key: bytes | None, case: Case, field: str, blob: bytes | None
) -> str | None:
    try:
        return vault.decrypt(key, case.key_subject, field, blob)
    except KeyDestroyed:
        return "[erased]"


def _summary(case: Case, subject: str | None) -> CaseSummary:
    return CaseSummary(
        id=case.id,
        channel=case.channel,
        queue=case.queue,
        priority=case.priority,
        category=case.category,
        status=case.status,
        assignee=case.assignee,
        opened_at=case.opened_at,
        first_response_due=case.first_response_due,
        resolution_due=case.resolution_due,
        sla_state=case.sla_state,
        subject=subject,
    )


_INBOX_COLUMNS = (
    Case.id, Case.channel, Case.queue, Case.priority, Case.category, Case.status, Case.assignee,
    Case.opened_at, Case.first_response_due, Case.resolution_due, Case.sla_state,
)  # fmt: skip


def list_inbox(
    session: Session,
    *,
    queue: str | None = None,
    status: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> tuple[list[CaseSummary], int | None]:
    """Newest first, keyset-paged by id (`before_id`), no decryption: one index range scan."""
    if status is not None and status not in STATUSES:
        raise InvalidCase(f"status {status!r}: expected one of {', '.join(STATUSES)}")
    query = select(*_INBOX_COLUMNS)
    if queue is not None:
        query = query.where(Case.queue == queue)
    if status is not None:
        query = query.where(Case.status == status)
    if before_id is not None:
        query = query.where(Case.id < before_id)
    rows = session.execute(query.order_by(Case.id.desc()).limit(limit + 1)).all()
    items = [CaseSummary(**row._asdict()) for row in rows[:limit]]
    return items, (items[-1].id if len(rows) > limit else None)


def customer_id_of(session: Session, case_id: int) -> int | None:
    return _get(session, case_id).customer_id


def queue_counts(session: Session) -> dict[str, dict[str, int]]:
    """{queue: {"active": n, "amber": n, "breached": n}} over cases not resolved or closed.

    From the counts table kept with every case write (`counts.py`): a few dozen rows, whatever
    the number of cases."""
    counts: dict[str, dict[str, int]] = {}
    for (queue, _status, state), n in count_rows(session, sla.ACTIVE_STATUSES).items():
        entry = counts.setdefault(queue, {"active": 0, "amber": 0, "breached": 0})
        entry["active"] += n
        if state in ("amber", "breached"):
            entry[state] += n
    return dict(sorted(counts.items()))


def get_case(session: Session, vault: Vault, case_id: int, *, reveal: bool) -> CaseDetail:
    case = _get(session, case_id)
    key = _key(vault, case) if reveal else None
    text = (lambda field, blob: _text(vault, key, case, field, blob)) if reveal else None
    config = current_config(session)
    events = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    ).all()
    links = session.execute(
        select(CaseLink.kind, CaseLink.target).where(CaseLink.case_id == case.id)
    ).all()
    customer = (
        customers.external_ids(session, [case.customer_id]).get(case.customer_id)
        if case.customer_id is not None
        else None
    )
    summary = _summary(case, text(SUBJECT_FIELD, case.subject_enc) if text else None)
    return CaseDetail(
        **summary.model_dump(),
        external_id=case.external_id,
        probability=case.probability,
        customer=customer,
        contact_id=case.contact_id,
        segment=case.segment,
        team=case.team,
        body=text(BODY_FIELD, case.body_enc) if text else None,
        playbook=case.playbook,
        playbook_steps=list(config.playbooks.get(case.playbook or "", ())),
        playbook_done=case.playbook_done,
        first_response_at=case.first_response_at,
        next_update_due=case.next_update_due,
        resolved_at=case.resolved_at,
        paused=case.paused_at is not None,
        reopen_count=case.reopen_count,
        merged_into=case.merged_into_id,
        links=[{"kind": k, "target": t} for k, t in links],
        events=[
            CaseEventOut(
                id=e.id,
                at=e.at,
                actor=e.actor,
                kind=e.kind,
                detail=json.loads(e.detail),
                text=text(NOTE_FIELD, e.text_enc) if text and e.text_enc else None,
            )
            for e in events
        ],
    )


Change = Callable[[Session, Vault, str], Case]


def apply(
    session: Session, vault: Vault, change: Change, *, actor: str, reveal: bool = False
) -> CaseDetail:
    """The one shape of every change from the API, the CLI and the pages: run `change` (it loads
    the case, acts, records the timeline event and the audit entry) and return the case as the
    actor now sees it."""
    case = change(session, vault, actor)
    return get_case(session, vault, case.id, reveal=reveal)


def change_status(
    session: Session, case_id: int, status: str, *, actor: str, now: datetime | None = None
) -> Case:
    """Move a case along the workflow; waiting on the customer stops its clocks."""
    if status not in STATUSES:
        raise InvalidCase(f"status {status!r}: expected one of {', '.join(STATUSES)}")
    now = now or utcnow()
    case = _get(session, case_id, lock=True)
    if status not in TRANSITIONS[case.status]:
        raise InvalidTransition(f"case {case_id}: {case.status} cannot become {status}")
    config = current_config(session)
    before = case.status
    if before == "waiting_on_customer":
        sla.resume(case, config, now)
    if status == "waiting_on_customer":
        sla.pause(case, now)
    if status in ("resolved", "closed") and case.resolved_at is None:
        case.resolved_at = now
        if case.first_response_at is None:
            case.first_response_at = now  # the resolution is the answer
    if status == "reopened":
        case.reopen_count += 1
        case.resolved_at = None
        sla.set_dues(case, config, now)
    case.status = status
    _event(session, case, actor, "status", {"from": before, "to": status}, now)
    return case


def assign(
    session: Session,
    case_id: int,
    *,
    team: str | None,
    assignee: str | None,
    actor: str,
    now: datetime | None = None,
) -> Case:
    now = now or utcnow()
    case = _get(session, case_id, lock=True)
    before = {"team": case.team, "assignee": case.assignee}
    case.team, case.assignee = team, assignee
    if case.status == "new" and assignee:
        case.status = "open"
    _event(
        session,
        case,
        actor,
        "assigned",
        {"before": before, "team": team, "assignee": assignee},
        now,
    )
    return case


def _checked_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidCase("the text is empty")
    if len(text) > MAX_BODY:
        raise InvalidCase(f"the text is longer than {MAX_BODY} characters")
    if "\x00" in text:
        raise InvalidCase("the text contains a NUL character")
    return text


def add_note(
    session: Session,
    vault: Vault,
    case_id: int,
    text: str,
    *,
    actor: str,
    now: datetime | None = None,
) -> Case:
    """An internal note (never shown to the customer), encrypted like the complaint."""
    now = now or utcnow()
    case = _get(session, case_id, lock=True)
    text = _checked_text(text)
    blob = vault.encrypt(_key(vault, case) or b"", case.key_subject, NOTE_FIELD, text)
    _event(session, case, actor, "note", {"length": len(text)}, now, blob)
    return case


def reply(
    session: Session,
    vault: Vault,
    case_id: int,
    text: str,
    *,
    actor: str,
    now: datetime | None = None,
) -> Case:
    """An answer to the customer: counts as the first response, restarts the update clock, and
    is sent by email through the outbox (in this transaction) when we have an address."""
    now = now or utcnow()
    case = _get(session, case_id, lock=True)
    if case.status in ("closed",):
        raise InvalidTransition(f"case {case_id} is closed: reopen it to reply")
    text = _checked_text(text)
    key = _key(vault, case)
    if key is None:
        raise InvalidTransition(f"case {case_id}: the sender's data was erased, no reply possible")
    blob = vault.encrypt(key, case.key_subject, NOTE_FIELD, text)
    sla.responded(case, current_config(session), now)
    if case.status == "new":
        case.status = "open"
    to_address = _contact_address(session, vault, case)
    sent = case.customer_id is not None or to_address is not None
    event = _event(session, case, actor, "reply", {"length": len(text), "email": sent}, now, blob)
    if sent:
        session.flush()
        subject = vault.decrypt(key, case.key_subject, SUBJECT_FIELD, case.subject_enc) or ""
        key_ = f"case:{case.id}:reply:{event.id}"
        outbox.enqueue_email(
            session,
            vault,
            kind="case.reply",
            key=key_,
            customer_id=case.customer_id,
            to_address=None if case.customer_id is not None else to_address,
            subject=f"Re: {' '.join(subject.split())[:150]} [case #{case.id}]",
            text=text,
            actor=actor,
        )
        # The customer's mail program answers with In-Reply-To: this Message-ID; recorded by
        # its left part (the outbox names the domain), so `inbound.py` threads the answer here.
        left = outbox.message_id_for(key_, "x")[1:].partition("@")[0]
        session.add(
            CaseMessage(message_id=left, case_id=case.id, direction="out", status="sent", at=now)
        )
    return case


def customer_message(
    session: Session,
    vault: Vault,
    case_id: int,
    text: str,
    *,
    actor: str,
    detail: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Case:
    """The customer wrote again on this case (an email reply): on the timeline, encrypted; a
    case waiting on them runs again, a resolved or closed one is reopened."""
    now = now or utcnow()
    case = _get(session, case_id, lock=True)
    text = _checked_text(text)
    key = _key(vault, case)
    if key is None:
        raise InvalidTransition(f"case {case_id}: the sender's data was erased")
    blob = vault.encrypt(key, case.key_subject, NOTE_FIELD, text)
    _event(
        session, case, actor, "customer_message", {"length": len(text), **(detail or {})}, now, blob
    )
    if case.status == "waiting_on_customer":
        change_status(session, case.id, "open", actor=actor, now=now)
    elif case.status in ("resolved", "closed"):
        change_status(session, case.id, "reopened", actor=actor, now=now)
    return case


def _contact_address(session: Session, vault: Vault, case: Case) -> str | None:
    if case.contact_id is None:
        return None
    contact = session.get(CaseContact, case.contact_id)
    if contact is None or contact.email_enc is None:
        return None
    keys = vault.data_keys([contact.subject_id])
    return vault.decrypt(
        keys.get(contact.subject_id), contact.subject_id, "contact.email", contact.email_enc
    )


def complete_step(
    session: Session, case_id: int, *, actor: str, now: datetime | None = None
) -> Case:
    """Tick the next step of the case's playbook."""
    now = now or utcnow()
    case = _get(session, case_id, lock=True)
    steps = current_config(session).playbooks.get(case.playbook or "", ())
    if not steps:
        raise InvalidCase(f"case {case_id} has no playbook")
    if case.playbook_done >= len(steps):
        raise InvalidTransition(f"case {case_id}: every step of {case.playbook} is done")
    case.playbook_done += 1
    detail = {"playbook": case.playbook, "step": case.playbook_done, "of": len(steps)}
    _event(session, case, actor, "step", detail, now)
    return case


def link(
    session: Session,
    case_id: int,
    kind: str,
    target: str,
    *,
    actor: str,
    now: datetime | None = None,
) -> Case:
    """Link a case to another case, a fraud review, an incident or a privacy request."""
    if kind not in LINK_KINDS:
        raise InvalidCase(f"link kind {kind!r}: expected one of {', '.join(LINK_KINDS)}")
    target = target.strip()
    if not target or len(target) > 128:
        raise InvalidCase("link target: 1 to 128 characters")
    now = now or utcnow()
    case = _get(session, case_id, lock=True)
    if kind == "case":
        _get(session, int(target) if target.isdigit() else -1)
    exists = session.scalars(
        select(CaseLink.id).where(
            CaseLink.case_id == case.id, CaseLink.kind == kind, CaseLink.target == target
        )
    ).first()
    if exists is None:
        session.add(CaseLink(case_id=case.id, kind=kind, target=target, created_at=now))
        _event(session, case, actor, "linked", {"kind": kind, "target": target}, now)
    return case


def merge_cases(
    session: Session, source_id: int, into_id: int, *, actor: str, now: datetime | None = None
) -> Case:
    """Merge a duplicate into another case: the duplicate is closed and points at the survivor."""
    if source_id == into_id:
        raise InvalidCase("a case cannot be merged into itself")
    now = now or utcnow()
    source, target = _get(session, source_id, lock=True), _get(session, into_id, lock=True)
    if target.merged_into_id is not None:
        raise InvalidTransition(f"case {into_id} was itself merged into {target.merged_into_id}")
    if source.merged_into_id is not None:
        raise InvalidTransition(f"case {source_id} was already merged")
    source.merged_into_id = target.id
    before = source.status
    source.status = "closed"
    if source.resolved_at is None:
        source.resolved_at = now
    session.add(CaseLink(case_id=target.id, kind="case", target=str(source.id), created_at=now))
    _event(session, source, actor, "merged", {"into": target.id, "from_status": before}, now)
    _event(session, target, actor, "merged_in", {"case": source.id}, now)
    return target


def merge_contact(
    session: Session, vault: Vault, contact_id: int, customer: str, *, actor: str
) -> int:
    """A contact turned out to be a known customer: their cases move to the customer and are
    re-encrypted under the customer's key; the contact's own fields are dropped.

    Returns the number of cases moved."""
    contact = session.get(CaseContact, contact_id, with_for_update=True)
    if contact is None:
        raise CaseNotFound(f"no contact {contact_id}")
    if contact.merged_at is not None:
        raise InvalidTransition(f"contact {contact_id} was already merged")
    found = customers.customer_ids(session, [customer])
    if customer not in found:
        raise UnknownCustomer(f"no customer with external id {customer!r}")
    customer_id = found[customer]
    subject = customers.customer_subjects(session, [customer_id])[customer_id]
    keys = vault.data_keys([subject, contact.subject_id])
    if subject not in keys:
        raise InvalidCase(f"customer {customer!r} was erased")
    old_key, new_key = keys.get(contact.subject_id), keys[subject]
    segment = next(iter(customers.segments(session, [customer_id]).get(customer_id, ())), None)
    now = utcnow()
    moved = session.scalars(select(Case).where(Case.contact_id == contact.id)).all()
    for case in moved:
        for field, attr in ((SUBJECT_FIELD, "subject_enc"), (BODY_FIELD, "body_enc")):
            clear = vault.decrypt(old_key, contact.subject_id, field, getattr(case, attr))
            setattr(case, attr, vault.encrypt(new_key, subject, field, clear))
        for event in session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.text_enc.is_not(None))
        ):
            clear = vault.decrypt(old_key, contact.subject_id, NOTE_FIELD, event.text_enc)
            event.text_enc = vault.encrypt(new_key, subject, NOTE_FIELD, clear)
        case.customer_id, case.contact_id, case.key_subject = customer_id, None, subject
        case.segment = case.segment or segment
        _event(session, case, actor, "customer_matched", {"contact": contact.id}, now)
    contact.customer_id, contact.merged_at = customer_id, now
    contact.email_enc = contact.name_enc = None
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="case_contact.merged",
        entity_type="case_contact",
        entity_id=contact.id,
        changes={"customer": customer, "cases": len(moved)},
    )
    return len(moved)


ATTACHMENT_NAME_FIELD, ATTACHMENT_DATA_FIELD = "case.attachment.name", "case.attachment.data"


@dataclass(frozen=True)
class Attachment:
    id: int
    filename: str | None  # None once the sender's key is destroyed
    content_type: str
    size: int
    data: bytes | None = None


def attachments(
    session: Session,
    vault: Vault,
    case_id: int,
    *,
    with_data: bool = False,
    attachment_id: int | None = None,
) -> list[Attachment]:
    """The files of a case, decrypted (names always, contents when asked)."""
    case = _get(session, case_id)
    query = select(CaseAttachment).where(CaseAttachment.case_id == case.id)
    if attachment_id is not None:
        query = query.where(CaseAttachment.id == attachment_id)
    key = _key(vault, case)
    found: list[Attachment] = []
    for row in session.scalars(query.order_by(CaseAttachment.id)):
        if key is None:
            found.append(Attachment(row.id, None, row.content_type, row.size))
            continue
        name = vault.decrypt(key, case.key_subject, ATTACHMENT_NAME_FIELD, row.filename_enc)
        data = None
        if with_data:
            text = vault.decrypt(key, case.key_subject, ATTACHMENT_DATA_FIELD, row.data_enc)
            data = base64.b64decode(text or "")
        found.append(Attachment(row.id, name, row.content_type, row.size, data))
    if attachment_id is not None and not found:
        raise CaseNotFound(f"case {case_id} has no attachment {attachment_id}")
    return found
