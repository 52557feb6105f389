"""Closing the loop with trust: after a resolution the customer is asked "did we fix it?" by a
signed one-click link (only where consent allows), the answer and the handling (on time, SLA
breach) become trust observations, and the dashboard names advocates and detractors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from trustdesk.cases.advocates import advocates_and_detractors, open_recovery_case
from trustdesk.cases.csat import survey_signer
from trustdesk.cases.models import CaseSurvey
from trustdesk.cases.public import evaluate_sla
from trustdesk.outbox.public import message_statuses

CUSTOMERS = (
    "external_id,name,email,phone,segment,jurisdiction\n"
    "c1,Ada Lovelace,ada@example.com,,retail,GB\n"
    "c2,Alan Turing,alan@example.com,,retail,GB\n"
)


@pytest.fixture
def resolved(cli, api, tmp_path: Path) -> dict[str, int]:
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS, encoding="utf-8")
    assert cli("customers", "import", str(path)).exit_code == 0
    granted = cli(
        "consent", "set", "--customer", "c1", "--purpose", "research", "--channel", "email",
        "--state", "granted",
    )  # fmt: skip
    assert granted.exit_code == 0, granted.output
    ids: dict[str, int] = {}
    for customer, at in (("c1", None), ("c2", datetime(2026, 1, 5, 9, tzinfo=UTC).isoformat())):
        body = {
            "external_id": f"S-{customer}",
            "subject": "Fee",
            "body": "a fee",
            "customer": customer,
        }
        opened = api.post("/api/v1/cases", json={**body, **({"at": at} if at else {})})
        assert opened.status_code == 201, opened.text
        ids[customer] = opened.json()["id"]
    return ids


def _resolve(api, case_id: int) -> None:
    done = api.post(f"/api/v1/cases/{case_id}/status", json={"status": "resolved"})
    assert done.status_code == 200, done.text


def test_a_survey_goes_only_where_consent_allows_and_only_once(api, cli, platform, resolved):
    for case_id in resolved.values():
        _resolve(api, case_id)
    first = cli("cases", "csat-send", "--json")
    assert (
        first.exit_code == 0 and '"sent": 1' in first.stdout and '"not_allowed": 1' in first.stdout
    )
    again = cli("cases", "csat-send", "--json")
    assert '"sent": 0' in again.stdout and '"not_allowed": 0' in again.stdout
    keys = [f"case:{resolved[c]}:csat:0" for c in ("c1", "c2")]
    with platform.db.reading() as session:
        statuses = message_statuses(session, keys)
    assert statuses == {keys[0]: "pending"}  # c2 gave no consent to surveys: no email

    # A reopened and resolved-again case is asked again (a new round).
    assert (
        api.post(f"/api/v1/cases/{resolved['c1']}/status", json={"status": "reopened"}).status_code
        == 200
    )
    _resolve(api, resolved["c1"])
    assert '"sent": 1' in cli("cases", "csat-send", "--json").stdout


def test_one_click_records_the_first_answer(client, api, cli, platform, resolved):
    _resolve(api, resolved["c1"])
    assert cli("cases", "csat-send").exit_code == 0
    with platform.db.reading() as session:
        survey = session.scalars(select(CaseSurvey).where(CaseSurvey.status == "sent")).one()
    token = survey_signer(platform.vault).token(survey.id)
    answered = client.get(f"/complaint/survey/{token}?score=5")
    assert answered.status_code == 200 and "Thank you for your answer" in answered.text
    later = client.get(f"/complaint/survey/{token}?score=1")
    assert later.status_code == 200 and "already have your answer" in later.text
    assert client.get(f"/complaint/survey/{token}?score=9").status_code == 422
    assert client.get(f"/complaint/survey/{token[:-3]}abc?score=1").status_code == 403
    case = api.get(f"/api/v1/cases/{resolved['c1']}").json()
    csat = [e for e in case["events"] if e["kind"] == "csat"]
    assert [e["detail"]["score"] for e in csat] == [5]


def test_handling_and_answers_move_trust_and_name_advocates_and_detractors(
    api, cli, client, platform, resolved
):
    evaluate_sla(platform)  # c2's complaint from January is long past its SLA: escalated
    for case_id in resolved.values():
        _resolve(api, case_id)
    assert cli("cases", "csat-send").exit_code == 0
    with platform.db.reading() as session:
        survey = session.scalars(select(CaseSurvey).where(CaseSurvey.status == "sent")).one()
    client.get(f"/complaint/survey/{survey_signer(platform.vault).token(survey.id)}?score=5")
    assert cli("trust", "recompute").exit_code == 0

    explained = {c: api.get(f"/api/v1/trust/customers/{c}").json() for c in ("c1", "c2")}
    for c in ("c1", "c2"):
        assert any(s["signal"] == "cases" for s in explained[c]["signals"]), explained[c]
    index = {c: explained[c]["score"]["trust_index"] for c in ("c1", "c2")}
    assert index["c1"] > index["c2"]
    assert any("SLA breached" in (e["text"] or "") for e in explained["c2"]["pulled_down"])

    with platform.db.reading() as session:
        standings = advocates_and_detractors(session, platform.settings)
    retail = standings["retail"]
    assert [a.customer for a in retail.advocates] == ["c1"]
    assert [d.customer for d in retail.detractors] == ["c2"]
    assert retail.advocates[0].may_invite and not retail.detractors[0].may_invite
    assert "5/5" in retail.advocates[0].why and "past its SLA" in retail.detractors[0].why

    with platform.db.transaction() as session:
        first = open_recovery_case(session, platform.vault, "c2", actor="test")
        again = open_recovery_case(session, platform.vault, "c2", actor="test")
    assert first.created and not again.created and first.id == again.id
