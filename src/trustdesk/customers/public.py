"""What other capabilities may know about customers: ids and the vault subject of their data key."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.customers.models import Customer

__all__ = [
    "CustomerPlace",
    "customer_ids",
    "customer_subjects",
    "external_ids",
    "jurisdictions",
    "jurisdictions_by_id",
]

_CHUNK = 500


def _chunks(values: Iterable[str] | Iterable[int]) -> list[list[object]]:
    unique = list(dict.fromkeys(values))
    return [unique[i : i + _CHUNK] for i in range(0, len(unique), _CHUNK)]


def customer_ids(session: Session, external_ids: Iterable[str]) -> dict[str, int]:
    """{external_id: id} of the customers that exist among `external_ids` (erased ones too)."""
    found: dict[str, int] = {}
    for chunk in _chunks(external_ids):
        rows = session.execute(
            select(Customer.external_id, Customer.id).where(Customer.external_id.in_(chunk))
        )
        found.update(dict(rows.all()))
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


@dataclass(frozen=True)
class CustomerPlace:
    """A customer's ids and the jurisdiction whose rules apply to them (None when unknown)."""

    id: int
    external_id: str
    jurisdiction: str | None


def jurisdictions(session: Session, external_ids: Iterable[str]) -> dict[str, CustomerPlace]:
    """{external_id: place} of the customers that exist among `external_ids`."""
    found: dict[str, CustomerPlace] = {}
    for chunk in _chunks(external_ids):
        rows = session.execute(
            select(Customer.id, Customer.external_id, Customer.jurisdiction).where(
                Customer.external_id.in_(chunk)
            )
        )
        for id_, external_id, jurisdiction in rows:
            found[external_id] = CustomerPlace(id_, external_id, jurisdiction)
    return found


def jurisdictions_by_id(session: Session, ids: Iterable[int]) -> dict[int, CustomerPlace]:
    """{id: place} of the customers that exist among `ids`."""
    found: dict[int, CustomerPlace] = {}
    for chunk in _chunks(ids):
        rows = session.execute(
            select(Customer.id, Customer.external_id, Customer.jurisdiction).where(
                Customer.id.in_(chunk)
            )
        )
        for id_, external_id, jurisdiction in rows:
            found[id_] = CustomerPlace(id_, external_id, jurisdiction)
    return found
