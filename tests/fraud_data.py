"""A small transaction simulator in the spirit of the handbook's, for fast fraud tests."""

from __future__ import annotations

from trustdesk.fraud.learning.simulator import simulate

__all__ = ["simulate"]
