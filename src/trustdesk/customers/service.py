"""Customer use cases: upsert, read (decrypting only what the caller may see), erase by key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk import audit
from trustdesk.crypto import Vault
from trustdesk.customers.models import PERSONAL_FIELDS, Customer, CustomerSegment
from trustdesk.customers.schemas import CustomerIn, CustomerOut
from trustdesk.db import utcnow
from trustdesk.errors import Conflict, NotFound

__all__ = [
    "UpsertCounts",
    "find_by_email",
    "forget_customer",
    "get_customer",
    "list_customers",
    "upsert_customers",
]

_PERSONAL = frozenset(PERSONAL_FIELDS)


@dataclass
class UpsertCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    erased: tuple[str, ...] = ()


def _country(jurisdiction: str | None) -> str | None:
    return jurisdiction.split("-")[0] if jurisdiction else None


def _decrypt_all(vault: Vault, key: bytes | None, customer: Customer) -> dict[str, str | None]:
    if key is None:
        return dict.fromkeys(PERSONAL_FIELDS)
    return {
        f: vault.decrypt(key, customer.subject_id, f, getattr(customer, f"{f}_enc"))
        for f in PERSONAL_FIELDS
    }


def _public_state(customer: Customer) -> dict[str, object]:
    return {
        "segments": sorted(s.segment for s in customer.segments),
        "jurisdiction": customer.jurisdiction,
    }


def upsert_customers(
    session: Session, vault: Vault, records: Sequence[CustomerIn], *, actor: str
) -> UpsertCounts:
    """Create or update by external id. Re-sending identical records changes nothing."""
    counts = UpsertCounts()
    ids = [r.external_id for r in records]
    existing = {
        c.external_id: c
        for c in session.scalars(select(Customer).where(Customer.external_id.in_(ids)))
    }
    erased = {eid for eid, c in existing.items() if c.erased_at is not None}
    if erased:
        counts.erased = tuple(sorted(erased))
    keys = vault.data_keys(c.subject_id for c in existing.values() if c.erased_at is None)
    new_records = [r for r in records if r.external_id not in existing]
    subjects = iter(vault.new_subjects(len(new_records)))
    fresh: list[tuple[Customer, CustomerIn]] = []
    now = utcnow()
    for record in new_records:
        customer = Customer(
            external_id=record.external_id,
            subject_id=next(subjects),
            created_at=now,
            updated_at=now,
        )
        fresh.append((customer, record))
    new_keys = vault.data_keys(c.subject_id for c, _ in fresh)
    for customer, record in fresh:
        _apply(vault, new_keys[customer.subject_id], customer, record)
        session.add(customer)
    session.flush()
    trail = [
        audit.Change(
            "customer.created",
            "customer",
            customer.external_id,
            audit.diff({}, {**_public_state(customer), **record.personal()}, _PERSONAL),
        )
        for customer, record in fresh
    ]
    counts.created = len(fresh)
    for record in records:
        found = existing.get(record.external_id)
        if found is None or record.external_id in erased:
            continue
        customer = found
        key = keys[customer.subject_id]
        before = {**_public_state(customer), **_decrypt_all(vault, key, customer)}
        after = {
            "segments": record.segments,
            "jurisdiction": record.jurisdiction,
            **record.personal(),
        }
        changes = audit.diff(before, after, _PERSONAL)
        if not changes:
            counts.unchanged += 1
            continue
        _apply(vault, key, customer, record)
        customer.updated_at = utcnow()
        trail.append(audit.Change("customer.updated", "customer", customer.external_id, changes))
        counts.updated += 1
    session.flush()
    audit.record_many(session, actor=actor, items=trail)
    return counts


def _apply(vault: Vault, key: bytes, customer: Customer, record: CustomerIn) -> None:
    for field, value in record.personal().items():
        setattr(customer, f"{field}_enc", vault.encrypt(key, customer.subject_id, field, value))
    customer.email_index = vault.blind_index("email", record.email)
    customer.jurisdiction = record.jurisdiction
    customer.country = _country(record.jurisdiction)
    wanted = set(record.segments)
    customer.segments = [s for s in customer.segments if s.segment in wanted] + [
        CustomerSegment(segment=s) for s in sorted(wanted - {s.segment for s in customer.segments})
    ]


def _to_out(vault: Vault, customer: Customer, key: bytes | None, reveal: bool) -> CustomerOut:
    if customer.erased_at is not None or key is None:
        state, personal = "erased", dict.fromkeys(PERSONAL_FIELDS)
    elif not reveal:
        state, personal = "masked", dict.fromkeys(PERSONAL_FIELDS)
    else:
        state, personal = "shown", _decrypt_all(vault, key, customer)
    return CustomerOut(
        id=customer.id,
        external_id=customer.external_id,
        segments=[s.segment for s in customer.segments],
        jurisdiction=customer.jurisdiction,
        personal_data=state,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
        **personal,
    )


def _many_out(vault: Vault, customers: Sequence[Customer], reveal: bool) -> list[CustomerOut]:
    live = [c.subject_id for c in customers if c.erased_at is None]
    keys = vault.data_keys(live)
    return [_to_out(vault, c, keys.get(c.subject_id), reveal) for c in customers]


def _get(session: Session, external_id: str) -> Customer:
    customer = session.scalar(select(Customer).where(Customer.external_id == external_id))
    if customer is None:
        raise NotFound(f"no customer with external id {external_id!r}")
    return customer


def get_customer(session: Session, vault: Vault, external_id: str, *, reveal: bool) -> CustomerOut:
    return _many_out(vault, [_get(session, external_id)], reveal)[0]


def list_customers(
    session: Session,
    vault: Vault,
    *,
    reveal: bool,
    after_id: int = 0,
    limit: int = 50,
    segment: str | None = None,
) -> tuple[list[CustomerOut], int | None]:
    """A page in id order; the second value is the cursor for the next page, if any."""
    query = select(Customer).where(Customer.id > after_id).order_by(Customer.id).limit(limit + 1)
    if segment:
        query = query.where(
            Customer.id.in_(
                select(CustomerSegment.customer_id).where(CustomerSegment.segment == segment)
            )
        )
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return _many_out(vault, rows, reveal), (rows[-1].id if more and rows else None)


def find_by_email(session: Session, vault: Vault, email: str, *, reveal: bool) -> list[CustomerOut]:
    """Exact-match lookup through the blind index; never decrypts other customers."""
    digest = vault.blind_index("email", email)
    rows = list(session.scalars(select(Customer).where(Customer.email_index == digest)))
    return _many_out(vault, rows, reveal)


def forget_customer(session: Session, vault: Vault, external_id: str, *, actor: str) -> CustomerOut:
    """Crypto-shred a customer: destroy their data key, then drop ciphertext and blind index.

    Copies made earlier (backups, replicas) still hold ciphertext, but no key exists any more.
    """
    customer = _get(session, external_id)
    if customer.erased_at is not None:
        raise Conflict(f"customer {external_id!r} was already erased")
    vault.destroy(customer.subject_id)
    for field in PERSONAL_FIELDS:
        setattr(customer, f"{field}_enc", None)
    customer.email_index = None
    customer.erased_at = utcnow()
    customer.updated_at = customer.erased_at
    audit.record(
        session,
        actor=actor,
        action="customer.erased",
        entity_type="customer",
        entity_id=external_id,
        changes={"data_key": "destroyed"},
    )
    session.flush()
    return _to_out(vault, customer, None, reveal=False)
