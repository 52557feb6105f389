"""The access export: every registered section for one customer, packed as a ZIP of JSON files.

The ZIP holds `<section>.json` per section, `manifest.json` (what each file holds, how many
items) and `README.txt` in plain words. It is decrypted on purpose: it goes to the data subject.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from trustdesk.config import Settings
from trustdesk.crypto import Vault
from trustdesk.customers import public as customers
from trustdesk.privacy.export.registry import ExportContext, ExportSubject, registered_exporters
from trustdesk.wording import counted

__all__ = ["FORMAT_VERSION", "Export", "build_export", "to_zip"]

FORMAT_VERSION = 1

_README = """\
Your data held by TrustDesk
===========================

This archive holds everything we store about you, as of {generated}, in JSON files
(open them with any text editor). Customer reference: {external_id}.

{listing}

manifest.json lists the same files with the number of items in each. An empty file ([] or {{}})
means we hold nothing of that kind about you.

To correct anything, object to a use of your data, or ask us to erase it, reply to the message
that brought you this archive or use the links on your preferences page.
"""


@dataclass(frozen=True)
class Export:
    external_id: str
    generated_at: datetime
    sections: dict[str, list[Any] | dict[str, Any]]

    @property
    def is_empty(self) -> bool:
        """True when no section holds anything (what a verified erasure leaves)."""
        return not any(self.sections.values())

    def manifest(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "customer": self.external_id,
            "generated_at": self.generated_at.isoformat(),
            # How many records each file holds: a list's entries, or one object (whose fields
            # are not records).
            "files": {f"{name}.json": _records(data) for name, data in self.sections.items()},
        }


def _records(data: list[Any] | dict[str, Any]) -> int:
    return len(data) if isinstance(data, list) else int(bool(data))


def build_export(
    session: Session, vault: Vault, settings: Settings, external_id: str, *, now: datetime
) -> Export:
    """Collects every section for the customer (NotFound if there is no such customer)."""
    record = customers.personal_record(session, vault, external_id)
    subject = ExportSubject(record.id, external_id, erased=record.personal_data == "erased")
    ctx = ExportContext(session, vault, settings)
    sections = {name: fn(ctx, subject) for name, fn in registered_exporters().items()}
    return Export(external_id, now, sections)


def to_zip(export: Export) -> bytes:
    buffer = io.BytesIO()
    manifest = export.manifest()
    listing = "\n".join(
        f"  {name:<24} {counted(count, 'record')}" for name, count in manifest["files"].items()
    )
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "README.txt",
            _README.format(
                generated=f"{export.generated_at:%Y-%m-%d %H:%M} UTC",
                external_id=export.external_id,
                listing=listing,
            ),
        )
        archive.writestr("manifest.json", json.dumps(manifest, indent=2) + "\n")
        for name, data in export.sections.items():
            text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
            archive.writestr(f"{name}.json", text + "\n")
    return buffer.getvalue()
