"""Affected customers derived from the data map: the customers whose records lived in the
breached systems during the incident window. Only systems whose per-customer presence is known
to TrustDesk can be derived (the customer records); for the others the forensic list is imported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from trustdesk.audit import chain as audit
from trustdesk.customers.public import customers_present
from trustdesk.errors import InvalidInput
from trustdesk.incidents.affected.importing import AffectedImport, store
from trustdesk.incidents.categories import DATAMAP_CATEGORIES, mask_of
from trustdesk.incidents.register.service import load
from trustdesk.privacy.public import datamap_systems

__all__ = ["DERIVABLE_SYSTEMS", "Derived", "derive_affected"]

DERIVABLE_SYSTEMS = frozenset({"customer_records"})
"""Systems holding one record per customer, so that "in the system during the window" is known."""


@dataclass
class Derived:
    report: AffectedImport
    systems: list[str] = field(default_factory=list)
    not_derivable: list[str] = field(default_factory=list)


def derive_affected(session: Session, incident_id: int, *, actor: str) -> Derived:
    """Add every customer present in a breached, derivable system before the window closed.

    The categories are the incident's own when set (what forensics found was taken), else what
    the data map says the system holds."""
    incident = load(session, incident_id)
    systems = json.loads(incident.systems)
    if not systems:
        raise InvalidInput(f"incident {incident_id} names no systems; set them first")
    known = datamap_systems(session)
    end = incident.occurred_to or incident.aware_at
    chosen = json.loads(incident.categories)
    result = Derived(AffectedImport())
    for system_id in systems:
        if system_id not in DERIVABLE_SYSTEMS or system_id not in known:
            result.not_derivable.append(system_id)
            continue
        mask = mask_of(chosen) or mask_of(
            name for c in known[system_id].categories for name in DATAMAP_CATEGORIES.get(c, ())
        )
        result.systems.append(system_id)
        for batch in customers_present(session, created_before=end):
            store(
                session,
                incident.id,
                {p.id: (p.jurisdiction, mask) for p in batch},
                source="datamap",
                report=result.report,
            )
    audit.record(
        session,
        actor=actor,
        action="incident.affected_derived",
        entity_type="incident",
        entity_id=incident.id,
        changes={
            "systems": result.systems,
            "not_derivable": result.not_derivable,
            "added": result.report.added,
            "changed": result.report.changed,
        },
    )
    return result
