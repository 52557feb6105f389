"""The sections of a data-subject access export, and the registry they are wired to.

An *exporter* returns, as JSON-ready data, everything its capability holds on one customer,
decrypted: the export goes to the data subject. A capability declares its sections in the manifest
(`trustdesk.capabilities`), which registers each through `privacy.public.register_exporter`, so
privacy never imports it. An exporter returns an empty list or dict when it holds nothing
readable on the customer; after a verified erasure every section must be empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from trustdesk import capabilities
from trustdesk.config import Settings
from trustdesk.crypto import Vault

__all__ = [
    "ExportContext",
    "ExportSubject",
    "Exporter",
    "register_exporter",
    "registered_exporters",
]


@dataclass(frozen=True)
class ExportSubject:
    customer_id: int
    external_id: str
    erased: bool  # their data key is destroyed: nothing of theirs is readable any more


@dataclass(frozen=True)
class ExportContext:
    session: Session
    vault: Vault
    settings: Settings


Exporter = Callable[[ExportContext, ExportSubject], list[Any] | dict[str, Any]]

_EXPORTERS: dict[str, Exporter] = {}


def register_exporter(section: str, exporter: Exporter) -> None:
    """Adds a section (written as `<section>.json`); registering a name twice is an error."""
    if not section.isidentifier():
        raise ValueError(f"export section {section!r} must be a plain identifier")
    if section in _EXPORTERS and _EXPORTERS[section] is not exporter:
        raise ValueError(f"export section {section!r} is already registered")
    _EXPORTERS[section] = exporter


def registered_exporters() -> dict[str, Exporter]:
    """{section: exporter}, in manifest order, then any registered by hand."""
    capabilities.wire()
    return dict(_EXPORTERS)
