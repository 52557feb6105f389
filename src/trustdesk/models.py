"""Imports every capability's ORM models so the metadata is complete (migrations, drift test)."""

from __future__ import annotations

import importlib

__all__ = ["MODEL_MODULES", "load_all_models"]

MODEL_MODULES = (
    "trustdesk.audit.chain",
    "trustdesk.auth.models",
    "trustdesk.customers.models",
    "trustdesk.feedback.models",
    "trustdesk.fraud.models",
    "trustdesk.privacy.models",
    "trustdesk.trust.models",
)


def load_all_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)
