"""Changing the data map: a new numbered version and, from it, a new privacy notice version,
both in the caller's transaction and audited (no personal data: the map describes systems)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from trustdesk import audit
from trustdesk.privacy.datamap import datamap, notice

__all__ = ["Published", "update_datamap"]


@dataclass(frozen=True)
class Published:
    datamap_version: int
    notice_version: int
    changed: bool  # False: the map was identical to the current one, nothing was stored


def update_datamap(session: Session, raw: Any, *, actor: str, now: datetime) -> Published:
    """Validates `raw` (a mapping, or YAML text), stores it and regenerates the notice."""
    parsed = datamap.parse_yaml(raw) if isinstance(raw, str) else datamap.parse_datamap(raw)
    version = datamap.store(session, parsed, actor=actor, now=now)
    if version is None:
        return Published(datamap.current(session).version, notice.current(session).version, False)
    published = notice.publish(session, parsed, version, now=now)
    audit.record(
        session,
        actor=actor,
        action="privacy.datamap_saved",
        entity_type="datamap",
        entity_id=version,
        changes={"notice_version": published.version, "systems": len(parsed.systems)},
    )
    return Published(version, published.version, True)
