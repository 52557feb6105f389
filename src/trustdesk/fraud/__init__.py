"""Fraud risk: intake, features from history, gradient-boosted model, rules, trust-aware decisions,
review and monitoring. Importing the package registers its trust signal (false declines) and its
section of customers' access exports (their payments)."""

from trustdesk.fraud import privacy_export as _privacy_export  # noqa: F401 - registers the section
from trustdesk.fraud import trust_signal as _trust_signal  # noqa: F401 - registers the signal

__all__: list[str] = []
