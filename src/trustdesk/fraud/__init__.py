"""Fraud risk: intake, features from history, gradient-boosted model, rules, trust-aware decisions,
review and monitoring. Importing the package registers its trust signal (false declines)."""

from trustdesk.fraud import trust_signal as _trust_signal  # noqa: F401 - registers the signal

__all__: list[str] = []
