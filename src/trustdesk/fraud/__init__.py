"""Fraud risk: intake, features from history, gradient-boosted model, rules, trust-aware decisions,
review and monitoring. Its trust signal (false declines) and its section of customers' access
exports (their payments) are declared in the manifest (`trustdesk.capabilities`)."""

__all__: list[str] = []
