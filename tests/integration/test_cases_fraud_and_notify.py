"""The case page shows the customer's payments held for fraud review (through fraud's public
facade), and an SLA breach reaches subscribed staff through the notifications capability and the
outbox, once, delivered to a real SMTP server."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from tests.integration.test_notifications import _run

from trustdesk.cases.context import case_page
from trustdesk.db import utcnow
from trustdesk.fraud.models import FraudTransaction

CUSTOMERS = "external_id,name,email,phone,segment,jurisdiction\nc1,Ada Lovelace,ada@example.com,,retail,GB\n"


@pytest.fixture
def customers(cli, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS, encoding="utf-8")
    assert cli("customers", "import", str(path)).exit_code == 0


def _payment(n: int, customer: str, decision: str) -> FraudTransaction:
    now = utcnow()
    return FraudTransaction(
        transaction_id=f"tx-{n}", at=now, received_at=now, customer_ref=customer,
        terminal_id="t1", amount=Decimal("250.00"), currency="GBP", channel="online",
        content_hash=f"h{n}", decision=decision,
    )  # fmt: skip


def test_the_case_shows_the_customers_payments_held_for_review(api, platform, customers):
    with platform.db.transaction() as session:
        session.add_all(
            [_payment(1, "c1", "review"), _payment(2, "c1", "allow"), _payment(3, "c9", "review")]
        )
    case_id = api.post(
        "/api/v1/cases",
        json={"external_id": "F-1", "subject": "Payment blocked", "body": "why?", "customer": "c1"},
    ).json()["id"]
    with platform.db.reading() as session:
        _, context = case_page(session, platform.vault, platform.settings, case_id, reveal=False)
    assert context is not None
    assert [(h.transaction_id, h.amount) for h in context.fraud_holds] == [
        ("tx-1", Decimal("250.00"))
    ]


def test_an_sla_breach_notifies_subscribed_staff_once(cli, api, platform, smtp_server, customers):
    made = cli("notifications", "subscribe", "--kind", "case_breach", "--email", "lead@example.org")
    assert made.exit_code == 0, made.output
    late = {
        "external_id": "B-1", "subject": "Card stolen", "body": "stolen", "customer": "c1",
        "at": datetime(2026, 1, 5, 9, tzinfo=UTC).isoformat(),
    }  # fmt: skip
    case_id = api.post("/api/v1/cases", json=late).json()["id"]
    settings = platform.settings.model_copy(
        update={"smtp_port": smtp_server.port, "smtp_from": "TrustDesk <td@example.org>"}
    )
    live = dataclasses.replace(platform, settings=settings)
    statuses = _run(live, "cases.sla", "notifications.notify", "outbox.deliver")
    assert all(s.endswith(":succeeded") for s in statuses), statuses
    assert smtp_server.wait_for(1)
    (mail,) = smtp_server.messages
    assert mail.recipients == ("lead@example.org",)
    assert mail.parsed()["Subject"].startswith(f"[TrustDesk] Case {case_id} breached its SLA")
    assert "stolen" not in mail.data.decode()  # no complaint text in a staff alert
    _run(live, "cases.sla", "notifications.notify", "outbox.deliver")
    assert smtp_server.total == 1
