"""Breach notices: drafted in plain language, approved before sending, delivered once per
customer through the outbox to a real SMTP server; erased customers unreachable, no email → post."""

from __future__ import annotations

import dataclasses
import json

from trustdesk.customers.public import erase
from trustdesk.outbox import public as outbox
from trustdesk.outbox.postal import export_postal

CUSTOMERS = (
    "external_id,name,email,address,jurisdiction\n"
    "c1,Anna Berg,anna@example.org,1 Main St,DE\n"
    "c2,Bob Jones,bob@example.org,2 Main St,US-FL\n"
    "c3,Cy Young,,3 Main St,US-CA\n"
    "c4,Dee Gone,dee@example.org,4 Main St,US-TX\n"
)


def to_server(platform, server):
    settings = platform.settings.model_copy(
        update={"smtp_port": server.port, "smtp_from": "Acme Trust <trust@acme.test>"}
    )
    return dataclasses.replace(platform, settings=settings)


def prepared(cli, platform, tmp_path):
    (tmp_path / "c.csv").write_text(CUSTOMERS)
    assert cli("customers", "import", str(tmp_path / "c.csv")).exit_code == 0
    opened = cli(
        "incidents", "open", "--title", "Payments system breach", "--aware-at",
        "2026-03-02T09:00:00Z", "--category", "name", "--category", "financial_account", "--json",
    )  # fmt: skip
    iid = json.loads(opened.stdout)["id"]
    (tmp_path / "a.csv").write_text(
        "external_id,data_categories\nc1,name;financial_account\nc2,name;financial_account\n"
        "c3,name;financial_account\nc4,name;financial_account\n"
    )
    assert cli("incidents", "affected", "import", str(iid), str(tmp_path / "a.csv")).exit_code == 0
    with platform.db.transaction() as session:
        erase(session, platform.vault, "c4", actor="test")
    return iid


def test_a_notice_is_approved_before_it_goes_and_each_customer_gets_exactly_one(
    cli, platform, tmp_path, smtp_server
):
    iid = prepared(cli, platform, tmp_path)
    drafted = json.loads(
        cli("incidents", "notices", "draft", str(iid), "--offer", "Free credit monitoring.",
            "--json").stdout
    )  # fmt: skip
    body = drafted["body"]
    for heading in ("What happened", "What data was involved", "What we are doing",
                    "What you can do", "What we offer you", "Contact us"):  # fmt: skip
        assert f"## {heading}" in body
    assert "Check your bank and card statements" in body
    assert drafted["readability"] >= 50  # plain English
    refused = cli("incidents", "notify", str(iid), "--audience", "individuals", "--json")
    assert refused.exit_code == 4 and "no approved individuals notice" in refused.stderr
    dry = json.loads(cli("incidents", "notify", str(iid), "--dry-run", "--json").stdout)
    assert dry["approved"] is False
    assert (dry["customers"], dry["unreachable"], dry["postal"]) == (4, 1, 1)
    assert cli("incidents", "notices", "approve", str(iid), str(drafted["id"])).exit_code == 0
    queued = json.loads(cli("incidents", "notify", str(iid), "--json").stdout)
    assert queued["notice_version"] == 1
    assert (queued["queued"], queued["unreachable"]) == (3, 1)
    report = outbox.deliver_due(to_server(platform, smtp_server), until_empty=True)
    assert report.sent == 2
    letters = export_postal(
        platform, kind="incident.notice", out=tmp_path / "letters.csv", actor="test"
    )
    assert sum(letters.values()) >= 1 and "3 Main St" in (tmp_path / "letters.csv").read_text()
    again = json.loads(cli("incidents", "notify", str(iid), "--json").stdout)
    assert (again["queued"], again["sent"], again["unreachable"]) == (0, 3, 1)
    outbox.deliver_due(to_server(platform, smtp_server), until_empty=True)
    assert smtp_server.counts() == {"anna@example.org": 1, "bob@example.org": 1}
    mail = smtp_server.messages[0].parsed()
    assert "Payments system breach" in mail.get_content()


def test_the_regulator_report_is_prefilled_with_article_33_content(cli, platform, tmp_path):
    iid = prepared(cli, platform, tmp_path)
    report = json.loads(
        cli("incidents", "notices", "draft", str(iid), "--audience", "regulator", "--json").stdout
    )
    for part in ("(a) Nature of the breach", "Approximate number of data subjects concerned: 4",
                 "(b) Contact point", "(c) Likely consequences", "fraudulent payments",
                 "(d) Measures taken or proposed"):  # fmt: skip
        assert part in report["body"]
    second = json.loads(
        cli("incidents", "notices", "draft", str(iid), "--audience", "regulator", "--json").stdout
    )
    assert second["version"] == 2
    listed = json.loads(cli("incidents", "notices", "list", str(iid), "--json").stdout)
    assert [n["version"] for n in listed] == [1, 2]


def test_each_customer_gets_one_remediation_code_in_the_notice_and_uptake_is_measured(
    cli, platform, tmp_path, smtp_server, api
):
    iid = prepared(cli, platform, tmp_path)
    (tmp_path / "codes.txt").write_text("code\nCM-0001\nCM-0002\nCM-0003\nCM-0004\nCM-0005\n")
    assert (
        cli("incidents", "offers", "import", str(iid), str(tmp_path / "codes.txt")).exit_code == 0
    )
    again = cli("incidents", "offers", "import", str(iid), str(tmp_path / "codes.txt"))
    assert "0 new codes" in again.stdout
    drafted = json.loads(
        cli("incidents", "notices", "draft", str(iid), "--offer", "12 months of free credit "
            "monitoring.", "--json").stdout
    )  # fmt: skip
    cli("incidents", "notices", "approve", str(iid), str(drafted["id"]))
    assert cli("incidents", "notify", str(iid)).exit_code == 0
    outbox.deliver_due(to_server(platform, smtp_server), until_empty=True)
    texts = [m.parsed().get_content() for m in smtp_server.messages]
    codes = sorted(c for t in texts for c in ("CM-0001", "CM-0002", "CM-0003", "CM-0004") if c in t)
    assert len(codes) == len(set(codes)) == 2  # two emails, one distinct code each
    redeemed = api.post(f"/api/v1/incidents/{iid}/offers/redemptions", json={"code": codes[0]})
    assert redeemed.status_code == 204
    unknown = api.post(f"/api/v1/incidents/{iid}/offers/redemptions", json={"code": "CM-0005"})
    assert unknown.status_code == 404  # in the pool but never given
    uptake = api.get(f"/api/v1/incidents/{iid}/offers").json()
    assert uptake == {"pool": 5, "given": 4, "redeemed": 1, "rate": 0.25}


def test_the_incident_page_shows_clocks_counts_notices_and_delivery(
    cli, platform, tmp_path, client
):
    import re

    from trustdesk.access.roles import Role
    from trustdesk.auth import service as auth_service

    iid = prepared(cli, platform, tmp_path)
    cli("incidents", "notices", "draft", str(iid))
    with platform.db.transaction() as session:
        auth_service.create_user(
            session, platform.vault, username="ines", password="correct-horse-battery",
            role=Role.INCIDENT_MANAGER, actor="test",
        )  # fmt: skip
    login = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    client.post(
        "/login",
        data={"username": "ines", "password": "correct-horse-battery", "csrf_token": token},
    )
    listed = client.get("/incidents")
    assert listed.status_code == 200 and "Payments system breach" in listed.text
    page = client.get(f"/incidents/{iid}")
    assert page.status_code == 200
    for text in ("Legal clocks", "EU GDPR", "overdue", "US-FL", "Financial account",
                 "Readability", "unreachable (erased)"):  # fmt: skip
        assert text in page.text
    assert client.get("/incidents/999").status_code == 404
