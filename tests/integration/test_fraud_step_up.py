"""Step-up outcomes reported back: the payment system says whether the customer passed, failed or
abandoned the second factor; failed and abandoned ones reach the analysts' review queue."""

from __future__ import annotations

import json
import re
import zipfile
from datetime import UTC, datetime, timedelta
from itertools import count

from sqlalchemy import select
from test_fraud_pages import log_in, queue_ids
from tests.fraud_data import daytime_ago

from trustdesk.access.roles import Role
from trustdesk.audit.chain import AuditEntry
from trustdesk.fraud.models import FraudStepUp
from trustdesk.fraud.review import cases
from trustdesk.fraud.review.monitoring import daily_figures

_cards = count(1)


def scored(api, tx_id: str, *, minutes_ago: int = 10, **fields: str) -> dict:
    """A payment scored through the API; 400.00 on a card never seen before is stepped up."""
    body = {
        "transaction_id": tx_id,
        "at": daytime_ago(minutes_ago).isoformat(),
        "customer_id": f"card-su-{next(_cards)}",
        "terminal_id": "term-su",
        "amount": "400.00",
        **fields,
    }
    response = api.post("/api/v1/transactions/score", json=body)
    assert response.status_code == 201, response.text
    return {**body, **response.json()}


def stepped_up(api, tx_id: str, **fields: str) -> dict:
    decided = scored(api, tx_id, **fields)
    assert decided["decision"] == "step_up", decided
    return decided


def report(api, tx_id: str, outcome: str, **extra: str):
    return api.post(f"/api/v1/transactions/{tx_id}/step-up", json={"outcome": outcome, **extra})


def queue(api) -> list[str]:
    return [c["transaction_id"] for c in api.get("/api/v1/fraud/review-queue").json()]


def test_a_failed_step_up_is_stored_audited_and_sent_to_the_review_queue(api, platform):
    payment = stepped_up(api, "su-1")
    assert queue(api) == []
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)

    first = report(api, "su-1", "failed", at=at.isoformat())
    assert first.status_code == 201, first.text
    record = first.json()
    assert record["outcome"] == "failed" and record["transaction_id"] == "su-1"
    assert datetime.fromisoformat(record["at"]) == at
    assert record["reported_by"].startswith("token:")
    assert queue(api) == ["su-1"]
    case = api.get("/api/v1/transactions/su-1").json()
    assert case["step_up"]["outcome"] == "failed"

    with platform.db.reading() as session:
        stored = session.scalars(select(FraudStepUp)).all()
        audited = session.execute(
            select(AuditEntry.entity_id, AuditEntry.diff).where(
                AuditEntry.action == "fraud.step_up"
            )
        ).all()
    assert [(s.outcome, s.at) for s in stored] == [("failed", at)]
    assert len(audited) == 1 and audited[0][0] == "su-1"
    assert json.loads(audited[0][1]) == {"outcome": "failed"}
    assert payment["customer_id"] not in audited[0][1]  # the payment's id only

    labelled = api.post("/api/v1/transactions/su-1/labels", json={"label": "fraud"})
    assert labelled.status_code == 201
    assert queue(api) == []  # an analyst (or a chargeback) settled it


def test_a_resent_outcome_is_idempotent_and_a_different_one_is_a_conflict(api, platform):
    stepped_up(api, "su-2")
    first = report(api, "su-2", "abandoned")
    assert first.status_code == 201
    again = report(api, "su-2", "abandoned")
    assert again.status_code == 200
    assert again.json() == first.json()
    other = report(api, "su-2", "passed")
    assert other.status_code == 409
    assert "already reported abandoned" in other.json()["detail"]
    assert queue(api) == ["su-2"]
    with platform.db.reading() as session:
        assert session.scalars(select(FraudStepUp.outcome)).all() == ["abandoned"]
        assert (
            len(
                session.scalars(
                    select(AuditEntry.id).where(AuditEntry.action == "fraud.step_up")
                ).all()
            )
            == 1
        )


def test_a_passed_step_up_stays_out_of_the_queue(api):
    stepped_up(api, "su-3")
    assert report(api, "su-3", "passed").status_code == 201
    assert queue(api) == []
    assert api.get("/api/v1/transactions/su-3").json()["step_up"]["outcome"] == "passed"


def test_reports_that_cannot_be_true_are_refused_with_a_reason(api):
    assert report(api, "nope", "failed").status_code == 404

    approved = scored(api, "su-small", amount="20.00")
    assert approved["decision"] == "approve"
    not_asked = report(api, "su-small", "failed")
    assert not_asked.status_code == 409
    assert "decided approve, not step_up" in not_asked.json()["detail"]

    stored = api.post(
        "/api/v1/transactions",
        json={
            "transaction_id": "su-unscored",
            "at": daytime_ago(3).isoformat(),
            "customer_id": "card-x",
            "terminal_id": "term-x",
            "amount": "400.00",
        },
    )
    assert stored.status_code == 201
    unscored = report(api, "su-unscored", "failed")
    assert unscored.status_code == 409 and "without a decision" in unscored.json()["detail"]

    payment = stepped_up(api, "su-4", minutes_ago=30)
    before = datetime.fromisoformat(payment["at"]) - timedelta(seconds=1)
    early = report(api, "su-4", "failed", at=before.isoformat())
    assert early.status_code == 422
    assert "before its payment" in early.json()["detail"]
    late = report(api, "su-4", "failed", at=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    assert late.status_code == 422 and "in the future" in late.json()["detail"]
    unknown = report(api, "su-4", "maybe")
    assert unknown.status_code == 422
    assert report(api, "su-4", "failed").status_code == 201  # nothing was stored before


def test_only_roles_that_score_payments_report_step_ups(client, token_for, api):
    stepped_up(api, "su-5")
    viewer = {"Authorization": f"Bearer {token_for(Role.VIEWER)}"}
    url = "/api/v1/transactions/su-5/step-up"
    assert client.post(url, json={"outcome": "failed"}, headers=viewer).status_code == 403
    agent = {"Authorization": f"Bearer {token_for(Role.AGENT)}"}
    assert client.post(url, json={"outcome": "failed"}, headers=agent).status_code == 201


def test_the_cli_reports_a_step_up_once_and_refuses_another_outcome(api, cli):
    stepped_up(api, "su-cli")
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    first = cli("fraud", "step-up", "su-cli", "--outcome", "failed", "--at", at.isoformat())
    assert first.exit_code == 0, first.output
    assert "su-cli: failed" in first.output and "review queue" in first.output
    again = cli("fraud", "step-up", "su-cli", "--outcome", "failed", "--json")
    assert again.exit_code == 0, again.output
    record = json.loads(again.output)
    assert record["outcome"] == "failed" and datetime.fromisoformat(record["at"]) == at
    assert record["reported_by"].startswith("cli:")
    other = cli("fraud", "step-up", "su-cli", "--outcome", "passed")
    assert other.exit_code == 4 and "already reported failed" in other.output
    assert cli("fraud", "step-up", "nope", "--outcome", "failed").exit_code == 3
    bad_time = cli("fraud", "step-up", "su-cli", "--outcome", "failed", "--at", "yesterday")
    assert bad_time.exit_code == 2
    assert queue(api) == ["su-cli"]


def test_monitoring_counts_step_ups_and_the_share_passed(api):
    for tx_id, outcome in (("m-1", "passed"), ("m-2", "failed"), ("m-3", None)):
        stepped_up(api, tx_id, minutes_ago=5)
        if outcome:
            assert report(api, tx_id, outcome).status_code == 201
    platform = api.app.state.platform
    with platform.db.reading() as session:
        (day,) = daily_figures(cases.decision_tallies(session, [0.0, 0.5, 1.0]), None)
    assert day.stepped_up == 3
    assert day.step_up_pass_rate == 0.5  # one of the two reported passed


def _cells(html: str) -> list[str]:
    row = re.search(r"<tbody>\s*<tr>(.*?)</tr>", html, re.S)
    assert row, html
    return [
        re.sub(r"<[^>]+>", "", c).strip()
        for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row.group(1), re.S)
    ]


def test_the_pages_mark_failed_step_ups_in_the_queue_and_show_outcomes_on_the_case(
    api, client, platform
):
    stepped_up(api, "pg-failed", minutes_ago=20)
    stepped_up(api, "pg-passed", minutes_ago=15)
    stepped_up(api, "pg-silent", minutes_ago=12)
    assert report(api, "pg-failed", "failed").status_code == 201
    assert report(api, "pg-passed", "passed").status_code == 201
    del client.headers["Authorization"]
    log_in(client, platform, Role.ANALYST, "ana")

    page = client.get("/fraud/review")
    assert queue_ids(page.text) == ["pg-failed"]
    assert "step-up failed" in page.text

    failed = client.get("/fraud/review/pg-failed").text
    assert re.search(r'id="step-up-outcome">.*step-up failed', failed)
    assert 'value="fraud"' in failed  # an analyst decides it
    passed = client.get("/fraud/review/pg-passed").text
    assert re.search(r'id="step-up-outcome">.*step-up passed', passed)
    silent = client.get("/fraud/review/pg-silent").text
    assert re.search(r'id="step-up-outcome">.*not reported yet', silent)

    monitoring = client.get("/fraud")
    assert "1 payment waiting for review" in monitoring.text
    cells = _cells(monitoring.text)
    # decided, reviewed, declined, precision, caught, false declines, stepped up, passed
    assert cells[1] == "3" and cells[7:9] == ["3", "50%"]
    assert "Step-up pass rate" in monitoring.text


def test_a_customers_access_export_holds_the_step_up_outcome(api, cli, tmp_path):
    (tmp_path / "customers.csv").write_text("external_id,segment\nada,retail\n")
    assert cli("customers", "import", str(tmp_path / "customers.csv")).exit_code == 0
    stepped_up(api, "su-ada", customer_id="ada")
    assert report(api, "su-ada", "abandoned").status_code == 201
    target = tmp_path / "ada.zip"
    assert cli("privacy", "export", "--customer", "ada", "--output", str(target)).exit_code == 0
    with zipfile.ZipFile(target) as archive:
        (payment,) = json.loads(archive.read("payments.json"))
    assert payment["transaction_id"] == "su-ada" and payment["decision"] == "step_up"
    assert payment["step_up"]["outcome"] == "abandoned"
