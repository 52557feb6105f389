"""The rule that opens cases by itself: very negative feedback from a known customer becomes a
case (channel "feedback", external id "fb-<feedback id>", so running it again opens nothing new).

Reads feedback through its facade: the analysed columns to find candidates, then the decrypted
texts of those only. Never commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from trustdesk.cases.intake import open_case
from trustdesk.cases.routing import Classifier
from trustdesk.cases.schemas import CaseIn
from trustdesk.crypto import Vault
from trustdesk.customers import public as customers
from trustdesk.feedback import public as feedback

__all__ = ["FeedbackCases", "open_from_feedback"]


@dataclass(frozen=True)
class FeedbackCases:
    candidates: int
    opened: int
    last_id: int  # pass as `after_id` next time


def open_from_feedback(
    session: Session,
    vault: Vault,
    *,
    classify: Classifier,
    actor: str,
    min_negative: float = 0.9,
    after_id: int = 0,
) -> FeedbackCases:
    """Open a case for each analysed feedback item after `after_id` from a known customer whose
    probability of being negative is at least `min_negative`."""
    wanted: list[int] = []
    last_id = after_id
    for batch in feedback.iter_feedback_batches(session, after_id=after_id):
        if len(batch):
            last_id = int(batch.id[-1])
        picked = (batch.customer_id >= 0) & (batch.p_negative >= min_negative)
        wanted.extend(int(i) for i in batch.id[picked])
    items = [i for i in feedback.feedback_items(session, vault, wanted) if i.text]
    known = customers.external_ids(session, {i.customer_id for i in items if i.customer_id})
    opened = 0
    for item in items:
        if item.customer_id not in known:
            continue
        result = open_case(
            session,
            vault,
            CaseIn(
                channel="feedback",
                external_id=f"fb-{item.id}",
                subject=f"Very negative {item.source} feedback",
                body=item.text[:20_000] if item.text else "",
                customer=known[item.customer_id],
                at=item.at,
            ),
            classify=classify,
            actor=actor,
        )
        opened += result.created
    return FeedbackCases(candidates=len(wanted), opened=opened, last_id=last_id)
