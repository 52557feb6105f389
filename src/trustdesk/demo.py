"""The main job: prepare the embedded database with real shipped data for the dashboard.

Each capability's demo data comes from the loaders its manifest entry declares
(`trustdesk.capabilities`, `demo`), run in their order: customers, feedback, the trust index,
payments (scored with the customers' trust), then the trust index again. The demo logins, one per
role, are created last; the admin's second factor is a TOTP whose current code
`trustdesk users totp-code admin` prints (refused in production).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from trustdesk import migrate
from trustdesk.access.roles import Role
from trustdesk.auth import service as auth_service
from trustdesk.auth.models import User
from trustdesk.capabilities import DemoEcho, installed, resolve
from trustdesk.platform import Platform

__all__ = ["DEMO_LOGINS", "DEMO_PASSWORD", "DEMO_USER", "DemoLogin", "DemoSummary", "prepare_demo"]

DEMO_USER = "demo"
DEMO_PASSWORD = "trustdesk-demo"  # noqa: S105 - printed on purpose: local demo logins
ACTOR = "system:demo"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: Role
    totp: bool = False


DEMO_LOGINS = (
    DemoLogin("admin", Role.ADMIN, totp=True),  # admins must use a second factor
    DemoLogin("privacy", Role.PRIVACY_OFFICER),
    DemoLogin("agent", Role.AGENT),
    DemoLogin(DEMO_USER, Role.ANALYST),
    DemoLogin("viewer", Role.VIEWER),
)


@dataclass(frozen=True)
class DemoSummary:
    username: str  # the analyst login, as before
    password: str  # every demo login's password
    logins: tuple[DemoLogin, ...] = DEMO_LOGINS
    totp_uri: str | None = None  # the admin's enrolment URI, when created by this run


def prepare_demo(platform: Platform, echo: DemoEcho) -> DemoSummary:
    """Idempotent: running it again changes nothing already there."""
    migrate.upgrade(platform.db)
    echo("database ready")
    steps = sorted(
        ((s, c.name) for c in installed() for s in c.demo), key=lambda pair: pair[0].order
    )
    for step, capability in steps:
        with echo.progress(capability):
            resolve(step.loader)(platform, echo)
    totp_uri = None
    with platform.db.transaction() as session:
        for login in DEMO_LOGINS:
            if session.scalar(select(User.id).where(User.username == login.username)):
                continue
            created = auth_service.create_user(
                session,
                platform.vault,
                username=login.username,
                password=DEMO_PASSWORD,
                role=login.role,
                with_totp=login.totp,
                actor=ACTOR,
            )
            totp_uri = created.totp_uri or totp_uri
            echo(f"created the demo login {login.username!r} (role {login.role.value})")
    return DemoSummary(DEMO_USER, DEMO_PASSWORD, totp_uri=totp_uri)
