"""Opening cases from any channel: idempotent per (channel, external id), routed by intent.

The sender is a known customer (by external id, or by email through the blind index) or a
contact: a sender we do not know yet, with a data key of its own, merged into a customer later.
Subject and body are encrypted under that key, so erasing the customer shreds their complaints.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk import audit
from trustdesk.cases import sla
from trustdesk.cases.config import CasesConfig, current_config
from trustdesk.cases.errors import InvalidCase, UnknownCustomer
from trustdesk.cases.models import Case, CaseContact, CaseEvent
from trustdesk.cases.routing import Classifier
from trustdesk.cases.schemas import CHANNELS, CaseIn, CaseOpened
from trustdesk.crypto import Vault
from trustdesk.customers import public as customers
from trustdesk.db import utcnow

__all__ = [
    "BODY_FIELD",
    "SUBJECT_FIELD",
    "ImportResult",
    "open_case",
    "open_cases",
    "open_many",
    "open_many_refusals",
    "parse_case",
]

SUBJECT_FIELD, BODY_FIELD, NOTE_FIELD = "case.subject", "case.body", "case.note"


def parse_case(data: dict[str, object]) -> CaseIn:
    """A case from loose input (CSV row, JSON): InvalidCase names the first bad field."""
    try:
        case = CaseIn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "case"
        raise InvalidCase(f"{where}: {first['msg']}") from None
    _check(case)
    return case


def _check(case: CaseIn) -> None:
    if case.channel not in CHANNELS:
        raise InvalidCase(f"channel {case.channel!r}: expected one of {', '.join(CHANNELS)}")
    if case.at is not None and case.at.tzinfo is None:
        raise InvalidCase("at: give the time with an offset (e.g. 2026-01-05T10:00:00Z)")


@dataclass(frozen=True)
class _Sender:
    customer_id: int | None
    contact_id: int | None
    key_subject: str
    segment: str | None


def _sender(session: Session, vault: Vault, case: CaseIn, now: datetime) -> _Sender:
    customer_id: int | None = None
    if case.customer is not None:
        found = customers.customer_ids(session, [case.customer])
        if case.customer not in found:
            raise UnknownCustomer(f"no customer with external id {case.customer!r}")
        customer_id = found[case.customer]
    elif case.email:
        matches = customers.customer_ids_by_email(session, vault, case.email)
        if len(matches) == 1:
            customer_id = matches[0]
    if customer_id is not None:
        subject = customers.customer_subjects(session, [customer_id])[customer_id]
        segment = next(iter(customers.segments(session, [customer_id]).get(customer_id, ())), None)
        return _Sender(customer_id, None, subject, segment)
    return _contact(session, vault, case, now)


def _contact(session: Session, vault: Vault, case: CaseIn, now: datetime) -> _Sender:
    digest = vault.blind_index("email", case.email) if case.email else None
    if digest is not None:
        known = session.scalars(
            select(CaseContact).where(
                CaseContact.email_index == digest, CaseContact.merged_at.is_(None)
            )
        ).first()
        if known is not None:
            return _Sender(None, known.id, known.subject_id, None)
    (subject,) = vault.new_subjects(1)
    key = vault.data_keys([subject])[subject]
    contact = CaseContact(
        subject_id=subject,
        email_index=digest,
        email_enc=vault.encrypt(key, subject, "contact.email", case.email),
        name_enc=vault.encrypt(key, subject, "contact.name", case.name),
        created_at=now,
    )
    session.add(contact)
    session.flush()
    return _Sender(None, contact.id, subject, None)


def open_case(
    session: Session,
    vault: Vault,
    case: CaseIn,
    *,
    classify: Classifier,
    actor: str,
    now: datetime | None = None,
) -> CaseOpened:
    """Open a case, or return the one already opened for this (channel, external id)."""
    _check(case)
    existing = session.scalars(
        select(Case).where(Case.channel == case.channel, Case.external_id == case.external_id)
    ).first()
    if existing is not None:
        return _opened(existing, created=False)
    now = now or utcnow()
    config = current_config(session)
    sender = _sender(session, vault, case, now)
    key = vault.data_keys([sender.key_subject]).get(sender.key_subject)
    row = _new_row(vault, config, case, sender, key, classify, now)
    session.add(row)
    session.flush()
    detail = _record(session, row, case, now, actor)
    audit.record_many(session, actor=actor, items=[_change(row, sender, detail)])
    return _opened(row, created=True)


def _new_row(
    vault: Vault,
    config: CasesConfig,
    case: CaseIn,
    sender: _Sender,
    key: bytes | None,
    classify: Classifier,
    now: datetime,
) -> Case:
    if key is None:
        raise InvalidCase("the customer's personal data was erased: no case can be opened")
    opened_at = min(case.at, now) if case.at is not None else now
    label, probability = classify(f"{case.subject}\n{case.body}")
    rule = config.route(label, probability)
    row = Case(
        channel=case.channel,
        external_id=case.external_id,
        customer_id=sender.customer_id,
        contact_id=sender.contact_id,
        segment=sender.segment,
        key_subject=sender.key_subject,
        subject_enc=vault.encrypt(key, sender.key_subject, SUBJECT_FIELD, case.subject),
        body_enc=vault.encrypt(key, sender.key_subject, BODY_FIELD, case.body),
        body_length=len(case.body),
        category=label,
        probability=round(float(probability), 4),
        queue=rule.queue,
        priority=rule.priority,
        playbook=rule.playbook,
        playbook_done=0,
        status="new",
        opened_at=opened_at,
        updated_at=now,
        sla_state="ok",
        breached=0,
        reopen_count=0,
    )
    sla.set_dues(row, config, opened_at)
    return row


def _record(
    session: Session, row: Case, case: CaseIn, now: datetime, actor: str
) -> dict[str, object]:
    detail: dict[str, object] = {
        "channel": case.channel,
        "category": row.category,
        "queue": row.queue,
    }
    session.add(
        CaseEvent(case_id=row.id, at=now, actor=actor, kind="opened", detail=json.dumps(detail))
    )
    return detail


def _change(row: Case, sender: _Sender, detail: dict[str, object]) -> audit.Change:
    return audit.Change(
        "case.opened",
        "case",
        row.id,
        {**detail, "priority": row.priority, "known_customer": bool(sender.customer_id)},
    )


def open_many(
    session: Session,
    vault: Vault,
    cases: Sequence[CaseIn],
    *,
    classify: Classifier,
    actor: str,
) -> list[CaseOpened | str]:
    """`open_many_refusals` with each refusal as its reason."""
    results = open_many_refusals(session, vault, cases, classify=classify, actor=actor)
    return [r if isinstance(r, CaseOpened) else r.detail for r in results]


Refusal = InvalidCase | UnknownCustomer


def open_many_refusals(
    session: Session,
    vault: Vault,
    cases: Sequence[CaseIn],
    *,
    classify: Classifier,
    actor: str,
) -> list[CaseOpened | Refusal]:
    """Open many cases set-based: one lookup each for the cases already known, the customers,
    their keys and segments, one insert of the cases and their events, one audit append.
    Per case the result or the reason it was refused (nothing stored for it); a case twice in
    the batch is opened once. Senders given by email only go one by one (blind-index lookups)."""
    now = utcnow()
    results: list[CaseOpened | Refusal | None] = [None] * len(cases)
    firsts: dict[tuple[str, str], int] = {}
    for i, case in enumerate(cases):
        try:
            _check(case)
        except InvalidCase as exc:
            results[i] = exc
            continue
        firsts.setdefault((case.channel, case.external_id), i)
    by_channel: dict[str, list[str]] = {}
    for channel, external_id in firsts:
        by_channel.setdefault(channel, []).append(external_id)
    known: dict[tuple[str, str], Case] = {}
    # Per channel, `external_id IN (...)`: a range of the unique index. A row-value
    # `(channel, external_id) IN (VALUES ...)` is a scan of the whole table on SQLite
    # (28 ms at 100,000 cases, paid by every batch).
    for channel, wanted in by_channel.items():
        for start in range(0, len(wanted), 400):
            chunk = wanted[start : start + 400]
            for row in session.scalars(
                select(Case).where(Case.channel == channel, Case.external_id.in_(chunk))
            ):
                known[(row.channel, row.external_id)] = row
    todo = [i for pair, i in firsts.items() if pair not in known]
    by_ref = [ref for i in todo if (ref := cases[i].customer) is not None]
    ids = customers.customer_ids(session, by_ref)
    subjects = customers.customer_subjects(session, ids.values())
    placed = customers.segments(session, ids.values())
    keys = vault.data_keys(subjects.values())
    config = current_config(session)
    made: list[tuple[int, Case, _Sender]] = []
    for i in todo:
        case = cases[i]
        try:
            if case.customer is not None:  # nothing written before the insert: no savepoint
                if case.customer not in ids:
                    raise UnknownCustomer(f"no customer with external id {case.customer!r}")
                cid = ids[case.customer]
                segment = next(iter(placed.get(cid, ())), None)
                sender = _Sender(cid, None, subjects[cid], segment)
                row = _new_row(vault, config, case, sender, keys.get(sender.key_subject),
                               classify, now)  # fmt: skip
            else:
                with session.begin_nested():  # a new contact is undone with a refused case
                    sender = _sender(session, vault, case, now)
                    key = vault.data_keys([sender.key_subject]).get(sender.key_subject)
                    row = _new_row(vault, config, case, sender, key, classify, now)
            made.append((i, row, sender))
        except (InvalidCase, UnknownCustomer) as exc:
            results[i] = exc
    session.add_all([row for _, row, _ in made])
    session.flush()
    changes = [
        _change(row, sender, _record(session, row, cases[i], now, actor)) for i, row, sender in made
    ]
    audit.record_many(session, actor=actor, items=changes)
    for i, row, _ in made:
        results[i] = _opened(row, created=True)
    for pair, row in known.items():
        results[firsts[pair]] = _opened(row, created=False)
    for i, case in enumerate(cases):
        if results[i] is None:  # a repeat within the batch: the first one's answer
            first = results[firsts[(case.channel, case.external_id)]]
            results[i] = (
                first.model_copy(update={"created": False})
                if isinstance(first, CaseOpened)
                else first
            )
    return [r if r is not None else InvalidCase("not processed") for r in results]


def _opened(row: Case, *, created: bool) -> CaseOpened:
    return CaseOpened(
        id=row.id,
        category=row.category,
        probability=row.probability,
        queue=row.queue,
        priority=row.priority,
        first_response_due=row.first_response_due,
        status=row.status,
        created=created,
    )


@dataclass
class ImportResult:
    created: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] | None = None


def open_cases(
    session: Session,
    vault: Vault,
    rows: Iterable[tuple[int, dict[str, object]]],
    *,
    classify: Classifier,
    actor: str,
) -> Iterator[tuple[int, CaseOpened | str]]:
    """Open each numbered row in a savepoint of its own: a bad row is named and skipped, the
    good ones kept."""
    for number, data in rows:
        try:
            with session.begin_nested():
                parsed = parse_case({k: v for k, v in data.items() if v not in (None, "")})
                yield number, open_case(session, vault, parsed, classify=classify, actor=actor)
        except (InvalidCase, UnknownCustomer) as exc:
            yield number, exc.detail
