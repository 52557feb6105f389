"""Users, API tokens, consent lookup, the audit trail and offline /docs, through the real app."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from tests.integration.test_pages import PASSWORD, csrf_from, log_in, main_text, make_user

from trustdesk.access.roles import Role
from trustdesk.audit.chain import AuditEntry
from trustdesk.auth import service as auth_service
from trustdesk.customers import service as customer_service
from trustdesk.customers.schemas import CustomerIn
from trustdesk.privacy.consent import service as consent_service
from trustdesk.privacy.consent.policy import ConsentState, load_policy
from trustdesk.privacy.consent.schemas import Source


def admin_client(client, platform, name="root"):
    user_id = make_user(platform, name, Role.ADMIN, totp=True)
    log_in(client, platform, name, user_id)
    return user_id


def post_form(client, page, action, data):
    form = client.get(page)
    return client.post(
        action, data={**data, "csrf_token": csrf_from(form.text)}, follow_redirects=False
    )


# --- users ------------------------------------------------------------------------------------


def test_an_admin_creates_a_user_who_can_log_in_then_disables_them(client, platform, app):
    admin_client(client, platform)
    created = post_form(
        client, "/users", "/users", {"username": "nina", "password": PASSWORD, "role": "analyst"}
    )
    assert created.status_code == 200
    assert "User <strong>nina</strong> is created" in created.text
    listed = main_text(client.get("/users"))
    assert "nina" in listed and "Analyst" in listed

    other = TestClient(app)  # a second browser (the app is already started by `client`)
    log_in(other, platform, "nina")
    assert other.get("/trust").status_code == 200
    with platform.db.reading() as session:
        nina = next(u for u in auth_service_users(session) if u.username == "nina")
    disabled = post_form(client, "/users", f"/users/{nina.id}/disable", {})
    assert disabled.status_code == 303
    assert "nina is disabled" in client.get("/users").text
    # Her open session ended with the account: the next page sends her to log in.
    assert other.get("/trust", follow_redirects=False).status_code == 303
    with platform.db.reading() as session:
        actions = [e.action for e in session.query(AuditEntry).order_by(AuditEntry.id)]
    assert "user.created" in actions and "user.disabled" in actions


def auth_service_users(session):
    from trustdesk.auth import accounts

    return accounts.list_users(session)


def test_a_new_admin_gets_their_authenticator_uri_once_and_bad_input_is_named(client, platform):
    admin_client(client, platform)
    created = post_form(
        client, "/users", "/users", {"username": "ada", "password": PASSWORD, "role": "admin"}
    )
    assert re.search(r'id="totp-uri">otpauth://totp/TrustDesk:ada\?secret=', created.text)
    assert "otpauth://" not in client.get("/users").text
    short = post_form(
        client, "/users", "/users", {"username": "bob", "password": "short", "role": "viewer"}
    )
    assert short.status_code == 422
    assert "Password must be at least 12 characters" in short.text
    assert "bob" not in main_text(client.get("/users")).split("Add a user")[0]


def test_an_admin_cannot_disable_themselves(client, platform):
    me = admin_client(client, platform)
    answer = post_form(client, "/users", f"/users/{me}/disable", {})
    assert answer.status_code == 409
    assert client.get("/users").status_code == 200


def test_users_and_tokens_pages_need_their_permissions(client, platform):
    make_user(platform, "vera", Role.ANALYST)
    log_in(client, platform, "vera")
    assert client.get("/users").status_code == 403
    assert client.get("/tokens").status_code == 403
    home = main_text(client.get("/"))
    assert 'href="/users"' not in home and 'href="/tokens"' not in home


# --- tokens -----------------------------------------------------------------------------------


def test_a_token_is_shown_once_works_on_the_api_and_stops_when_revoked(client, platform, app):
    admin_client(client, platform)
    created = post_form(client, "/tokens", "/tokens", {"name": "checkout", "role": "agent"})
    assert created.status_code == 200
    secret = re.search(r'id="token-secret"[^>]*value="(td_[^"]+)"', created.text).group(1)
    listing = client.get("/tokens").text
    assert secret not in listing and secret[:10] in listing

    api = TestClient(app)
    bearer = {"Authorization": f"Bearer {secret}"}
    assert api.get("/api/v1/me", headers=bearer).json()["role"] == "agent"
    with platform.db.reading() as session:
        token_id = auth_service.list_tokens(session)[0].id
    revoked = post_form(client, "/tokens", f"/tokens/{token_id}/revoke", {})
    assert revoked.status_code == 303
    assert "Revoked" in client.get("/tokens").text
    assert api.get("/api/v1/me", headers=bearer).status_code == 401


# --- consent lookup ---------------------------------------------------------------------------


def test_consent_lookup_shows_current_choices_and_history(client, platform):
    with platform.db.transaction() as session:
        customer_service.upsert_customers(
            session, platform.vault, [CustomerIn(external_id="ada", jurisdiction="DE")], actor="t"
        )
        for state in (ConsentState.GRANTED, ConsentState.WITHDRAWN, ConsentState.GRANTED):
            consent_service.set_consent(
                session,
                load_policy(),
                external_id="ada",
                purpose="marketing",
                channel="email",
                state=state,
                source=Source.STAFF,
                actor="user:test",
            )
    make_user(platform, "amy", Role.AGENT)
    log_in(client, platform, "amy")
    page = main_text(client.get("/consent?customer=ada"))
    current = page[page.index("Current consent") : page.index("History")]
    row = re.search(r"Marketing</th>\s*<td>Email</td>\s*<td>(.*?)</td>", current, re.S)
    assert row and "Yes" in row.group(1)
    history = page[page.index("History") :]
    assert history.count("<tr>") == 4  # a header and three choices, newest first
    assert history.index("Granted") < history.index("Withdrawn")
    unknown = main_text(client.get("/consent?customer=nobody"))
    assert 'role="alert"' in unknown and "nobody" in unknown


def test_consent_lookup_needs_consent_read(client, platform):
    make_user(platform, "vic", Role.VIEWER)
    log_in(client, platform, "vic")
    assert client.get("/consent").status_code == 403


# --- audit trail ------------------------------------------------------------------------------


def test_audit_page_lists_newest_first_filters_and_verifies(client, platform):
    admin_client(client, platform)
    post_form(client, "/tokens", "/tokens", {"name": "one", "role": "agent"})
    page = main_text(client.get("/audit"))
    assert page.index("token.created") < page.index("user.created")  # newest first
    only = main_text(client.get("/audit?kind=token.created"))
    assert (
        "token.created" in only.split("<tbody>")[1] and "user.login" not in only.split("<tbody>")[1]
    )
    by_actor = main_text(client.get("/audit?actor=test"))
    assert "user.created" in by_actor.split("<tbody>")[1]
    assert "token.created" not in by_actor.split("<tbody>")[1]
    verified = main_text(client.get("/audit?verify=1"))
    assert re.search(r"Chain intact: all \d+ entries verified", verified)

    with platform.db.transaction() as session:
        entry = session.get(AuditEntry, 1)
        entry.actor = "someone-else"  # tampering
    broken = main_text(client.get("/audit?verify=1"))
    assert "Chain broken at entry 1" in broken


def test_audit_page_pages_through_older_entries(client, platform):
    admin_client(client, platform)
    for i in range(55):
        post_form(client, "/tokens", "/tokens", {"name": f"t{i}", "role": "agent"})
    first = client.get("/audit?kind=token.created").text
    older = re.search(r'href="(/audit\?[^"]*before=\d+)"', first).group(1).replace("&amp;", "&")
    second = main_text(client.get(older))
    assert second.split("<tbody>")[1].count("<tr>") == 5


# --- home page promises -----------------------------------------------------------------------


def test_home_page_links_consent_and_audit_promises_to_their_pages(client, platform):
    make_user(platform, "pia", Role.PRIVACY_OFFICER)
    log_in(client, platform, "pia")
    home = main_text(client.get("/"))
    assert re.search(r'<a href="/consent">Check customers.{1,6}consent', home)
    assert '<a href="/audit">Read and verify the audit trail</a>' in home


# --- /docs offline ----------------------------------------------------------------------------


def test_docs_name_only_local_assets_and_the_favicon_exists(client):
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "cdn." not in docs.text and "https://" not in docs.text
    js = re.search(r'src="([^"]+swagger-ui-bundle\.js)"', docs.text).group(1)
    css = re.search(r'href="([^"]+swagger-ui\.css)"', docs.text).group(1)
    assert client.get(js).status_code == 200 and client.get(css).status_code == 200
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/")
