"""The demo incident: built from the shipped HHS breach slice over the demo's customers, with
obligations and clocks, an approved notice queued in the outbox and delivered to a real SMTP
server (as `trustdesk mailbox serve` would receive it), once per customer; idempotent."""

from __future__ import annotations

import json

import pytest
from tests.integration.test_incident_notices import to_server

from trustdesk.customers.demo import load_demo_customers
from trustdesk.incidents.demo import AFFECTED, TITLE, load_demo_incident
from trustdesk.outbox import public as outbox


class Echo(list):
    def __call__(self, line: str) -> None:
        self.append(line)

    def progress(self, what: str, total: int | None = None):  # the customers loader uses it
        import contextlib

        return contextlib.nullcontext(lambda n: None)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_demo_incident_has_clocks_and_its_notices_reach_the_mailbox(platform, cli, smtp_server):
    said = Echo()
    load_demo_customers(platform, said)
    load_demo_incident(platform, said)
    assert f"{AFFECTED} affected customers" in said[-1] and "mailbox serve" in said[-1]
    listed = json.loads(cli("incidents", "list", "--json").stdout)
    iid = next(i["id"] for i in listed if i["title"] == TITLE)
    counts = json.loads(cli("incidents", "affected", "counts", str(iid), "--json").stdout)
    assert counts["total"] == AFFECTED and len(counts["by_jurisdiction"]) >= 10
    assert all(code.startswith("US-") for code in counts["by_jurisdiction"])
    found = json.loads(cli("incidents", "obligations", str(iid), "--json").stdout)
    required = [o for o in found if o["required"]]
    assert any(o["due_at"] for o in required) and any(o["due_at"] is None for o in required)
    clocks = {o["clock"] for o in required}
    assert clocks & {"amber", "red", "overdue"}  # aware 20 days ago: some clocks are running out
    notify = json.loads(cli("incidents", "notify", str(iid), "--dry-run", "--json").stdout)
    assert notify["approved"] and notify["customers"] == AFFECTED
    report = outbox.deliver_due(to_server(platform, smtp_server), until_empty=True)
    assert report.sent == AFFECTED
    assert len(smtp_server.counts()) == AFFECTED and set(smtp_server.counts().values()) == {1}
    mail = smtp_server.messages[0].parsed()
    body = mail.get_content()
    assert "What happened" in body and "Your code: CM-" in body and "HHS" not in body
    statement = cli("incidents", "show", str(iid), "--json")
    assert "credit-monitoring" in json.loads(statement.stdout)["public_statement"]
    again = Echo()
    load_demo_incident(platform, again)
    assert again == ["incidents: the demo incident is already there"]
    assert len(json.loads(cli("incidents", "list", "--json").stdout)) == len(listed)
