"""The main job: `trustdesk demo` builds the dashboard's data from the shipped real tweets."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_demo_loads_real_data_and_is_idempotent(cli):
    first = cli("demo", "--no-serve")
    assert first.exit_code == 0, first.output
    assert "customers: 6720 new" in first.output
    assert "tweets stored" in first.output and "11667 analysed" in first.output
    assert "http://127.0.0.1:8000/" in first.output and "trustdesk-demo" in first.output
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
