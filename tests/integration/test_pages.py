"""The staff web shell through the HTTP test client: login with TOTP, CSRF, throttling, customers."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from trustdesk.access.roles import Role
from trustdesk.auth import service as auth_service
from trustdesk.auth.models import User
from trustdesk.customers import service as customer_service
from trustdesk.customers.schemas import CustomerIn

PASSWORD = "correct-horse-battery"


# --- builders ---------------------------------------------------------------------------------


def make_user(platform, username, role, *, totp=False):
    with platform.db.transaction() as session:
        created = auth_service.create_user(
            session,
            platform.vault,
            username=username,
            password=PASSWORD,
            role=role,
            with_totp=totp,
            actor="test",
        )
    return created.id


def make_customers(platform, count, *, segment="retail", prefix="c"):
    records = [
        CustomerIn(
            external_id=f"{prefix}{i:03d}",
            name=f"Person {i}",
            email=f"person{i}@example.com",
            segments=[segment],
            jurisdiction="GB",
        )
        for i in range(count)
    ]
    with platform.db.transaction() as session:
        customer_service.upsert_customers(session, platform.vault, records, actor="test")


def current_code(platform, user_id):
    with platform.db.reading() as session:
        return auth_service.totp_code(session, platform.vault, user_id)


def csrf_from(html):
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def submit_login(client, username, password=PASSWORD, next_path=None):
    form = client.get("/login" if next_path is None else f"/login?next={quote(next_path)}")
    data = {"username": username, "password": password, "csrf_token": csrf_from(form.text)}
    if next_path is not None:
        data["next"] = next_path
    return client.post("/login", data=data, follow_redirects=False)


def submit_code(client, code):
    form = client.get("/login/totp")
    assert form.status_code == 200
    data = {"code": code, "csrf_token": csrf_from(form.text)}
    return client.post("/login/totp", data=data, follow_redirects=False)


def log_in(client, platform, username, user_id=None):
    """A complete login; with `user_id` given, also the TOTP step."""
    response = submit_login(client, username)
    if user_id is not None:
        assert response.headers["location"] == "/login/totp"
        response = submit_code(client, current_code(platform, user_id))
    assert response.status_code == 303, response.text
    return response


def main_text(response):
    html = response.text
    return html[html.index("<main") : html.index("</main>")]


# --- login and sessions -----------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_login_and_brought_back_after(client, platform):
    make_user(platform, "vera", Role.VIEWER)
    response = client.get("/customers?segment=retail", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=" + quote(
        "/customers?segment=retail", safe=""
    )
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"

    done = submit_login(client, "vera", next_path="/customers?segment=retail")
    assert done.status_code == 303
    assert done.headers["location"] == "/customers?segment=retail"


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"]
)
def test_login_never_sends_the_browser_to_another_site(client, platform, target):
    make_user(platform, "vera", Role.VIEWER)
    response = submit_login(client, "vera", next_path=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_password_login_without_totp_opens_the_home_page(client, platform):
    make_user(platform, "vera", Role.VIEWER)
    response = submit_login(client, "vera")
    assert response.status_code == 303 and response.headers["location"] == "/"

    home = client.get("/")
    assert home.status_code == 200
    text = main_text(home)
    assert "vera" in text and "Viewer" in text
    assert 'href="/customers"' in text  # the sections this role may open
    assert "<title>Home · TrustDesk</title>" in home.text


def test_admin_login_asks_for_the_totp_code_before_opening_anything(client, platform):
    admin = make_user(platform, "root", Role.ADMIN, totp=True)
    response = submit_login(client, "root")
    assert response.status_code == 303 and response.headers["location"] == "/login/totp"
    # The password alone is not a login.
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    assert client.get("/api/v1/me").status_code == 401

    done = submit_code(client, current_code(platform, admin))
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert "Admin" in main_text(client.get("/"))
    # The browser session also authenticates API reads.
    assert client.get("/api/v1/me").json()["name"] == "root"


def test_a_wrong_totp_code_is_rejected(client, platform):
    admin = make_user(platform, "root", Role.ADMIN, totp=True)
    submit_login(client, "root")
    right = current_code(platform, admin)
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    response = submit_code(client, wrong)
    assert response.status_code == 401
    assert "wrong or has already been used" in response.text
    assert 'aria-invalid="true"' in response.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_used_totp_code_cannot_be_replayed(client, platform):
    admin = make_user(platform, "root", Role.ADMIN, totp=True)
    code = current_code(platform, admin)
    submit_login(client, "root")
    assert submit_code(client, code).status_code == 303
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").text)})

    submit_login(client, "root")
    replay = submit_code(client, code)
    assert replay.status_code == 401
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_the_totp_step_needs_a_password_first(client):
    response = client.get("/login/totp", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_login_replaces_the_session_it_started_in(client, platform):
    make_user(platform, "vera", Role.VIEWER)
    before = csrf_from(client.get("/login").text)
    submit_login(client, "vera")
    after = csrf_from(client.get("/").text)
    assert after != before


def test_logout_ends_the_session(client, platform):
    make_user(platform, "vera", Role.VIEWER)
    log_in(client, platform, "vera")
    response = client.post(
        "/logout", data={"csrf_token": csrf_from(client.get("/").text)}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert "You have logged out." in client.get("/login").text
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    assert client.get("/api/v1/me").status_code == 401


def test_a_cookie_copied_before_logout_is_worthless_after(client, platform, app):
    from fastapi.testclient import TestClient

    make_user(platform, "vera", Role.VIEWER)
    log_in(client, platform, "vera")
    stolen = dict(client.cookies)
    thief = TestClient(app, cookies=stolen)
    assert thief.get("/", follow_redirects=False).status_code == 200
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").text)})
    assert thief.get("/", follow_redirects=False).headers["location"].startswith("/login")
    assert thief.get("/api/v1/me").status_code == 401


def test_a_disabled_users_session_ends_at_the_next_page(client, platform):
    user_id = make_user(platform, "vera", Role.VIEWER)
    log_in(client, platform, "vera")
    with platform.db.transaction() as session:
        session.get(User, user_id).is_active = False
    response = client.get("/customers", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert client.get("/login").status_code == 200  # the login form, not a redirect loop


# --- CSRF -------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_forms_without_the_sessions_csrf_token_are_refused(client, platform, token):
    make_user(platform, "vera", Role.VIEWER)
    client.get("/login")  # a session with a token exists; the form just does not send it back
    data = {"username": "vera", "password": PASSWORD}
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "This form has expired" in response.text
    assert client.get("/", follow_redirects=False).status_code == 303  # not logged in


def test_logout_with_a_forged_token_keeps_the_session(client, platform):
    make_user(platform, "vera", Role.VIEWER)
    log_in(client, platform, "vera")
    response = client.post("/logout", data={"csrf_token": "forged"})
    assert response.status_code == 403
    assert client.get("/").status_code == 200


def test_api_changes_through_the_browser_session_need_the_csrf_header(client, platform):
    make_user(platform, "alex", Role.AGENT)
    log_in(client, platform, "alex")
    body = {"external_id": "c1", "name": "Ada Lovelace", "email": "ada@example.com"}

    refused = client.put("/api/v1/customers/c1", json=body)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert "X-CSRF-Token" in refused.json()["detail"]

    meta = re.search(r'<meta name="csrf-token" content="([^"]+)">', client.get("/").text)
    assert meta
    accepted = client.put("/api/v1/customers/c1", json=body, headers={"X-CSRF-Token": meta[1]})
    assert accepted.status_code == 201


# --- throttling -------------------------------------------------------------------------------


def test_repeated_failures_throttle_the_username_without_revealing_it_exists(client, platform):
    make_user(platform, "vera", Role.VIEWER)
    limit = platform.settings.login_max_failures
    for username in ("vera", "nobody-by-this-name"):
        for _ in range(limit):
            failed = submit_login(client, username, password="wrong-password-123")
            assert failed.status_code == 401
            assert "Wrong username or password." in failed.text
        throttled = submit_login(client, username)  # even the right password now waits
        assert throttled.status_code == 429
        assert "Too many failed attempts" in throttled.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_blank_login_form_asks_for_both_fields(client):
    response = submit_login(client, "", password="")
    assert response.status_code == 422
    assert "Enter your username and your password." in response.text


# --- customers --------------------------------------------------------------------------------


def test_viewers_see_customers_with_personal_data_masked(client, platform):
    make_customers(platform, 3)
    make_user(platform, "vera", Role.VIEWER)
    log_in(client, platform, "vera")
    page = client.get("/customers")
    assert page.status_code == 200
    text = main_text(page)
    assert "c000" in text and "retail" in text
    assert "person0@example.com" not in page.text and "Person 0" not in page.text
    assert "masked" in text

    detail = main_text(client.get("/customers/c000"))
    assert "masked" in detail and "person0@example.com" not in detail


def test_agents_see_customers_personal_data(client, platform):
    make_customers(platform, 3)
    make_user(platform, "alex", Role.AGENT)
    log_in(client, platform, "alex")
    text = main_text(client.get("/customers"))
    assert "person0@example.com" in text and "Person 0" in text
    assert "badge--masked" not in text
    assert "person2@example.com" in main_text(client.get("/customers/c002"))


def test_the_customer_list_pages_forward_with_a_next_link(client, platform):
    make_customers(platform, 30)
    make_user(platform, "vera", Role.VIEWER)
    log_in(client, platform, "vera")
    first = main_text(client.get("/customers"))
    assert first.count('<th scope="row">') == 25
    next_href = re.search(r'<a href="([^"]+)" rel="next">Next page</a>', first)
    assert next_href

    second = main_text(client.get(next_href[1].replace("&amp;", "&")))
    assert second.count('<th scope="row">') == 5
    assert "c029" in second and "c000" not in second
    assert "Next page" not in second and "First page" in second


def test_the_segment_filter_keeps_to_one_segment(client, platform):
    make_customers(platform, 2, segment="retail", prefix="r")
    make_customers(platform, 2, segment="business", prefix="b")
    make_user(platform, "vera", Role.VIEWER)
    log_in(client, platform, "vera")
    text = main_text(client.get("/customers", params={"segment": "business"}))
    assert "b000" in text and "b001" in text and "r000" not in text
    assert 'value="business"' in text


def test_an_erased_customer_is_shown_as_erased(client, platform):
    make_customers(platform, 1)
    with platform.db.transaction() as session:
        customer_service.forget_customer(session, platform.vault, "c000", actor="test")
    make_user(platform, "alex", Role.AGENT)
    log_in(client, platform, "alex")
    detail = main_text(client.get("/customers/c000"))
    assert "Personal data erased" in detail and "Person 0" not in detail
    assert "erased" in main_text(client.get("/customers"))


# --- errors -----------------------------------------------------------------------------------


def test_page_errors_are_friendly_html_while_the_api_keeps_problem_json(client, platform):
    make_user(platform, "vera", Role.VIEWER)
    log_in(client, platform, "vera")

    missing = client.get("/customers/no-such-customer")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "Not found" in missing.text and "no-such-customer" in missing.text
    assert "<title>Not found · TrustDesk</title>" in missing.text

    nowhere = client.get("/no/such/page")
    assert nowhere.status_code == 404 and "Not found" in nowhere.text

    invalid = client.get("/customers?cursor=-1")
    assert invalid.status_code == 422 and invalid.headers["content-type"].startswith("text/html")

    api = client.get("/api/v1/customers/no-such-customer")
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"


def test_pages_are_kept_out_of_caches_and_frames(client):
    response = client.get("/login")
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "/login" not in client.get("/openapi.json").json()["paths"]
