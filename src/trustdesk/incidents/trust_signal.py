"""Breach exposure as a trust signal: a customer whose data an incident exposed has reason to
trust our care of their data less. One negative observation per affected customer and incident
(value 15, weight 2, the data-care dimension), at the time we became aware of the incident.

The evidence ref packs (incident id, customer id) into one ascending integer
(`incident_id << 32 | customer_id`). Customers added to an older incident after the trust index
read past it are picked up by `trustdesk trust recompute --full` (the watermark only moves
forward). Segments follow the customer's, weight split between them (as the fraud signal does).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from trustdesk.crypto import Vault
from trustdesk.customers import public as customers
from trustdesk.incidents.models import AffectedRecord, Incident
from trustdesk.trust.public import Observations, dimension_mask

__all__ = ["BREACH_SIGNAL", "VALUE", "WEIGHT", "BreachExposureSignal"]

VALUE = 15.0
WEIGHT = 2.0
_DIMS = dimension_mask(["data_care"])
_SHIFT = 32


def ref_of(incident_id: int, customer_id: int) -> int:
    return (incident_id << _SHIFT) | customer_id


class BreachExposureSignal:
    name = "incidents"
    label = "incidents that exposed the customer's data"
    topics: tuple[str, ...] = ()

    def read(self, session: Session, *, after_ref: int, batch_size: int) -> Iterator[Observations]:
        incident_after, customer_after = after_ref >> _SHIFT, after_ref & ((1 << _SHIFT) - 1)
        while True:
            batch = session.execute(
                select(AffectedRecord.incident_id, AffectedRecord.customer_id, Incident.aware_at)
                .join(Incident, Incident.id == AffectedRecord.incident_id)
                .where(
                    or_(
                        AffectedRecord.incident_id > incident_after,
                        and_(
                            AffectedRecord.incident_id == incident_after,
                            AffectedRecord.customer_id > customer_after,
                        ),
                    )
                )
                .order_by(AffectedRecord.incident_id, AffectedRecord.customer_id)
                .limit(batch_size)
            ).all()
            if not batch:
                return
            placed = customers.segments(session, [r[1] for r in batch])
            rows = [
                (r, segment, 1.0 / len(names))
                for r in batch
                for names in [placed.get(r[1]) or ("",)]
                for segment in names
            ]
            n = len(rows)
            last = ref_of(int(batch[-1][0]), int(batch[-1][1]))
            yield Observations(
                signal=self.name,
                ref=np.array([ref_of(r[0], r[1]) for r, _, _ in rows], dtype=np.int64),
                at=np.array([int(r[2].timestamp()) for r, _, _ in rows], dtype=np.int64),
                customer_id=np.array([r[1] for r, _, _ in rows], dtype=np.int64),
                segment=np.array([segment for _, segment, _ in rows], dtype=object),
                value=np.full(n, VALUE, dtype=np.float64),
                weight=np.array([WEIGHT * share for _, _, share in rows], dtype=np.float64),
                dims=np.full(n, _DIMS, dtype=np.int32),
                topics=np.zeros(n, dtype=np.int32),
                negative=np.ones(n, dtype=bool),
                last_ref=last,
            )
            incident_after, customer_after = int(batch[-1][0]), int(batch[-1][1])

    def describe(self, session: Session, vault: Vault, refs: Sequence[int]) -> dict[int, str]:
        ids = {ref >> _SHIFT for ref in refs}
        titles = {
            int(r[0]): str(r[1])
            for r in session.execute(
                select(Incident.id, Incident.title).where(Incident.id.in_(ids))
            )
        }
        return {
            ref: f"exposed in incident {ref >> _SHIFT}: {titles.get(ref >> _SHIFT, '?')}"
            for ref in refs
        }


BREACH_SIGNAL = BreachExposureSignal()
"""Wired to trust's registry by the manifest (`trustdesk.capabilities`)."""
