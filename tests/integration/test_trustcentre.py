"""The public trust centre and the risk register through the real CLI and API: the issue's
contracts (page, feed, statements, promises, risks), live proof from real records, safe Markdown,
permissions and audit."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import select

from trustdesk.access.roles import Role
from trustdesk.audit.chain import AuditEntry
from trustdesk.db import utcnow
from trustdesk.privacy.models import PrivacyRequest
from trustdesk.trustcentre.models import Risk
from trustdesk.trustcentre.view import CACHE

ATOM = "{http://www.w3.org/2005/Atom}"
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _fresh_cache():
    CACHE.clear()
    yield
    CACHE.clear()


def staff(cli, name="priya", role="privacy_officer"):
    made = cli("users", "create", name, "--role", role, "--password", PASSWORD)
    assert made.exit_code == 0, made.output
    return name


def publish(cli, *extra):
    result = cli("trustcentre", "statement", "publish", *extra, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def actions(platform, entity_type):
    with platform.db.reading() as session:
        return list(
            session.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == entity_type))
        )


def test_an_anonymous_visitor_sees_the_notice_recipients_and_a_published_statement(cli, client):
    page = client.get("/trust-centre")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'href="/privacy-notice"' in page.text
    # The shipped data map's recipients, read from the data map, not written on the page.
    assert "Our cloud hosting provider" in page.text
    assert "Card schemes and your bank, when a payment is disputed" in page.text
    assert "<script" not in page.text

    published = publish(cli, "--title", "Payment delays on 2 March", "--body", "All sorted now.")
    assert set(published) == {"id"} and isinstance(published["id"], int)
    again = client.get("/trust-centre")  # the cache sees the new statement at once
    assert "Payment delays on 2 March" in again.text and "All sorted now." in again.text
    assert f'id="statement-{published["id"]}"' in again.text


def test_automated_decisions_publish_the_validation_figures_of_the_models_in_use(client):
    from trustdesk.feedback.analysis import default_model_dir

    meta = json.loads((default_model_dir("sentiment") / "meta.json").read_text(encoding="utf-8"))
    page = client.get("/trust-centre")
    assert page.status_code == 200
    section = page.text[page.text.index('id="automated-decisions"') :]
    # The shipped sentiment model's stored figure, not a sentence written on the page.
    assert f"sentiment: accuracy {meta['metrics']['accuracy']:.3f}" in section
    assert "topics: " in section
    # No intent model installed: routing says it runs on keyword rules.
    assert "keyword rules (no trained intent model installed)" in section


def test_the_feed_is_valid_atom_listing_statements(cli, client):
    first = publish(cli, "--title", "First statement", "--body", "One.")
    second = publish(cli, "--title", "Second statement", "--body", "Two.")
    answer = client.get("/trust-centre/feed.atom")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(answer.content)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{required}") is not None
    assert feed.find(f"{ATOM}author/{ATOM}name") is not None
    entries = feed.findall(f"{ATOM}entry")
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    assert titles[:2] == ["Second statement", "First statement"]  # newest first
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == len(ids)
    assert any(str(first["id"]) in i for i in ids) and any(str(second["id"]) in i for i in ids)
    for entry in entries:
        assert entry.findtext(f"{ATOM}updated")
        assert entry.find(f"{ATOM}link").get("href", "").startswith("http")


def test_a_statement_about_an_incident_must_name_a_real_one_and_bad_input_stores_nothing(cli, api):
    missing = cli(
        "trustcentre", "statement", "publish", "--title", "T", "--body", "B", "--incident", "99"
    )
    assert missing.exit_code == 3 and "no incident 99" in missing.stderr
    empty = cli("trustcentre", "statement", "publish", "--title", " ", "--body", "B")
    assert empty.exit_code == 2 and "title" in empty.stderr
    assert json.loads(cli("trustcentre", "statement", "list", "--json").stdout) == []
    opened = cli(
        "incidents", "open", "--title", "Mail breach", "--aware-at", "2026-03-02T09:00:00Z",
        "--json",
    )  # fmt: skip
    incident = json.loads(opened.stdout)["id"]
    made = api.post(
        "/api/v1/trustcentre/statements",
        json={"title": "About the mail breach", "body": "What happened.", "incident_id": incident},
    )
    assert made.status_code == 201, made.text
    assert made.json()["incident_id"] == incident
    assert (
        api.post(
            "/api/v1/trustcentre/statements", json={"title": "x", "body": "y", "incident_id": 99}
        ).status_code
        == 404
    )
    assert f"about incident {incident}" in api.get("/trust-centre").text


def test_promises_have_the_contract_shape_and_unpublished_figures_say_so(cli):
    result = cli("trustcentre", "promises", "--json")
    assert result.exit_code == 0, result.output
    promises = json.loads(result.stdout)
    assert len(promises) >= 5
    for p in promises:
        assert {"promise", "measure", "value", "target", "kept", "n", "period"} <= set(p)
        if p["value"] is None:
            assert p["kept"] is None  # too few measured: neither kept nor broken
    selling = next(p for p in promises if "sell" in p["promise"])
    assert selling["value"] == 0 and selling["kept"] is True and selling["n"] >= 3
    requests = next(p for p in promises if "data requests" in p["promise"])
    assert requests["n"] == 0 and requests["value"] is None


def _closed_requests(platform, on_time, late):
    now = utcnow()
    with platform.db.transaction() as session:
        for i in range(on_time + late):
            received = now - timedelta(days=60)
            due = received + timedelta(days=30)
            closed = due - timedelta(days=2) if i < on_time else due + timedelta(days=3)
            session.add(
                PrivacyRequest(
                    customer_id=1000 + i, kind="access", regime="gdpr", status="closed",
                    source="api", received_at=received, due_at=due, closed_at=closed,
                )
            )  # fmt: skip


def test_request_fulfilment_is_measured_from_real_records_and_a_broken_promise_is_marked(
    cli, platform, client
):
    _closed_requests(platform, on_time=4, late=1)  # fewer than the minimum: not published
    few = next(
        p
        for p in json.loads(cli("trustcentre", "promises", "--json").stdout)
        if "data requests" in p["promise"]
    )
    assert few["n"] == 5 and few["value"] is None and few["kept"] is None
    _closed_requests(platform, on_time=6, late=1)
    found = next(
        p
        for p in json.loads(cli("trustcentre", "promises", "--json").stdout)
        if "data requests" in p["promise"]
    )
    assert found["n"] == 12 and found["value"] == pytest.approx(10 / 12, abs=1e-4)
    assert found["target"] == 1.0 and found["kept"] is False
    assert "Not kept" in client.get("/trust-centre").text


def test_sections_render_markdown_safely_with_owner_and_review_date(cli, client):
    owner = staff(cli)
    saved = cli(
        "trustcentre", "section", "set", "encryption", "--title", "Encryption",
        "--owner", owner, "--review-due", "2027-01-31",
        "--body", "Data is **encrypted**.\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))",
    )  # fmt: skip
    assert saved.exit_code == 0, saved.output
    page = client.get("/trust-centre").text
    assert "<strong>encrypted</strong>" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert 'href="javascript:' not in page  # left as text, never a link
    assert f"Owner: {owner}" in page and "31 January 2027" in page
    nobody = cli(
        "trustcentre", "section", "set", "faq", "--title", "Q", "--owner", "ghost", "--body", "A"
    )
    assert nobody.exit_code == 2 and "ghost" in nobody.stderr


def test_risks_add_and_list_follow_the_contract_and_reject_bad_input(cli, platform):
    owner = staff(cli)
    added = cli(
        "risks", "add", "--title", "Card testing", "--category", "fraud", "--likelihood", "4",
        "--impact", "3", "--owner", owner, "--json",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    risk = json.loads(added.stdout)
    assert risk["id"] and risk["inherent_score"] == 12 and risk["owner"] == owner
    cli(
        "risks", "add", "--title", "Leak", "--category", "privacy", "--likelihood", "5",
        "--impact", "5", "--owner", owner,
    )  # fmt: skip
    listed = json.loads(cli("risks", "list", "--json").stdout)
    assert [r["title"] for r in listed] == ["Leak", "Card testing"]  # highest score first
    assert not listed[0]["overdue"]
    bad = cli(
        "risks", "add", "--title", "X", "--category", "privacy", "--likelihood", "6",
        "--impact", "1", "--owner", owner,
    )  # fmt: skip
    assert bad.exit_code == 2
    unknown = cli(
        "risks", "add", "--title", "X", "--category", "weather", "--likelihood", "1",
        "--impact", "1", "--owner", owner,
    )  # fmt: skip
    assert unknown.exit_code == 2 and "weather" in unknown.stderr
    ghost = cli(
        "risks", "add", "--title", "X", "--category", "privacy", "--likelihood", "1",
        "--impact", "1", "--owner", "ghost",
    )  # fmt: skip
    assert ghost.exit_code == 2 and "ghost" in ghost.stderr
    assert len(json.loads(cli("risks", "list", "--json").stdout)) == 2
    assert actions(platform, "risk").count("risk.added") == 2


def test_the_register_and_listings_read_the_same_as_text_and_as_json(cli):
    owner = staff(cli)
    added = cli(
        "risks", "add", "--title", "Card testing", "--category", "fraud", "--likelihood", "4",
        "--impact", "3", "--owner", owner,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    risk_id = json.loads(cli("risks", "list", "--json").stdout)[0]["id"]
    line = f"risk {risk_id}: Card testing [fraud] score 12, owner {owner}"
    assert added.stdout.strip() == line
    changed = cli(
        "risks", "update", str(risk_id), "--residual-likelihood", "2", "--residual-impact", "2"
    )
    assert changed.stdout.strip() == line.replace("score 12,", "score 12, residual 4,")
    reviewed = json.loads(cli("risks", "review", str(risk_id), "--json").stdout)
    assert reviewed["id"] == risk_id and reviewed["residual_score"] == 4
    linked = cli("risks", "link", str(risk_id), "--kind", "alert", "--ref", "7", "--json")
    assert linked.exit_code == 0, linked.output
    assert json.loads(cli("risks", "show", str(risk_id), "--json").stdout) == json.loads(
        linked.stdout
    )
    assert cli("risks", "show", str(risk_id)).stdout == cli("risks", "list").stdout
    assert cli("risks", "show", "999").exit_code == 3
    heat = cli("risks", "heatmap", "--residual")
    assert heat.stdout.splitlines()[0] == "impact \\ likelihood  1  2  3  4  5"
    assert heat.stdout.splitlines()[4] == "                  2   0  1  0  0  0"
    cells = json.loads(cli("risks", "heatmap", "--json").stdout)["cells"]
    assert cells[2][3] == 1 and sum(map(sum, cells)) == 1

    published = cli("trustcentre", "statement", "publish", "--title", "Hello", "--body", "B")
    assert published.stdout.startswith("statement ") and published.stdout.strip().endswith(
        " published"
    )
    statements = json.loads(cli("trustcentre", "statement", "list", "--json").stdout)
    assert [s["title"] for s in statements] == ["Hello"]
    assert cli("trustcentre", "statement", "list").stdout.strip().endswith("  Hello")
    cli(
        "trustcentre", "section", "set", "encryption", "--title", "Encryption", "--owner", owner,
        "--body", "Encrypted.",
    )  # fmt: skip
    assert cli("trustcentre", "section", "list").stdout.strip() == (
        f"encryption  practice  Encryption  (owner {owner})"
    )
    assert json.loads(cli("trustcentre", "section", "list", "--json").stdout)[0]["key"] == (
        "encryption"
    )
    assert cli("trustcentre", "document", "requests").stdout == ""
    assert cli("trustcentre", "document", "refuse", "999").exit_code == 3


def test_risk_changes_links_overdue_reviews_and_csv_through_the_api(
    cli, client, token_for, platform
):
    owner = staff(cli)
    client.headers["Authorization"] = f"Bearer {token_for(Role.VIEWER)}"
    assert client.get("/api/v1/risks").status_code == 403  # staff with the permission only
    client.headers["Authorization"] = f"Bearer {token_for(Role.PRIVACY_OFFICER)}"
    made = client.post(
        "/api/v1/risks",
        json={"title": "=HYPERLINK(1)", "category": "service", "likelihood": 3, "impact": 4,
              "owner": owner, "review_every_days": 30},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    risk_id = made.json()["id"]
    assert client.post("/api/v1/risks", json={"title": "x"}).status_code == 422
    changed = client.patch(
        f"/api/v1/risks/{risk_id}", json={"residual_likelihood": 2, "residual_impact": 2}
    )
    assert changed.status_code == 200 and changed.json()["residual_score"] == 4
    opened = cli(
        "incidents", "open", "--title", "Outage", "--aware-at", "2026-03-02T09:00:00Z", "--json"
    )
    incident = json.loads(opened.stdout)["id"]
    linked = client.post(
        f"/api/v1/risks/{risk_id}/links", json={"kind": "incident", "ref": str(incident)}
    )
    assert linked.status_code == 201 and linked.json()["links"][0]["ref"] == str(incident)
    twice = client.post(
        f"/api/v1/risks/{risk_id}/links", json={"kind": "incident", "ref": str(incident)}
    )
    assert twice.status_code == 409
    assert (
        client.post(f"/api/v1/risks/{risk_id}/links", json={"kind": "incident", "ref": "999"})
    ).status_code == 404
    with platform.db.transaction() as session:
        row = session.get(Risk, risk_id)
        row.next_review_at = utcnow() - timedelta(days=1)
    overdue = client.get("/api/v1/risks", params={"overdue": "true"}).json()
    assert [r["id"] for r in overdue] == [risk_id] and overdue[0]["overdue"]
    reviewed = client.post(f"/api/v1/risks/{risk_id}/review").json()
    assert not reviewed["overdue"]
    exported = client.get("/api/v1/trustcentre/risks.csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows[0]["title"] == "'=HYPERLINK(1)"  # no formula runs in a spreadsheet
    assert rows[0]["links"] == f"incident:{incident}" and rows[0]["residual_score"] == "4"
    assert {"risk.added", "risk.updated", "risk.event_linked", "risk.reviewed"} <= set(
        actions(platform, "risk")
    )


def test_the_review_job_flags_each_overdue_risk_once(cli, platform):
    from trustdesk.jobs.context import JobContext
    from trustdesk.trustcentre.jobs import remind_reviews

    owner = staff(cli)
    cli(
        "risks", "add", "--title", "Old risk", "--category", "security", "--likelihood", "2",
        "--impact", "2", "--owner", owner,
    )  # fmt: skip
    with platform.db.transaction() as session:
        for row in session.scalars(select(Risk)):
            row.next_review_at = utcnow() - timedelta(hours=1)
    context = JobContext(
        platform=platform, job="risks.reviews", now=utcnow(), attempt=1, reason="manual"
    )
    assert remind_reviews(context) == "1 overdue risk reviews flagged"
    assert remind_reviews(context) == "0 overdue risk reviews flagged"
    assert actions(platform, "risk").count("risk.review_overdue") == 1


def test_a_human_review_request_lands_as_a_case_in_the_queue(cli, client, api):
    form = client.get("/trust-centre/human-review")
    assert form.status_code == 200 and 'action="/trust-centre/human-review"' in form.text
    incomplete = client.post("/trust-centre/human-review", data={"email": "a@example.com"})
    assert incomplete.status_code == 422 and "decision, details" in incomplete.text
    data = {
        "email": "ann@example.com",
        "decision": "payment declined on 2 March",
        "details": "I made that payment myself; please look again.",
    }
    sent = client.post("/trust-centre/human-review", data=data)
    assert sent.status_code == 200 and "case number" in sent.text
    again = client.post("/trust-centre/human-review", data=data)  # a resubmit: the same case
    inbox = api.get("/api/v1/cases").json()["items"]
    assert len(inbox) == 1 and f"<strong>{inbox[0]['id']}</strong>" in again.text


def test_staff_see_the_register_with_heat_maps_and_overdue_flags(cli, client, platform):
    from tests.integration.test_pages import log_in, main_text, make_user

    make_user(platform, "rita", Role.PRIVACY_OFFICER)
    cli(
        "risks", "add", "--title", "Vendor breach", "--category", "privacy", "--likelihood", "5",
        "--impact", "4", "--owner", "rita", "--residual-likelihood", "2",
        "--residual-impact", "2",
    )  # fmt: skip
    with platform.db.transaction() as session:
        for row in session.scalars(select(Risk)):
            row.next_review_at = utcnow() - timedelta(days=2)
    assert client.get("/risks", follow_redirects=False).status_code in (302, 303)
    log_in(client, platform, "rita")
    page = client.get("/risks")
    assert page.status_code == 200
    text = main_text(page)
    assert "Vendor breach" in text and "20 (5 x 4)" in text and "4 (2 x 2)" in text
    assert "Overdue" in text and "Inherent: open risks" in text and "Residual: open risks" in text
    exported = client.get("/risks/export.csv")
    assert exported.status_code == 200 and "Vendor breach" in exported.text


def _incident_with_obligations(cli, tmp_path, aware_at, name):
    opened = cli(
        "incidents", "open", "--title", name, "--aware-at", aware_at,
        "--determined-at", aware_at, "--json",
    )  # fmt: skip
    incident = json.loads(opened.stdout)["id"]
    forensic = tmp_path / f"{name}.csv"
    forensic.write_text("external_id,data_categories\nc1,name;financial_account\n")
    assert cli("incidents", "affected", "import", str(incident), str(forensic)).exit_code == 0
    shown = json.loads(cli("incidents", "obligations", str(incident), "--json").stdout)
    return incident, [o for o in shown if o["required"] and o["due_at"]]


def test_breach_notice_timeliness_is_measured_against_legal_deadlines(cli, tmp_path):
    customers = tmp_path / "customers.csv"
    customers.write_text("external_id,name,email,jurisdiction\nc1,Anna Berg,anna@example.com,DE\n")
    assert cli("customers", "import", str(customers)).exit_code == 0
    old, late = _incident_with_obligations(cli, tmp_path, "2026-03-02T09:00:00Z", "old")
    recent_at = (utcnow() - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    recent, timely = _incident_with_obligations(cli, tmp_path, recent_at, "recent")
    _, never_sent = _incident_with_obligations(cli, tmp_path, "2026-04-01T09:00:00Z", "unsent")
    late += never_sent  # past its deadline and not sent: late too
    assert late and timely
    for o in timely:  # sent now: before their deadline
        fulfilled = cli(
            "incidents", "fulfil", str(recent), "--jurisdiction", o["jurisdiction"],
            "--audience", o["audience"],
        )  # fmt: skip
        assert fulfilled.exit_code == 0, fulfilled.output
    o = late[0]  # sent now: months after its deadline
    cli(
        "incidents", "fulfil", str(old), "--jurisdiction", o["jurisdiction"],
        "--audience", o["audience"],
    )  # fmt: skip
    promises = json.loads(cli("trustcentre", "promises", "--json").stdout)
    notices = next(p for p in promises if "breach" in p["promise"])
    n = len(late) + len(timely)
    assert notices["n"] == n >= 3  # the minimum count to publish
    assert notices["value"] == pytest.approx(len(timely) / n, abs=1e-4)
    assert notices["kept"] is False


def test_documents_public_or_on_request_with_approval_and_audited_downloads(
    cli, client, platform, tmp_path, monkeypatch
):
    from trustdesk.outbox.models import OutboxMessage as Message
    from trustdesk.trustcentre import documents

    report = tmp_path / "pentest.txt"
    report.write_text("Penetration test summary: no critical findings.")
    assert cli("trustcentre", "document", "add", "pentest", str(report), "--title",
               "Penetration test summary").exit_code == 0  # fmt: skip
    soc = tmp_path / "soc2.pdf"
    soc.write_bytes(b"%PDF-1.4 pretend report")
    no_terms = cli(
        "trustcentre", "document", "add", "soc2", str(soc), "--title", "SOC 2 report",
        "--access", "request",
    )  # fmt: skip
    assert no_terms.exit_code == 2 and "terms" in no_terms.stderr
    assert cli(
        "trustcentre", "document", "add", "soc2", str(soc), "--title", "SOC 2 report",
        "--access", "request", "--terms", "Confidential: for evaluating our service only.",
    ).exit_code == 0  # fmt: skip

    page = client.get("/trust-centre").text
    assert 'href="/trust-centre/documents/pentest/download"' in page
    assert 'href="/trust-centre/documents/soc2/request"' in page
    public = client.get("/trust-centre/documents/pentest/download")
    assert public.status_code == 200 and b"no critical findings" in public.content
    assert client.get("/trust-centre/documents/soc2/download").status_code == 403

    form = client.get("/trust-centre/documents/soc2/request")
    assert "Confidential: for evaluating" in form.text
    unaccepted = client.post(
        "/trust-centre/documents/soc2/request",
        data={"email": "eve@buyer.example", "company": "Buyer Ltd"},
    )
    assert unaccepted.status_code == 422 and "accept" in unaccepted.text
    sent = client.post(
        "/trust-centre/documents/soc2/request",
        data={"email": "eve@buyer.example", "company": "Buyer Ltd", "accept": "yes"},
    )
    assert sent.status_code == 200 and "Request received" in sent.text
    pending = json.loads(cli("trustcentre", "document", "requests", "--json").stdout)
    assert [(r["document"], r["company"]) for r in pending] == [("soc2", "Buyer Ltd")]
    assert "eve@" not in cli("trustcentre", "document", "requests", "--json").stdout

    monkeypatch.setattr(documents.secrets, "token_urlsafe", lambda n: "known-token")
    approved = cli("trustcentre", "document", "approve", str(pending[0]["id"]))
    assert approved.exit_code == 0, approved.output
    again = cli("trustcentre", "document", "approve", str(pending[0]["id"]))
    assert again.exit_code == 4  # already decided
    with platform.db.reading() as session:
        kinds = list(session.scalars(select(Message.kind)))
    assert kinds == ["trustcentre.document"]  # the link goes out through the shared outbox
    wrong = client.get("/trust-centre/documents/soc2/download", params={"token": "guess"})
    assert wrong.status_code == 403
    got = client.get("/trust-centre/documents/soc2/download", params={"token": "known-token"})
    assert got.status_code == 200 and got.content == b"%PDF-1.4 pretend report"
    assert got.headers["content-disposition"] == 'attachment; filename="soc2.pdf"'
    downloads = actions(platform, "trust_document").count("trustcentre.document_downloaded")
    assert downloads == 2
    with platform.db.reading() as session:
        audit_text = " ".join(str(c) for c in session.scalars(select(AuditEntry.diff)))
    assert "eve@" not in audit_text


def test_staff_publish_statements_edit_sections_and_decide_requests_on_pages(
    cli, client, platform, tmp_path
):
    from tests.integration.test_pages import csrf_from, log_in, make_user

    make_user(platform, "pat", Role.PRIVACY_OFFICER)
    doc = tmp_path / "iso.pdf"
    doc.write_bytes(b"%PDF certificate")
    cli(
        "trustcentre", "document", "add", "iso", str(doc), "--title", "ISO 27001 certificate",
        "--access", "request", "--terms", "For your evaluation only.",
    )  # fmt: skip
    client.post(
        "/trust-centre/documents/iso/request",
        data={"email": "bo@buyer.example", "company": "Buyer", "accept": "yes"},
    )
    log_in(client, platform, "pat")
    page = client.get("/trust-centre-admin")
    assert page.status_code == 200 and "Approve request 1" in page.text
    token = csrf_from(page.text)
    published = client.post(
        "/trust-centre-admin/statements",
        data={"title": "Maintenance window", "body": "Saturday 02:00 UTC.", "csrf_token": token},
        follow_redirects=False,
    )
    assert published.status_code == 303
    saved = client.post(
        "/trust-centre-admin/sections",
        data={"key": "backups", "title": "Backups", "body": "Daily, *encrypted*.",
              "owner": "pat", "kind": "practice", "review_due": "2027-02-01",
              "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303
    decided = client.post(
        "/trust-centre-admin/requests/1",
        data={"decision": "approve", "csrf_token": token},
        follow_redirects=False,
    )
    assert decided.status_code == 303
    public = client.get("/trust-centre").text
    assert "Maintenance window" in public and "<em>encrypted</em>" in public
    assert "No requests waiting." in client.get("/trust-centre-admin").text
    forged = client.post(
        "/trust-centre-admin/statements", data={"title": "x", "body": "y"}, follow_redirects=False
    )
    assert forged.status_code == 403  # no CSRF token: refused


def test_email_updates_need_confirmation_arrive_once_and_stop_with_one_click(
    cli, client, platform, tmp_path, monkeypatch
):
    import yaml

    from trustdesk.jobs.context import JobContext
    from trustdesk.outbox.models import OutboxMessage
    from trustdesk.privacy.datamap.datamap import DEFAULT_DATAMAP
    from trustdesk.trustcentre import subscriptions
    from trustdesk.trustcentre.jobs import mail_updates

    def kinds():
        with platform.db.reading() as session:
            return list(session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)))

    def run_job():
        context = JobContext(
            platform=platform, job="trustcentre.updates", now=utcnow(), attempt=1, reason="manual"
        )
        return mail_updates(context)

    monkeypatch.setattr(subscriptions.secrets, "token_urlsafe", lambda n: "confirm-me")
    assert client.post("/trust-centre/subscribe", data={"email": "nope"}).status_code == 422
    asked = client.post("/trust-centre/subscribe", data={"email": "sam@example.com"})
    assert asked.status_code == 200 and "Check your inbox" in asked.text
    assert kinds() == ["trustcentre.confirm"]
    publish(cli, "--title", "Before confirming", "--body", "Not sent to Sam.")
    assert run_job() == "1 updates mailed to subscribers"
    assert kinds() == ["trustcentre.confirm"]  # pending: nothing but the confirmation

    assert client.get("/trust-centre/subscribe/confirm", params={"token": "bad"}).status_code == 404
    assert (
        client.get("/trust-centre/subscribe/confirm", params={"token": "confirm-me"}).status_code
        == 200
    )
    publish(cli, "--title", "After confirming", "--body", "Sent to Sam.")
    run_job()
    run_job()  # sent once, whatever the number of runs
    assert kinds() == ["trustcentre.confirm", "trustcentre.update"]

    changed = yaml.safe_load(DEFAULT_DATAMAP.read_text())
    changed["systems"][0]["recipients"].append({"name": "Acme Analytics", "role": "processor"})
    path = tmp_path / "datamap.yaml"
    path.write_text(yaml.safe_dump(changed))
    assert cli("privacy", "datamap", "load", str(path)).exit_code == 0
    assert run_job() == "1 updates mailed to subscribers"
    assert kinds()[-1] == "trustcentre.update"
    page = client.get("/trust-centre").text
    assert "added Acme Analytics (processor" in page  # the dated change log

    with platform.db.reading() as session:
        sub_id = session.scalar(select(subscriptions.Subscriber.id))
    link = subscriptions.unsubscribe_link(platform.vault, "http://testserver", sub_id)
    path_qs = link.removeprefix("http://testserver")
    assert "Stop these emails" in client.get(path_qs).text  # GET only shows the button
    assert client.post(path_qs.replace("token=", "token=x")).status_code == 404
    assert client.post(path_qs).status_code == 200
    publish(cli, "--title", "After unsubscribing", "--body", "Not sent.")
    run_job()
    assert kinds().count("trustcentre.update") == 2
    assert {"trustcentre.subscription_confirmed", "trustcentre.unsubscribed"} <= set(
        actions(platform, "trust_subscriber")
    )


def test_subscriptions_are_consents_in_the_ledger_and_a_withdrawal_anywhere_stops_updates(
    cli, client, api, platform, tmp_path, monkeypatch
):
    from trustdesk.customers.models import Customer
    from trustdesk.jobs.context import JobContext
    from trustdesk.outbox.models import OutboxMessage
    from trustdesk.trustcentre import subscriptions
    from trustdesk.trustcentre.jobs import mail_updates

    def updates_to(who):  # addresses are sealed in the outbox: count by subscriber
        with platform.db.reading() as session:
            sub_id = session.scalar(
                select(subscriptions.Subscriber.id).where(
                    subscriptions.Subscriber.confirm_hash == subscriptions._hash(f"ok-{who}")
                )
            )
            keys = session.scalars(
                select(OutboxMessage.idempotency_key).where(
                    OutboxMessage.kind == "trustcentre.update"
                )
            )
            return sum(1 for k in keys if k.endswith(f"-{sub_id}"))

    def run_job():
        context = JobContext(
            platform=platform, job="trustcentre.updates", now=utcnow(), attempt=1, reason="manual"
        )
        return mail_updates(context)

    def proof(external_id):
        found = api.get(f"/api/v1/consent/customers/{external_id}/proof")
        assert found.status_code == 200, found.text
        body = found.json()
        assert body["entries_ok"] and body["chain"]["ok"]
        return [
            (e["purpose"], e["channel"], e["state"], e["source"])
            for e in body["entries"]
            if e["purpose"] == "trust_centre_updates"
        ]

    # Kim is a known customer; Lee is unknown and becomes an email-only contact.
    (tmp_path / "c.csv").write_text("external_id,email,jurisdiction\nkim1,kim@example.com,DE\n")
    assert cli("customers", "import", str(tmp_path / "c.csv")).exit_code == 0
    for who in ("kim", "lee"):
        monkeypatch.setattr(subscriptions.secrets, "token_urlsafe", lambda n, w=who: f"ok-{w}")
        asked = client.post("/trust-centre/subscribe", data={"email": f"{who}@example.com"})
        assert asked.status_code == 200
    with platform.db.reading() as session:
        contacts = session.scalars(
            select(Customer).where(Customer.external_id.like("contact:%"))
        ).all()
        assert len(contacts) == 1 and contacts[0].email_enc is not None  # encrypted, as any
        assert b"lee@example.com" not in contacts[0].email_enc
        lee = contacts[0].external_id
    assert proof("kim1") == [] and proof(lee) == []  # pending: no consent yet
    for who in ("kim", "lee"):
        confirmed = client.get("/trust-centre/subscribe/confirm", params={"token": f"ok-{who}"})
        assert confirmed.status_code == 200
    granted = [("trust_centre_updates", "email", "granted", "double_opt_in")]
    assert proof("kim1") == granted and proof(lee) == granted
    checked = api.get(
        "/api/v1/consent/check",
        params={"customer_id": lee, "purpose": "trust_centre_updates", "channel": "email"},
    )
    assert checked.status_code == 200 and checked.json()["allowed"] is True

    publish(cli, "--title", "First", "--body", "To both.")
    assert run_job() == "1 updates mailed to subscribers"
    assert updates_to("kim") == 1 and updates_to("lee") == 1

    # Lee unsubscribes with one click: a withdrawal in the ledger, no more updates.
    with platform.db.reading() as session:
        lee_sub = session.scalar(
            select(subscriptions.Subscriber.id).where(
                subscriptions.Subscriber.confirm_hash == subscriptions._hash("ok-lee")
            )
        )
    link = subscriptions.unsubscribe_link(platform.vault, "http://testserver", lee_sub)
    assert client.post(link.removeprefix("http://testserver")).status_code == 200
    assert proof(lee)[-1] == ("trust_centre_updates", "email", "withdrawn", "double_opt_in")

    # Kim withdraws through the consent API (the preference centre, staff…): the ledger wins.
    withdrawn = api.post(
        "/api/v1/consent",
        json={
            "customer_id": "kim1",
            "purpose": "trust_centre_updates",
            "channel": "email",
            "state": "withdrawn",
        },
    )
    assert withdrawn.status_code == 201, withdrawn.text
    publish(cli, "--title", "Second", "--body", "To nobody.")
    assert run_job() == "1 updates mailed to subscribers"
    assert updates_to("kim") == 1 and updates_to("lee") == 1

    # Kim grants again where she withdrew: updates resume (the ledger decides, both ways).
    regranted = api.post(
        "/api/v1/consent",
        json={
            "customer_id": "kim1",
            "purpose": "trust_centre_updates",
            "channel": "email",
            "state": "granted",
        },
    )
    assert regranted.status_code == 201
    publish(cli, "--title", "Third", "--body", "To Kim.")
    run_job()
    assert updates_to("kim") == 2 and updates_to("lee") == 1

    # Erasing Kim everywhere drops her subscription (its blind index) too.
    erased = cli("privacy", "erase", "--customer", "kim1")
    assert erased.exit_code == 0, erased.output
    assert erased.stdout.strip().endswith("verified")
    with platform.db.reading() as session:
        left = session.scalars(select(subscriptions.Subscriber.customer_id)).all()
    assert len(left) == 1  # Lee's (unsubscribed) only


def test_an_incidents_public_statement_reaches_subscribers_once(cli, client, platform, monkeypatch):
    from trustdesk.incidents import public as incidents
    from trustdesk.jobs.context import JobContext
    from trustdesk.outbox.models import OutboxMessage
    from trustdesk.trustcentre import subscriptions
    from trustdesk.trustcentre.jobs import mail_updates

    def updates():
        with platform.db.reading() as session:
            return list(
                session.scalars(
                    select(OutboxMessage.idempotency_key).where(
                        OutboxMessage.kind == "trustcentre.update"
                    )
                )
            )

    def run_job():
        context = JobContext(
            platform=platform, job="trustcentre.updates", now=utcnow(), attempt=1, reason="manual"
        )
        return mail_updates(context)

    monkeypatch.setattr(subscriptions.secrets, "token_urlsafe", lambda n: "ok")
    assert client.post("/trust-centre/subscribe", data={"email": "ann@example.com"}).is_success
    assert client.get("/trust-centre/subscribe/confirm", params={"token": "ok"}).is_success
    opened = cli(
        "incidents", "open", "--title", "Mailing list exposed", "--aware-at",
        "2026-03-02T09:00:00Z", "--json",
    )  # fmt: skip
    assert opened.exit_code == 0, opened.output
    iid = json.loads(opened.stdout)["id"]
    assert run_job() == "0 updates mailed to subscribers"  # nothing public yet
    changed = cli(
        "incidents", "update", str(iid), "--public-statement",
        "On 2 March a list of email addresses was exposed. We closed the access.",
    )  # fmt: skip
    assert changed.exit_code == 0, changed.output
    from trustdesk.jobs.registry import triggered_by

    woken = [j.name for j in triggered_by(incidents.STATEMENT_PUBLISHED)]
    assert woken == ["trustcentre.updates"]  # publishing wakes the mailing job
    assert run_job() == "1 updates mailed to subscribers"
    assert run_job() == "0 updates mailed to subscribers"  # once, however often the job runs
    (key,) = updates()
    assert key.startswith("trust-update-incident-")
