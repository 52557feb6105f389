"""Out-of-range and oversized input gets a clear 4xx (or a one-line CLI error), never a 500."""

from __future__ import annotations

import pytest
from tests.event_loops import run_alone

TOO_BIG = str(2**63)  # one past what SQLite holds (2^31 would do on PostgreSQL)

ID_ROUTES = [
    ("GET", f"/api/v1/privacy/requests/{TOO_BIG}"),
    ("POST", f"/api/v1/privacy/requests/{TOO_BIG}/start"),
    ("POST", f"/api/v1/privacy/requests/{TOO_BIG}/complete"),
    ("GET", f"/api/v1/privacy/requests/{TOO_BIG}/export"),
    ("GET", f"/api/v1/feedback/{TOO_BIG}"),
    ("GET", f"/api/v1/customers?cursor={TOO_BIG}"),
    ("GET", f"/api/v1/feedback?cursor={TOO_BIG}"),
    ("GET", f"/api/v1/feedback?customer_id={TOO_BIG}"),
    ("GET", f"/api/v1/audit?cursor={TOO_BIG}"),
    ("GET", f"/api/v1/trust?by=customer&after_id={TOO_BIG}"),
    ("POST", f"/api/v1/alerts/{TOO_BIG}/ack"),
    ("POST", f"/api/v1/fraud/models/{TOO_BIG}/activate"),
    ("DELETE", f"/api/v1/tokens/{TOO_BIG}"),
    ("GET", f"/api/v1/privacy/datamap?version={TOO_BIG}"),
    ("GET", f"/api/v1/privacy/notice?version={TOO_BIG}"),
    ("GET", f"/api/v1/privacy/notice/diff?a={TOO_BIG}&b=1"),
]


@pytest.mark.parametrize(("method", "url"), ID_ROUTES)
def test_an_id_or_cursor_past_the_id_columns_is_refused_with_the_field_named(api, method, url):
    for too_big in (TOO_BIG, str(2**31)):
        r = api.request(method, url.replace(TOO_BIG, too_big))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert "less than or equal to 2147483647" in r.json()["detail"]


@pytest.mark.parametrize(
    "url",
    [f"/api/v1/feedback/{2**31 - 1}", f"/api/v1/privacy/requests/{2**31 - 1}"],
)
def test_the_largest_id_is_simply_not_found(api, url):
    r = api.get(url)
    assert r.status_code == 404, r.text


def _feedback(external_id: str, at: object) -> dict[str, object]:
    return {"source": "web", "external_id": external_id, "text": "late again", "at": at}


def test_feedback_at_1e20_is_refused_as_out_of_range(api):
    r = api.post("/api/v1/feedback", json=_feedback("f1", 1e20))
    assert r.status_code == 422, r.text
    assert "out of range" in r.json()["detail"]


def test_one_out_of_range_time_fails_its_row_not_the_bulk_batch(api):
    rows = [_feedback("f1", 1e20), _feedback("f2", "2024-03-01T10:00:00Z")]
    r = api.post("/api/v1/feedback/bulk", json=rows)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["created"] == 1
    assert [(e["row"], "out of range" in e["reason"]) for e in report["rejected"]] == [(1, True)]


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00"])
def test_a_payment_time_that_has_no_utc_instant_is_refused(api, at):
    payment = {
        "transaction_id": "tx-range",
        "at": at,
        "customer_id": "c1",
        "terminal_id": "t1",
        "amount": "10.00",
    }
    r = api.post("/api/v1/transactions/score", json=payment)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "at"


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+05:00", "1899-12-31T23:59:59Z"])
def test_time_filters_out_of_range_are_refused(api, value):
    r = api.get("/api/v1/feedback", params={"since": value})
    assert r.status_code == 422, r.text
    assert "out of range" in r.json()["detail"]


@pytest.mark.parametrize(
    "args",
    [
        ("tokens", "revoke", TOO_BIG),
        ("tokens", "revoke", str(2**31)),
        ("fraud", "models", "activate", TOO_BIG),
        ("privacy", "requests", "show", TOO_BIG),
        ("customers", "list", "--cursor", TOO_BIG),
        ("privacy", "notice", "diff", "1", TOO_BIG),
    ],
)
def test_a_command_given_an_id_past_the_id_columns_says_so_in_one_line(cli, args):
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == ["error: id must be between 0 and 2147483647"]


def test_a_command_given_a_word_for_an_id_says_so_in_one_line(cli):
    result = cli("tokens", "revoke", "abc")
    assert result.exit_code == 2
    assert result.output.strip() == "error: 'abc' is not a whole number"


# --- request bodies: bounded, and read only from a known caller -------------------------------

CONSENT = {"customer_id": "c1", "purpose": "marketing", "channel": "email", "state": "granted"}


def _padded(size: int) -> bytes:
    """A JSON body of about `size` bytes (the padding is a field the route refuses later)."""
    return (
        b'{"customer_ids": ["c1"], "purpose": "marketing", "channel": "email", "pad": "'
        + (b"x" * size)
        + b'"}'
    )


def test_a_body_over_the_default_limit_is_refused_with_413_before_it_is_read(api):
    r = api.post(
        "/api/v1/consent",
        content=_padded(2 * 1024 * 1024),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "at most 1,048,576 bytes" in r.json()["detail"]


def test_a_bulk_route_takes_a_body_larger_than_the_default_limit(api):
    ids = [f"customer-{i:07d}" for i in range(80_000)]  # about 1.5 MB of JSON
    r = api.post(
        "/api/v1/consent/filter",
        json={"customer_ids": ids, "purpose": "marketing", "channel": "email"},
    )
    assert r.status_code == 200, r.text
    assert len(r.json()["unknown"]) == len(ids)


def test_a_streamed_body_without_length_is_cut_off_at_the_limit(api):
    sent = {"chunks": 0}

    def chunks():
        for _ in range(64):  # 64 x 64 KiB = 4 MiB, four times the limit
            sent["chunks"] += 1
            yield b" " * 65536

    r = api.post("/api/v1/consent", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == "application/problem+json"


def test_the_limits_are_settings(settings, token_for):
    from fastapi.testclient import TestClient

    from trustdesk.app import create_app
    from trustdesk.platform import Platform

    small = settings.model_copy(update={"max_body_bytes": 200, "max_bulk_body_bytes": 400})
    platform = Platform.open(small)
    try:
        token = token_for("admin")
        with TestClient(create_app(platform=platform)) as c:
            c.headers["Authorization"] = f"Bearer {token}"
            c.headers["Content-Type"] = "application/json"
            assert c.post("/api/v1/consent", content=_padded(300)).status_code == 413
            bulk = c.post("/api/v1/consent/filter", content=_padded(300))
            assert bulk.status_code == 200, bulk.text
            assert c.post("/api/v1/consent/filter", content=_padded(500)).status_code == 413
    finally:
        platform.close()


async def _call(app, headers: list[tuple[bytes, bytes]], body_size: int) -> tuple[int, int]:
    """Calls the ASGI app directly; returns (status, body bytes the app asked for)."""
    read = 0

    async def receive():
        nonlocal read
        read += body_size
        return {"type": "http.request", "body": b" " * body_size, "more_body": False}

    status = 0

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/consent/filter",
        "raw_path": b"/api/v1/consent/filter",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-length", str(body_size).encode()), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    await app(scope, receive, send)
    return status, read


@pytest.mark.parametrize(
    "headers",
    [[], [(b"authorization", b"Bearer td_not-a-real-token")], [(b"authorization", b"Basic x")]],
)
def test_an_anonymous_body_is_answered_401_without_reading_a_byte(app, headers):
    status, read = run_alone(lambda: _call(app, headers, body_size=10 * 1024 * 1024))
    assert status == 401
    assert read == 0


def test_a_known_caller_without_the_permission_gets_403_without_reading_a_byte(app, token_for):
    headers = [(b"authorization", f"Bearer {token_for('viewer')}".encode())]
    status, read = run_alone(lambda: _call(app, headers, body_size=10 * 1024 * 1024))
    assert status == 403
    assert read == 0


def test_a_caller_with_the_permission_has_the_body_read(app, token_for):
    headers = [(b"authorization", f"Bearer {token_for('admin')}".encode())]
    status, read = run_alone(lambda: _call(app, headers, body_size=1000))
    assert status == 422  # read in full and refused as bad JSON, not stopped at the door
    assert read == 1000


def test_a_nul_character_never_becomes_a_server_error(api, backend):
    """PostgreSQL cannot store NUL in text (SQLite can): a 422 there, never a 500."""
    r = api.get("/api/v1/audit", params={"entity_type": "a\x00b"})
    link = api.post("/api/v1/consent/links", json={"customer_id": "a\x00b"})
    if backend == "postgresql":
        assert (r.status_code, link.status_code) == (422, 422), (r.text, link.text)
        assert "NUL" in r.json()["detail"]
    else:
        assert (r.status_code, link.status_code) == (200, 404)
