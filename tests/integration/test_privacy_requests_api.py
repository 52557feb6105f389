"""Data-subject requests through the real API, staff pages and preference centre."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from trustdesk.access.roles import Role
from trustdesk.auth import service as auth_service
from trustdesk.customers import service as customer_service
from trustdesk.customers.schemas import CustomerIn
from trustdesk.privacy.consent.links import signer_for
from trustdesk.privacy.models import PrivacyRequest

PASSWORD = "correct-horse-battery"


def make_customer(platform, external_id="ada", jurisdiction="DE", **personal):
    personal = {"name": "Ada Lovelace", "email": "ada@example.com", **personal}
    record = CustomerIn(external_id=external_id, jurisdiction=jurisdiction, **personal)
    with platform.db.transaction() as session:
        customer_service.upsert_customers(session, platform.vault, [record], actor="test")


def stored_requests(platform):
    with platform.db.reading() as session:
        return session.scalar(select(func.count()).select_from(PrivacyRequest))


def zip_files(content):
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {n: archive.read(n).decode() for n in archive.namelist()}


def test_full_access_request_through_the_api(api, platform):
    make_customer(platform)
    opened = api.post("/api/v1/privacy/requests", json={"customer_id": "ada", "type": "access"})
    assert opened.status_code == 201, opened.text
    body = opened.json()
    received = datetime.fromisoformat(body["received_at"])
    due = datetime.fromisoformat(body["due_at"])
    assert body["regime"] == "gdpr" and body["status"] == "received"
    assert 28 <= (due - received).days <= 31 and not body["overdue"]
    rid = body["id"]
    early = api.post(f"/api/v1/privacy/requests/{rid}/complete")
    assert early.status_code == 409 and "identity" in early.json()["detail"]
    assert api.get(f"/api/v1/privacy/requests/{rid}/export").status_code == 409
    verified = api.post(f"/api/v1/privacy/requests/{rid}/verify", json={"method": "ID card"})
    assert verified.json()["status"] == "identity_verified"
    assert api.post(f"/api/v1/privacy/requests/{rid}/start").json()["status"] == "in_progress"
    export = api.get(f"/api/v1/privacy/requests/{rid}/export")
    assert export.status_code == 200 and export.headers["content-type"] == "application/zip"
    files = zip_files(export.content)
    assert json.loads(files["customer.json"])["email"] == "ada@example.com"
    done = api.post(f"/api/v1/privacy/requests/{rid}/complete").json()
    assert done["status"] == "completed" and done["outcome"]["files"]["customer"] > 0
    detail = api.get(f"/api/v1/privacy/requests/{rid}").json()
    assert [s["action"] for s in detail["steps"]] == [
        "received", "identity_verified", "started", "exported", "exported", "completed",
    ]  # fmt: skip
    assert "ada@example.com" not in json.dumps(detail["steps"])
    assert api.get("/api/v1/privacy/requests").json() == []  # closed: out of the queue


def test_queue_is_ordered_by_due_date_and_flags_overdue_and_due_soon(api, platform):
    make_customer(platform, "eu", "FR")
    make_customer(platform, "ca", "US-CA")
    now = datetime.now(UTC)
    late = api.post(
        "/api/v1/privacy/requests",
        json={"customer_id": "eu", "type": "access",
              "received_at": (now - timedelta(days=40)).isoformat()},
    ).json()  # fmt: skip
    soon = api.post(
        "/api/v1/privacy/requests",
        json={"customer_id": "ca", "type": "erasure",
              "received_at": (now - timedelta(days=40)).isoformat()},
    ).json()  # fmt: skip
    fresh = api.post("/api/v1/privacy/requests", json={"customer_id": "eu", "type": "access"})
    queue = api.get("/api/v1/privacy/requests").json()
    assert [r["id"] for r in queue] == [late["id"], soon["id"], fresh.json()["id"]]
    assert [(r["overdue"], r["due_soon"]) for r in queue] == [
        (True, False), (False, True), (False, False),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ({"customer_id": "nobody", "type": "access"}, 404, "no customer"),
        ({"customer_id": "ada", "type": "forget"}, 422, "type"),
        (
            {"customer_id": "ada", "type": "objection", "purposes": ["astrology"]},
            422,
            "unknown purpose",
        ),
        ({"customer_id": "ada", "type": "rectification", "changes": {"shoe": "9"}}, 422, "shoe"),
        (
            {"customer_id": "ada", "type": "rectification", "changes": {"segments": "vip"}},
            422,
            "segments cannot",
        ),
        ({"customer_id": "ada", "type": "rectification", "changes": {}}, 422, "at least one"),
        (
            {"customer_id": "ada", "type": "access", "purposes": ["marketing"]},
            422,
            "objections only",
        ),
        (
            {"customer_id": "ada", "type": "access", "received_at": "2999-01-01T00:00:00Z"},
            422,
            "future",
        ),
    ],
)
def test_bad_input_is_a_4xx_with_a_reason_and_nothing_is_stored(
    api, platform, body, status, reason
):
    make_customer(platform)
    answer = api.post("/api/v1/privacy/requests", json=body)
    assert answer.status_code == status and reason in answer.json()["detail"]
    assert stored_requests(platform) == 0


def test_erasure_through_the_api_is_verified(api, platform):
    make_customer(platform)
    rid = api.post(
        "/api/v1/privacy/requests", json={"customer_id": "ada", "type": "erasure"}
    ).json()["id"]
    api.post(f"/api/v1/privacy/requests/{rid}/verify", json={"method": "signed email"})
    done = api.post(f"/api/v1/privacy/requests/{rid}/complete").json()
    report = done["outcome"]["verification"]
    assert report == {
        "customer_id": "ada", "key_destroyed": True, "stored_personal_fields": [],
        "readable_feedback_texts": 0, "export_empty": True, "verified": True,
    }  # fmt: skip
    assert api.get("/api/v1/customers/ada").json()["personal_data"] == "erased"


def test_roles_without_the_permission_are_refused(client, platform, token_for):
    make_customer(platform)
    for role in (Role.AGENT, Role.ANALYST, Role.VIEWER):
        client.headers["Authorization"] = f"Bearer {token_for(role)}"
        assert client.get("/api/v1/privacy/requests").status_code == 403
    client.headers["Authorization"] = f"Bearer {token_for(Role.PRIVACY_OFFICER)}"
    assert client.get("/api/v1/privacy/requests").status_code == 200


def test_extension_moves_the_due_date_once(api, platform):
    make_customer(platform, "ca", "US-CA")
    opened = api.post(
        "/api/v1/privacy/requests", json={"customer_id": "ca", "type": "access"}
    ).json()
    extended = api.post(f"/api/v1/privacy/requests/{opened['id']}/extend", json={"reason": "large"})
    due = datetime.fromisoformat(extended.json()["due_at"])
    assert due - datetime.fromisoformat(opened["due_at"]) == timedelta(days=45)
    again = api.post(f"/api/v1/privacy/requests/{opened['id']}/extend", json={"reason": "more"})
    assert again.status_code == 409
    assert api.post(f"/api/v1/privacy/requests/{opened['id']}/extend", json={}).status_code == 422


# --- staff pages ------------------------------------------------------------------------------


def log_in_officer(client, platform):
    with platform.db.transaction() as session:
        auth_service.create_user(
            session, platform.vault, username="olga", password=PASSWORD,
            role=Role.PRIVACY_OFFICER, actor="test",
        )  # fmt: skip
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    client.post("/login", data={"username": "olga", "password": PASSWORD, "csrf_token": token})
    return token


def csrf(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_staff_page_records_and_carries_out_a_request_step_by_step(client, platform):
    make_customer(platform)
    log_in_officer(client, platform)
    page = client.get("/privacy/requests")
    assert page.status_code == 200 and "No open requests" in page.text
    made = client.post(
        "/privacy/requests",
        data={"customer": "ada", "kind": "objection", "purposes": "marketing",
              "csrf_token": csrf(page.text)},
        follow_redirects=False,
    )  # fmt: skip
    assert made.status_code == 303
    detail = client.get(made.headers["location"])
    assert "not verified yet" in detail.text and "Record identity as verified" in detail.text
    forged = client.post(made.headers["location"] + "/verify", data={"method": "ID card"})
    assert forged.status_code == 403  # no CSRF token
    client.post(
        made.headers["location"] + "/verify",
        data={"method": "ID card", "csrf_token": csrf(detail.text)},
    )
    detail = client.get(made.headers["location"])
    assert "verified by" in detail.text
    client.post(made.headers["location"] + "/complete", data={"csrf_token": csrf(detail.text)})
    detail = client.get(made.headers["location"])
    assert "Completed" in detail.text and "marketing/email" in detail.text


# --- preference centre ------------------------------------------------------------------------


def test_preference_centre_download_and_erasure_request(client, platform):
    make_customer(platform)
    token = signer_for(platform).issue("ada").token
    page = client.get(f"/preferences/{token}")
    assert "Download my data" in page.text and "Ask us to erase my data" in page.text
    forms = dict(
        re.findall(
            r'action="/preferences/[^"]+/(export|erasure)">\s*<input type="hidden" name="form" value="([^"]+)"',
            page.text,
        )
    )
    download = client.post(f"/preferences/{token}/export", data={"form": forms["export"]})
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    assert json.loads(zip_files(download.content)["customer.json"])["name"] == "Ada Lovelace"
    replay = client.post(f"/preferences/{token}/export", data={"form": forms["export"]})
    assert replay.status_code == 409
    asked = client.post(
        f"/preferences/{token}/erasure", data={"form": forms["erasure"]}, follow_redirects=False
    )
    assert asked.status_code == 303 and asked.headers["location"].endswith("done=erasure")
    with platform.db.reading() as session:
        rows = list(session.scalars(select(PrivacyRequest).order_by(PrivacyRequest.id)))
    assert [(r.kind, r.status, r.source) for r in rows] == [
        ("access", "completed", "preference_centre"),
        ("erasure", "identity_verified", "preference_centre"),
    ]
    assert all("link" in r.verification_method for r in rows)
    forged = client.post(f"/preferences/{token}/erasure", data={"form": "made-up"})
    assert forged.status_code == 403


def test_a_section_registered_by_another_capability_is_exported_and_checked_by_erasure(
    api, platform, monkeypatch
):
    """Another module (fraud, say) adds a section; if it ignores erasure, erasure is not verified."""
    from trustdesk.privacy.export import registry as export_registry
    from trustdesk.privacy.public import register_exporter

    def ignores_erasure(ctx, subject):
        return [{"customer": subject.external_id, "score": 0.1}]

    monkeypatch.setattr(export_registry, "_EXPORTERS", dict(export_registry._EXPORTERS))
    register_exporter("fraud", ignores_erasure)
    make_customer(platform)
    rid = api.post(
        "/api/v1/privacy/requests", json={"customer_id": "ada", "type": "erasure"}
    ).json()["id"]
    api.post(f"/api/v1/privacy/requests/{rid}/verify", json={"method": "signed email"})
    listed = api.post(
        "/api/v1/privacy/requests", json={"customer_id": "ada", "type": "access"}
    ).json()
    api.post(f"/api/v1/privacy/requests/{listed['id']}/verify", json={"method": "signed email"})
    files = zip_files(api.get(f"/api/v1/privacy/requests/{listed['id']}/export").content)
    assert json.loads(files["fraud.json"]) == [{"customer": "ada", "score": 0.1}]
    refused = api.post(f"/api/v1/privacy/requests/{rid}/complete")
    assert refused.status_code == 500 and '"export_empty":false' in refused.json()["detail"]
    assert (
        api.get(f"/api/v1/privacy/requests/{rid}").json()["request"]["status"]
        == "identity_verified"
    )
    with pytest.raises(ValueError, match="already registered"):
        register_exporter("fraud", lambda ctx, subject: [])
