"""The main job: `trustdesk demo` builds the dashboard's data from the shipped real tweets."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from trustdesk.customers.models import Customer
from trustdesk.fraud.models import FraudTransaction


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_demo_loads_real_data_and_is_idempotent(cli, settings, platform):
    first = cli("demo", "--no-serve")
    assert first.exit_code == 0, first.output
    assert "customers: 6720 new" in first.output
    assert "tweets stored" in first.output and "11667 analysed" in first.output
    # An empty database has nothing "already there": the data set's repeated tweets say so.
    assert "already there" not in first.output
    assert "124 repeated in the data set" in first.output
    assert '"Delta" segment is about JetBlue' in first.output  # the source data's quirk, said
    assert "http://127.0.0.1:8000/" in first.output and "trustdesk-demo" in first.output
    # Where the data lives, and how to log in as each role (the admin with a second factor).
    assert f"data directory: {settings.data_dir}" in first.output
    assert "http://127.0.0.1:8000/login" in first.output
    for username, role in [
        ("admin", "admin"),
        ("privacy", "privacy_officer"),
        ("agent", "agent"),
        ("demo", "analyst"),
        ("viewer", "viewer"),
    ]:
        assert f"  {username:<8} {role}" in first.output
    assert "trustdesk users totp-code admin" in first.output
    code = cli("users", "totp-code", "admin")
    assert code.exit_code == 0 and code.stdout.strip().isdigit()
    # The payments belong to demo customers, across the trust index.
    with platform.db.reading() as session:
        linked = session.scalar(
            select(func.count(func.distinct(FraudTransaction.customer_ref))).where(
                FraudTransaction.customer_ref.in_(select(Customer.external_id))
            )
        )
    assert linked == 250
    assert "cards belong to 250 demo customers" in first.output
    segments = json.loads(cli("trust", "show", "--by", "segment", "--json").stdout)
    assert {s["segment"] for s in segments} == {
        "American",
        "Delta",
        "Southwest",
        "US Airways",
        "United",
        "Virgin America",
    }
    assert all(s["ci_low"] <= s["trust_index"] <= s["ci_high"] for s in segments)
    # Simulated payments: history with outcomes, the last days scored, cases left for an analyst.
    assert "simulated payments stored" in first.output
    alerts = json.loads(cli("alerts", "list", "--json").stdout)
    assert alerts, "the demo's real feedback raises trust alerts; payments must not hide them"
    again = cli("demo", "--no-serve")
    assert "customers: 0 new" in again.output and " 0 tweets stored" in again.output
    assert "simulated payments are already there" in again.output
    assert cli("audit", "verify").exit_code == 0
