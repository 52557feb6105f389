"""The customer's context on a case page, gathered through the other capabilities' facades:
trust index, consent for the channels we might answer on, open privacy requests, fraud holds
(payments held for review), recent feedback.
Read-only; what a capability cannot tell is left out rather than guessed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from trustdesk.cases import service
from trustdesk.cases.schemas import CaseDetail
from trustdesk.config import Settings
from trustdesk.crypto import Vault
from trustdesk.customers import public as customers
from trustdesk.feedback import public as feedback
from trustdesk.fraud import public as fraud
from trustdesk.privacy import public as privacy
from trustdesk.trust import public as trust

__all__ = ["CONSENT_QUESTIONS", "CustomerContext", "case_page", "customer_context"]

CONSENT_QUESTIONS = (("service", "email"), ("research", "email"), ("marketing", "email"))


@dataclass(frozen=True)
class CustomerContext:
    trust: trust.CustomerTrust | None
    consent: list[tuple[str, str, bool, str]] = field(default_factory=list)
    privacy_requests: list[privacy.OpenRequest] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)
    fraud_holds: list[fraud.FraudHold] = field(default_factory=list)


def customer_context(
    session: Session, vault: Vault, settings: Settings, customer_id: int, *, reveal: bool
) -> CustomerContext:
    consent = []
    for purpose, channel in CONSENT_QUESTIONS:
        answer = privacy.check(
            session, [customer_id], purpose, channel, policy_file=settings.consent_policy_file
        ).get(customer_id)
        if answer is not None:
            consent.append((purpose, channel, answer.allowed, answer.reason))
    items, _ = feedback.recent_feedback(session, vault, customer_id, limit=5)
    external_id = customers.external_ids(session, [customer_id]).get(customer_id)
    holds = fraud.holds_for_customer(session, external_id, limit=10) if external_id else []
    return CustomerContext(
        trust=trust.customer_trust(session, settings, customer_id),
        consent=consent,
        privacy_requests=privacy.open_requests(session, customer_id),
        fraud_holds=holds,
        feedback=[
            {
                "at": item.at,
                "source": item.source,
                "sentiment": item.sentiment,
                "text": item.text if reveal else None,
            }
            for item in items
        ],
    )


def case_page(
    session: Session, vault: Vault, settings: Settings, case_id: int, *, reveal: bool
) -> tuple[CaseDetail, CustomerContext | None]:
    """A case with its customer's context (None for a sender not known as a customer)."""
    detail = service.get_case(session, vault, case_id, reveal=reveal)
    customer_id = service.customer_id_of(session, case_id)
    context = (
        customer_context(session, vault, settings, customer_id, reveal=reveal)
        if customer_id is not None
        else None
    )
    return detail, context
