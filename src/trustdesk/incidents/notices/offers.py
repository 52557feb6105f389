"""Remediation offers: a pool of codes (credit monitoring, identity protection) imported for an
incident, one given to each affected customer in their notice, redeemed when used; the uptake
rate is redeemed / given. Nothing here commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from trustdesk.audit import chain as audit
from trustdesk.errors import Conflict, InvalidInput, NotFound
from trustdesk.incidents.models import AffectedRecord, OfferCode
from trustdesk.incidents.register.service import load
from trustdesk.input_files import read_text_file

__all__ = ["Uptake", "assign_codes", "import_codes", "redeem", "uptake"]


@dataclass(frozen=True)
class Uptake:
    pool: int
    given: int
    redeemed: int

    @property
    def rate(self) -> float | None:
        return None if self.given == 0 else round(self.redeemed / self.given, 4)


def import_codes(session: Session, incident_id: int, path: Path, *, actor: str) -> int:
    """Add the codes in `path` (one per line; a header line `code` is skipped); idempotent.
    Returns how many were new."""
    load(session, incident_id)
    codes = []
    for line in read_text_file(path, max_bytes=64 * 1024 * 1024).splitlines():
        code = line.strip()
        if not code or code.lower() == "code":
            continue
        if len(code) > 64 or not code.isprintable():
            raise InvalidInput(f"{path.name}: a code is longer than 64 characters or not text")
        codes.append(code)
    have = set(session.scalars(select(OfferCode.code).where(OfferCode.incident_id == incident_id)))
    new = [c for c in dict.fromkeys(codes) if c not in have]
    if new:
        session.execute(
            OfferCode.__table__.insert(),  # type: ignore[attr-defined]
            [{"incident_id": incident_id, "code": c} for c in new],
        )
    audit.record(
        session,
        actor=actor,
        action="incident.offer_codes_imported",
        entity_type="incident",
        entity_id=incident_id,
        changes={"new": len(new), "file": path.name},
    )
    return len(new)


def assign_codes(session: Session, incident_id: int, now: datetime) -> dict[int, str]:
    """{customer id: code} for every affected customer, giving a free code to those without one.
    Conflict when the pool is too small: no one gets a notice promising a code they lack."""
    given = {
        int(r[0] or 0): str(r[1])
        for r in session.execute(
            select(OfferCode.customer_id, OfferCode.code).where(
                OfferCode.incident_id == incident_id, OfferCode.customer_id.is_not(None)
            )
        )
    }
    if not session.scalar(select(func.count()).where(OfferCode.incident_id == incident_id)):
        return {}
    waiting = [
        cid
        for cid in session.scalars(
            select(AffectedRecord.customer_id)
            .where(AffectedRecord.incident_id == incident_id)
            .order_by(AffectedRecord.customer_id)
        )
        if cid not in given
    ]
    free = [
        (int(r[0]), str(r[1]))
        for r in session.execute(
            select(OfferCode.id, OfferCode.code)
            .where(OfferCode.incident_id == incident_id, OfferCode.customer_id.is_(None))
            .order_by(OfferCode.id)
            .limit(len(waiting))
        )
    ]
    if len(free) < len(waiting):
        raise Conflict(
            f"the code pool has {len(free)} free codes for {len(waiting)} customers; import more"
        )
    pairs = list(zip(waiting, free, strict=False))
    if pairs:
        session.execute(
            update(OfferCode).execution_options(synchronize_session=False),
            [
                {"id": cid_code[0], "customer_id": cid, "assigned_at": now}
                for cid, cid_code in pairs
            ],
        )
    given.update({cid: code for cid, (_, code) in pairs})
    return given


def redeem(session: Session, incident_id: int, code: str, *, actor: str, now: datetime) -> None:
    found = session.scalar(
        select(OfferCode).where(OfferCode.incident_id == incident_id, OfferCode.code == code)
    )
    if found is None or found.customer_id is None:
        raise NotFound(f"incident {incident_id} gave no code {code[:64]!r}")
    if found.redeemed_at is None:
        found.redeemed_at = now
        audit.record(
            session,
            actor=actor,
            action="incident.offer_redeemed",
            entity_type="incident",
            entity_id=incident_id,
            changes={"code_id": found.id},
        )


def uptake(session: Session, incident_id: int) -> Uptake:
    load(session, incident_id)
    pool, given, redeemed = session.execute(
        select(
            func.count(),
            func.count(OfferCode.customer_id),
            func.count(OfferCode.redeemed_at),
        ).where(OfferCode.incident_id == incident_id)
    ).one()
    return Uptake(int(pool), int(given), int(redeemed))
