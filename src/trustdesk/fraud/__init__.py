"""Fraud risk: features from history, gradient-boosted model, backtests, trust-aware decisions."""

__all__: list[str] = []
