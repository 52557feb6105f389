"""The main job: prepare the embedded database with real shipped data for the dashboard.

Each capability's demo data comes from the loaders its manifest entry declares
(`trustdesk.capabilities`, `demo`), run in their order: customers, feedback, payments, then the
trust index over all of them. The demo login is created last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from trustdesk import migrate
from trustdesk.access.roles import Role
from trustdesk.auth import service as auth_service
from trustdesk.auth.models import User
from trustdesk.capabilities import installed, resolve
from trustdesk.platform import Platform

__all__ = ["DEMO_PASSWORD", "DEMO_USER", "DemoSummary", "prepare_demo"]

DEMO_USER = "demo"
DEMO_PASSWORD = "trustdesk-demo"  # noqa: S105 - printed on purpose: a local demo login
ACTOR = "system:demo"


@dataclass(frozen=True)
class DemoSummary:
    username: str
    password: str


def prepare_demo(platform: Platform, echo: Callable[[str], None]) -> DemoSummary:
    """Idempotent: running it again changes nothing already there."""
    migrate.upgrade(platform.db)
    echo("database ready")
    steps = sorted((s for c in installed() for s in c.demo), key=lambda s: s.order)
    for step in steps:
        resolve(step.loader)(platform, echo)
    with platform.db.transaction() as session:
        if session.scalar(select(User.id).where(User.username == DEMO_USER)) is None:
            auth_service.create_user(
                session,
                platform.vault,
                username=DEMO_USER,
                password=DEMO_PASSWORD,
                role=Role.ANALYST,
                with_totp=False,
                actor=ACTOR,
            )
            echo(f"created the demo login {DEMO_USER!r} (role analyst)")
    return DemoSummary(DEMO_USER, DEMO_PASSWORD)
