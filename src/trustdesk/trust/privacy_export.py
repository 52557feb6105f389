"""The trust section of a customer's access export: their trust index as last computed.

Wired to privacy's export registry by the manifest (`trustdesk.capabilities`), so privacy never
imports trust.
"""

from __future__ import annotations

from typing import Any

from trustdesk.privacy.public import ExportContext, ExportSubject
from trustdesk.trust.public import customer_trust

__all__ = ["trust_index"]


def trust_index(ctx: ExportContext, subject: ExportSubject) -> dict[str, Any]:
    if subject.erased:
        return {}
    found = customer_trust(ctx.session, ctx.settings, subject.customer_id)
    if found is None:
        return {}
    return {
        "trust_index": found.trust_index,
        "interval": [found.ci_low, found.ci_high],
        "observations": found.observations,
        "dimensions": found.dimensions,
        "as_of": found.as_of.isoformat() if found.as_of else None,
    }
