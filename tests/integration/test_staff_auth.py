"""Staff users: argon2id passwords, TOTP (mandatory for admins), throttling, and the CLI bootstrap."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from trustdesk.access.roles import Role
from trustdesk.audit.chain import AuditEntry
from trustdesk.auth import service
from trustdesk.auth.models import User
from trustdesk.db import utcnow
from trustdesk.errors import AuthenticationFailed, InvalidInput, TooManyAttempts

PASSWORD = "correct horse battery"


LIMITS = {"max_failures": 3, "lockout": timedelta(minutes=5)}


def _login(platform, username, password, now=None):
    return service.authenticate_password(
        platform.db, username=username, password=password, now=now, **LIMITS
    )


def _totp(platform, user_id, code, now):
    return service.verify_totp(
        platform.db, platform.vault, user_id=user_id, code=code, now=now, **LIMITS
    )


def test_first_admin_is_bootstrapped_from_the_cli_with_a_totp_uri(cli, platform):
    result = cli("users", "create", "root", "--role", "admin", "--password", PASSWORD, "--json")
    assert result.exit_code == 0, result.output
    assert '"totp_uri": "otpauth://totp/TrustDesk:root' in result.stdout
    with platform.db.reading() as session:
        user = session.scalar(select(User).where(User.username == "root"))
    assert user is not None and user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_admin_without_second_factor_and_short_passwords_are_refused(platform):
    with platform.db.transaction() as session:
        with pytest.raises(InvalidInput, match="TOTP"):
            service.create_user(
                session,
                platform.vault,
                username="adm",
                password=PASSWORD,
                role="admin",
                with_totp=False,
                actor="t",
            )
        with pytest.raises(InvalidInput, match="at least 12"):
            service.create_user(
                session, platform.vault, username="bob", password="short", role="agent", actor="t"
            )


def test_login_needs_password_then_a_fresh_totp_code(platform):
    with platform.db.transaction() as session:
        created = service.create_user(
            session, platform.vault, username="root", password=PASSWORD, role="admin", actor="t"
        )
    assert _login(platform, "root", PASSWORD).needs_totp
    now = utcnow()
    with platform.db.reading() as session:
        code = service.totp_code(session, platform.vault, created.id, now)
    assert _totp(platform, created.id, code, now).role == "admin"
    with pytest.raises(AuthenticationFailed):
        _totp(platform, created.id, code, now)  # a replayed code
    with pytest.raises(AuthenticationFailed):
        _totp(platform, created.id, "000000", now)
    with pytest.raises(AuthenticationFailed):
        _totp(platform, created.id, "111111", now)  # the third failure in a row locks the login
    later = now + timedelta(seconds=60)
    with platform.db.reading() as session:
        fresh = service.totp_code(session, platform.vault, created.id, later)
    with pytest.raises(TooManyAttempts):
        _totp(platform, created.id, fresh, later)


def test_repeated_failures_throttle_the_username_even_with_the_right_password(platform):
    with platform.db.transaction() as session:
        service.create_user(
            session, platform.vault, username="ann", password=PASSWORD, role="agent", actor="t"
        )
    now = utcnow()
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            _login(platform, "ann", "wrong password!", now)
    with pytest.raises(TooManyAttempts):
        _login(platform, "ann", PASSWORD, now)
    assert not _login(platform, "ann", PASSWORD, now + timedelta(minutes=6)).needs_totp


def test_unknown_usernames_are_throttled_too(platform):
    now = utcnow()
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            _login(platform, "ghost", "whatever", now)
    with pytest.raises(TooManyAttempts):
        _login(platform, "ghost", "whatever", now)


def test_cli_tokens_create_and_revoke(cli, client):
    token = cli("tokens", "create", "etl", "--role", "viewer").stdout.strip()
    assert token.startswith("td_")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert cli("tokens", "revoke", "1").exit_code == 0
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_logins_and_failed_logins_are_audited_without_secrets(platform):
    from trustdesk import audit

    with platform.db.transaction() as session:
        service.create_user(
            session, platform.vault, username="ann", password=PASSWORD, role="agent", actor="t"
        )
    _login(platform, "ann", PASSWORD)
    with pytest.raises(AuthenticationFailed):
        _login(platform, "ann", "wrong password!")
    with pytest.raises(AuthenticationFailed):
        _login(platform, "my-secret-password", "x")
    with platform.db.reading() as session:
        rows = audit.entries(session, entity_type="user")
    actions = [(r.action, r.actor, r.entity_id) for r in rows]
    assert ("user.login", "user:ann", "1") in actions
    assert ("user.login_failed", "user:ann", "1") in actions
    assert ("user.login_failed", "anonymous", "unknown") in actions
    assert all("my-secret-password" not in r.diff + r.actor + r.entity_id for r in rows)


def test_a_token_revoked_by_another_process_stops_working_within_the_cache_time(
    client, platform, token_for, monkeypatch
):
    from sqlalchemy import update

    from trustdesk.auth import token_cache
    from trustdesk.auth.models import ApiToken

    clock = [1000.0]
    monkeypatch.setattr(token_cache, "_clock", lambda: clock[0])
    headers = {"Authorization": f"Bearer {token_for('viewer')}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with platform.db.transaction() as session:  # as another server's revocation leaves it
        session.execute(update(ApiToken).values(revoked_at=utcnow()))
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # remembered for now
    clock[0] += token_cache.TTL_S
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_remembered_token_still_expires_on_time(platform, token_for):
    from trustdesk.auth.models import ApiToken

    token = token_for("viewer")
    with platform.db.transaction() as session:
        row = session.scalars(select(ApiToken)).one()
        row.expires_at = utcnow() + timedelta(minutes=1)
    with platform.db.reading() as session:
        assert service.principal_for_token(session, token).role == "viewer"  # now remembered
        with pytest.raises(AuthenticationFailed, match="expired"):
            service.principal_for_token(session, token, now=utcnow() + timedelta(minutes=2))


# --- `trustdesk users totp-code` (the demo's admin has no phone) --------------------------------


def _user(platform, username, role, *, totp=False):
    with platform.db.transaction() as session:
        service.create_user(
            session,
            platform.vault,
            username=username,
            password="correct-horse-battery",
            role=role,
            with_totp=totp,
            actor="test",
        )


def _form_token(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_totp_code_prints_the_code_that_logs_the_admin_in(cli, client, platform):
    _user(platform, "root", Role.ADMIN, totp=True)
    shown = cli("users", "totp-code", "root")
    assert shown.exit_code == 0, shown.output
    code = shown.stdout.strip()
    assert len(code) == 6 and code.isdigit()
    assert "more seconds" in shown.stderr
    form = {"username": "root", "password": "correct-horse-battery"}
    form["csrf_token"] = _form_token(client.get("/login").text)
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303
    second = {"code": code, "csrf_token": _form_token(client.get("/login/totp").text)}
    done = client.post("/login/totp", data=second, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/"
    with platform.db.reading() as session:
        actions = session.scalars(select(AuditEntry.action)).all()
    assert "user.totp_code_shown" in actions


def test_totp_code_is_refused_in_production_and_for_users_without_one(cli, platform, monkeypatch):
    _user(platform, "root", Role.ADMIN, totp=True)
    _user(platform, "ann", Role.ANALYST)
    assert cli("users", "totp-code", "ann").exit_code == 2
    assert cli("users", "totp-code", "nobody").exit_code == 3
    monkeypatch.setenv("TRUSTDESK_ENVIRONMENT", "production")
    monkeypatch.setenv("TRUSTDESK_SECRET_KEY", "x" * 40)
    refused = cli("users", "totp-code", "root")
    assert refused.exit_code == 6 and "production" in refused.output
