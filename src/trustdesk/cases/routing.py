"""Which category a complaint is about, and how sure we are.

Routing depends only on `Classifier`: a function from text to (label, probability). The trained
intent model (`model train --task classify`) plugs in here when it is installed; until then the
keyword classifier below gives a Banking77 label for the clearest complaints and an unsure
"unknown" for the rest, which the rules send to triage.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["Classifier", "keyword_classifier"]

Classifier = Callable[[str], tuple[str, float]]

_KEYWORDS: tuple[tuple[str, str], ...] = (
    (r"\b(stolen|lost)\b.*\bcard\b|\bcard\b.*\b(stolen|lost)\b", "lost_or_stolen_card"),
    (r"\b(fraud|scam|hacked|compromised)\b", "compromised_card"),
    (r"\b(charged twice|double charged|duplicate charge)\b", "transaction_charged_twice"),
    (
        r"\b(don'?t|do not|didn'?t) recogni[sz]e\b|\bunauthori[sz]ed\b",
        "card_payment_not_recognised",
    ),
    (r"\brefund", "request_refund"),
    (r"\b(fee|charge[ds]?)\b", "extra_charge_on_statement"),
    (
        r"\btransfer\b.*\b(not|never)\b.*\b(arrived|received)\b",
        "transfer_not_received_by_recipient",
    ),
    (r"\btransfer\b.*\b(failed|declined)\b", "failed_transfer"),
    (r"\b(close|terminate|cancel)\b.*\baccount\b", "terminate_account"),
    (r"\b(verify|verification|identity)\b", "unable_to_verify_identity"),
    (r"\bcard\b.*\b(arrive|arrived|delivery|still waiting)\b", "card_arrival"),
    (r"\bcard\b.*\b(declined|not working|doesn'?t work)\b", "card_not_working"),
)
_COMPILED = tuple((re.compile(p, re.IGNORECASE), label) for p, label in _KEYWORDS)


def keyword_classifier(text: str) -> tuple[str, float]:
    """A first matching keyword rule's label with a modest probability, else ("unknown", 0)."""
    for pattern, label in _COMPILED:
        if pattern.search(text):
            return label, 0.6
    return "unknown", 0.0
