"""Command-line tables in an 80-column terminal: no header cut to "segme…", no id cut, every line
within 80 characters; `--wide` prints every column whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rich.text import Text

from trustdesk.customers import service as customer_service
from trustdesk.customers.schemas import CustomerIn
from trustdesk.terminal_tables import Col, print_table
from trustdesk.trust.models import TrustAlert


@pytest.fixture
def narrow(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    from trustdesk.console import out

    saved = out.width
    out.width = 80  # the console was made before the variable was set
    yield
    out.width = saved


def _lines(result) -> list[str]:
    return result.stdout.rstrip("\n").split("\n")


def _alerts(platform, count: int) -> None:
    start = datetime(2015, 2, 17, tzinfo=UTC)
    with platform.db.transaction() as session:
        for i in range(count):
            session.add(
                TrustAlert(
                    kind="topic_surge" if i % 2 else "trust_drop",
                    segment=["Virgin America", "US Airways", "Southwest"][i % 3],
                    topic="customer_service_and_responsiveness" if i % 2 else "",
                    window_start=start + timedelta(days=i),
                    window_end=start + timedelta(days=i + 7),
                    severity="medium",
                    baseline=71.25,
                    observed=48.5,
                    effect=-22.75,
                    p_value=0.001,
                    acknowledged_by="cli:someone-with-a-long-name" if i == 0 else None,
                )
            )


def test_alerts_list_fits_80_columns_with_whole_headers(cli, platform, narrow):
    _alerts(platform, 4)
    result = cli("alerts", "list")
    assert result.exit_code == 0, result.output
    lines = _lines(result)
    assert max(len(line) for line in lines) <= 80
    assert "…" not in result.stdout
    for header in ("id", "kind", "segment", "topic", "window", "severity", "baseline"):
        assert header in result.stdout
    wide = cli("alerts", "list", "--wide")
    assert "cli:someone-with-a-long-name" in wide.stdout
    assert "customer_service_and_responsiveness" in wide.stdout.replace("\n", "")


def test_customers_list_keeps_whole_ids_in_80_columns(cli, platform, narrow):
    ids = [f"tw-a-rather-long-handle-{i}" for i in range(3)]
    records = [
        CustomerIn(
            external_id=e,
            name=f"Someone With A Long Name {i}",
            email=f"someone.with.a.long.address.{i}@example.com",
            segments=["Virgin America", "US Airways"],
            jurisdiction="US-CA",
        )
        for i, e in enumerate(ids)
    ]
    with platform.db.transaction() as session:
        customer_service.upsert_customers(session, platform.vault, records, actor="test")
    for args in (("customers", "list"), ("customers", "list", "--reveal")):
        result = cli(*args)
        assert result.exit_code == 0, result.output
        assert max(len(line) for line in _lines(result)) <= 80
        for external_id in ids:
            assert external_id in result.stdout  # on one line, whole
        assert "external id" in result.stdout and "…" not in result.stdout
    wide = cli("customers", "list", "--reveal", "--wide")
    assert "someone.with.a.long.address.0@example.com" in wide.stdout


def test_a_table_too_wide_for_the_terminal_leaves_out_its_least_needed_columns():
    from rich.console import Console

    console = Console(width=40, record=True, color_system=None)
    columns = (Col("id", key=True), Col("name"), Col("details", drop=1))
    rows = [("customer-000000000000001", "Ada Lovelace", Text("a long note " * 4))]
    left_out = print_table(console, columns, rows)
    text = console.export_text()
    assert left_out == ["details"]
    assert "customer-000000000000001" in text and "--wide" in text
    assert max(len(line) for line in text.splitlines()) <= 40
