"""The demo's customers: the shipped sample (one per tweet author), loaded idempotently."""

from __future__ import annotations

from importlib.resources import as_file, files

from trustdesk.capabilities import DemoEcho
from trustdesk.customers.importing import import_customer_file
from trustdesk.platform import Platform

__all__ = ["load_demo_customers"]

ACTOR = "system:demo"


def load_demo_customers(platform: Platform, echo: DemoEcho) -> None:
    with (
        as_file(files("trustdesk.data") / "customers_sample.csv.gz") as path,
        echo.progress("customers: importing") as advance,
    ):
        report = import_customer_file(
            platform.db,
            platform.vault,
            path,
            actor=ACTOR,
            on_batch=lambda r: advance(r.created + r.updated + r.unchanged + len(r.rejected)),
        )
    there = report.unchanged + report.updated
    echo(f"customers: {report.created} new" + (f", {there} already there" if there else ""))
