"""The demo's feedback: the shipped airline tweets as social feedback, each linked to its author's
customer record, then analysed offline (sentiment, trust topics)."""

from __future__ import annotations

import html
import re
from importlib.resources import as_file, files

from trustdesk.capabilities import DemoEcho
from trustdesk.feedback.analysis import default_analyser
from trustdesk.feedback.importing import ColumnMap, analyse_pending, import_feedback_rows
from trustdesk.platform import Platform
from trustdesk.tabular import Row, read_rows

__all__ = ["DELTA_NOTE", "customer_id_for_handle", "load_demo_feedback"]

ACTOR = "system:demo"
# A quirk of the source data (see trustdesk/data/SOURCE.md), said where the demo shows it.
DELTA_NOTE = (
    'the data set files JetBlue\'s tweets under "Delta" (they address @JetBlue): '
    'the "Delta" segment is about JetBlue'
)


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


def load_demo_feedback(platform: Platform, echo: DemoEcho) -> None:
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
    with (
        as_file(files("trustdesk.data") / "airline_tweets.csv.gz") as path,
        echo.progress("feedback: storing tweets") as stored,
    ):
        rows = (
            Row(row.number, _tweet_fields(row.fields), row.error)
            for row in read_rows(
                path,
                required=("tweet_id", "text", "tweet_created", "airline", "name"),
                single_line=("tweet_id", "tweet_created", "airline", "name"),
            )
        )
        report = import_feedback_rows(
            platform.db,
            platform.vault,
            rows,
            None,
            actor=ACTOR,
            columns=columns,
            source="social",
            on_batch=lambda r: stored(r.stored + len(r.rejected)),
        )
    with echo.progress("feedback: analysing (sentiment, topics)", report.created) as done:
        analysed = analyse_pending(
            platform.db, platform.vault, default_analyser(platform.settings.data_dir), on_batch=done
        )
    already = f", {report.unchanged} already there" if report.unchanged else ""
    # The source data set holds some tweets twice (same tweet id): each is stored once.
    repeated = f", {report.repeated} repeated in the data set" if report.repeated else ""
    echo(
        f"feedback: {report.created} tweets stored{already}{repeated}, "
        f"{len(report.rejected)} rejected; {analysed} analysed (sentiment, trust topics)"
    )
    echo(f"feedback: {DELTA_NOTE}")
