"""The demo's trust index: computed from the demo's feedback before the payments are scored (their
decisions weigh each customer's trust), then again to fold in what the payments changed."""

from __future__ import annotations

from trustdesk.capabilities import DemoEcho
from trustdesk.platform import Platform
from trustdesk.trust import service
from trustdesk.trust.service import TrustParams
from trustdesk.wording import counted

__all__ = ["recompute_for_demo"]


def recompute_for_demo(platform: Platform, echo: DemoEcho) -> None:
    """Folds in what the earlier steps stored (run before the payments and after them)."""
    with platform.db.transaction() as session:
        trust = service.recompute(session, TrustParams.from_settings(platform.settings))
    echo(
        f"trust index: {counted(trust.observations, 'new observation')} folded in, "
        f"{counted(trust.alerts_raised, 'alert')} raised ({trust.seconds:.1f} s)"
    )
