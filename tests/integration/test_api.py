"""The HTTP API: tokens and roles, problem+json errors, paging, request ids, health and metrics."""

from __future__ import annotations

import pytest

from trustdesk.access.roles import Role

ADA = {
    "external_id": "c1",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "segments": ["retail"],
    "jurisdiction": "GB",
}


def test_requests_without_a_valid_token_get_401_problem_json(client):
    for headers in ({}, {"Authorization": "Bearer td_wrong"}, {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/customers", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["status"] == 401 and body["detail"]


@pytest.mark.parametrize(
    ("role", "method", "path", "status"),
    [
        (Role.VIEWER, "put", "/api/v1/customers/c1", 403),
        (Role.ANALYST, "delete", "/api/v1/customers/c1/personal-data", 403),
        (Role.AGENT, "get", "/api/v1/audit", 403),
        (Role.VIEWER, "post", "/api/v1/tokens", 403),
        (Role.AGENT, "put", "/api/v1/customers/c1", 201),
    ],
)
def test_roles_bound_what_a_token_may_do(client, token_for, role, method, path, status):
    headers = {"Authorization": f"Bearer {token_for(role)}"}
    body = {"json": ADA} if method == "put" else {}
    if path == "/api/v1/tokens":
        body = {"json": {"name": "x", "role": "viewer"}}
    response = getattr(client, method)(path, headers=headers, **body)
    assert response.status_code == status, response.text
    if status == 403:
        assert "lacks permission" in response.json()["detail"]


def test_put_is_idempotent_and_masks_personal_data_for_viewers(api, client, token_for):
    assert api.put("/api/v1/customers/c1", json=ADA).status_code == 201
    again = api.put("/api/v1/customers/c1", json=ADA)
    assert again.status_code == 200 and again.json()["email"] == "ada@example.com"
    viewer = {"Authorization": f"Bearer {token_for(Role.VIEWER)}"}
    seen = client.get("/api/v1/customers/c1", headers=viewer).json()
    assert seen["personal_data"] == "masked" and seen["email"] is None


def test_invalid_body_gets_422_with_a_readable_reason(api):
    response = api.put(
        "/api/v1/customers/c1", json={**ADA, "email": "nope", "jurisdiction": "Narnia"}
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "email" in detail and "jurisdiction" in detail
    assert api.get("/api/v1/customers/c1").status_code == 404


def test_bulk_import_reports_bad_rows_and_stores_good_ones(api):
    rows = [ADA, {"external_id": "c2", "email": "bad"}, {"external_id": "c3", "segments": "vip"}]
    report = api.post("/api/v1/customers/bulk", json=rows).json()
    assert report["created"] == 2
    assert [(e["row"], e["external_id"]) for e in report["rejected"]] == [(2, "c2")]


def test_cursor_paging_walks_every_customer_once(api):
    rows = [{"external_id": f"p{i:02d}", "segments": ["s"]} for i in range(7)]
    api.post("/api/v1/customers/bulk", json=rows)
    seen, cursor = [], 0
    while cursor is not None:
        page = api.get("/api/v1/customers", params={"limit": 3, "cursor": cursor}).json()
        seen += [c["external_id"] for c in page["items"]]
        cursor = page["next_cursor"]
    assert seen == [f"p{i:02d}" for i in range(7)]


def test_lookup_and_forget_through_the_api(api):
    api.put("/api/v1/customers/c1", json=ADA)
    assert [
        c["external_id"]
        for c in api.get("/api/v1/customers/lookup", params={"email": "ADA@example.com"}).json()
    ] == ["c1"]
    erased = api.delete("/api/v1/customers/c1/personal-data").json()
    assert erased["personal_data"] == "erased"
    assert api.get("/api/v1/customers/lookup", params={"email": "ada@example.com"}).json() == []
    assert api.put("/api/v1/customers/c1", json=ADA).status_code == 422


def test_tokens_are_shown_once_stored_hashed_and_revocable(api, client, platform):
    created = api.post("/api/v1/tokens", json={"name": "etl", "role": "agent"})
    assert created.status_code == 201
    token = created.json()["token"]
    listed = api.get("/api/v1/tokens").json()
    assert all("token" not in t for t in listed)
    assert any(token.startswith(t["prefix"]) for t in listed)
    with platform.db.engine.connect() as conn:
        stored = [r[0] for r in conn.exec_driver_sql("SELECT token_hash FROM api_tokens")]
    assert token not in stored
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).json()["role"] == "agent"
    assert api.delete(f"/api/v1/tokens/{created.json()['id']}").status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_request_ids_health_metrics_and_docs(client, token_for):
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.json()["status"] == "ok"
    assert response.headers["x-request-id"] == "abc-123"
    assert len(client.get("/healthz").headers["x-request-id"]) == 32
    scraper = {"Authorization": f"Bearer {token_for(Role.MONITOR)}"}  # /metrics needs a token
    metrics = client.get("/metrics", headers=scraper).text
    assert 'trustdesk_http_requests_total{method="GET",route="/healthz",status="200"}' in metrics
    client.get("/api/v1/customers/someone")
    metrics = client.get("/metrics", headers=scraper).text
    assert 'route="/api/v1/customers/{external_id}",status="401"' in metrics
    assert client.get("/docs").status_code == 200
    assert "/api/v1/customers" in client.get("/openapi.json").json()["paths"]


def test_logs_never_contain_personal_data(api, capsys, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    api.put("/api/v1/customers/c1", json=ADA)
    api.get("/api/v1/customers/lookup", params={"email": "ada@example.com"})
    captured = capsys.readouterr()
    logged = captured.out + captured.err + caplog.text
    assert "ada@example.com" not in logged and "Lovelace" not in logged


def test_a_change_is_committed_before_the_answer_says_it_is_stored(app, token_for, monkeypatch):
    """If the commit fails, the client hears of it (5xx), never a 201 for data that is not there."""
    from fastapi.testclient import TestClient
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    client = TestClient(app, raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {token_for(Role.ADMIN)}"

    def failing_commit(self):
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(Session, "commit", failing_commit)
    response = client.put("/api/v1/customers/c1", json=ADA)
    monkeypatch.undo()
    assert response.status_code >= 500
    assert client.get("/api/v1/customers/c1").status_code == 404


def test_put_takes_the_customer_from_the_url_without_repeating_it_in_the_body(api):
    body = {k: v for k, v in ADA.items() if k != "external_id"}
    created = api.put("/api/v1/customers/c9", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["external_id"] == "c9" and created.json()["email"] == ADA["email"]
    assert api.put("/api/v1/customers/c9", json=body).status_code == 200
    mismatch = api.put("/api/v1/customers/c9", json={**body, "external_id": "c10"})
    assert mismatch.status_code == 422 and "must match the URL" in mismatch.json()["detail"]
    bad_id = api.put("/api/v1/customers/-bad id-", json=body)
    assert bad_id.status_code == 422 and "external_id" in bad_id.json()["detail"]
