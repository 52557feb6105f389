"""The incident pages' forms, through the real app: register, status, update, decision, the
forensic list, notices drafted, approved (only by a role that may) and sent, remediation codes.
Every form carries the session's CSRF token; without it nothing is stored."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from trustdesk.access.roles import Role
from trustdesk.auth import service as auth_service
from trustdesk.incidents.models import AffectedRecord, Incident, IncidentEntry, OfferCode

CUSTOMERS = (
    "external_id,name,email,jurisdiction\n"
    "c1,Anna Berg,anna@example.org,DE\n"
    "c2,Bob Jones,bob@example.org,US-FL\n"
)


def login(client, platform, username, role):
    with platform.db.transaction() as session:
        auth_service.create_user(
            session, platform.vault, username=username, password="correct-horse-battery",
            role=role, actor="test",
        )  # fmt: skip
    client.cookies.clear()
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post(
        "/login",
        data={"username": username, "password": "correct-horse-battery", "csrf_token": token},
    )


def token_of(client, path):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def count(platform, model):
    with platform.db.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_an_incident_is_worked_from_register_to_notice_sent_through_the_forms(
    client, platform, cli, tmp_path
):
    (tmp_path / "c.csv").write_text(CUSTOMERS)
    assert cli("customers", "import", str(tmp_path / "c.csv")).exit_code == 0
    login(client, platform, "pat", Role.PRIVACY_OFFICER)
    csrf = token_of(client, "/incidents")
    made = client.post(
        "/incidents",
        data={"title": "Card data stolen", "aware_at": "2026-03-02T09:00", "severity": "high",
              "categories": ["name", "financial_account"], "csrf_token": csrf},
        follow_redirects=False,
    )  # fmt: skip
    assert made.status_code == 303
    page_url = made.headers["location"]
    iid = int(page_url.rsplit("/", 1)[1])
    shown = client.get(page_url)
    assert "Incident registered" not in shown.text and f"Incident {iid} registered." in shown.text
    assert "Work the incident" in shown.text
    post = lambda path, **data: client.post(  # noqa: E731
        f"/incidents/{iid}{path}", data={**data, "csrf_token": csrf}
    )
    assert "now analysing" in post("/status", status="analysing").text
    assert post("/status", status="recovered").status_code == 409  # not an allowed move
    post("/updates", text="Card processor confirmed the theft", visibility="public")
    post("/decisions", text="Notify everyone", reason="card numbers with codes were taken")
    post("/statement", statement="We were attacked; we have written to everyone affected.")
    forensic = b"external_id,data_categories\nc1,name;financial_account\nc2,name;financial_account\nc9,name\n"
    imported = client.post(
        f"/incidents/{iid}/affected", data={"csrf_token": csrf},
        files={"file": ("affected.csv", forensic, "text/csv")},
    )  # fmt: skip
    assert "2 customers added" in imported.text and "row 3: no customer" in imported.text
    assert count(platform, AffectedRecord) == 2
    codes = client.post(
        f"/incidents/{iid}/offers", data={"csrf_token": csrf},
        files={"file": ("codes.csv", b"code\nCM-1\nCM-2\nCM-3\n", "text/csv")},
    )  # fmt: skip
    assert "3 new remediation codes" in codes.text
    drafted = post("/notices", audience="individuals", offer="Free credit monitoring.")
    assert "Notice 1 drafted" in drafted.text and "Approve notice 1" in drafted.text
    refused = post("/notify")
    assert refused.status_code == 409  # nothing goes before a notice is approved
    assert "Notice 1 version 1 approved." in post("/notices/1/approve").text
    sent = post("/notify")
    assert "queued for 2 customers: 2 queued" in sent.text
    assert "2 queued" in sent.text and "codes given of 3" in sent.text
    with platform.db.reading() as session:
        given = session.scalar(
            select(func.min(OfferCode.code)).where(OfferCode.customer_id.is_not(None))
        )
    assert f"Code {given} redeemed." in post("/offers/redeem", code=given).text
    assert "uptake 50.0%" in client.get(f"/incidents/{iid}").text
    with platform.db.reading() as session:
        kinds = set(
            session.scalars(select(IncidentEntry.kind).where(IncidentEntry.incident_id == iid))
        )
        statement = session.scalar(select(Incident.public_statement).where(Incident.id == iid))
    assert {"update", "decision"} <= kinds and statement.startswith("We were attacked")


def test_forms_need_the_csrf_token_the_role_and_valid_input(client, platform):
    login(client, platform, "ian", Role.INCIDENT_MANAGER)
    csrf = token_of(client, "/incidents")
    forged = client.post("/incidents", data={"title": "X", "aware_at": "2026-03-02T09:00"})
    assert forged.status_code == 403 and count(platform, Incident) == 0
    bad_time = client.post(
        "/incidents", data={"title": "X", "aware_at": "yesterday", "csrf_token": csrf}
    )
    assert bad_time.status_code == 422 and "aware at: expected an iso 8601" in bad_time.text.lower()
    unknown = client.post(
        "/incidents",
        data={"title": "X", "aware_at": "2026-03-02T09:00", "categories": ["ssn"],
              "csrf_token": csrf},
    )  # fmt: skip
    assert unknown.status_code == 422 and "ssn" in unknown.text
    assert count(platform, Incident) == 0
    made = client.post(
        "/incidents", data={"title": "X", "aware_at": "2026-03-02T09:00", "csrf_token": csrf},
        follow_redirects=False,
    )  # fmt: skip
    iid = int(made.headers["location"].rsplit("/", 1)[1])
    client.post(f"/incidents/{iid}/notices", data={"csrf_token": csrf})
    page = client.get(f"/incidents/{iid}")
    assert "Approve notice" not in page.text  # the incident manager may not approve
    approve = client.post(f"/incidents/{iid}/notices/1/approve", data={"csrf_token": csrf})
    assert approve.status_code == 403
    assert (
        client.post("/incidents/999/updates", data={"text": "x", "csrf_token": csrf}).status_code
        == 404
    )
