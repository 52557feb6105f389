"""The risk register: likelihood x impact (1-5 each) before and after controls, owner, controls,
treatment, review cadence with overdue flags, and the events that materialised each risk. Staff
only; every change audited."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, get_args

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.audit import chain as audit
from trustdesk.auth.models import User
from trustdesk.csv_output import SafeWriter
from trustdesk.errors import Conflict, InvalidInput, NotFound
from trustdesk.incidents import public as incidents
from trustdesk.trustcentre.models import Risk, RiskLink
from trustdesk.trustcentre.schemas import RiskCategory, RiskLinkKind, RiskStatus, RiskTreatment

__all__ = [
    "CATEGORIES",
    "LINK_KINDS",
    "TREATMENTS",
    "RiskView",
    "add_risk",
    "due_reviews",
    "export_csv",
    "get_risk",
    "heat_map",
    "link_event",
    "list_risks",
    "review_risk",
    "update_risk",
]

CATEGORIES: tuple[str, ...] = get_args(RiskCategory)
TREATMENTS: tuple[str, ...] = get_args(RiskTreatment)
STATUSES: tuple[str, ...] = get_args(RiskStatus)
LINK_KINDS: tuple[str, ...] = get_args(RiskLinkKind)
_EDITABLE = (
    "title", "description", "owner", "likelihood", "impact", "residual_likelihood",
    "residual_impact", "controls", "treatment", "treatment_plan", "status", "review_every_days",
)  # fmt: skip


@dataclass(frozen=True)
class RiskView:
    id: int
    title: str
    category: str
    description: str
    owner: str
    likelihood: int
    impact: int
    inherent_score: int
    residual_likelihood: int | None
    residual_impact: int | None
    residual_score: int | None
    controls: str
    treatment: str
    treatment_plan: str
    status: str
    review_every_days: int
    next_review_at: datetime
    overdue: bool
    links: tuple[dict[str, Any], ...]
    created_at: datetime
    updated_at: datetime

    def as_json(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        for k in ("next_review_at", "created_at", "updated_at"):
            data[k] = getattr(self, k).isoformat().replace("+00:00", "Z")
        data["links"] = list(self.links)
        return data


def _scale(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise InvalidInput(f"{name}: expected a whole number from 1 to 5, got {value!r}")
    return value


def _check(session: Session, values: dict[str, Any], *, staff_owner: bool = True) -> None:
    for name in ("likelihood", "impact"):
        if name in values:
            _scale(name, values[name])
    for name in ("residual_likelihood", "residual_impact"):
        if values.get(name) is not None:
            _scale(name, values[name])
    if "category" in values and values["category"] not in CATEGORIES:
        raise InvalidInput(
            f"category {values['category']!r}: expected one of {', '.join(CATEGORIES)}"
        )
    if "treatment" in values and values["treatment"] not in TREATMENTS:
        raise InvalidInput(
            f"treatment {values['treatment']!r}: expected one of {', '.join(TREATMENTS)}"
        )
    if "status" in values and values["status"] not in STATUSES:
        raise InvalidInput(f"status {values['status']!r}: expected one of {', '.join(STATUSES)}")
    if "title" in values and not 1 <= len(str(values["title"]).strip()) <= 200:
        raise InvalidInput("title: give 1 to 200 characters")
    if "review_every_days" in values:
        days = values["review_every_days"]
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650:
            raise InvalidInput(f"review_every_days: expected 1 to 3650, got {days!r}")
    if "owner" in values and staff_owner:
        user = session.scalar(select(User).where(User.username == values["owner"]))
        if user is None or not user.is_active:
            raise InvalidInput(f"owner {values['owner']!r} is not an active staff user")


def _view(risk: Risk, links: list[RiskLink], now: datetime) -> RiskView:
    residual = (
        risk.residual_likelihood * risk.residual_impact
        if risk.residual_likelihood is not None and risk.residual_impact is not None
        else None
    )
    return RiskView(
        risk.id, risk.title, risk.category, risk.description, risk.owner, risk.likelihood,
        risk.impact, risk.likelihood * risk.impact, risk.residual_likelihood,
        risk.residual_impact, residual, risk.controls, risk.treatment, risk.treatment_plan,
        risk.status, risk.review_every_days, risk.next_review_at,
        risk.status == "open" and risk.next_review_at < now,
        tuple(
            {"kind": link.kind, "ref": link.ref, "note": link.note,
             "linked_at": link.linked_at.isoformat().replace("+00:00", "Z")}
            for link in links
        ),
        risk.created_at, risk.updated_at,
    )  # fmt: skip


def add_risk(
    session: Session,
    values: dict[str, Any],
    *,
    actor: str,
    now: datetime,
    staff_owner: bool = True,
) -> RiskView:
    """`staff_owner=False` only for the demo, which creates its logins after its data."""
    values = {k: v for k, v in values.items() if v is not None}
    for required in ("title", "category", "likelihood", "impact", "owner"):
        if required not in values:
            raise InvalidInput(f"{required}: required")
    unknown = set(values) - set(_EDITABLE) - {"category"}
    if unknown:
        raise InvalidInput(f"unknown field {sorted(unknown)[0]!r}")
    _check(session, values, staff_owner=staff_owner)
    values["title"] = str(values["title"]).strip()
    every = values["review_every_days"] = int(values.get("review_every_days", 90))
    risk = Risk(
        **values, next_review_at=now + timedelta(days=every),
        created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(risk)
    session.flush()
    audit.record(
        session, actor=actor, action="risk.added", entity_type="risk", entity_id=risk.id,
        changes={k: values[k] for k in sorted(values) if k not in ("description",)},
    )  # fmt: skip
    return _view(risk, [], now)


def _load(session: Session, risk_id: int) -> Risk:
    risk = session.get(Risk, risk_id)
    if risk is None:
        raise NotFound(f"no risk {risk_id}")
    return risk


def _links(session: Session, risk_ids: list[int]) -> dict[int, list[RiskLink]]:
    found: dict[int, list[RiskLink]] = {i: [] for i in risk_ids}
    for link in session.scalars(
        select(RiskLink).where(RiskLink.risk_id.in_(risk_ids)).order_by(RiskLink.id)
    ):
        found[link.risk_id].append(link)
    return found


def get_risk(session: Session, risk_id: int, *, now: datetime) -> RiskView:
    risk = _load(session, risk_id)
    return _view(risk, _links(session, [risk.id])[risk.id], now)


def list_risks(
    session: Session,
    *,
    now: datetime,
    category: str | None = None,
    overdue_only: bool = False,
    include_closed: bool = False,
) -> list[RiskView]:
    """Highest inherent score first."""
    query = select(Risk)
    if category is not None:
        if category not in CATEGORIES:
            raise InvalidInput(f"category {category!r}: expected one of {', '.join(CATEGORIES)}")
        query = query.where(Risk.category == category)
    if not include_closed:
        query = query.where(Risk.status == "open")
    if overdue_only:
        query = query.where(Risk.next_review_at < now)
    rows = list(session.scalars(query.order_by((Risk.likelihood * Risk.impact).desc(), Risk.id)))
    links = _links(session, [r.id for r in rows])
    return [_view(r, links[r.id], now) for r in rows]


def update_risk(
    session: Session, risk_id: int, values: dict[str, Any], *, actor: str, now: datetime
) -> RiskView:
    risk = _load(session, risk_id)
    unknown = set(values) - set(_EDITABLE) - {"category"}
    if unknown:
        raise InvalidInput(f"unknown field {sorted(unknown)[0]!r}")
    for name in ("title", "owner", "likelihood", "impact", "category", "treatment", "status"):
        if name in values and values[name] is None:
            raise InvalidInput(f"{name}: cannot be empty")
    _check(session, values)
    changes: dict[str, Any] = {}
    for name, value in values.items():
        old = getattr(risk, name)
        if old != value:
            changes[name] = {"from": old, "to": value} if name != "description" else "changed"
            setattr(risk, name, value)
    if "review_every_days" in changes:
        risk.next_review_at = now + timedelta(days=risk.review_every_days)
    if changes:
        risk.updated_at = now
        audit.record(
            session, actor=actor, action="risk.updated", entity_type="risk", entity_id=risk.id,
            changes=changes,
        )  # fmt: skip
    return _view(risk, _links(session, [risk.id])[risk.id], now)


def review_risk(session: Session, risk_id: int, *, actor: str, now: datetime) -> RiskView:
    """Record a review: the next one is due a cadence from now."""
    risk = _load(session, risk_id)
    risk.next_review_at = now + timedelta(days=risk.review_every_days)
    risk.reminded_at = None
    risk.updated_at = now
    audit.record(
        session, actor=actor, action="risk.reviewed", entity_type="risk", entity_id=risk.id,
        changes={"next_review_at": risk.next_review_at.isoformat()},
    )  # fmt: skip
    return _view(risk, _links(session, [risk.id])[risk.id], now)


def link_event(
    session: Session,
    risk_id: int,
    *,
    kind: str,
    ref: str,
    note: str = "",
    actor: str,
    now: datetime,
) -> RiskView:
    """Link an incident, trust alert, fraud spike or case (SLA breach) to the risk it
    materialised; incidents must exist."""
    risk = _load(session, risk_id)
    if kind not in LINK_KINDS:
        raise InvalidInput(f"kind {kind!r}: expected one of {', '.join(LINK_KINDS)}")
    ref = ref.strip()
    if not ref or len(ref) > 64:
        raise InvalidInput("ref: give the event's id (1 to 64 characters)")
    if kind == "incident" and (
        not ref.isdigit() or not incidents.incident_exists(session, int(ref))
    ):
        raise NotFound(f"no incident {ref}")
    exists = session.scalar(
        select(func.count()).where(
            RiskLink.risk_id == risk.id, RiskLink.kind == kind, RiskLink.ref == ref
        )
    )
    if exists:
        raise Conflict(f"{kind} {ref} is already linked to risk {risk.id}")
    session.add(
        RiskLink(risk_id=risk.id, kind=kind, ref=ref, note=note.strip(), linked_at=now, actor=actor)
    )
    session.flush()
    audit.record(
        session, actor=actor, action="risk.event_linked", entity_type="risk", entity_id=risk.id,
        changes={"kind": kind, "ref": ref},
    )  # fmt: skip
    return _view(risk, _links(session, [risk.id])[risk.id], now)


def heat_map(risks: list[RiskView], *, residual: bool = False) -> list[list[int]]:
    """cells[impact - 1][likelihood - 1] = number of risks there (residual falls back to
    inherent where no residual rating was given)."""
    cells = [[0] * 5 for _ in range(5)]
    for r in risks:
        lk, im = r.likelihood, r.impact
        if residual and r.residual_likelihood is not None and r.residual_impact is not None:
            lk, im = r.residual_likelihood, r.residual_impact
        cells[im - 1][lk - 1] += 1
    return cells


CSV_COLUMNS = (
    "id", "title", "category", "owner", "likelihood", "impact", "inherent_score",
    "residual_likelihood", "residual_impact", "residual_score", "treatment", "status",
    "review_every_days", "next_review_at", "overdue", "links",
)  # fmt: skip


def export_csv(risks: list[RiskView]) -> str:
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(CSV_COLUMNS)
    for r in risks:
        data = r.as_json()
        data["links"] = ";".join(f"{link['kind']}:{link['ref']}" for link in r.links)
        writer.writerow(["" if data[c] is None else data[c] for c in CSV_COLUMNS])
    return out.getvalue()


def due_reviews(session: Session, now: datetime) -> list[Risk]:
    """Open risks past their review date not reminded since it passed."""
    return list(
        session.scalars(
            select(Risk).where(
                Risk.status == "open",
                Risk.next_review_at < now,
                (Risk.reminded_at.is_(None)) | (Risk.reminded_at < Risk.next_review_at),
            )
        )
    )
