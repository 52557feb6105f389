"""Which category a complaint is about, and how sure we are.

Routing depends only on `Classifier`: a function from text to (label, probability).
`classifier_for(settings)` gives the trained intent model (`model train --task classify`, loaded
through feedback's facade) when one is installed (`cases_classifier_dir`, or
<data_dir>/models/intents); otherwise the keyword classifier below, which gives a Banking77 label
for the clearest complaints and an unsure "unknown" for the rest (the rules send it to triage).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path

from trustdesk.config import Settings
from trustdesk.feedback import public as feedback

__all__ = ["Classifier", "classifier_for", "keyword_classifier", "routing_model_figures"]

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


_LOADED: dict[tuple[Path, float], Classifier] = {}
_LOCK = threading.Lock()


def _model_dir(settings: Settings) -> Path | None:
    if settings.cases_classifier_dir is not None:
        return settings.cases_classifier_dir
    default = settings.data_dir / "models" / "intents"
    return default if default.is_dir() else None


def classifier_for(settings: Settings) -> Classifier:
    """The installed intent model (loaded once per model version on disk), else keywords.

    A configured directory that cannot be loaded is an error (InvalidInput from feedback), not
    a silent fallback: routing would quietly get worse."""
    path = _model_dir(settings)
    if path is None:
        return keyword_classifier
    stamp = path.stat().st_mtime if path.exists() else 0.0
    with _LOCK:
        found = _LOADED.get((path, stamp))
        if found is None:
            model = feedback.load_classifier(path)

            def predict(text: str) -> tuple[str, float]:
                return model.predict([text])[0]

            found = _LOADED[(path, stamp)] = predict
    return found


def routing_model_figures(settings: Settings) -> feedback.ModelFigures | None:
    """The installed intent model's stored validation figures; None while keywords route."""
    path = _model_dir(settings)
    return feedback.stored_model_figures(path, "classify") if path is not None else None
