"""Incidents through the real CLI and API: the register, the forensic list, obligations, clocks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from trustdesk.access.roles import Role
from trustdesk.audit.chain import AuditEntry
from trustdesk.incidents.models import AffectedRecord, Incident
from trustdesk.incidents.obligations.rules import DEFAULT_RULES_DIR
from trustdesk.incidents.public import evaluate_clocks

CUSTOMERS = (
    "external_id,name,email,jurisdiction\n"
    "c1,Anna Berg,anna@example.com,DE\n"
    "c2,Bob Jones,bob@example.com,US-FL\n"
    "c3,Cy Young,cy@example.com,US-CA\n"
    "c4,Dee Null,dee@example.com,\n"
)


def setup(cli, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS)
    assert cli("customers", "import", str(path)).exit_code == 0


def open_incident(cli, *extra):
    result = cli(
        "incidents", "open", "--title", "Payments breach", "--aware-at", "2026-03-02T09:00:00Z",
        *extra, "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["id"]


def count(platform, model):
    with platform.db.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_forensic_list_import_is_idempotent_and_obligations_follow_the_contract(
    cli, platform, tmp_path
):
    setup(cli, tmp_path)
    incident = open_incident(cli, "--determined-at", "2026-03-03T10:00:00Z")
    forensic = tmp_path / "affected.csv"
    forensic.write_text(
        "external_id,data_categories\n"
        "c1,name;financial_account\n"
        "c2,name;government_id\n"
        "c3,name;email\n"
    )
    first = cli("incidents", "affected", "import", str(incident), str(forensic), "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["added"] == 3
    again = json.loads(
        cli("incidents", "affected", "import", str(incident), str(forensic), "--json").stdout
    )
    assert again["added"] == 0 and again["unchanged"] == 3
    assert count(platform, AffectedRecord) == 3
    shown = cli("incidents", "obligations", str(incident), "--json")
    rows = {(o["jurisdiction"], o["audience"]): o for o in json.loads(shown.stdout)}
    for o in rows.values():
        assert {"jurisdiction", "audience", "required", "due_at", "affected", "basis"} <= set(o)
    assert rows[("DE", "regulator")]["required"]
    assert rows[("DE", "regulator")]["due_at"] == "2026-03-05T09:00:00Z"  # 72 h from awareness
    assert rows[("US-FL", "individuals")]["due_at"] == "2026-04-02T10:00:00Z"  # 30 days
    assert not rows[("US-FL", "regulator")]["required"]  # 1 resident, AG from 500
    assert not rows[("US-CA", "individuals")]["required"]  # name + email is not notifiable


def test_bad_rows_are_named_and_good_rows_kept_by_external_id_or_email(cli, platform, tmp_path):
    setup(cli, tmp_path)
    incident = open_incident(cli)
    forensic = tmp_path / "affected.csv"
    forensic.write_text(
        "external_id,email,data_categories\n"
        "c1,,name;ssn\n"
        ",BOB@example.com,name;government_id\n"
        "nobody,,name\n"
        "c3,,health\n"
    )
    result = cli("incidents", "affected", "import", str(incident), str(forensic))
    assert result.exit_code == 2
    assert "row 1: unknown data category 'ssn'" in result.stderr
    assert "row 3: no customer with external_id 'nobody'" in result.stderr
    rejects = (tmp_path / "affected.csv.rejects.csv").read_text()
    assert "ssn" in rejects and "bob@" not in rejects.lower()
    counts = json.loads(cli("incidents", "affected", "counts", str(incident), "--json").stdout)
    assert counts == {
        "total": 2,
        "by_jurisdiction": {"US-CA": 1, "US-FL": 1},
        "by_category": {"government_id": 1, "health": 1, "name": 1},
    }


def test_bad_input_is_a_clear_error_and_nothing_is_stored(cli, platform, tmp_path):
    bad_time = cli("incidents", "open", "--title", "X", "--aware-at", "yesterday")
    assert bad_time.exit_code == 2 and "--aware-at" in bad_time.stderr
    assert count(platform, Incident) == 0
    missing = cli("incidents", "obligations", "99", "--json")
    assert missing.exit_code == 3 and "no incident 99" in missing.stderr
    forensic = tmp_path / "a.csv"
    forensic.write_text("external_id,data_categories\nc1,name\n")
    assert cli("incidents", "affected", "import", "99", str(forensic)).exit_code == 3
    unknown_system = cli(
        "incidents", "open", "--title", "X", "--aware-at", "2026-03-02T09:00:00Z",
        "--system", "mainframe",
    )  # fmt: skip
    assert unknown_system.exit_code == 2 and "mainframe" in unknown_system.stderr
    assert count(platform, Incident) == 0


def test_lifecycle_moves_only_where_allowed_and_every_change_is_audited(cli, platform):
    incident = open_incident(cli)
    skip = cli("incidents", "update", str(incident), "--status", "recovered")
    assert skip.exit_code == 4 and "from detected it can go to analysing, closed" in skip.stderr
    for status in ("analysing", "contained", "eradicated", "recovered", "closed"):
        moved = cli("incidents", "update", str(incident), "--status", status, "--json")
        assert moved.exit_code == 0, moved.output
    shown = json.loads(cli("incidents", "show", str(incident), "--json").stdout)
    assert shown["status"] == "closed" and shown["contained_at"] and shown["closed_at"]
    assert [e["text"] for e in shown["timeline"]][-1] == "status recovered → closed"
    assert (
        cli("incidents", "decide", str(incident), "Notify all", "--reason", "SSNs").exit_code == 0
    )
    with platform.db.reading() as session:
        actions = list(
            session.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "incident"))
        )
    assert actions.count("incident.updated") == 5 and "incident.decision_recorded" in actions


def test_the_api_works_incidents_with_permissions(client, token_for, cli, tmp_path):
    setup(cli, tmp_path)
    client.headers["Authorization"] = f"Bearer {token_for(Role.AGENT)}"
    assert client.get("/api/v1/incidents").status_code == 403
    client.headers["Authorization"] = f"Bearer {token_for(Role.INCIDENT_MANAGER)}"
    created = client.post(
        "/api/v1/incidents",
        json={
            "title": "Customer records copied",
            "aware_at": datetime.now(UTC).isoformat(),  # the customers existed by then
            "systems": ["customer_records"],
            "categories": ["name", "email", "date_of_birth"],
        },
    )
    assert created.status_code == 201, created.text
    iid = created.json()["id"]
    derived = client.post(f"/api/v1/incidents/{iid}/affected/derive")
    assert derived.status_code == 200 and derived.json()["added"] == 4
    assert client.get(f"/api/v1/incidents/{iid}/affected").json()["total"] == 4
    found = {
        (o["jurisdiction"], o["audience"]): o
        for o in client.get(f"/api/v1/incidents/{iid}/obligations").json()
    }
    assert found[("DE", "regulator")]["required"]
    assert not found[("DE", "individuals")]["required"]  # no sensitive data: not high risk
    assert not found[("unknown", "individuals")]["required"]
    bad = client.patch(f"/api/v1/incidents/{iid}", json={"status": "closed", "risk": "extreme"})
    assert bad.status_code == 422
    # null for a field the register needs is a 422 naming it, never a 500 at commit
    for field in ("key_compromised", "data_encrypted", "severity", "description"):
        refused = client.patch(f"/api/v1/incidents/{iid}", json={field: None})
        assert refused.status_code == 422, (field, refused.text)
        assert field in refused.json()["detail"]
    assert client.patch(f"/api/v1/incidents/{iid}", json={"risk": None}).status_code == 200
    assert client.get("/api/v1/incidents/999").status_code == 404
    assert (
        client.patch(f"/api/v1/incidents/{iid}", json={"status": "eradicated"}).status_code == 409
    )
    unknown = client.patch(f"/api/v1/incidents/{iid}", json={"status": "ongoing"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"].endswith("status")
    # A fulfilment is stored as the register's columns allow: too long is a 422, never a 500
    fulfil = f"/api/v1/incidents/{iid}/fulfilments"
    long = client.post(fulfil, json={"jurisdiction": "X" * 17, "audience": "regulator"})
    assert long.status_code == 422 and long.json()["errors"][0]["field"] == "jurisdiction"
    odd = client.post(fulfil, json={"jurisdiction": "DE", "audience": "press"})
    assert odd.status_code == 422 and odd.json()["errors"][0]["field"] == "audience"
    assert (
        client.post(fulfil, json={"jurisdiction": "DE", "audience": "regulator"}).status_code == 204
    )


def test_clocks_raise_alerts_once_and_a_rules_change_says_what_changed(cli, platform, tmp_path):
    setup(cli, tmp_path)
    incident = open_incident(cli)
    forensic = tmp_path / "affected.csv"
    forensic.write_text("external_id,data_categories\nc1,name;government_id\n")
    cli("incidents", "affected", "import", str(incident), str(forensic))
    late = datetime(2026, 3, 6, tzinfo=UTC)  # past the 72 hours
    assert evaluate_clocks(platform, late).alerts == 1
    assert evaluate_clocks(platform, late + timedelta(hours=1)).alerts == 0
    alerts = json.loads(cli("incidents", "alerts", "--json").stdout)
    assert alerts[0]["level"] == "overdue" and alerts[0]["jurisdiction"] == "DE"
    changed = tmp_path / "rules"
    changed.mkdir()
    for path in DEFAULT_RULES_DIR.glob("*.yaml"):
        text = path.read_text().replace("deadline_hours: 72", "deadline_hours: 48")
        (changed / path.name).write_text(
            text.replace('version: "2026.12.03"', 'version: "2027.01.01"')
        )
    report = json.loads(
        cli("incidents", "rules", "apply", "--rules", str(changed), "--json").stdout
    )
    assert report[0]["incident_id"] == incident
    assert report[0]["version"].startswith("2027.01.01")
    assert {"jurisdiction": "DE", "audience": "regulator", "change": "due_at",
            "before": "2026-03-05T09:00:00Z", "after": "2026-03-04T09:00:00Z"} in report[0]["changes"]  # fmt: skip


def test_exposure_lowers_the_data_care_of_affected_customers_only(cli, platform, tmp_path):
    from trustdesk.customers.public import customer_ids
    from trustdesk.trust.public import customer_trust

    setup(cli, tmp_path)
    incident = open_incident(cli)
    forensic = tmp_path / "affected.csv"
    forensic.write_text("external_id,data_categories\nc1,name;government_id\n")
    cli("incidents", "affected", "import", str(incident), str(forensic))
    assert cli("trust", "recompute").exit_code == 0
    with platform.db.reading() as session:
        ids = customer_ids(session, ["c1", "c2"])
        exposed = customer_trust(session, platform.settings, ids["c1"])
        spared = customer_trust(session, platform.settings, ids["c2"])
    assert exposed is not None and exposed.dimensions["data_care"] < 50
    assert spared is None  # nothing observed of a customer the incident did not touch
