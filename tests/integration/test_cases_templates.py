"""Reply templates and macros through the real API and CLI: placeholders filled from the case and
its customer, the reply sent through the outbox, a macro moving the case, bad templates refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from trustdesk.access.roles import Role
from trustdesk.outbox.public import message_statuses

CUSTOMERS = "external_id,name,email,phone,segment,jurisdiction\nc1,Ada Lovelace,ada@example.com,,retail,GB\n"


@pytest.fixture
def case_id(cli, api, tmp_path: Path) -> int:
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS, encoding="utf-8")
    assert cli("customers", "import", str(path)).exit_code == 0
    opened = api.post(
        "/api/v1/cases",
        json={"external_id": "T-1", "subject": "Card stolen", "body": "stolen", "customer": "c1"},
    )
    assert opened.status_code == 201
    number = int(opened.json()["id"])
    assert (
        api.post(f"/api/v1/cases/{number}/assignment", json={"assignee": "sam"}).status_code == 200
    )
    return number


def test_templates_are_listed_and_filled_from_the_case_and_customer(api, case_id):
    listed = api.get("/api/v1/cases/templates")
    assert listed.status_code == 200
    names = {t["name"]: t for t in listed.json()}
    assert {"acknowledge", "need_details", "resolved"} <= set(names)
    assert names["need_details"]["status"] == "waiting_on_customer"
    assert "customer_name" in names["acknowledge"]["placeholders"]

    text = api.get(f"/api/v1/cases/{case_id}/templates/acknowledge").json()["text"]
    assert text.startswith("Dear Ada Lovelace,")
    assert f"case #{case_id}" in text and '"Card stolen"' in text and "sam is" in text
    assert "{" not in text


def test_a_viewer_cannot_read_a_filled_template(client, token_for, case_id):
    viewer = {"Authorization": f"Bearer {token_for(Role.VIEWER)}"}
    assert client.get("/api/v1/cases/templates", headers=viewer).status_code == 200
    shown = client.get(f"/api/v1/cases/{case_id}/templates/acknowledge", headers=viewer)
    assert shown.status_code == 403


def test_a_macro_replies_through_the_outbox_and_moves_the_case(api, platform, case_id):
    done = api.post(f"/api/v1/cases/{case_id}/macros/need_details")
    assert done.status_code == 200, done.text
    case = done.json()
    assert case["status"] == "waiting_on_customer" and case["paused"] is True
    assert case["first_response_at"] is not None
    kinds = [e["kind"] for e in case["events"]]
    assert kinds[-3:] == ["reply", "macro", "status"]
    reply = next(e for e in case["events"] if e["kind"] == "reply")
    with platform.db.reading() as session:
        statuses = message_statuses(session, [f"case:{case_id}:reply:{reply['id']}"])
    assert list(statuses.values()) == ["pending"]
    assert api.post(f"/api/v1/cases/{case_id}/macros/nope").status_code == 404


def test_a_template_with_an_unknown_placeholder_is_refused(cli, tmp_path):
    shown = cli("cases", "config", "show")
    config = yaml.safe_load(shown.stdout)
    config["templates"]["leak"] = {"title": "Leak", "text": "Your password is {password}"}
    path = tmp_path / "cases.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    loaded = cli("cases", "config", "load", str(path))
    assert loaded.exit_code == 2
    assert "unknown placeholder {password}" in loaded.output
