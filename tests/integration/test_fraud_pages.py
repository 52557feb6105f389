"""The fraud pages through the HTTP test client: the review queue, a case, its decision form and
the monitoring table, on payments scored through the real API."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from test_dashboard_pages import csrf_from, log_in

from trustdesk.access.roles import Role
from trustdesk.audit.chain import AuditEntry
from trustdesk.fraud.models import FraudLabel


def score(client, token, tx_id, minutes_ago, **fields):
    body = {
        "transaction_id": tx_id,
        "at": (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat(),
        "customer_id": "card-7",
        "terminal_id": "term-3",
        "amount": "20.00",
        **fields,
    }
    response = client.post(
        "/api/v1/transactions/score", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201, response.text
    return response.json()


def held(client, token, tx_id, minutes_ago):
    """A large online payment: the shipped rules send it to review."""
    decided = score(client, token, tx_id, minutes_ago, amount="6500.00", channel="online")
    assert decided["decision"] == "review"
    return decided


def queue_ids(html: str) -> list[str]:
    return re.findall(r'<a href="/fraud/review/([^"]+)">', html)


def test_a_reviewer_decides_the_oldest_case_and_it_leaves_the_queue(client, platform, token_for):
    token = token_for(Role.ADMIN)
    score(client, token, "p-early", 50)
    held(client, token, "p-newer", 10)
    held(client, token, "p-older", 30)
    log_in(client, platform, Role.ANALYST, "ana")

    queue = client.get("/fraud/review")
    assert queue.status_code == 200
    assert queue_ids(queue.text) == ["p-older", "p-newer"]
    assert "A large online payment is always checked by a person." in queue.text

    case = client.get("/fraud/review/p-older")
    assert case.status_code == 200
    assert "large_online_payment" in case.text and "6500.00 EUR" in case.text
    assert "p-early" in case.text  # the customer's earlier payment, in their history
    assert "p-newer" not in case.text  # later payments are not this case's history
    assert 'value="fraud"' in case.text and 'value="genuine"' in case.text

    forged = client.post("/fraud/review/p-older", data={"outcome": "fraud"})
    assert forged.status_code == 403
    decided = client.post(
        "/fraud/review/p-older",
        data={"outcome": "fraud", "csrf_token": csrf_from(case.text)},
        follow_redirects=False,
    )
    assert decided.status_code == 303 and decided.headers["location"] == "/fraud/review"
    after = client.get("/fraud/review")
    assert queue_ids(after.text) == ["p-newer"]
    assert "Payment p-older marked fraud." in after.text

    with platform.db.reading() as session:
        labels = session.execute(
            select(FraudLabel.label, FraudLabel.source, FraudLabel.actor)
        ).all()
        audited = session.scalars(
            select(AuditEntry.entity_id).where(AuditEntry.action == "fraud.label")
        ).all()
    assert labels == [("fraud", "review", "user:ana")]
    assert audited == ["p-older"]
    closed = client.get("/fraud/review/p-older").text
    assert 'value="fraud"' not in closed and "Marked <strong>fraud</strong> (review)" in closed


def test_a_viewer_sees_cases_but_cannot_decide_them(client, platform, token_for):
    held(client, token_for(Role.ADMIN), "p-1", 5)
    log_in(client, platform, Role.VIEWER, "vera")
    case = client.get("/fraud/review/p-1")
    assert case.status_code == 200 and 'value="fraud"' not in case.text
    refused = client.post(
        "/fraud/review/p-1", data={"outcome": "fraud", "csrf_token": csrf_from(case.text)}
    )
    assert refused.status_code == 403
    assert client.get("/fraud/review/nope").status_code == 404


def test_monitoring_shows_review_precision_fraud_caught_and_false_declines(
    client, platform, token_for
):
    admin = token_for(Role.ADMIN)
    held(client, admin, "r-1", 4)  # minutes apart: one day of figures
    held(client, admin, "r-2", 3)
    declined = score(client, admin, "d-1", 2, country="KP")
    assert declined["decision"] == "decline"
    assert score(client, admin, "a-1", 1, customer_id="card-8")["decision"] == "approve"
    headers = {"Authorization": f"Bearer {admin}"}
    for tx_id, label in (("r-1", "fraud"), ("r-2", "genuine"), ("d-1", "genuine")):
        url = f"/api/v1/transactions/{tx_id}/labels"
        assert client.post(url, json={"label": label}, headers=headers).status_code == 201
    log_in(client, platform, Role.VIEWER, "vera")

    page = client.get("/fraud")
    assert page.status_code == 200
    row = re.search(r"<tbody>\s*<tr>(.*?)</tr>", page.text, re.S)
    assert row, page.text
    cells = [
        re.sub(r"<[^>]+>", "", c).strip()
        for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row.group(1), re.S)
    ]
    # decided, reviewed, declined, review precision, fraud caught, false declines, step-ups
    assert cells[1:8] == ["4", "2", "1", "50%", "100%", "100%", "0"]
    assert re.fullmatch(r"\d+\.\d{3}( shift| watch)?", cells[9])  # the day's drift is measured
    assert 'role="img"' in page.text and "Precision of reviewed cases" in page.text


def test_score_drift_above_its_line_is_marked_on_the_page_and_in_the_cli(
    client, platform, token_for, cli
):
    admin = token_for(Role.ADMIN)
    for i in range(3):  # a handful of payments: nothing like the validation scores
        held(client, admin, f"r-{i}", 5 - i)
    log_in(client, platform, Role.VIEWER, "vera")
    page = client.get("/fraud").text
    cell = re.search(r'<td class="num over-threshold">(.*?)</td>', page, re.S)
    assert cell, "a PSI above 0.25 is highlighted"
    value = float(re.search(r"<strong>(\d+\.\d{3})</strong>", cell.group(1)).group(1))
    assert value > 0.25 and "shift" in cell.group(1)
    shown = cli("fraud", "monitoring")
    assert shown.exit_code == 0, shown.output
    assert f"{value:.3f} shift" in shown.stdout
    assert "score drift above 0.25 on 1 day" in shown.stderr
    figures = json.loads(cli("fraud", "monitoring", "--json").stdout)
    assert figures[-1]["drift"] == "shift" and round(figures[-1]["psi"], 3) == value
