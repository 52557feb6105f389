"""What other capabilities may know about customers: ids and the vault subject of their data key;
and the door to erasing a customer everywhere (`erase`, with the erasure steps other capabilities
add through `register_eraser`, wired by the manifest)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import NamedTuple

from pydantic import ValidationError
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from trustdesk.crypto import Vault
from trustdesk.customers import service
from trustdesk.customers.erasure import (
    Eraser,
    erase_customer,
    readable_items,
    register_eraser,
    registered_erasers,
)
from trustdesk.customers.models import PERSONAL_FIELDS, Customer, CustomerSegment
from trustdesk.customers.schemas import CustomerIn, CustomerOut
from trustdesk.errors import Conflict, InvalidInput

__all__ = [
    "Contact",
    "CustomerOut",
    "CustomerPlace",
    "Eraser",
    "contacts",
    "customer_ids",
    "customer_ids_by_email",
    "customer_ids_by_email_index",
    "customer_subjects",
    "customers_present",
    "email_contact",
    "erase",
    "every_place",
    "external_ids",
    "forget",
    "jurisdiction",
    "jurisdictions",
    "jurisdictions_by_id",
    "personal_record",
    "readable_items",
    "record_jurisdictions",
    "rectify",
    "register_eraser",
    "registered_erasers",
    "segment_members",
    "segments",
    "stored_personal_fields",
    "validate_personal",
]

_CHUNK = 500


def _chunks(values: Iterable[str] | Iterable[int]) -> list[list[object]]:
    unique = list(dict.fromkeys(values))
    return [unique[i : i + _CHUNK] for i in range(0, len(unique), _CHUNK)]


def customer_ids(session: Session, external_ids: Iterable[str]) -> dict[str, int]:
    """{external_id: id} of the customers that exist among `external_ids` (erased ones too)."""
    found: dict[str, int] = {}
    connection = session.connection()  # plain rows: no ORM result processing per row
    for chunk in _chunks(external_ids):
        rows = connection.execute(
            select(Customer.external_id, Customer.id).where(Customer.external_id.in_(chunk))
        )
        found.update(dict(rows.all()))
    return found


def customer_ids_by_email_index(session: Session, digests: Iterable[str]) -> dict[str, int]:
    """{email blind index: id} of the customers whose email has that index (from
    `Vault.blind_index("email", email)`); an index two customers share is left out, since it
    cannot name one customer."""
    found: dict[str, int] = {}
    shared: set[str] = set()
    for chunk in _chunks(digests):
        rows = session.execute(
            select(Customer.email_index, Customer.id).where(Customer.email_index.in_(chunk))
        )
        for digest, cid in rows:
            if digest is None:
                continue
            if digest in found:
                shared.add(digest)
            found[digest] = cid
    return {d: cid for d, cid in found.items() if d not in shared}


def customers_present(
    session: Session, *, created_before: datetime, batch_size: int = 50_000
) -> Iterator[list[CustomerPlace]]:
    """Every customer whose record existed at `created_before`, in id order and batches (a
    breach of the customer records in a window exposed them)."""
    after = 0
    while True:
        rows = session.execute(
            select(Customer.id, Customer.external_id, Customer.jurisdiction)
            .where(Customer.id > after, Customer.created_at <= created_before)
            .order_by(Customer.id)
            .limit(batch_size)
        ).all()
        if not rows:
            return
        yield [CustomerPlace(r[0], r[1], r[2]) for r in rows]
        after = rows[-1][0]


def every_place(session: Session) -> dict[str, tuple[int, str | None]]:
    """{external_id: (id, jurisdiction)} of every customer, in one scan: cheaper than lookups
    when a list names a large share of all customers (a breach's forensic list)."""
    rows = session.connection().exec_driver_sql(
        "SELECT external_id, id, jurisdiction FROM customers"
    )
    return {r[0]: (r[1], r[2]) for r in rows}


def customer_ids_by_email(session: Session, vault: Vault, email: str) -> list[int]:
    """Ids of the customers whose email is `email`, found through the blind index (nothing is
    decrypted; erased customers have no index and are never found)."""
    digest = vault.blind_index("email", email)
    if digest is None:
        return []
    return list(
        session.scalars(
            select(Customer.id).where(Customer.email_index == digest).order_by(Customer.id)
        )
    )


def email_contact(session: Session, vault: Vault, email: str, *, actor: str) -> CustomerPlace:
    """The customer to whom consents given from `email` belong: the one customer with that
    address, else an email-only contact (external id `contact:…`, the address encrypted under its
    own key like any customer's; created and audited once, found again by the blind index)."""
    matches = customer_ids_by_email(session, vault, email)
    places = jurisdictions_by_id(session, matches)
    if len(places) == 1:
        return next(iter(places.values()))
    for place in places.values():
        if place.external_id.startswith("contact:"):
            return place
    external_id = f"contact:{uuid.uuid4().hex}"
    try:
        record = CustomerIn(external_id=external_id, email=email)
    except ValidationError as exc:
        raise InvalidInput(f"email: {exc.errors()[0]['msg']}") from None
    service.upsert_customers(session, vault, [record], actor=actor)
    found = jurisdiction(session, external_id)
    assert found is not None
    return found


def customer_subjects(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """{id: vault subject} of the given customers: data tied to a customer is encrypted under it,
    so erasing the customer (destroying that subject's key) shreds it too."""
    found: dict[int, str] = {}
    for chunk in _chunks(ids):
        rows = session.execute(
            select(Customer.id, Customer.subject_id).where(Customer.id.in_(chunk))
        )
        found.update(dict(rows.all()))
    return found


def external_ids(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """{id: external_id} of the given customers (to show customer-level results by the id
    the business knows them by)."""
    found: dict[int, str] = {}
    for chunk in _chunks(ids):
        rows = session.execute(
            select(Customer.id, Customer.external_id).where(Customer.id.in_(chunk))
        )
        found.update(dict(rows.all()))
    return found


def segment_members(session: Session, segment: str) -> list[int]:
    """Ids of the customers in `segment`, ascending (a survey sent to a segment)."""
    return list(
        session.scalars(
            select(CustomerSegment.customer_id)
            .where(CustomerSegment.segment == segment)
            .order_by(CustomerSegment.customer_id)
        )
    )


def segments(session: Session, ids: Iterable[int]) -> dict[int, tuple[str, ...]]:
    """{id: segments, sorted} of the given customers that belong to at least one segment (for
    signals that must place a customer's observations in the per-segment trust indices)."""
    found: dict[int, list[str]] = {}
    connection = session.connection()  # plain rows: no ORM result processing per row
    for chunk in _chunks(ids):
        rows = connection.execute(
            select(CustomerSegment.customer_id, CustomerSegment.segment)
            .where(CustomerSegment.customer_id.in_(chunk))
            .order_by(CustomerSegment.customer_id, CustomerSegment.segment)
        )
        for cid, segment in rows:
            found.setdefault(cid, []).append(segment)
    return {cid: tuple(names) for cid, names in found.items()}


class Contact(NamedTuple):
    """How to reach a customer, decrypted: only for sending them something, never to log or keep.

    `reachable` is False once their key is destroyed (erased): every field is then None.
    """

    id: int
    subject_id: str
    reachable: bool
    name: str | None
    email: str | None
    address: str | None


_CONTACT_FIELDS = ("name", "email", "address")


def contacts(session: Session, vault: Vault, ids: Iterable[int]) -> dict[int, Contact]:
    """{id: contact} of the customers that exist among `ids`, decrypted in bulk (one key-store
    read per chunk): the outbox reads them at send time, so an erasure in between is honoured."""
    found: dict[int, Contact] = {}
    for chunk in _chunks(ids):
        rows = session.execute(
            select(
                Customer.id,
                Customer.subject_id,
                Customer.erased_at,
                Customer.name_enc,
                Customer.email_enc,
                Customer.address_enc,
            ).where(Customer.id.in_(chunk))
        ).all()
        keys = vault.data_keys(r.subject_id for r in rows if r.erased_at is None)
        for row in rows:
            key = keys.get(row.subject_id)
            if key is None:
                found[row.id] = Contact(row.id, row.subject_id, False, None, None, None)
                continue
            values = [
                vault.decrypt(key, row.subject_id, f, getattr(row, f"{f}_enc"))
                for f in _CONTACT_FIELDS
            ]
            found[row.id] = Contact(row.id, row.subject_id, True, *values)
    return found


class CustomerPlace(NamedTuple):
    """A customer's ids and the jurisdiction whose rules apply to them (None when unknown).

    A named tuple, not a dataclass: bulk consent checks build one per customer, 100,000s a second.
    """

    id: int
    external_id: str
    jurisdiction: str | None


_PLACE = select(Customer.id, Customer.jurisdiction).where(
    Customer.external_id == bindparam("external_id")
)


def jurisdiction(session: Session, external_id: str) -> CustomerPlace | None:
    """One customer's place (one lookup on the unique external id), or None if there is none."""
    row = session.connection().execute(_PLACE, {"external_id": external_id}).first()
    return None if row is None else CustomerPlace(row[0], external_id, row[1])


_PLACES_BY_EXTERNAL_ID = select(Customer.id, Customer.external_id, Customer.jurisdiction).where(
    Customer.external_id.in_(bindparam("ids", expanding=True))
)
_PLACES_BY_ID = select(Customer.id, Customer.external_id, Customer.jurisdiction).where(
    Customer.id.in_(bindparam("ids", expanding=True))
)


def jurisdictions(session: Session, external_ids: Iterable[str]) -> dict[str, CustomerPlace]:
    """{external_id: place} of the customers that exist among `external_ids`.

    One cached statement with an expanding parameter per chunk: no per-value SQL building.
    """
    found: dict[str, CustomerPlace] = {}
    for chunk in _chunks(external_ids):
        for row in session.execute(_PLACES_BY_EXTERNAL_ID, {"ids": chunk}):
            found[row[1]] = CustomerPlace(row[0], row[1], row[2])
    return found


def jurisdictions_by_id(session: Session, ids: Iterable[int]) -> dict[int, CustomerPlace]:
    """{id: place} of the customers that exist among `ids`."""
    found: dict[int, CustomerPlace] = {}
    for chunk in _chunks(ids):
        for row in session.execute(_PLACES_BY_ID, {"ids": chunk}):
            found[row[0]] = CustomerPlace(row[0], row[1], row[2])
    return found


def forget(session: Session, vault: Vault, external_id: str, *, actor: str) -> CustomerOut:
    """Destroy the customer's data key and their ciphertext (see `service.forget_customer`).

    Use `erase` to erase them everywhere, not just here.
    """
    return service.forget_customer(session, vault, external_id, actor=actor)


def erase(session: Session, vault: Vault, external_id: str, *, actor: str) -> CustomerOut:
    """Erase the customer everywhere: destroy their data key, then every registered erasure step."""
    return erase_customer(session, vault, external_id, actor=actor)


def personal_record(session: Session, vault: Vault, external_id: str) -> CustomerOut:
    """The customer with their personal data decrypted (for the data subject themselves);
    `personal_data` is "erased" and the fields None once their key is destroyed. NotFound if
    there is no such customer."""
    return service.get_customer(session, vault, external_id, reveal=True)


def rectify(
    session: Session,
    vault: Vault,
    external_id: str,
    changes: dict[str, str | None],
    *,
    actor: str,
) -> list[str]:
    """Correct personal fields (name, email, phone, address, birth_date): re-encrypted under the
    customer's key, blind index updated, audited. Returns the names of the fields that changed.

    Values are validated like any customer record (InvalidInput on a bad email or phone).
    """
    current = personal_record(session, vault, external_id)
    if current.personal_data == "erased":
        raise Conflict(f"customer {external_id!r} was erased; there is nothing to rectify")
    changes = validate_personal(external_id, changes)
    before = {f: getattr(current, f) for f in PERSONAL_FIELDS}
    after = {**before, **changes}
    record = CustomerIn.model_validate(
        {
            "external_id": external_id,
            "segments": current.segments,
            "jurisdiction": current.jurisdiction,
            **after,
        }
    )
    service.upsert_customers(session, vault, [record], actor=actor)
    stored = record.personal()
    return [f for f in PERSONAL_FIELDS if stored[f] != before[f]]


def record_jurisdictions(
    session: Session, vault: Vault, places: dict[str, str | None], *, actor: str
) -> int:
    """Record the jurisdiction established for existing customers (e.g. a US state found in
    their billing records by a breach investigation): {external id: code}. Unknown or erased
    customers are skipped; audited like any customer update. Returns how many changed."""
    wanted = sorted(places)
    found = [
        external_id
        for chunk in _chunks(wanted)
        for external_id in session.scalars(
            select(Customer.external_id).where(
                Customer.external_id.in_(chunk), Customer.erased_at.is_(None)
            )
        )
    ]
    records = []
    for external_id in found:
        current = service.get_customer(session, vault, external_id, reveal=True)
        personal = {f: getattr(current, f) for f in PERSONAL_FIELDS}
        records.append(
            CustomerIn.model_validate(
                {
                    "external_id": external_id,
                    "segments": current.segments,
                    "jurisdiction": places[external_id],
                    **personal,
                }
            )
        )
    if not records:
        return 0
    return service.upsert_customers(session, vault, records, actor=actor).updated


def stored_personal_fields(session: Session, external_id: str) -> list[str]:
    """The personal fields for which ciphertext is still stored (empty after an erasure)."""
    customer = session.scalar(select(Customer).where(Customer.external_id == external_id))
    if customer is None:
        return []
    return [f for f in PERSONAL_FIELDS if getattr(customer, f"{f}_enc") is not None]


def validate_personal(external_id: str, changes: dict[str, str | None]) -> dict[str, str | None]:
    """Corrected personal fields checked like any customer record, normalised as stored;
    InvalidInput names a field that is not personal data or a value that is not valid."""
    unknown = sorted(set(changes) - set(PERSONAL_FIELDS))
    if unknown:
        raise InvalidInput(
            f"changes: {', '.join(unknown)} cannot be rectified here; "
            f"personal fields are {', '.join(PERSONAL_FIELDS)}"
        )
    try:
        record = CustomerIn.model_validate({"external_id": external_id, **changes})
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise InvalidInput(f"changes: {reasons}") from None
    personal = record.personal()
    return {field: personal[field] for field in changes}
