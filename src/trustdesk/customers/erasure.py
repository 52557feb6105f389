"""Erasing a customer everywhere, and the registry of erasure steps other capabilities add.

Destroying the customer's data key (`service.forget_customer`) makes everything encrypted under
it unreadable. What a capability *derived* from their data without that key (feedback's keyed
search terms) is removed by its erasure step, declared in the manifest (`trustdesk.capabilities`)
and registered here through `customers.public.register_eraser`. Customers owns this registry
because every capability already depends on customers, and customers' own `erase` command and
route must erase everywhere without depending on any of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from trustdesk import capabilities
from trustdesk.crypto import Vault
from trustdesk.customers import service
from trustdesk.customers.schemas import CustomerOut

__all__ = ["Eraser", "erase_customer", "readable_items", "register_eraser", "registered_erasers"]


@dataclass(frozen=True)
class Eraser:
    """One capability's part of erasing a customer (by their internal id)."""

    name: str
    erase: Callable[[Session, int], object]
    """Removes what was derived from the customer's data without their key (after it is gone)."""
    readable: Callable[[Session, Vault, int], int]
    """How many of the customer's items still read in clear (0 after a complete erasure)."""


_ERASERS: dict[str, Eraser] = {}


def register_eraser(eraser: Eraser) -> None:
    """Add an erasure step; the same one again changes nothing, another under its name is an
    error."""
    found = _ERASERS.get(eraser.name)
    if found is not None and found is not eraser:
        raise ValueError(f"eraser {eraser.name!r} is already registered")
    _ERASERS[eraser.name] = eraser


def registered_erasers() -> list[Eraser]:
    """Every erasure step, in manifest order, then any registered by hand."""
    capabilities.wire()
    return list(_ERASERS.values())


def erase_customer(session: Session, vault: Vault, external_id: str, *, actor: str) -> CustomerOut:
    """Destroy the customer's data key, then run every capability's erasure step."""
    erased = service.forget_customer(session, vault, external_id, actor=actor)
    for eraser in registered_erasers():
        eraser.erase(session, erased.id)
    return erased


def readable_items(session: Session, vault: Vault, customer_id: int) -> int:
    """How many items of the customer still read in clear, over every capability's eraser."""
    return sum(eraser.readable(session, vault, customer_id) for eraser in registered_erasers())
