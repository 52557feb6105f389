"""The demo's trust index: computed once every other capability's demo data is in."""

from __future__ import annotations

from collections.abc import Callable

from trustdesk.platform import Platform
from trustdesk.trust import service
from trustdesk.trust.service import TrustParams

__all__ = ["recompute_for_demo"]


def recompute_for_demo(platform: Platform, echo: Callable[[str], None]) -> None:
    with platform.db.transaction() as session:
        trust = service.recompute(session, TrustParams.from_settings(platform.settings))
    echo(
        f"trust index: {trust.observations} new observations folded in, "
        f"{trust.alerts_raised} alerts raised ({trust.seconds:.1f} s)"
    )
