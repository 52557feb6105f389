"""API responses are never cached or sniffed, /metrics needs a token, `tokens list --json`, and
`consent link` makes links with the address the server really uses."""

from __future__ import annotations

import json

import pytest

from trustdesk.access.roles import Role
from trustdesk.customers import service as customer_service
from trustdesk.customers.schemas import CustomerIn


def make_customer(platform, external_id="ada"):
    records = [CustomerIn(external_id=external_id, name="Ada Lovelace", email="ada@example.com")]
    with platform.db.transaction() as session:
        customer_service.upsert_customers(session, platform.vault, records, actor="test")


# --- response headers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/customers/ada", 200),  # personal data
        ("/api/v1/customers/nobody", 404),  # problem+json
        ("/api/v1/customers?limit=oops", 422),
        ("/api/v1/me", 200),
    ],
)
def test_api_responses_are_not_stored_or_sniffed(api, platform, path, status):
    make_customer(platform)
    response = api.get(path)
    assert response.status_code == status
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_unauthenticated_api_answers_carry_the_headers_too(client):
    response = client.get("/api/v1/customers/ada")
    assert response.status_code == 401
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_changes_through_the_api_carry_the_headers_too(api, platform):
    make_customer(platform)
    opened = api.post("/api/v1/privacy/requests", json={"customer_id": "ada", "type": "access"})
    assert opened.status_code == 201, opened.text
    assert opened.headers["cache-control"] == "no-store"
    assert opened.headers["x-content-type-options"] == "nosniff"


# --- /metrics ---------------------------------------------------------------------------------


def test_metrics_need_a_token_with_the_metrics_permission(client, token_for):
    assert client.get("/metrics").status_code == 401
    viewer = {"Authorization": f"Bearer {token_for(Role.VIEWER)}"}
    assert client.get("/metrics", headers=viewer).status_code == 403
    scraper = {"Authorization": f"Bearer {token_for(Role.MONITOR)}"}
    scraped = client.get("/metrics", headers=scraper)
    assert scraped.status_code == 200
    assert "trustdesk_http_requests_total" in scraped.text
    assert scraped.headers["cache-control"] == "no-store"
    admin = {"Authorization": f"Bearer {token_for(Role.ADMIN)}"}
    assert client.get("/metrics", headers=admin).status_code == 200


def test_a_monitor_token_reads_metrics_and_nothing_else(client, token_for):
    scraper = {"Authorization": f"Bearer {token_for(Role.MONITOR)}"}
    for path in ("/api/v1/customers", "/api/v1/audit", "/api/v1/consent/verify"):
        assert client.get(path, headers=scraper).status_code == 403, path


# --- CLI --------------------------------------------------------------------------------------


def test_tokens_list_as_json_never_shows_the_token(cli):
    created = json.loads(cli("tokens", "create", "etl", "--role", "agent", "--json").stdout)
    cli("tokens", "create", "prometheus", "--role", "monitor")
    assert cli("tokens", "revoke", str(created["id"])).exit_code == 0
    listed = cli("tokens", "list", "--json")
    assert listed.exit_code == 0, listed.output
    tokens = json.loads(listed.stdout)
    assert [(t["name"], t["role"]) for t in tokens] == [("etl", "agent"), ("prometheus", "monitor")]
    assert tokens[0]["prefix"] == created["token"][:10]
    assert tokens[0]["revoked_at"] is not None and tokens[1]["revoked_at"] is None
    assert created["token"] not in listed.stdout


def test_consent_link_uses_the_port_the_server_listens_on(cli, platform, monkeypatch):
    import uvicorn

    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda _app, **options: served.update(options))
    make_customer(platform)
    assert cli("serve", "--port", "9123").exit_code == 0
    assert served["port"] == 9123
    link = cli("consent", "link", "--customer", "ada")
    assert link.exit_code == 0, link.output
    assert link.stdout.startswith("http://127.0.0.1:9123/preferences/")


def test_consent_link_prefers_the_public_url_setting(cli, platform, monkeypatch):
    make_customer(platform)
    monkeypatch.setenv("TRUSTDESK_PUBLIC_URL", "https://prefs.example.com/")
    link = cli("consent", "link", "--customer", "ada")
    assert link.stdout.startswith("https://prefs.example.com/preferences/")
