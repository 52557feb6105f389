"""The demo's feedback: the shipped airline tweets as social feedback, each linked to its author's
customer record, then analysed offline (sentiment, trust topics)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from importlib.resources import as_file, files

from trustdesk.feedback.analysis import default_analyser
from trustdesk.feedback.importing import ColumnMap, analyse_pending, import_feedback_rows
from trustdesk.platform import Platform
from trustdesk.tabular import Row, read_rows

__all__ = ["customer_id_for_handle", "load_demo_feedback"]

ACTOR = "system:demo"


def customer_id_for_handle(handle: str) -> str:
    """The demo customer id of a tweet author (same rule as scripts/build_demo_data.py)."""
    return "tw-" + re.sub(r"[^a-z0-9_]", "_", handle.lower())


def _tweet_fields(fields: dict[str, object]) -> dict[str, object]:
    """Link the tweet to its author; Twitter delivered the text HTML-escaped (`&amp;`)."""
    return {
        **fields,
        "text": html.unescape(str(fields.get("text") or "")),
        "customer": customer_id_for_handle(str(fields.get("name", ""))),
    }


def load_demo_feedback(platform: Platform, echo: Callable[[str], None]) -> None:
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
