"""Imports every capability's ORM models so the metadata is complete (migrations, drift test).

The modules are the manifest's (`trustdesk.capabilities`, each entry's `models`).
"""

from __future__ import annotations

import importlib

from trustdesk.capabilities import installed

__all__ = ["load_all_models", "model_modules"]


def model_modules() -> tuple[str, ...]:
    return tuple(module for capability in installed() for module in capability.models)


def load_all_models() -> None:
    for name in model_modules():
        importlib.import_module(name)
