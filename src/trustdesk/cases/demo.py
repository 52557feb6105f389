"""The demo's complaint cases: real CFPB complaints (unknown senders, web form) and negative demo
tweets from known customers, opened over the last two weeks so that some are past their SLA;
about a third answered in time, some resolved, then one SLA pass."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import timedelta
from importlib.resources import as_file, files

from trustdesk.cases import service
from trustdesk.cases.intake import open_case
from trustdesk.cases.public import evaluate_sla
from trustdesk.cases.routing import classifier_for
from trustdesk.cases.schemas import CaseIn
from trustdesk.customers import public as customers
from trustdesk.db import utcnow
from trustdesk.platform import Platform
from trustdesk.tabular import read_rows

__all__ = ["load_demo_cases"]

ACTOR = "system:demo"
TWEETS = 80


def _handle_id(handle: str) -> str:
    return "tw-" + re.sub(r"[^a-z0-9_]", "_", handle.lower())


def _complaints() -> list[CaseIn]:
    found: list[CaseIn] = []
    with as_file(files("trustdesk.cases") / "data" / "cfpb_complaints.csv.gz") as path:
        for row in read_rows(path, ("complaint_id", "issue", "narrative")):
            if row.error is None:
                f = row.fields
                found.append(
                    CaseIn(
                        channel="web",
                        external_id=f"cfpb-{f['complaint_id']}",
                        subject=str(f["issue"])[:300],
                        body=str(f["narrative"])[:20_000],
                    )
                )
    return found


def _tweets(platform: Platform) -> list[CaseIn]:
    found: list[CaseIn] = []
    with as_file(files("trustdesk.data") / "airline_tweets.csv.gz") as path:
        rows = [r.fields for r in read_rows(path) if r.error is None]
    negative = [r for r in rows if r.get("airline_sentiment") == "negative"][: TWEETS * 2]
    with platform.db.reading() as session:
        known = customers.customer_ids(session, [_handle_id(str(r["name"])) for r in negative])
    for r in negative:
        customer = _handle_id(str(r["name"]))
        if customer in known and len(found) < TWEETS:
            text = html.unescape(str(r["text"]))
            found.append(
                CaseIn(
                    channel="social",
                    external_id=f"tweet-{r['tweet_id']}",
                    subject=f"Tweet about {r.get('airline') or 'us'}",
                    body=text,
                    customer=customer,
                )
            )
    return found


def load_demo_cases(platform: Platform, echo: Callable[[str], None]) -> None:
    incoming = _complaints() + _tweets(platform)
    now = utcnow()
    opened = 0
    with platform.db.transaction() as session:
        for i, case in enumerate(incoming):
            at = now - timedelta(minutes=(len(incoming) - i) * 60 * 24 * 14 // len(incoming))
            result = open_case(
                session, platform.vault, case.model_copy(update={"at": at}),
                classify=classifier_for(platform.settings), actor=ACTOR, now=at,
            )  # fmt: skip
            opened += result.created
            if result.created and i % 3 == 0:
                service.reply(
                    session, platform.vault, result.id,
                    "Thank you for telling us. We are looking into it and will update you.",
                    actor=ACTOR, now=at + timedelta(minutes=40),
                )  # fmt: skip
                if i % 2 == 0:
                    service.change_status(
                        session, result.id, "resolved", actor=ACTOR, now=at + timedelta(hours=5)
                    )
    report = evaluate_sla(platform)
    echo(
        f"cases: {opened} opened (CFPB complaints and negative tweets), "
        f"{report.breached} past their SLA, {report.amber} at risk"
    )
