"""Advocates and detractors: per segment, the customers with the highest and lowest trust index,
why (their index and how their complaints went), and what we may do about it, consent-aware:
invite an advocate to a review (only when their consent allows `research` by `email`), open a
service-recovery case for a detractor (a service contact, always possible)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.cases.csat import SURVEY_CHANNEL, SURVEY_PURPOSE
from trustdesk.cases.errors import UnknownCustomer
from trustdesk.cases.intake import open_case
from trustdesk.cases.models import Case, CaseSurvey
from trustdesk.cases.schemas import CaseIn, CaseOpened
from trustdesk.config import Settings
from trustdesk.crypto import Vault
from trustdesk.customers import public as customers
from trustdesk.privacy import public as privacy
from trustdesk.trust import public as trust

__all__ = ["Standing", "advocates_and_detractors", "open_recovery_case"]


@dataclass(frozen=True)
class Standing:
    customer: str
    trust_index: float
    why: str
    may_invite: bool


@dataclass
class SegmentStanding:
    advocates: list[Standing] = field(default_factory=list)
    detractors: list[Standing] = field(default_factory=list)


def _why(index: float, cases: int, breached: int, last_score: int | None) -> str:
    parts = [f"trust index {index:.0f}"]
    if cases:
        parts.append(f"{cases} complaint{'s' if cases != 1 else ''}")
        if breached:
            parts.append(f"{breached} past its SLA")
    if last_score is not None:
        parts.append(f"said {last_score}/5 to 'did we fix it?'")
    return ", ".join(parts)


def advocates_and_detractors(
    session: Session, settings: Settings, *, per_segment: int = 5
) -> dict[str, SegmentStanding]:
    """Per segment ("(none)" for customers in none), its `per_segment` highest and lowest trust
    indices; a small segment splits in halves (at most half its customers each side)."""
    picked: dict[str, tuple[list[trust.RankedCustomer], list[trust.RankedCustomer]]] = {}
    for segment, ends in trust.segment_ends(session, settings, n=per_segment).items():
        k = min(per_segment, max(1, ends.customers // 2))
        top = list(ends.highest[:k])
        bottom = [r for r in ends.lowest[:k] if r not in top]
        picked[segment or "(none)"] = (top, bottom)
    chosen = {r.customer_id for top, bottom in picked.values() for r in (*top, *bottom)}
    counts = {
        int(cid or 0): (int(n), int(b or 0))
        for cid, n, b in session.execute(
            select(Case.customer_id, func.count(), func.sum(Case.breached))
            .where(Case.customer_id.in_(chosen))
            .group_by(Case.customer_id)
        )
    }
    scores: dict[int, int] = {}
    for cid, score in session.execute(
        select(CaseSurvey.customer_id, CaseSurvey.score)
        .where(CaseSurvey.customer_id.in_(chosen), CaseSurvey.score.is_not(None))
        .order_by(CaseSurvey.answered_at)
    ):
        scores[int(cid or 0)] = int(score or 0)  # the latest answer wins
    invitable = set(
        privacy.may_contact(
            session,
            chosen,
            SURVEY_PURPOSE,
            SURVEY_CHANNEL,
            policy_file=settings.consent_policy_file,
        )
    )

    def standing(row: trust.RankedCustomer) -> Standing:
        index, cid = row.trust_index, row.customer_id
        n, breached = counts.get(cid, (0, 0))
        return Standing(
            row.external_id, index, _why(index, n, breached, scores.get(cid)), cid in invitable
        )

    return {
        segment: SegmentStanding([standing(r) for r in top], [standing(r) for r in bottom])
        for segment, (top, bottom) in sorted(picked.items())
    }


def open_recovery_case(
    session: Session,
    vault: Vault,
    customer: str,
    *,
    actor: str,
) -> CaseOpened:
    """A service-recovery case for a detractor (once a day per customer)."""
    if customer not in customers.customer_ids(session, [customer]):
        raise UnknownCustomer(f"no customer with external id {customer!r}")
    return open_case(
        session,
        vault,
        CaseIn(
            channel="api",
            external_id=f"recovery:{customer}:{date.today().isoformat()}",
            subject="Service recovery: reach out to a detractor",
            body=(
                "This customer's trust in us is among the lowest of their segment. Call or write "
                "to them, listen, and put right what went wrong."
            ),
            customer=customer,
        ),
        classify=lambda _text: ("service_recovery", 1.0),
        actor=actor,
    )
