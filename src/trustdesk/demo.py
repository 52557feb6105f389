"""The main job: prepare the embedded database with real shipped data for the dashboard."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import as_file, files

from sqlalchemy import select

from trustdesk import migrate
from trustdesk.auth import service as auth_service
from trustdesk.auth.models import User
from trustdesk.auth.roles import Role
from trustdesk.customers.importing import import_customer_file
from trustdesk.feedback.analysis import default_analyser
from trustdesk.feedback.importing import ColumnMap, analyse_pending, import_feedback_rows
from trustdesk.fraud.demo import load_demo_payments
from trustdesk.platform import Platform
from trustdesk.tabular import Row, read_rows
from trustdesk.trust import service as trust_service
from trustdesk.trust.service import TrustParams

__all__ = ["DEMO_PASSWORD", "DEMO_USER", "DemoSummary", "customer_id_for_handle", "prepare_demo"]

DEMO_USER = "demo"
DEMO_PASSWORD = "trustdesk-demo"  # noqa: S105 - printed on purpose: a local demo login
ACTOR = "system:demo"


def customer_id_for_handle(handle: str) -> str:
    """The demo customer id of a tweet author (same rule as scripts/build_demo_data.py)."""
    return "tw-" + re.sub(r"[^a-z0-9_]", "_", handle.lower())


@dataclass(frozen=True)
class DemoSummary:
    username: str
    password: str
    customers: int
    feedback: int


def prepare_demo(platform: Platform, echo: Callable[[str], None]) -> DemoSummary:
    """Idempotent: running it again changes nothing already there."""
    migrate.upgrade(platform.db)
    echo("database ready")
    with as_file(files("trustdesk.data") / "customers_sample.csv.gz") as path:
        report = import_customer_file(platform.db, platform.vault, path, actor=ACTOR)
    echo(f"customers: {report.created} new, {report.unchanged + report.updated} already there")
    feedback = _load_tweets(platform, echo)
    payments = load_demo_payments(platform.db, platform.settings, echo)
    if payments.already_there:
        echo("payments: the simulated payments are already there")
    with platform.db.transaction() as session:
        trust = trust_service.recompute(session, TrustParams.from_settings(platform.settings))
    echo(
        f"trust index: {trust.observations} new observations folded in, "
        f"{trust.alerts_raised} alerts raised ({trust.seconds:.1f} s)"
    )
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
    return DemoSummary(DEMO_USER, DEMO_PASSWORD, report.stored, feedback)


def _tweet_fields(fields: dict[str, object]) -> dict[str, object]:
    """Link the tweet to its author; Twitter delivered the text HTML-escaped (`&amp;`)."""
    return {
        **fields,
        "text": html.unescape(str(fields.get("text") or "")),
        "customer": customer_id_for_handle(str(fields.get("name", ""))),
    }


def _load_tweets(platform: Platform, echo: Callable[[str], None]) -> int:
    """The airline tweets as social feedback, each linked to its author's customer record."""
    columns = ColumnMap(
        external_id="tweet_id",
        text="text",
        at="tweet_created",
        segment="airline",
        customer="customer",
        rating=None,
        rating_scale=None,
        channel=None,
        language=None,
        source=None,
    )
    with as_file(files("trustdesk.data") / "airline_tweets.csv.gz") as path:
        rows = (
            Row(row.number, _tweet_fields(row.fields), row.error)
            for row in read_rows(
                path,
                required=("tweet_id", "text", "tweet_created", "airline", "name"),
                single_line=("tweet_id", "tweet_created", "airline", "name"),
            )
        )
        report = import_feedback_rows(
            platform.db, platform.vault, rows, None, actor=ACTOR, columns=columns, source="social"
        )
    analysed = analyse_pending(platform.db, platform.vault, default_analyser())
    echo(
        f"feedback: {report.created} tweets stored, {report.unchanged} already there, "
        f"{len(report.rejected)} rejected; {analysed} analysed (sentiment, trust topics)"
    )
    return report.created + report.unchanged
